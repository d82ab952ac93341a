"""Facility phrases: what the news names by what it is ("the radar station near X", "Russia's 102nd
base"), found in the text (`FacilityFinder`) and put at its own site, or said to be where it is put
(`FacilityPlacer`).

Recognition reads phrasings, never a list of names. A facility noun is any phrase of the word list
(`lexicon/facility_kinds.csv`: "air base", "listening post", "early-warning site", ...), and then:

- **the noun, then where**: "air base in Kant", "radar station near the town of X", "an early-warning
  site outside Y", "a missile site 30 km north of Z", "the port of Tartus";
- **a place, then the noun**: "the Altenstadt airfield", "Xingcheng air base" (a proper name, "Kant
  Air Base", is one mention: the rule `named_facility`);
- **an owner or a unit number, then the noun**: "Russia's 102nd base", "Turkey's base in Mogadishu",
  "the Russian 201st military base", "India's listening post in Tajikistan". A bare "base",
  "facility" or "installation" is a facility only so, after an owner or a unit number, and only
  when it ends a phrase ("Russia's base rate" is no base).

The place named inside a phrase is also a mention of its own, a toponym. The phrase is a mention of
role `facility`, located by that place (its anchor), with the owner the text gives.

Placement, in order: the curated installation (or airfield) that matches the phrase by kind,
owner, unit number and country and lies at the anchor (a field named after the anchor first; a
town's anchor takes the nearest curated one, or an airfield within `UNNAMED_AIRFIELD_KM`; a region
or country anchor only one that is alone of its kind there); otherwise the facility is a row of its
own, with its own key (`facility:<country>/<slug of its name>`), placed at its anchor with the
anchor's precision (`settlement` at a town, `region`, or `country` at a country's centre) and a
source that says so ("site not published: placed at X"). It is never merged into the town's or
the country's row. A phrase with no anchor ("Russia's 102nd base") is the curated row its owner
and unit name, or the facility of that owner and kind the article placed before ("the Turkish
base" after "Turkey's base in Mogadishu"), or a row of its own in the one host country the
article names; otherwise it is left out.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newsmap.article import Article
from newsmap.geoparser.cues import OPERATES, OPERATOR_REACH, SETTLEMENT_NOUNS
from newsmap.geoparser.gazetteer import Gazetteer, Place, haversine_km, normalize
from newsmap.geoparser.lexicon import Lexicon
from newsmap.geoparser.mentions import Mention
from newsmap.slugs import slugify

if TYPE_CHECKING:
    from newsmap.geoparser.weights import Weights

# How a field or port named after a town is called: "Ayni Air Base", "Gwadar Port" (airportsdata's names and ours).
NAMED_SUFFIXES = (
    "Air Base",
    "Airbase",
    "Airfield",
    "Air Field",
    "Airport",
    "International Airport",
    "Port",
    "Naval Base",
)
UNNAMED_AIRFIELD_KM = 10.0  # an airfield not named after a town is "the air base in" it only this close
_COMPASS = r"(?:north|south|east|west)(?:-?(?:east|west))?"
# Between a facility noun and the place that locates it: "in", "near the town of", "30 km north of".
_WHERE = (
    rf"[ \u00a0]+(?P<prep>in|at|near|on|outside|outside\s+of|just\s+outside|off|close\s+to|"
    rf"(?:(?:some|about|around|roughly)\s+)?\d+(?:[.,]\d+)?\s*(?:km|kilometres|kilometers|miles)\s+(?:from|{_COMPASS}\s+of)|"
    rf"{_COMPASS}\s+of)\s+(?:the\s+)?(?:(?:[\w-]+\s+)?{SETTLEMENT_NOUNS}\s+of\s+(?:the\s+)?)?"
)
_PORT_OF = re.compile(r"[ \u00a0]+(?P<prep>of)\s+(?:the\s+)?")  # "the port of Tartus"
# A unit number just before the noun, with up to two words between: "102nd base", "4th Guards military base".
_UNIT = re.compile(r"(?<![\w-])(?P<unit>\d{1,4}(?:st|nd|rd|th))(?:[ \u00a0]+[A-Za-z][\w-]*){0,2}[ \u00a0]+$", re.I)
# What may follow a bare "base" that ends a phrase: punctuation, a preposition, a verb or a conjunction.
_ENDS_PHRASE = re.compile(
    r"[ \u00a0]*(?:[,.;:!?)”\"]|$|(?:in|at|near|on|outside|off|close|there|is|was|has|had|have|will|would|could|"
    r"can|may|which|that|where|and|or|with|to|for|since|after|before|remains|remained|hosts|hosted|houses|"
    r"housed|opened|closed|became|has)\b)",
    re.IGNORECASE,
)


class FacilityFinder:
    """The facility phrases of an article (see the module's docstring), from the word lists alone."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        kinds = "|".join(re.escape(k) for k in sorted(lexicon.facility_kinds, key=len, reverse=True))
        self.noun = re.compile(rf"(?<![\w-])(?P<kind>{kinds})(?![\w-])", re.IGNORECASE)
        self.where = re.compile(_WHERE, re.IGNORECASE)
        alone = "|".join(
            re.escape(k) for k in sorted(lexicon.facility_kinds, key=len, reverse=True) if k not in lexicon.owned_kinds
        )
        # A capitalised noun after a name makes a proper name ("Kant Air Base"): `rules.named_facility`.
        self.after = re.compile(rf"[ \u00a0](?P<kind>{alone})(?![\w-])", re.IGNORECASE)

    def find(self, text: str, article: Article, mentions: list[Mention]) -> list[Mention]:
        """The facility mentions of `text`, given the other mentions in text order.

        One pass over the facility nouns; the sentence and the mentions around each are found by
        bisection, so a text of thousands of phrases stays linear.
        """
        starts = [m.start for m in mentions]
        reach = list(itertools.accumulate((m.end for m in mentions), max))  # the furthest end so far
        sentence_starts = [s.start for s in article.sentences]
        toponym_at = {m.start: m for m in mentions if m.role == "toponym"}
        toponym_ending = {m.end: m for m in mentions if m.role == "toponym"}
        found: list[Mention] = []
        last_end = -1
        for noun in self.noun.finditer(text):
            kind_start, kind_end = noun.span("kind")
            if kind_start < last_end:
                continue
            inside = bisect.bisect_right(starts, kind_start)
            if inside and reach[inside - 1] > kind_start:
                continue  # the noun is part of a name found already: "Kant Air Base", "Port Sudan"
            phrase = noun.group("kind").lower()
            sentence = article.sentences[max(0, bisect.bisect_right(sentence_starts, kind_start) - 1)]
            window = text[max(sentence.start, kind_start - 60) : kind_start]
            unit = _UNIT.search(window)
            near = bisect.bisect_left(starts, kind_start - OPERATOR_REACH), bisect.bisect_left(starts, kind_start)
            operator = self.operator_before(text, sentence.start, kind_start, mentions[near[0] : near[1]])
            before = toponym_ending.get(kind_start - 1)
            if before is not None and not self._names_it(text, before, noun.group("kind")):
                before = None
            after = None
            where = (_PORT_OF if self.lexicon.family(phrase) == "port" else self.where).match(text, kind_end)
            if where is not None and where.end() <= sentence.end:
                after = toponym_at.get(where.end())
            if phrase in self.lexicon.owned_kinds and not (
                (operator or unit) and (after is not None or _ENDS_PHRASE.match(text, kind_end))
            ):
                continue  # "base" alone: only "Russia's base", "the 102nd base"
            if before is None and after is None and not (operator or unit):
                continue  # nothing says where, or whose: "the air base" alone
            anchor = before or after
            start = unit.start("unit") + max(sentence.start, kind_start - 60) if unit else kind_start
            if before is not None:
                start = min(start, before.start)
            end = after.end if after is not None and before is None else kind_end
            found.append(
                Mention(start, end, text[start:end], sentence.index, role="facility",
                        kind=self.lexicon.family(phrase), anchors=[anchor] if anchor else [], operator=operator,
                        unit=unit.group("unit").lower() if unit else "", phrase=True)
            )  # fmt: skip
            last_end = kind_end
        return found

    def _names_it(self, text: str, place: Mention, noun: str) -> bool:
        """ "the Altenstadt airfield": a town's name, one space, then a lower-case military noun. Not "the U.S.
        military base" (a country is an owner, not a namesake) nor "the Beirut airport" (civil: the town is the place)."""
        entry = self.lexicon.facility_kinds.get(noun.lower())
        if text[place.end] != " " or noun[0].isupper() or not (entry and entry[1]):
            return False
        return not any(p.precision in ("country", "region") for p in place.candidates)

    def operator_before(self, text: str, sentence_start: int, kind_start: int, mentions: list[Mention]) -> str:
        """Who the text says runs a facility, as an ISO code: "the Russian air base", "Russia's 102nd
        base", "China opened its first overseas base in X"; "" when it does not say.

        `mentions` are the text's mentions that start within OPERATOR_REACH characters before the
        phrase, in text order: both phrasings are short (a possessive and two words; a verb with
        at most 60 characters on either side), and looking further back made a text of many
        facility phrases cost their number squared.
        """
        words = re.findall(r"[\w’']+", text[max(sentence_start, kind_start - 40) : kind_start])[-3:]
        for word in reversed(words):
            if self.lexicon.demonyms.get(word):
                return self.lexicon.demonyms[word]
        for mention in reversed(mentions):
            if not (sentence_start <= mention.start and mention.end <= kind_start) or mention.role == "facility":
                continue
            country = next((p.country for p in mention.candidates if p.kind == "country" and p.primary), "")
            between = text[mention.end : kind_start]
            if country and (re.fullmatch(r"[’']s\s+(?:[\w-]+\s+){0,3}", between) or OPERATES.match(between)):
                return country
        return ""


class FacilityPlacer:
    """Where each facility phrase goes (see the module's docstring): a known site, or a row of its own at its anchor."""

    def __init__(self, gazetteer: Gazetteer, lexicon: Lexicon, weights: Weights) -> None:
        self.gazetteer = gazetteer
        self.lexicon = lexicon
        self.weights = weights
        self._near: dict[tuple[object, ...], list[Place]] = {}  # `near`'s answers
        self._names: dict[str, tuple[str, ...]] = {}  # a curated row's names, normalised, for unit numbers

    # -- what stands near a place
    def fits(self, facility: Place, kind: str) -> bool:
        """Whether a facility is of the phrase's family: "base" (an owner's "base") takes any military one."""
        family = self.lexicon.family(facility.kind)
        if kind == "base":
            entry = self.lexicon.facility_kinds.get(family)
            return bool(entry and entry[1])
        return family == kind

    def near(self, place: Place, kind: str) -> list[Place]:
        """Known facilities of a family that "<kind> in <place>" may mean, nearest first.

        Within `weights.facility_reach_km` of a town or region; anywhere in the country when the place is a
        country. Two sources: the curated rows (cited expert knowledge; they win a tie) and the
        gazetteer's own facility index (`Gazetteer.facilities_near`: airfields), of which the same family is kept.
        """
        asked = (place.key, place.lat, place.lon, place.precision, place.country, kind)
        if asked not in self._near:  # asked for every mention of a place: once per place and kind
            self._near[asked] = self._find(place, kind)
        return list(self._near[asked])

    def _find(self, place: Place, kind: str) -> list[Place]:
        reach = self.weights.facility_reach_km.get(place.precision)
        found: dict[str, tuple[float, int, str, Place]] = {}
        for facility in self.gazetteer.curated:
            if facility.precision not in ("facility", "settlement") or not self.fits(facility, kind):
                continue
            if reach is None:
                if facility.country and facility.country == place.country:
                    found[facility.key] = (0.0, 0, facility.key, facility)
                continue
            distance = haversine_km(place.lat, place.lon, facility.lat, facility.lon)
            if distance <= reach:
                found[facility.key] = (distance, 0, facility.key, facility)
        finder = getattr(self.gazetteer, "facilities_near", None)
        if callable(finder) and reach is not None:
            for item in finder(place.lat, place.lon, None if kind == "base" else kind, reach) or ():
                facility = item if isinstance(item, Place) else next((x for x in item if isinstance(x, Place)), None)
                if facility is None or facility.key in found or not self.fits(facility, kind):
                    continue
                distance = haversine_km(place.lat, place.lon, facility.lat, facility.lon)
                if distance <= reach:
                    found[facility.key] = (distance, 1, facility.key, facility)
        return [entry[3] for entry in sorted(found.values(), key=lambda entry: entry[:3])]

    def named_after(self, facility: Place, name: str) -> bool:
        """Whether a facility bears the name: "Altenstadt Army Airfield" for "Altenstadt"."""
        wanted = normalize(name)
        return bool(wanted) and f" {wanted} " in f" {normalize(facility.name)} "

    # -- placing a phrase
    def place(self, mention: Mention, placed: dict[int, Place], earlier: list[Place]) -> Place | None:
        """The facility a phrase names (see the module's docstring); None when nothing places it.

        `placed` holds the article's names' places (by the mention's id); `earlier`, the facilities
        placed so far in the article, in text order (the phrase's place is appended).
        """
        if mention.anchors:
            anchor = placed.get(id(mention.anchors[0]))
            found = None if anchor is None else self._at(mention, anchor)
        else:
            found = self._unanchored(mention, placed, earlier)
        if found is not None:
            earlier.append(found)
        return found

    def _matching(self, mention: Mention, facilities: Sequence[Place]) -> list[Place]:
        """The facilities the phrase's owner and unit number allow ("the Chinese base in Djibouti" is not the American one)."""
        kept = [f for f in facilities if not mention.operator or not f.operator or f.operator == mention.operator]
        if mention.unit:
            kept = [f for f in kept if f.curated and self._has_unit(f, mention.unit)]
        return kept

    def _has_unit(self, facility: Place, unit: str) -> bool:
        if facility.key not in self._names:
            names = getattr(self.gazetteer, "curated_names", {}).get(facility.key) or (facility.name,)
            self._names[facility.key] = tuple(normalize(n) for n in names)
        return any(re.search(rf"(?<!\w){re.escape(unit)}(?!\w)", name) for name in self._names[facility.key])

    def _at(self, mention: Mention, anchor: Place) -> Place:
        """A phrase located by a place: a known facility there, else a row of its own at the place."""
        # An inflected name («в Канте») is matched to the facilities' English names by its place's name.
        anchor_name = anchor.name if mention.anchors[0].lemma else mention.anchors[0].text
        matches = self._matching(mention, self.near(anchor, mention.kind))
        named = [m for m in matches if self.named_after(m, anchor_name)]
        if named:
            return named[0]
        if anchor.precision in ("settlement", "facility"):
            named = self._named_in_country(mention, anchor)
            if len(named) == 1:  # "the airfield in Ayni": Ayni Air Base, though the town found is another Ayni
                return named[0]
            close = [
                m
                for m in matches
                if m.curated or haversine_km(anchor.lat, anchor.lon, m.lat, m.lon) <= UNNAMED_AIRFIELD_KM
            ]
            if close:
                return close[0]
        elif len(matches) == 1 and (matches[0].curated or anchor.precision == "region"):
            return matches[0]
        return self.own(mention, anchor)

    def _named_in_country(self, mention: Mention, anchor: Place) -> list[Place]:
        """Facilities of the phrase's kind in the anchor's country named after it, wherever its town lies."""
        name = anchor.name if mention.anchors[0].lemma else mention.anchors[0].text
        found = {
            f.key: f
            for f in self.gazetteer.curated
            if f.country == anchor.country and self.fits(f, mention.kind) and self.named_after(f, name)
        }
        for suffix in NAMED_SUFFIXES:
            for f in self.gazetteer.lookup(f"{name} {suffix}"):
                if f.country == anchor.country and f.precision == "facility" and self.fits(f, mention.kind):
                    found.setdefault(f.key, f)
        return self._matching(mention, list(found.values()))

    def _unanchored(self, mention: Mention, placed: dict[int, Place], earlier: list[Place]) -> Place | None:
        """ "Russia's 102nd base", "the Turkish base": by unit number and owner, else an earlier facility of
        that owner, else a row of its own in the one host country the article names."""
        countries = {p.country for p in placed.values() if p.country}
        curated = self._matching(mention, [f for f in self.gazetteer.curated if self.fits(f, mention.kind)])
        if mention.operator and not mention.unit:
            curated = [f for f in curated if f.operator == mention.operator]
        if mention.unit and len(curated) == 1:
            return curated[0]  # "Russia's 102nd base": the unit number names it, wherever the article is
        for facility in reversed(earlier):  # "the Turkish base", after "Turkey's base in Mogadishu"
            if (not mention.operator or facility.operator == mention.operator) and self.fits(facility, mention.kind):
                return facility
        abroad = countries - {
            mention.operator
        }  # an owner's phrase is about its bases abroad, if the article names a host
        here = [f for f in curated if f.country in (abroad or countries)]
        if len(here) == 1:
            return here[0]
        hosts = {p.country: p for p in placed.values() if p.kind == "country" and p.country != mention.operator}
        if len(hosts) == 1:
            return self.own(mention, next(iter(hosts.values())))
        return None

    def own(self, mention: Mention, anchor: Place) -> Place:
        """The facility as a row of its own at its anchor: its own key and name, the anchor's point and precision."""
        name = self._name(mention, anchor)
        precision = anchor.precision if anchor.precision in ("region", "country") else "settlement"
        if precision == "country":
            where = f"no town named: placed at the centre of {anchor.name} ({anchor.source})"
        elif precision == "region":
            where = f"placed at the centre of {anchor.name} ({anchor.source})"
        else:
            where = f"placed at {anchor.name} ({anchor.source})"
        kind = "military base" if mention.kind == "base" else mention.kind
        return Place(
            key=f"facility:{anchor.country or 'XX'}/{slugify(name)}",
            name=name,
            lat=anchor.lat,
            lon=anchor.lon,
            country=anchor.country,
            kind=kind,
            precision=precision,
            source=f"site not published: {where}",
            slug=slugify(name),
            operator=mention.operator,
        )

    def _name(self, mention: Mention, anchor: Place) -> str:
        """ "Osh Air Base" (a proper name, as written), "Turkish base in Mogadishu", "Radar station near Hantsavichy"."""
        text = " ".join(mention.text.split())
        if not mention.phrase:
            return text
        if mention.gloss:  # a phrase in another language, named in English: "radar station near Nurek"
            text = _glossed(mention, anchor)
        elif mention.anchors and mention.anchors[0].start > mention.start:  # "radar station near the town of X"
            head = mention.text[: mention.anchors[0].start - mention.start]
            head = re.sub(rf"\s+(?:the\s+)?(?:[\w-]+\s+)?{SETTLEMENT_NOUNS}\s+of\s+(?:the\s+)?$", " ", head, flags=re.I)
            head = re.sub(r"\s+the\s+$", " ", head, flags=re.I)
            text = " ".join(head.split()) + " " + anchor.name
        elif mention.anchors:  # "Altenstadt airfield": the place's own name
            text = anchor.name + text[len(mention.anchors[0].text) :]
        elif anchor.kind == "country":
            text = f"{text} in {anchor.name}"
        owner = self.lexicon.adjective_for(mention.operator) if mention.operator else ""
        if owner and not text.startswith(owner):
            text = f"{owner} {text}"
        return text[:1].upper() + text[1:]


def _glossed(mention: Mention, anchor: Place) -> str:
    """The English name of a phrase written in another language: its gloss, then its place's name ("air
    base in Kant"); after the place when the text names it so («авиабаза Кант»: "Kant air base")."""
    if not mention.anchors:
        return f"{mention.gloss} in {anchor.name}" if anchor.kind == "country" else mention.gloss
    if mention.gloss.endswith(" "):  # the head, then a preposition: "radar station near "
        return mention.gloss + anchor.name
    return f"{anchor.name} {mention.gloss}"
