"""Resolution: which real place each mention is, in the article's context.

Resolution picks, for each name, the candidate with the best score: its prominence
(population, or country/region rank; world cities get a bonus), whether it is a curated entry,
whether the name is its main name, and above all the article's context: the countries and
first-level regions it names (directly, through adjectives, organisations or unambiguous
towns; a name never votes for itself), "Town, State" qualifiers, other names' candidates
nearby, a facility of the phrase's kind nearby, and how the name is used ("a Palestine man"
is a town's). Then one sense per name: every mention of a name goes where its first placed
mention goes (a mention with its own "Town, State" keeps its own). The resolver returns its
decisions (`Resolved`: a mention and its place) and changes no mention.

How much each clue weighs is data (`weights`, from `weights.json`), so it can be fitted; the
article's context is `context`'s.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Protocol

from newsmap.geoparser.context import (
    NOWHERE,
    ArticleContext,
    Context,
    neighbouring_candidates,
    qualifying,
    region_prominence,
    sense_key,
    votes_of,
)
from newsmap.geoparser.cues import CLOSED, IN_PLACE, LOCAL_USE, LOCATIVE, REGION_AFTER, REGION_BEFORE
from newsmap.geoparser.facilities import FacilityPlacer
from newsmap.geoparser.gazetteer import Gazetteer, OfflineGeocoder, Place, location_to_place
from newsmap.geoparser.lexicon import Lexicon, load
from newsmap.geoparser.mentions import Mention, Recognition
from newsmap.geoparser.weights import WEIGHTS, Weights
from newsmap.slugs import slugify


class CandidateSource(Protocol):
    def geocode(self, query: str, *, exactly_one: bool = ..., **kwargs: object) -> object: ...


@dataclass(frozen=True)
class Choice:
    """One mention's best candidate, whether it is good enough alone, and whether a qualifier chose it."""

    place: Place | None
    accepted: bool
    qualified: bool
    located: bool = False  # a qualifier or a place preposition ("in Fargo") says it is a place


@dataclass(frozen=True)
class Resolved:
    """The resolver's decision: the place a mention refers to."""

    mention: Mention
    place: Place


def namesake(mention: Mention, town: Place) -> Place:
    """ "Mount Sinjar", which the gazetteer lacks, at the town it is named after: a place of its own (its key,
    name and kind), the town's point, and a source that says so."""
    name = " ".join(mention.text.split())
    return Place(
        key=f"feature:{town.country or 'XX'}/{slugify(name)}",
        name=name,
        lat=town.lat,
        lon=town.lon,
        country=town.country,
        kind=mention.feature,
        precision="settlement",
        source=f"the {mention.feature}'s own point is not in the gazetteer: placed at its namesake, {town.name} ({town.source})",
        slug=slugify(name),
    )


class Resolver:
    """Chooses one place per mention, using the article's own context; the mentions are left as they are.

    `weights` say how much each clue counts (`weights.json` by default).
    """

    def __init__(
        self,
        gazetteer: Gazetteer,
        geocoder: CandidateSource | None = None,
        lexicon: Lexicon | None = None,
        weights: Weights = WEIGHTS,
    ) -> None:
        self.gazetteer = gazetteer
        self.geocoder = geocoder or OfflineGeocoder(gazetteer)  # any geopy Geocoder
        self.lexicon = lexicon or load()
        self.weights = weights
        self._found: dict[str, list[Place]] = {}  # the geocoder's answers, by name
        self.facilities = FacilityPlacer(gazetteer, self.lexicon, weights)  # facility phrases: where each goes

    def candidates(self, mention: Mention) -> list[Place]:
        """The geocoder's candidates for the name; curated entries (cited expert knowledge) always join."""
        if mention.fixed:
            return mention.candidates
        if mention.text not in self._found:  # a name recurs: ask the geocoder once
            found = self.geocoder.geocode(mention.text, exactly_one=False) or []
            self._found[mention.text] = [location_to_place(location) for location in found]  # type: ignore[union-attr]
        places = self._found[mention.text]
        keys = {p.key for p in places}
        return [p for p in mention.candidates if p.curated and p.key not in keys] + places

    def resolve(self, recognition: Recognition) -> list[Resolved]:
        """The place of every mention that can be placed, in text order; those that cannot are left out.

        Adjectives are placed by their word list. Names are placed next, each by its candidates
        and the article's context, then made to agree: one sense per name in an article. Last
        come the facility and route phrases, by the places of the names that locate them (a
        phrase whose name went unplaced is left out with it).
        """
        placed: dict[int, Place] = {}  # id(mention) -> its place: a Mention is mutable, so not hashable
        for mention in recognition.mentions:
            if mention.role == "adjective":  # the word list already said which place
                placed[id(mention)] = mention.candidates[0]
        toponyms, facility_kinds = self._toponyms(recognition)
        candidates = self._candidate_lists(toponyms)  # parallel to toponyms
        choices = self._choices(recognition, toponyms, candidates, facility_kinds)
        for mention, place in self._one_sense(toponyms, choices):
            placed[id(mention)] = namesake(mention, place) if mention.feature else place
        # "Russian" goes where "Russia" went: the geocoder's entry for the country, if it placed one.
        countries = {p.country: p for p in placed.values() if p.kind == "country" and p.country}
        for mention in recognition.mentions:
            if mention.role == "adjective" and mention.candidates[0].kind == "country":
                placed[id(mention)] = countries.get(mention.candidates[0].country, mention.candidates[0])
        resolved = []
        facilities: list[
            Place
        ] = []  # the facilities placed so far, in text order ("the Turkish base" after its first naming)
        for mention in recognition.mentions:
            if mention.role == "facility" and (mention.anchors or mention.phrase):
                place = self.facilities.place(mention, placed, facilities)
            elif mention.anchors and mention.role == "route":
                place = self._route_place(mention, placed)
            else:
                place = placed.get(id(mention))
            if place is not None:
                resolved.append(Resolved(mention, place))
        return sorted(resolved, key=lambda r: (r.mention.start, -r.mention.end))

    @staticmethod
    def _toponyms(recognition: Recognition) -> tuple[list[Mention], dict[int, set[str]]]:
        """The mentions placed by their own candidates, in text order, and the facility kinds near each.

        The places that locate a facility phrase ("air base in Kant") are told what stands near
        them; a proper name's place ("Osh" in "Osh Air Base") is placed too, though no mention itself.
        """
        toponyms = [
            m
            for m in recognition.mentions
            if m.role in ("toponym", "organisation") or (m.role == "facility" and not m.anchors and not m.phrase)
        ]
        facility_kinds: dict[int, set[str]] = {}
        listed = {id(m) for m in toponyms}
        for mention in recognition.mentions:
            if mention.role == "facility" and mention.anchors:
                anchor = mention.anchors[0]
                facility_kinds.setdefault(id(anchor), set()).add(mention.kind)
                if id(anchor) not in listed:
                    listed.add(id(anchor))
                    toponyms.append(anchor)
        toponyms.sort(key=lambda m: (m.start, -m.end))
        return toponyms, facility_kinds

    def _candidate_lists(self, toponyms: list[Mention]) -> list[list[Place]]:
        """Each mention's candidates; the mentions of one name share one list.

        So the work that depends only on the candidates (votes, qualifiers, scores) is done
        once per name and reused, by the list's identity, for its other mentions.
        """
        lists: dict[tuple[str, bool, int], list[Place]] = {}
        shared = []
        for mention in toponyms:
            name = (mention.text, mention.fixed, id(mention.candidates))  # the list lives as long as the mention
            if name not in lists:
                lists[name] = self.candidates(mention)
            shared.append(lists[name])
        return shared

    def _choices(
        self,
        recognition: Recognition,
        toponyms: list[Mention],
        candidates: list[list[Place]],
        facility_kinds: dict[int, set[str]],
    ) -> list[Choice]:
        """Each mention's best candidate in the article's context, parallel to `toponyms`.

        A name said a thousand times is scored once per distinct setting (its context, its
        qualifier, the words around it that change its score), not once per mention.
        """
        evidence = self._evidence(recognition, toponyms, candidates)
        neighbours = neighbouring_candidates(toponyms, candidates, self.weights)
        article_context = ArticleContext(evidence, self.weights.region_evidence_floor)
        contexts: dict[str, Context] = {}
        qualifiers: dict[int, tuple[bool, frozenset[str]]] = {}
        ranked: dict[tuple[object, ...], Place | None] = {}
        choices = []
        for index, mention in enumerate(toponyms):
            key = sense_key(mention)
            if key not in contexts:
                contexts[key] = article_context.without(key)
            qualifier = self._qualifier(toponyms, candidates, index, qualifiers)
            kinds = frozenset(facility_kinds.get(id(mention), ()))
            near = neighbours.get(key, NOWHERE)
            choices.append(self._choose(mention, candidates[index], contexts[key], qualifier, kinds, near, ranked))
        return choices

    def _choose(
        self,
        mention: Mention,
        candidates: list[Place],
        context: Context,
        qualifier: AbstractSet[str],
        facility_kinds: AbstractSet[str] = frozenset(),
        near: AbstractSet[str] = frozenset(),
        ranked: dict[tuple[object, ...], Place | None] | None = None,
    ) -> Choice:
        """The best-scoring candidate, and whether it is good enough to put on the map.

        On top of `_score`: a city whose name the region around it also goes by ("Geneva" for
        Genève canton, "Kabul", "Osh") is the city, unless the text says "state of" or "region";
        a place that locates a facility phrase ("air base in Kant") favours the candidates near a
        known facility of that kind (the Kant with an air base, not the larger Kānt in India); a
        town or county favours the candidates near a candidate of another name of the article
        (`near`: "Palestine" and "Anderson County" are the two in East Texas).

        `ranked` keeps the best candidate per setting for the caller, who keeps the candidates,
        the context and `near` alive meanwhile (they are known by identity).
        """
        local = bool(LOCAL_USE.match(mention.cue_after))
        regional = bool(REGION_BEFORE.search(mention.cue_before) or REGION_AFTER.match(mention.cue_after))
        setting = (id(candidates), id(context), id(near), frozenset(qualifier), frozenset(facility_kinds))
        name = mention.text if facility_kinds else ""
        setting += (local, regional, name)
        if ranked is not None and setting in ranked:
            best = ranked[setting]
        else:
            best = self._best(candidates, context, qualifier, facility_kinds, near, local, regional, name)
            if ranked is not None:
                ranked[setting] = best
        if best is None:
            return Choice(None, False, bool(qualifier))
        located = bool(qualifier or IN_PLACE.search(mention.cue_before)) and best.primary
        return Choice(best, self._accept(mention, best, context, qualifier), bool(qualifier), located)

    def _best(
        self,
        candidates: list[Place],
        context: Context,
        qualifier: AbstractSet[str],
        facility_kinds: AbstractSet[str],
        near: AbstractSet[str],
        local: bool,
        regional: bool,
        name: str = "",
    ) -> Place | None:
        """The best-scoring candidate (see `_choose`), None when there are none."""
        weights = self.weights
        cities = {
            (p.country, p.admin1)
            for p in candidates
            if p.precision == "settlement" and p.population >= weights.city_over_region_population
        }
        scored = []
        for place in candidates:
            score = self._score(place, context, qualifier, local)
            if (
                place.precision == "region"
                and not place.primary
                and not regional
                and (place.country, place.admin1) in cities
            ):
                score -= weights.city_over_its_region  # "Geneva", "Kabul", "Osh": the city, not the region so called
            elif place.precision == "settlement" and regional:
                score -= weights.city_over_its_region  # "the state of New York", "Osh region"
            if place.key in near:
                score += weights.neighbour_bonus  # another name of the article may be a place close by
            check = facility_kinds and len(candidates) <= 50 and place.precision != "country"
            if check:
                near_facilities = [f for kind in facility_kinds for f in self.facilities.near(place, kind)]
                if near_facilities:
                    score += weights.facility_nearby_bonus
                if name and any(self.facilities.named_after(f, name) for f in near_facilities):
                    score += weights.facility_named_bonus  # "the Altenstadt airfield": the Altenstadt with that field
            scored.append((score, place.key, place))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[0][2] if scored else None

    def _one_sense(self, toponyms: list[Mention], choices: list[Choice]) -> list[tuple[Mention, Place]]:
        """One sense per name per article: every mention of a name goes where its first placed mention goes.

        A mention qualified by its own "Town, State" keeps its place (and, as the first, leads
        the others: "Moscow, Idaho ... Moscow"); a name the article once puts on the ground is a
        place wherever it recurs ("in Fargo" ... "Fargo").
        """
        leaders: dict[str, Place] = {}
        located: set[str] = set()  # names some mention puts on the ground: "in Fargo", "Fargo, N.D."
        for mention, choice in zip(toponyms, choices, strict=True):
            if choice.place is not None and choice.accepted:
                leaders.setdefault(sense_key(mention), choice.place)
                if choice.located:
                    located.add(sense_key(mention))
        decided = []
        for mention, choice in zip(toponyms, choices, strict=True):
            key = sense_key(mention)
            if choice.place is None or key not in leaders:
                continue
            if choice.qualified and choice.accepted:
                decided.append((mention, choice.place))
            elif choice.accepted or key in located:
                decided.append((mention, leaders[key]))
        return decided

    def _evidence(
        self, recognition: Recognition, toponyms: list[Mention], candidate_lists: list[list[Place]]
    ) -> dict[str, Counter[str]]:
        """What each name says of the article's countries and first-level regions, by name ("" for adjectives).

        Keys are ISO country codes ("KG") and country-region codes ("US-MN", "GB-ENG"): a country
        named, a name all of whose candidates lie in one country (or one region of a country),
        a prominent place; a region named (a US state, a province) counts for its region.
        """
        evidence: dict[str, Counter[str]] = {"": Counter()}
        for _, _, country in recognition.adjectives:
            if country:
                evidence[""][country] += self.weights.vote_adjective
        # A name's mentions share one candidate list: its votes are worked out once, times its mentions
        # (exact: every vote is a multiple of 1/4).
        times: Counter[tuple[str, int]] = Counter()
        lists: dict[int, list[Place]] = {}
        for mention, candidates in zip(toponyms, candidate_lists, strict=True):
            key = sense_key(mention)
            evidence.setdefault(key, Counter())
            times[key, id(candidates)] += 1
            lists[id(candidates)] = candidates
        votes: dict[int, list[tuple[str, float]]] = {}
        for (key, list_id), count in times.items():
            if list_id not in votes:
                votes[list_id] = votes_of(lists[list_id], self.weights)
            for code, weight in votes[list_id]:
                evidence[key][code] += weight * count
        return evidence

    def _qualifier(
        self,
        toponyms: list[Mention],
        candidates: list[list[Place]],
        index: int,
        known: dict[int, tuple[bool, frozenset[str]]] | None = None,
    ) -> frozenset[str]:
        """ "Parkers Prairie, Minnesota", "Washington, D.C.": what the next name allows.

        Country codes, country-region codes ("US-MN"), and the keys of the places the next name
        may be (so "Washington, D.C." is the city the abbreviation names). `known` keeps, per
        candidate list (by identity, kept alive by the caller), what it says, for the name's
        other mentions.
        """
        if index + 1 >= len(toponyms):
            return NOWHERE
        here, after = toponyms[index], toponyms[index + 1]
        if after.sentence != here.sentence or after.start - here.end > 3 or "," not in after.cue_before[-3:]:
            return NOWHERE
        if qualifying(candidates[index], known)[0] and not CLOSED.match(after.cue_after):
            # "in Russia, U.S. officials said": a country's name takes a qualifier only as "Russia, Ohio."
            return NOWHERE
        return qualifying(candidates[index + 1], known)[1]

    def _score(self, place: Place, context: Context, qualifier: AbstractSet[str], local: bool = False) -> float:
        """How likely the place is meant: prominence, curation, main name, the article's context, qualifiers.

        `local`: the name is used as a town's ("a Palestine man", "Palestine police"), which a
        country or region is not.
        """
        weights = self.weights
        if place.kind == "country":
            prominence = weights.country_prominence
        elif place.precision == "region" or (place.curated and place.precision == "country"):
            prominence = region_prominence(place, weights)
        else:
            prominence = math.log10(place.population + 1)
            if place.population >= weights.world_city_population:
                prominence += weights.world_city_bonus  # "London" is London unless the text says otherwise
        score = (
            prominence
            + (weights.curated_bonus if place.curated else 0.0)
            + (weights.primary_name_bonus if place.primary else 0.0)
        )
        score += weights.country_context * context.get(place.country, 0.0)
        if place.admin1:
            score += weights.region_context * context.get(f"{place.country}-{place.admin1}", 0.0)
        if qualifier and (
            place.country in qualifier or f"{place.country}-{place.admin1}" in qualifier or place.key in qualifier
        ):
            score += weights.qualifier_bonus
        if local and place.precision in ("country", "region"):
            score -= weights.local_use_penalty
        return score

    def _accept(self, mention: Mention, best: Place, context: Context, qualifier: AbstractSet[str]) -> bool:
        """Whether the best candidate is good enough to put on the map.

        A single ordinary word (weak), or a place matched only by one of its alternate names
        ("Hamas" is an old name of Hamm), needs support: the article's countries, a place
        preposition before it, or a "Town, State" qualifier. World cities and countries are
        known by their other names too ("Peking", "Burma"). An alternate name wants a
        preposition that puts it on the ground ("in", "near"), not just "and" or "of".
        """
        weights = self.weights
        if mention.local and not (  # "Cape Horn" the town: only in the article's country, or a big one
            qualifier
            or context.get(best.country, 0.0) >= weights.accept_weak_context
            or (not mention.feature and best.population >= weights.accept_weak_population)
        ):
            return False
        located = bool(qualifier or IN_PLACE.search(mention.cue_before))
        supported = located or bool(LOCATIVE.search(mention.cue_before))
        alternate = not best.primary and not best.curated and best.kind not in ("country", "US state")
        if alternate and best.population < weights.world_city_population:
            return located or context.get(best.country, 0.0) >= weights.accept_alternate_context
        if mention.weak:
            return (
                supported
                or context.get(best.country, 0.0) >= weights.accept_weak_context
                or best.population >= weights.accept_weak_population
            )
        return True

    def _route_place(self, mention: Mention, placed: dict[int, Place]) -> Place | None:
        parts = [placed.get(id(a)) for a in mention.anchors]
        if any(p is None for p in parts):
            return None
        places = [p for p in parts if p is not None]
        codes = {p.country if p.kind == "country" else p.slug or p.key for p in places}
        for place in self.gazetteer.curated:
            if self.lexicon.family(place.kind) == mention.kind and set(place.parts) == codes:
                return place
        names = "–".join(p.name for p in places)
        return Place(
            key=f"route:{mention.kind}:{'+'.join(sorted(p.key for p in places))}",
            name=f"{names} {mention.kind}",
            lat=sum(p.lat for p in places) / len(places),
            lon=sum(p.lon for p in places) / len(places),
            kind=mention.kind,
            precision="region",
            source="midpoint of " + ", ".join(f"{p.name} ({p.source})" for p in places),
        )
