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
Country" qualifiers. A place matched only by an alternate name needs such support. The
resolver returns its decisions (`Resolved`: a mention and its place) and changes no mention.

Each of the recognition rules above is a function of its own (`drop_organisation`,
`drop_person_left`, ...), asked in the order of `RULES`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, TypeAlias

from newsmap.article import Article, Sentence
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
    candidates: list[Place] = field(default_factory=list)  # what the gazetteer holds for the name
    weak: bool = False  # a single common-ish word: needs context to count
    fixed: bool = False  # an abbreviation ("U.S.", "Ky."): the word list already says which place
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
class Name:
    """A name found in the text, before it is judged: where, and what the gazetteer holds for it."""

    text: str = field(repr=False)  # the whole article text
    sentence: int
    tokens: list[Token] = field(repr=False)  # the sentence's words; the name is tokens[i : i + n]
    i: int
    n: int
    places: list[Place]
    end: int = -1  # an abbreviation's end, its final period included ("Ky.")
    abbreviation: bool = False

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
    def right(self) -> list[Token]:
        """The capitalised words joined to the name on its right (none after a possessive)."""
        if self.last.possessive:
            return []
        return _run(self.text, self.tokens, self.i + self.n - 1, +1)

    @property
    def left(self) -> list[Token]:
        """The capitalised words joined to the name on its left."""
        return _run(self.text, self.tokens, self.i, -1)


@dataclass
class ArticleWords:
    """What the whole article shows about its words, which the rules weigh each name against."""

    people: set[str] = field(default_factory=set)  # words known to be people's names; rules add to it
    lower: frozenset[str] = frozenset()  # words the article also uses in lower case


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


def _run(text: str, tokens: list[Token], i: int, step: int) -> list[Token]:
    """Capitalised words joined to tokens[i] going left (step -1) or right (step +1)."""
    run: list[Token] = []
    j = i + step
    while 0 <= j < len(tokens):
        a, b = (tokens[j], tokens[j - step]) if step < 0 else (tokens[j - step], tokens[j])
        if not tokens[j].capitalized or not _joined(text, a, b):
            break
        run.append(tokens[j])
        j += step
    return run


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

    def _longest_name(self, text: str, tokens: list[Token], i: int) -> tuple[int, list[Place]]:
        limit = min(MAX_NAME_TOKENS, len(tokens) - i)
        for n in range(limit, 0, -1):
            span = tokens[i : i + n]
            if not span[-1].capitalized or any(t.possessive for t in span[:-1]):
                continue
            if any(not (t.capitalized or self._is_connector(t)) for t in span):
                continue
            if any(not _joined(text, a, b) for a, b in itertools.pairwise(span)):
                continue
            name = text[span[0].start : span[-1].end]
            places = self.gazetteer.lookup(name)
            if places:
                return n, places
        return 0, []

    def _abbreviation(self, text: str, sentence: int, tokens: list[Token], i: int) -> Name | None:
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
        return Name(text, sentence, tokens, i, 1, places, end=token.start + len(surface), abbreviation=True)

    def _name_run(self, text: str, tokens: list[Token], i: int, step: int) -> list[Token]:
        """The name-like words joined to tokens[i]: a title or a common word ends the run."""
        run = []
        for token in _run(text, tokens, i, step):
            if not self.is_name_word(token):
                break
            run.append(token)
        return run

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
        return scan

    def _scan_sentence(self, text: str, sentence: Sentence, scan: Scan) -> None:
        """One sentence's names, longest first; adjectives and people's names are noted on the way."""
        tokens = tokenize(text, sentence.start, sentence.end)
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if not token.capitalized:
                i += 1
                continue
            abbreviation = self._abbreviation(text, sentence.index, tokens, i)
            if abbreviation is not None:
                scan.names.append(abbreviation)
                i += 1
                continue
            n, places = self._longest_name(text, tokens, i)
            if n == 0 or (n == 1 and token.text in self.lexicon.demonyms):
                if token.text in self.lexicon.demonyms:
                    scan.adjectives.append((token.start, token.end, self.lexicon.demonyms[token.text]))
                else:
                    self._learn_person(text, tokens, i, scan.words.people)
                i += 1
                continue
            scan.names.append(Name(text, sentence.index, tokens, i, n, places))
            i += n

    def _learn_person(self, text: str, tokens: list[Token], i: int, person_words: set[str]) -> None:
        """Unknown capitalised words next to other names, or after a title, are people's names.

        A title ends the run, so "Fargo Mayor Dennis Walaker" teaches "Dennis" and "Walaker"
        but not "Fargo".
        """
        token = tokens[i]
        if not self.is_name_word(token):
            return
        left = self._name_run(text, tokens, i, -1)
        right = self._name_run(text, tokens, i, +1)
        before = _run(text, tokens, i - len(left), -1)
        titled = bool(before) and before[0].text in self.lexicon.titles
        if left or right or titled:
            person_words.update(t.text for t in [*left, token, *right])

    def judge(self, name: Name, words: ArticleWords) -> Mention | None:
        """The mention a found name makes, or None: the first rule with a verdict decides."""
        for rule in RULES:
            verdict = rule(self, name, words)
            if verdict is not None:
                return verdict if isinstance(verdict, Mention) else None
        return place_mention(self, name)

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


# --------------------------------------------------------------------------- the rules that judge a name
# Each rule looks at one found name and returns a Verdict; `Recognizer.judge` asks them in the
# order of RULES, and a name no rule objects to becomes a `place_mention`.


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
        first.start, name.end, surface, name.sentence, candidates=name.places, cue_before=name.cue, fixed=True
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
    if not name.right:
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


def drop_organisation(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Moscow State University", "Bishkek City Council": the text names the organisation, not the place.

    A place name followed by capitalised words that end in an organisation word is part of
    that organisation's name.
    """
    if any(t.text in r.lexicon.org_heads for t in name.right):
        return Drop("part of an organisation's name")
    return None


def drop_person_right(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Jordan Dyer", "Christopher Steele": a place name before a surname is a person's (or a brand's) name.

    The next word counts as a surname when it could be a name and is no place name itself, or
    when the place name is a first name. The words are learnt as a person's, for lone uses later.
    """
    right = name.right
    if not right:
        return None
    first, head = name.first, right[0]
    given = name.single and first.text in r.lexicon.given_names and r.is_name_word(head)
    if given or (r.is_name_word(head) and not r.gazetteer.is_name(head.text)):
        words.people.update(t.text for t in [first, *right] if r.is_name_word(t))
        return Drop("part of a person's name")
    return None


def drop_person_left(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Governor Jackson", "Christopher Steele", "Dmitry Orlov": a place name after a title is a person.

    So is a place name after a first name, or after another capitalised word that could be a
    name and is no place name. The words are learnt as a person's, for lone uses later.
    """
    left = name.left
    if not left:
        return None
    neighbour = left[0]
    given = neighbour.text in r.lexicon.given_names and neighbour.text not in r.lexicon.stopwords
    if (
        neighbour.text in r.lexicon.titles
        or given
        or (r.is_name_word(neighbour) and not r.gazetteer.is_name(neighbour.text))
    ):
        words.people.update(t.text for t in [*left, name.first] if r.is_name_word(t))
        return Drop("part of a person's name")
    return None


def drop_common_word(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A common English word ("Normal was quiet", "Reading the report") counts only when it is plainly the place.

    That is: a country, state, continent or curated place; or a city of 100,000 or more or one
    after a place preposition ("to Normal"), in an article that never writes the word in lower
    case ("reading").
    """
    first = name.first
    lower = first.text.lower()
    if not name.single or first.text.isupper() or lower not in r.lexicon.common_words or name.known:
        return None
    big = any(p.population >= 100_000 for p in name.places)
    if lower in words.lower or not (big or _LOCATIVE.search(name.cue)):
        return Drop("a common word")
    return None


Rule: TypeAlias = Callable[[Recognizer, Name, ArticleWords], Verdict]
RULES: tuple[Rule, ...] = (
    is_abbreviation_match,
    drop_stopword_or_title,
    drop_known_person,
    drop_obscure_acronym,
    drop_designated_thing,
    named_facility,
    drop_organisation,
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
    )


def _is_prominent(place: Place) -> bool:
    return place.curated or place.kind in ("country", "US state", "continent") or place.population >= 1_000_000


# --------------------------------------------------------------------------- resolution


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

    def candidates(self, mention: Mention) -> list[Place]:
        """The geocoder's candidates for the name; curated entries (cited expert knowledge) always join."""
        if mention.fixed:
            return mention.candidates
        found = self.geocoder.geocode(mention.text, exactly_one=False) or []
        places = [location_to_place(location) for location in found]  # type: ignore[union-attr]
        keys = {p.key for p in places}
        return [p for p in mention.candidates if p.curated and p.key not in keys] + places

    def resolve(self, recognition: Recognition) -> list[Resolved]:
        """The place of every mention that can be placed, in text order; those that cannot are left out.

        Names are placed first, each by its candidates and the article's context; then the
        facility and route phrases, by the places of the names that locate them (a phrase whose
        name went unplaced is left out with it).
        """
        toponyms = [m for m in recognition.mentions if m.role == "toponym" or (m.role == "facility" and not m.anchors)]
        candidates = [self.candidates(mention) for mention in toponyms]  # parallel to toponyms
        context = self._context(recognition, candidates)
        placed: dict[int, Place] = {}  # id(mention) -> its place: a Mention is mutable, so not hashable
        for index, mention in enumerate(toponyms):
            place = self._choose(mention, candidates[index], context, self._qualifier(toponyms, candidates, index))
            if place is not None:
                placed[id(mention)] = place
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

    def _choose(
        self, mention: Mention, candidates: list[Place], context: dict[str, float], qualifier: set[str]
    ) -> Place | None:
        """The best-scoring candidate, if it is good enough to put on the map."""
        scored = sorted(
            ((self._score(p, context, qualifier), p.key, p) for p in candidates),
            key=lambda item: (-item[0], item[1]),
        )
        if not scored:
            return None
        best = scored[0][2]
        return best if self._accept(mention, best, context, qualifier) else None

    def _context(self, recognition: Recognition, candidate_lists: list[list[Place]]) -> dict[str, float]:
        """How strongly the article is about each country, and each US state, scaled to [0, 1].

        Keys are ISO country codes ("KG") and "US-" state codes ("US-MN"); each family is scaled
        on its own, so local US news can prefer Alexandria, Minnesota to Alexandria, Virginia.
        """
        evidence: Counter[str] = Counter()
        for _, _, country in recognition.adjectives:
            if country:
                evidence[country] += 0.5
        for candidates in candidate_lists:
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

    def _qualifier(self, toponyms: list[Mention], candidates: list[list[Place]], index: int) -> set[str]:
        """ "Parkers Prairie, Minnesota": the country or US state codes the next name allows."""
        if index + 1 >= len(toponyms):
            return set()
        here, after = toponyms[index], toponyms[index + 1]
        if after.sentence != here.sentence or after.start - here.end > 3 or "," not in after.cue_before[-3:]:
            return set()
        codes: set[str] = set()
        for place in candidates[index + 1]:
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

    def _facility_place(self, mention: Mention, placed: dict[int, Place]) -> Place | None:
        anchor = placed.get(id(mention.anchors[0]))
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
