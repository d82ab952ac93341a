"""What recognition finds and the rules judge: names found in the text, and the mentions made of them.

A `Name` is what the gazetteer knows at a place in the text, before any rule has judged it; a
`Mention` is what a judged name (or a facility or route phrase) becomes, with its candidates;
`ArticleWords` is what the whole article shows about its words (who is a person, which words
it writes in lower case), which the rules weigh each name against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from newsmap.geoparser.gazetteer import Place
from newsmap.geoparser.tokens import Runs, Token


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
    local: bool = (
        False  # a feature's name the gazetteer knows only as towns ("Cape Horn"): a town only where the article is
    )
    feature: str = (
        ""  # "Mount Sinjar" with no mountain in the gazetteer: the kind of feature, placed at its namesake town
    )
    fixed: bool = False  # an abbreviation ("U.S.", "Ky."): the word list already says which place
    cue_before: str = ""  # the words just before, for the locative test
    cue_after: str = ""  # the words just after ("man", "police": a town's people and services)
    operator: str = ""  # a facility phrase: who the text says runs it (ISO code), "" when it does not say
    unit: str = ""  # a facility phrase's unit number ("102nd"), "" when it gives none
    phrase: bool = False  # a facility phrase ("air base in Kant"): placed by its anchor or owner, not by a name
    # A name inflected in its language («в Оше»): its lemma in the article's spelling («Ош»), which names the
    # place and makes one sense of all its cases; "" in English, where the text is the name.
    lemma: str = ""
    gloss: str = ""  # a facility phrase in another language: its head in English ("radar station near")


@dataclass
class Recognition:
    """What recognition hands the resolver: the mentions in text order, and each use of a country's adjective."""

    mentions: list[Mention]
    adjectives: list[tuple[int, int, str]]  # (start, end, country) of "Russian", "Kyrgyz", ...


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
        return any(is_prominent(p) for p in self.places)

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


def is_prominent(place: Place) -> bool:
    """A place meant even when a lone or common word names it: curated, a country, a US state, a
    continent, or a city of a million."""
    return place.curated or place.kind in ("country", "US state", "continent") or place.population >= 1_000_000
