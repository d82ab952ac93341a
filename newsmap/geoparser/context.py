"""The article's context, as resolution weighs it: which countries and regions the article is about,
which names have candidates near another name's, and what a "Town, State" qualifier allows.

Every name votes for the countries and first-level regions its candidates lie in (`votes_of`); a
name's context is every other name's votes (`ArticleContext.without`), so a name never votes for
itself. All of it is linear in the number of names and candidates (see each docstring).
"""

from __future__ import annotations

import functools
import math
from collections import Counter

from newsmap.geoparser.gazetteer import Place, haversine_km, normalize
from newsmap.geoparser.mentions import Mention, is_prominent
from newsmap.geoparser.weights import Weights


def sense_key(mention: Mention) -> str:
    """Mentions with the same key are the same name: one sense per name per article."""
    role = "place" if mention.role in ("toponym", "organisation") else mention.role
    return f"{role}:{_normal(mention.lemma or mention.text)}"


_normal = functools.lru_cache(maxsize=1 << 16)(normalize)


# Kinds of region that are a country's first-level division: named alone, they are that region.
FIRST_LEVEL_KINDS = frozenset(
    {"US state", "state", "province", "region", "constituent country", "territory", "union territory", "governorate",
     "prefecture", "autonomous community", "autonomous region", "autonomous republic", "republic", "oblast", "krai",
     "emirate", "canton", "land", "voivodship", "regional state", "country part", "nation"}
)  # fmt: skip
SECOND_LEVEL_KINDS = frozenset(
    {"county", "two-tier county", "district", "parish", "borough", "municipality", "rayon", "raion", "department",
     "metropolitan department", "unitary authority", "council area", "district municipality", "local council",
     "rural municipality", "urban municipality", "metropolitan district", "commune"}
)  # fmt: skip


def is_first_level(place: Place) -> bool:
    """A country's first-level division (a state, province, ...): named alone, it is that region."""
    return place.precision == "region" and place.kind in FIRST_LEVEL_KINDS


def region_prominence(place: Place, weights: Weights) -> float:
    """How prominent a region or physical feature is when named alone.

    A first-level region, a continent or a sea named alone is usually itself ("England" is not a
    town in Arkansas, "Georgia" in a US paper is the state); a county ranks by its people, with a
    floor; a curated region or former country ranks as a first-level region.
    """
    population = math.log10(place.population + 1) if place.population else 0.0
    if place.kind == "continent" or is_first_level(place) or place.curated:
        return max(weights.region_floor_first_level, population)
    if place.kind in SECOND_LEVEL_KINDS:
        return max(weights.region_floor_second_level, population)
    return max(weights.region_floor_feature, population)  # a sea, strait, river or range: found by its full name


NEIGHBOUR_CANDIDATES = 20  # per name, the most populous: a bound on the work for names with hundreds


def votes_of(candidates: list[Place], weights: Weights) -> list[tuple[str, float]]:
    """What one mention with these candidates says of the article's countries and regions (see
    `Resolver._evidence`): (ISO code or country-region code, weight) pairs."""
    votes: list[tuple[str, float]] = []
    countries = {p.country for p in candidates if p.country}
    if any(p.kind == "country" for p in candidates):
        best = max(candidates, key=lambda p: (p.kind == "country", p.population))
        votes.append((best.country, weights.vote_country_named))
    elif len(countries) == 1:
        votes.append((next(iter(countries)), weights.vote_one_country))
    elif candidates and is_prominent(candidates[0]) and candidates[0].country:
        votes.append((candidates[0].country, weights.vote_prominent_place))
    regions = {f"{p.country}-{p.admin1}" for p in candidates if is_first_level(p) and p.admin1}
    if len(regions) == 1:  # "Texas", "Queensland": a first-level region named, and only one
        votes.append((regions.pop(), weights.vote_region_named))
    elif not regions:
        for country in countries:
            admins = {p.admin1 for p in candidates if p.country == country}
            if len(admins) == 1 and "" not in admins:
                votes.append((f"{country}-{admins.pop()}", weights.vote_one_region))
    return votes


NOWHERE: frozenset[str] = frozenset()


def qualifying(
    candidates: list[Place], known: dict[int, tuple[bool, frozenset[str]]] | None
) -> tuple[bool, frozenset[str]]:
    """(whether a candidate is a country by its main name, the codes the list gives as a qualifier):
    see `Resolver._qualifier`; kept in `known` by the list's identity."""
    if known is not None and id(candidates) in known:
        return known[id(candidates)]
    codes: set[str] = set()
    for place in candidates:
        if place.kind == "country":
            codes.add(place.country)
        elif is_first_level(place) and place.admin1:
            codes.add(f"{place.country}-{place.admin1}")
        codes.add(place.key)
    facts = (any(p.kind == "country" and p.primary for p in candidates), frozenset(codes))
    if known is not None:
        known[id(candidates)] = facts
    return facts


def is_local(place: Place, world_city_population: int) -> bool:
    """A place small enough that being near another name's place says something: a town, a county.

    Not a world city: "New York" near "Brooklyn" proves nothing the city's size does not say already.
    """
    if place.population >= world_city_population:
        return False
    return place.precision in ("settlement", "facility") or place.kind in SECOND_LEVEL_KINDS


def neighbouring_candidates(
    toponyms: list[Mention], candidate_lists: list[list[Place]], weights: Weights
) -> dict[str, set[str]]:
    """For each name, the keys of its candidates that lie within `weights.neighbour_km` of a candidate
    of another name.

    Local news names places near each other; a grid of 1-degree cells keeps this linear in the
    number of candidates.
    """
    by_name: dict[str, dict[str, Place]] = {}
    seen: set[tuple[str, int]] = set()  # a name's mentions share their candidate list: sort it once
    for mention, candidates in zip(toponyms, candidate_lists, strict=True):
        name = sense_key(mention)
        bucket = by_name.setdefault(name, {})
        if (name, id(candidates)) in seen:
            continue
        seen.add((name, id(candidates)))
        local = sorted(
            (p for p in candidates if is_local(p, weights.world_city_population)), key=lambda p: (-p.population, p.key)
        )
        for place in local[:NEIGHBOUR_CANDIDATES]:
            bucket.setdefault(place.key, place)
    if len(by_name) < 2:
        return {}
    cells: dict[tuple[int, int], list[tuple[str, Place]]] = {}
    for name, places in by_name.items():
        for place in places.values():
            cells.setdefault((math.floor(place.lat), math.floor(place.lon)), []).append((name, place))
    near: dict[str, set[str]] = {}
    for name, places in by_name.items():
        if len(places) < 2:
            continue  # nothing to choose between: the name only lends its place to the others
        for place in places.values():
            row, column = math.floor(place.lat), math.floor(place.lon)
            span = min(180, math.ceil(weights.neighbour_km / (111.0 * max(math.cos(math.radians(place.lat)), 0.05))))
            found = False
            for dy in (-1, 0, 1):
                for dx in range(-span, span + 1):
                    for other_name, other in cells.get((row + dy, (column + dx + 180) % 360 - 180), ()):
                        if other_name == name or other.key == place.key:
                            continue
                        if haversine_km(place.lat, place.lon, other.lat, other.lon) <= weights.neighbour_km:
                            found = True
                            break
                    if found:
                        break
                if found:
                    break
            if found:
                near.setdefault(name, set()).add(place.key)
    return near


class Context:
    """How strongly the article is about each country and region, scaled to [0, 1], without one name.

    A name's own mentions are left out of its context: "Palestine" said ten times in a Texas
    paper must not vote for the Palestinian territories itself. Countries and regions are each
    scaled on their own, so local US news can prefer Alexandria, Minnesota to Alexandria,
    Virginia. Built by `ArticleContext.without`.
    """

    def __init__(self, total: Counter[str], own: Counter[str], tops: tuple[float, float]) -> None:
        self._total, self._own, self._tops = total, own, tops  # tops: (countries', regions')

    def get(self, key: str, default: float = 0.0) -> float:
        """The weight of a country ("KG") or region ("US-MN"), or `default` when no other name votes for it."""
        value = self._total.get(key, 0.0) - self._own.get(key, 0.0)
        top = self._tops["-" in key]
        return value / top if value and top else default


class ArticleContext:
    """What every name says of the article's countries and regions, summed once.

    Each name's context is that sum less the name's own votes. Summing the other names' votes
    anew for each name cost the square of the number of distinct names (a list of 2,000 towns
    took 2 s to resolve, four times that for twice as many); subtracting is exact, as every
    vote is a multiple of 1/4. `region_floor`: the least total that counts as a region's full weight.
    """

    def __init__(self, evidence: dict[str, Counter[str]], region_floor: float) -> None:
        self._evidence = evidence
        self._region_floor = region_floor
        self._total: Counter[str] = Counter()
        for counts in evidence.values():
            self._total.update(counts)
        # Per scale (countries, regions), the votes from the largest: the top is found in a few steps.
        self._ranked = tuple(
            sorted(((value, key) for key, value in self._total.items() if ("-" in key) is regional), reverse=True)
            for regional in (False, True)
        )

    def without(self, leave_out: str) -> Context:
        """The article's context for one name (a sense key): every other name's votes, scaled."""
        own = self._evidence.get(leave_out, Counter()) if leave_out else Counter()
        tops = []
        for regional, ranked in zip((False, True), self._ranked, strict=True):
            # The largest total the name has no vote in, then the ones it has, less its votes.
            top = next((value for value, key in ranked if key not in own), 0.0)
            for key, value in own.items():
                if ("-" in key) is regional:
                    top = max(top, self._total[key] - value)
            if regional:
                top = max(top, self._region_floor)  # one ambiguous town is no region's full weight
            tops.append(top)
        return Context(self._total, own, (tops[0], tops[1]))
