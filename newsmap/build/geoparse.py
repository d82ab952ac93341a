"""Find the places an English news text names, and decide which real place each one is.

Recognition works on capitalised word sequences matched against the gazetteer's names,
longest first, then weeds out what is a place name only by accident:

- **Adjectives** ("Russian", "Kyrgyz", "Soviet") name no place. They are not mentions; they
  only tell the resolver which countries the article is about.
- **Organisation names** ("Moscow State University", "Bishkek City Council"): a place name
  followed by an organisation word is part of the organisation's name and is not a mention.
  A place in brackets after an organisation ("East-West Strategy Analytical Center (Bishkek)")
  is a mention: it says where the organisation is.
- **People**: a place name next to another unknown capitalised word ("Dmitry Orlov",
  "Vladimir Putin"), next to a first name ("Christopher Steele") or after a title ("Governor
  Jackson") is a person; later lone uses of those words ("according to Orlov") are people too,
  unless a place preposition says otherwise ("in Fargo"). A title ends a name: in "Fargo Mayor
  Dennis Walaker" the person is Dennis Walaker.
- **Common words** ("March", "Reading", "Republic") count only when the gazetteer entry is a
  country or state, or a city of 100,000 or more or preceded by a place preposition, and the
  article never uses the word in lower case.
- **Abbreviations** count only as written ("U.S.", "UK", and "Ky." after "Town, ");
  **acronyms** ("NATO") only when they are a prominent place's name.
- **Designators**: a name followed by "County", "Drive", "river", ... is a thing GeoNames'
  towns cannot place, not the town of that name.

On top of place names, two kinds of phrase name things that are *at* places:

- **Facilities**: "air base in Kant", "seismological center in the town of Mailuu-Suu" (the
  phrase is the facility's mention, and the place name inside it is also a mention of that
  place, used as a location), or a proper name "Kant Air Base" (one mention: a place name
  inside a proper name is part of the name, as with organisations).
- **Routes**: "Uzbekistan-China-Kyrgyzstan railway" (the route, and each place it joins).

Resolution picks, for each name, the candidate with the best score: its prominence
(population, or country/region rank; world cities get a bonus), whether it is a curated entry,
whether the name is its main name, and above all the article's context: the countries and US
states it names (directly, through adjectives, or through unambiguous cities) and "Town,
Country" qualifiers. A place matched only by an alternate name needs such support.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from newsmap.article import Article
from newsmap.build.gazetteer import Gazetteer, OfflineGeocoder, Place, haversine_km, location_to_place
from newsmap.build.lexicon import Lexicon, load

MAX_NAME_TOKENS = 6
_WORD = re.compile(r"\w+(?:[’'.]\w+)*")
_JOINER = re.compile(r"[ \t\u00a0]{1,3}|[ \u00a0]?[-‐‑‒–—][ \u00a0]?")
_HYPHEN = re.compile(r"[ \u00a0]?[-‐‑‒–—][ \u00a0]?")
_LOCATIVE = re.compile(
    r"\b(?:in|at|near|from|to|into|outside|across|around|toward|towards|via|through|of|"
    r"visit|visited|visiting|entered|left|between|and)\s+(?:the\s+)?[“\"‘']?$",
    re.IGNORECASE,
)
# Prepositions that put what follows on the ground ("in Fargo"), unlike "according to Orlov".
_IN_PLACE = re.compile(r"\b(?:in|at|near|outside|from|into|across|around)\s+(?:the\s+)?$", re.IGNORECASE)
_WORD_AFTER = re.compile(r"[ \u00a0]+([A-Za-z]+)\b")
_SETTLEMENT_NOUNS = r"(?:town|village|city|settlement|lake|region|district|province|area|island|oblast|republic)"


@dataclass(frozen=True)
class Token:
    start: int
    end: int  # end of the word without a possessive "'s"
    text: str
    possessive: bool

    @property
    def capitalized(self) -> bool:
        return self.text[:1].isupper()


@dataclass
class Mention:
    """A span of text that refers to a place (`role` "toponym") or to a thing at places."""

    start: int
    end: int
    text: str
    sentence: int
    role: str = "toponym"  # "toponym" | "facility" | "route"
    kind: str = ""  # facility or route family, from the lexicon
    anchors: list[Mention] = field(default_factory=list)  # the place names that locate it
    candidates: list[Place] = field(default_factory=list)
    weak: bool = False  # a single common-ish word: needs context to count
    fixed: bool = False  # an abbreviation ("U.S.", "Ky."): the word list already says which place
    place: Place | None = None  # filled in by resolve()
    cue_before: str = ""  # the words just before, for the locative test


@dataclass
class Recognition:
    mentions: list[Mention]
    adjectives: list[tuple[int, int, str]]  # (start, end, country) of "Russian", "Kyrgyz", ...


class CandidateSource(Protocol):
    def geocode(self, query: str, *, exactly_one: bool = ..., **kwargs: object) -> object: ...


# --------------------------------------------------------------------------- recognition


def tokenize(text: str, start: int, end: int) -> list[Token]:
    tokens = []
    for match in _WORD.finditer(text, start, end):
        word = match.group()
        possessive = len(word) > 2 and word[-2] in "’'" and word[-1] in "sS"
        stop = match.end() - 2 if possessive else match.end()
        tokens.append(Token(match.start(), stop, text[match.start() : stop], possessive))
    return tokens


@dataclass
class _Match:
    """A name found in the text, before it is judged: where, and what the gazetteer holds for it."""

    sentence: int
    tokens: list[Token]
    i: int
    n: int
    places: list[Place]
    end: int = -1  # an abbreviation's end, its final period included ("Ky.")
    abbreviation: bool = False


class Recognizer:
    """Finds mentions in an article; stateless apart from the gazetteer and word lists."""

    def __init__(self, gazetteer: Gazetteer, lexicon: Lexicon | None = None) -> None:
        self.gazetteer = gazetteer
        self.lexicon = lexicon or load()
        kinds = sorted(self.lexicon.facility_kinds, key=len, reverse=True)
        kinds_re = "|".join(re.escape(k) for k in kinds)
        self._facility_before = re.compile(
            rf"(?<![\w-])(?P<kind>{kinds_re})\s+(?:in|at|near|on|outside)\s+(?:the\s+)?"
            rf"(?:{_SETTLEMENT_NOUNS}\s+of\s+(?:the\s+)?)?$",
            re.IGNORECASE,
        )
        self._facility_after = re.compile(rf"[ \u00a0](?P<kind>{kinds_re})(?![\w-])", re.IGNORECASE)
        routes_re = "|".join(re.escape(k) for k in sorted(self.lexicon.route_kinds, key=len, reverse=True))
        self._route_after = re.compile(rf"\s+(?P<kind>{routes_re})(?![\w-])", re.IGNORECASE)

    # -- helpers on words
    def _is_connector(self, token: Token) -> bool:
        return token.text in self.lexicon.connectors

    def _is_plain_word(self, token: Token) -> bool:
        """Capitalised only because of position or style: a common word, title or adjective."""
        text = token.text
        return (
            text.lower() in self.lexicon.common_words
            or text in self.lexicon.stopwords
            or text in self.lexicon.demonyms
            or text.lower() in self.lexicon.connectors
        )

    def _is_name_word(self, token: Token) -> bool:
        """Could be part of a person's name: capitalised, not a common word, title or adjective."""
        return token.capitalized and not self._is_plain_word(token) and token.text not in self.lexicon.titles

    def _joined(self, text: str, left: Token, right: Token) -> bool:
        if left.possessive:
            return False
        gap = text[left.end : right.start]
        if _JOINER.fullmatch(gap):
            return True
        # "St. Louis", "Mt. Everest": an abbreviation's period inside a name.
        return gap in (". ", ".\u00a0") and len(left.text) <= 3 and left.capitalized

    def _longest_name(self, text: str, tokens: list[Token], i: int) -> tuple[int, list[Place]]:
        limit = min(MAX_NAME_TOKENS, len(tokens) - i)
        for n in range(limit, 0, -1):
            span = tokens[i : i + n]
            if not span[-1].capitalized or any(t.possessive for t in span[:-1]):
                continue
            if any(not (t.capitalized or self._is_connector(t)) for t in span):
                continue
            if any(not self._joined(text, a, b) for a, b in itertools.pairwise(span)):
                continue
            name = text[span[0].start : span[-1].end]
            places = self.gazetteer.lookup(name)
            if places:
                return n, places
        return 0, []

    def _abbreviation(self, text: str, sentence: int, tokens: list[Token], i: int) -> _Match | None:
        """ "U.S.", "UK", "Louisville, Ky.": written exactly so (case and periods count)."""
        token = tokens[i]
        with_period = token.text + "." if text.startswith(".", token.end) else ""
        surface = next((s for s in (with_period, token.text) if s in self.lexicon.abbreviations), None)
        if surface is None:
            return None
        name, kind, after_comma = self.lexicon.abbreviations[surface]
        if after_comma and not re.search(r"[A-Za-z]\w*,\s$", text[max(0, token.start - 40) : token.start]):
            return None  # a state abbreviation only follows "Town, "
        places = [
            p for p in self.gazetteer.lookup(name) if p.kind == kind or (kind == "city" and p.precision == "settlement")
        ]
        if not places:
            return None
        places = [max(places, key=lambda p: (p.population, p.key))]
        return _Match(sentence, tokens, i, 1, places, end=token.start + len(surface), abbreviation=True)

    def _run(self, text: str, tokens: list[Token], i: int, step: int) -> list[Token]:
        """Capitalised words joined to tokens[i] going left (step -1) or right (step +1)."""
        run: list[Token] = []
        j = i + step
        while 0 <= j < len(tokens):
            a, b = (tokens[j], tokens[j - step]) if step < 0 else (tokens[j - step], tokens[j])
            if not tokens[j].capitalized or not self._joined(text, a, b):
                break
            run.append(tokens[j])
            j += step
        return run

    def _name_run(self, text: str, tokens: list[Token], i: int, step: int) -> list[Token]:
        """The name-like words joined to tokens[i]: a title or a common word ends the run."""
        run = []
        for token in self._run(text, tokens, i, step):
            if not self._is_name_word(token):
                break
            run.append(token)
        return run

    # -- the pass over an article
    def recognize(self, article: Article) -> Recognition:
        text = article.text
        matches: list[_Match] = []
        adjectives: list[tuple[int, int, str]] = []
        person_words: set[str] = set()
        for sentence in article.sentences:
            tokens = tokenize(text, sentence.start, sentence.end)
            i = 0
            while i < len(tokens):
                token = tokens[i]
                if not token.capitalized:
                    i += 1
                    continue
                abbreviation = self._abbreviation(text, sentence.index, tokens, i)
                if abbreviation is not None:
                    matches.append(abbreviation)
                    i += 1
                    continue
                n, places = self._longest_name(text, tokens, i)
                if n == 0 or (n == 1 and token.text in self.lexicon.demonyms):
                    if token.text in self.lexicon.demonyms:
                        adjectives.append((token.start, token.end, self.lexicon.demonyms[token.text]))
                    else:
                        self._learn_person(text, tokens, i, person_words)
                    i += 1
                    continue
                matches.append(_Match(sentence.index, tokens, i, n, places))
                i += n

        lower_words = frozenset(re.findall(r"\b[a-z]+\b", text))  # words the article uses in lower case
        mentions = [m for m in (self._judge(text, match, person_words, lower_words) for match in matches) if m]
        mentions = self._add_facilities(text, article, mentions)
        mentions = self._add_routes(text, mentions)
        mentions.sort(key=lambda m: (m.start, -m.end))
        return Recognition(mentions, adjectives)

    def _learn_person(self, text: str, tokens: list[Token], i: int, person_words: set[str]) -> None:
        """Unknown capitalised words next to other names, or after a title, are people's names.

        A title ends the run, so "Fargo Mayor Dennis Walaker" teaches "Dennis" and "Walaker"
        but not "Fargo".
        """
        token = tokens[i]
        if not self._is_name_word(token):
            return
        left = self._name_run(text, tokens, i, -1)
        right = self._name_run(text, tokens, i, +1)
        before = self._run(text, tokens, i - len(left), -1)
        titled = bool(before) and before[0].text in self.lexicon.titles
        if left or right or titled:
            person_words.update(t.text for t in [*left, token, *right])

    def _judge(self, text: str, match: _Match, person_words: set[str], lower_words: frozenset[str]) -> Mention | None:
        """Keep a found name as a mention, or drop it as a person, an organisation, a common word."""
        tokens, i, n, places = match.tokens, match.i, match.n, match.places
        first, last = tokens[i], tokens[i + n - 1]
        cue = text[max(0, first.start - 40) : first.start]
        if match.abbreviation:
            surface = text[first.start : match.end]
            return Mention(
                first.start, match.end, surface, match.sentence, candidates=places, cue_before=cue, fixed=True
            )
        surface = text[first.start : last.end]
        single = n == 1
        strong = any(_is_prominent(p) for p in places)
        known = any(p.curated or p.kind in ("country", "US state", "continent") for p in places)
        locative = bool(_LOCATIVE.search(cue))
        if single and (first.text in self.lexicon.stopwords or first.text in self.lexicon.titles):
            return None
        if single and first.text in person_words and not (strong or _IN_PLACE.search(cue)):
            return None
        if single and first.text.isupper() and len(first.text) <= 5 and not strong:
            return None  # an acronym ("NATO") that only an obscure alternate name matches
        after = _WORD_AFTER.match(text, last.end)
        if after and after.group(1).lower() in self.lexicon.designators and not any(p.curated for p in places):
            return None  # "Wichita Drive", "Butler County", "the Panj river"

        right = self._run(text, tokens, i + n - 1, +1)
        if right and not last.possessive:
            facility = self._facility_after.match(text, last.end)
            if facility and facility.group("kind")[0].isupper():
                anchor = Mention(first.start, last.end, surface, match.sentence, candidates=places)
                end = facility.end("kind")
                kind = self.lexicon.family(facility.group("kind"))
                return Mention(
                    first.start,
                    end,
                    text[first.start : end],
                    match.sentence,
                    role="facility",
                    kind=kind,
                    anchors=[anchor],
                )
            if any(t.text in self.lexicon.org_heads for t in right):
                return None  # part of an organisation's name
            head = right[0]
            given = single and first.text in self.lexicon.given_names and self._is_name_word(head)
            if given or (self._is_name_word(head) and not self.gazetteer.is_name(head.text)):
                person_words.update(t.text for t in [first, *right] if self._is_name_word(t))
                return None  # part of a longer name: a person ("Jordan Dyer"), a brand
        left = self._run(text, tokens, i, -1)
        if left:
            neighbour = left[0]
            given = neighbour.text in self.lexicon.given_names and neighbour.text not in self.lexicon.stopwords
            if (
                neighbour.text in self.lexicon.titles
                or given
                or (self._is_name_word(neighbour) and not self.gazetteer.is_name(neighbour.text))
            ):
                person_words.update(t.text for t in [*left, first] if self._is_name_word(t))
                return None  # "Governor Jackson", "Christopher Steele", "Dmitry Orlov"
        lower = first.text.lower()
        if single and not first.text.isupper() and lower in self.lexicon.common_words and not known:
            big = any(p.population >= 100_000 for p in places)
            if lower in lower_words or not (big or locative):
                return None  # a common word ("Reading the report"), unless it is plainly the place
        mention = Mention(
            first.start,
            last.end,
            surface,
            match.sentence,
            candidates=places,
            weak=single and not strong,
            cue_before=cue,
        )
        if all(p.precision == "facility" for p in places):
            mention.role = "facility"
            mention.kind = self.lexicon.family(places[0].kind)
        return mention

    def _add_facilities(self, text: str, article: Article, mentions: list[Mention]) -> list[Mention]:
        """ "air base in Kant": a facility mention spanning the phrase, located by the name."""
        named = [(m.start, m.end) for m in mentions if m.role == "facility"]
        added: list[Mention] = []
        for mention in mentions:
            if mention.role != "toponym":
                continue
            sentence = article.sentences[mention.sentence]
            window_start = max(sentence.start, mention.start - 120)
            found = self._facility_before.search(text, window_start, mention.start)
            if found is None or found.end() != mention.start:
                continue
            if any(start <= found.start("kind") < end for start, end in named):
                continue  # "Kant Air Base in Kyrgyzstan": the kind belongs to a proper name
            kind = found.group("kind")
            added.append(
                Mention(found.start("kind"), mention.end, text[found.start("kind") : mention.end], mention.sentence,
                        role="facility", kind=self.lexicon.family(kind), anchors=[mention])
            )  # fmt: skip
        return mentions + added

    def _add_routes(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """ "Uzbekistan-China-Kyrgyzstan railway": the route, joined by hyphens, then its kind."""
        toponyms = sorted((m for m in mentions if m.role == "toponym"), key=lambda m: m.start)
        added: list[Mention] = []
        group: list[Mention] = []
        for mention in [*toponyms, None]:
            if mention is not None and group and _HYPHEN.fullmatch(text[group[-1].end : mention.start]):
                group.append(mention)
                continue
            if len(group) >= 2:
                kind = self._route_after.match(text, group[-1].end)
                if kind:
                    end = kind.end("kind")
                    added.append(
                        Mention(group[0].start, end, text[group[0].start : end], group[0].sentence,
                                role="route", kind=self.lexicon.route_kinds[kind.group("kind").lower()], anchors=list(group))
                    )  # fmt: skip
            group = [mention] if mention is not None else []
        return mentions + added


def _is_prominent(place: Place) -> bool:
    return place.curated or place.kind in ("country", "US state", "continent") or place.population >= 1_000_000


# --------------------------------------------------------------------------- resolution


class Resolver:
    """Chooses one place per mention, using the article's own context."""

    # How far a curated facility may lie from the place a phrase locates it by.
    FACILITY_REACH_KM: ClassVar[dict[str, float]] = {"facility": 50.0, "settlement": 50.0, "region": 250.0}

    def __init__(
        self, gazetteer: Gazetteer, geocoder: CandidateSource | None = None, lexicon: Lexicon | None = None
    ) -> None:
        self.gazetteer = gazetteer
        self.geocoder = geocoder or OfflineGeocoder(gazetteer)  # any geopy Geocoder
        self.lexicon = lexicon or load()

    def candidates(self, mention: Mention) -> list[Place]:
        """The geocoder's candidates for the name; curated entries (cited expert knowledge) always join."""
        if mention.fixed:
            return mention.candidates
        found = self.geocoder.geocode(mention.text, exactly_one=False) or []
        places = [location_to_place(location) for location in found]  # type: ignore[union-attr]
        keys = {p.key for p in places}
        return [p for p in mention.candidates if p.curated and p.key not in keys] + places

    def resolve(self, recognition: Recognition) -> list[Mention]:
        """Fill `place` on every mention that can be placed; drop those that cannot."""
        toponyms = [m for m in recognition.mentions if m.role == "toponym" or (m.role == "facility" and not m.anchors)]
        for mention in toponyms:
            mention.candidates = self.candidates(mention)
        context = self._context(recognition, toponyms)
        for index, mention in enumerate(toponyms):
            qualifier = self._qualifier(toponyms, index)
            scored = sorted(
                ((self._score(p, context, qualifier), p.key, p) for p in mention.candidates),
                key=lambda item: (-item[0], item[1]),
            )
            if not scored:
                continue
            best = scored[0][2]
            if not self._accept(mention, best, context, qualifier):
                continue
            mention.place = best
        placed = [m for m in recognition.mentions if m.place is not None or m.anchors]
        for mention in placed:
            if mention.anchors and mention.role == "facility":
                mention.place = self._facility_place(mention)
            elif mention.anchors and mention.role == "route":
                mention.place = self._route_place(mention)
        # A named facility whose anchor went unplaced is dropped with it.
        kept = [m for m in placed if m.place is not None]
        return sorted(kept, key=lambda m: (m.start, -m.end))

    def _context(self, recognition: Recognition, toponyms: list[Mention]) -> dict[str, float]:
        """How strongly the article is about each country, and each US state, scaled to [0, 1].

        Keys are ISO country codes ("KG") and "US-" state codes ("US-MN"); each family is scaled
        on its own, so local US news can prefer Alexandria, Minnesota to Alexandria, Virginia.
        """
        evidence: Counter[str] = Counter()
        for _, _, country in recognition.adjectives:
            if country:
                evidence[country] += 0.5
        for mention in toponyms:
            candidates = mention.candidates
            countries = {p.country for p in candidates if p.country}
            if any(p.kind == "country" for p in candidates):
                best = max(candidates, key=lambda p: (p.kind == "country", p.population))
                evidence[best.country] += 1.0
            elif len(countries) == 1:
                evidence[countries.pop()] += 0.5
            elif candidates and _is_prominent(candidates[0]) and candidates[0].country:
                evidence[candidates[0].country] += 0.25
            states = {p.admin1 for p in candidates if p.country == "US" and p.admin1}
            if any(p.kind == "US state" for p in candidates):
                evidence["US-" + next(p.admin1 for p in candidates if p.kind == "US state")] += 1.0
            elif len(states) == 1:
                evidence["US-" + states.pop()] += 0.5
        context: dict[str, float] = {}
        for family in (lambda key: "-" not in key, lambda key: key.startswith("US-")):
            weights = {key: value for key, value in evidence.items() if family(key)}
            top = max(weights.values(), default=0.0)
            context.update({key: value / top for key, value in weights.items()} if top else {})
        return context

    def _qualifier(self, toponyms: list[Mention], index: int) -> set[str]:
        """ "Parkers Prairie, Minnesota": the country or US state codes the next name allows."""
        if index + 1 >= len(toponyms):
            return set()
        here, after = toponyms[index], toponyms[index + 1]
        if after.sentence != here.sentence or after.start - here.end > 3 or "," not in after.cue_before[-3:]:
            return set()
        codes: set[str] = set()
        for place in after.candidates:
            if place.kind == "country":
                codes.add(place.country)
            elif place.kind == "US state":
                codes.add(f"US-{place.admin1}")
        return codes

    def _score(self, place: Place, context: dict[str, float], qualifier: set[str]) -> float:
        if place.kind == "country":
            prominence = 8.0
        elif place.kind in ("US state", "continent") or (place.curated and place.precision in ("region", "country")):
            prominence = 6.5
        else:
            prominence = math.log10(place.population + 1)
            if place.population >= 1_000_000:
                prominence += 1.5  # a world city: "London" is London unless the text says otherwise
        score = prominence + (3.0 if place.curated else 0.0) + (1.0 if place.primary else 0.0)
        score += 4.0 * context.get(place.country, 0.0)
        if place.country == "US" and place.admin1:
            score += 2.0 * context.get(f"US-{place.admin1}", 0.0)
        if qualifier and (place.country in qualifier or f"US-{place.admin1}" in qualifier):
            score += 4.0
        return score

    def _accept(self, mention: Mention, best: Place, context: dict[str, float], qualifier: set[str]) -> bool:
        """Whether the best candidate is good enough to put on the map.

        A single ordinary word (weak), or a place matched only by one of its alternate names
        ("Hamas" is an old name of Hamm), needs support: the article's countries, a place
        preposition before it, or a "Town, State" qualifier. World cities and countries are
        known by their other names too ("Peking", "Burma").
        """
        supported = bool(qualifier or _LOCATIVE.search(mention.cue_before))
        alternate = not best.primary and not best.curated and best.kind not in ("country", "US state")
        if alternate and best.population < 1_000_000:
            return supported or context.get(best.country, 0.0) >= 0.5
        if mention.weak:
            return supported or context.get(best.country, 0.0) >= 0.25 or best.population >= 20_000
        return True

    def _facility_place(self, mention: Mention) -> Place | None:
        anchor = mention.anchors[0].place
        if anchor is None:
            return None
        reach = self.FACILITY_REACH_KM.get(anchor.precision)
        matches = []
        for place in self.gazetteer.curated:
            if place.precision not in ("facility", "settlement") or self.lexicon.family(place.kind) != mention.kind:
                continue
            if reach is not None:
                distance = haversine_km(anchor.lat, anchor.lon, place.lat, place.lon)
                if distance <= reach:
                    matches.append((distance, place.key, place))
            elif place.country == anchor.country:
                matches.append((0.0, place.key, place))
        if len(matches) == 1 or (matches and reach is not None):
            return min(matches)[2]
        return Place(
            key=f"facility:{mention.kind}:{anchor.key}",
            name=f"{anchor.name} {mention.kind}",
            lat=anchor.lat,
            lon=anchor.lon,
            country=anchor.country,
            kind=mention.kind,
            precision=anchor.precision,
            source=f"{anchor.source}; the {mention.kind}'s own site is not in the gazetteer, so it is placed at {anchor.name}",
        )

    def _route_place(self, mention: Mention) -> Place | None:
        parts = [a.place for a in mention.anchors]
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


def geoparse(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None = None
) -> tuple[list[Mention], Recognition]:
    """Recognise and resolve: the mentions of `article` that could be placed."""
    recognition = Recognizer(gazetteer).recognize(article)
    return Resolver(gazetteer, geocoder).resolve(recognition), recognition
