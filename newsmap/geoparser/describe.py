"""What the article says a place is: its category, status, best quote and spelling.

Rules read the sentence around each mention; they know English news phrasing ("talks in X",
"discussions about a base in X"), never a particular article.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from geopy.distance import geodesic

from newsmap.article import Article, Sentence
from newsmap.geo import compass_direction
from newsmap.geoparser.gazetteer import Place
from newsmap.geoparser.lexicon import Lexicon
from newsmap.geoparser.mentions import Mention
from newsmap.geoparser.status import facility_status
from newsmap.schema import MEETING, MILITARY, OTHER, PROPOSED

_MEETING_BEFORE = re.compile(
    r"\b(?:talks|negotiations|meeting|meetings|summit|conference|visit|forum|met|meet|hosted|host)\b"
    r"[^.;:!?]{0,80}?\bin\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# A common-noun "base" (not the "Base" of a proper name like "Kant Air Base") before the place.
_BASE_BEFORE = re.compile(r"\b(?:base|bases)\b[^.;!?]*$")
_SPECULATIVE = re.compile(
    r"\b(?:discuss\w*|propos\w*|possib\w*|plan|plans|planned|potential|could|might|second|"
    r"opening|open\s+a|host\s+a|considering|considered)\b",
    re.IGNORECASE,
)
# The tense of a meeting is read in its own clause, nearest words first: "talks were held in X"
# (held), "talks are expected in Y", "will meet in Y" (planned). A "will" elsewhere in the
# sentence ("Talks were held in X; the next round will be in Y") says nothing of X.
_FUTURE = re.compile(
    r"\b(?:will|’ll|'ll|shall|to\s+be\s+held|is\s+to|are\s+to|is\s+due|are\s+due|due\s+to|set\s+to|going\s+to|"
    r"planned|planning|plans?\s+to|scheduled|expected|upcoming|next|forthcoming|tomorrow|later\s+this|would)\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:was|were|held|met|hosted|had|took\s+place|last|ago|yesterday|earlier|concluded|ended|previous|did|"
    r"said|attended|signed|agreed)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.;:!?,()“”\"]")
# Who runs a facility, when the text says so after it: "the base in X, run by Russia".
_RUN_BY = re.compile(
    r"^[^.;!?]{0,30}?\b(?:run|operated|used|controlled|leased|manned|built|held)\s+by\s+(?:the\s+)?$", re.IGNORECASE
)
_ROUTE_PLANNED = re.compile(r"\b(?:plan\w*|construction|propos\w*|future|build\w*)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Description:
    category: str
    status: str
    quote: Sentence
    article_name: str


Countries = Sequence[tuple[int, int, str]]  # (start, end, ISO code) of the article's country mentions, in text order


def describe(
    place: Place, mentions: list[Mention], article: Article, lexicon: Lexicon, countries: Countries = ()
) -> Description:
    """What the article says of the place, read from its mentions (adjectives only when it has no other).

    "Russian" counts as a mention of Russia, but the article's spelling of Russia, and the
    sentence that best says what Russia is, come from where the article names it. `countries`
    (every country the article names, and where) lets the text say who runs a facility.
    """
    mentions = named_mentions(mentions)
    category, status, trigger = _category(place, mentions, article, lexicon, countries)
    return Description(category, status, _best_sentence(mentions, article, trigger), _article_name(mentions))


def named_mentions(mentions: list[Mention]) -> list[Mention]:
    """The mentions that name the place, or, for a place named only by its adjective, the adjectives."""
    return [m for m in mentions if m.role != "adjective"] or mentions


# How far around a mention the phrasing rules look. News sentences are shorter; the bound keeps
# a pathological one-sentence article (thousands of names) linear instead of quadratic.
WINDOW = 240


def _before(article: Article, mention: Mention) -> str:
    """The sentence's words before the mention (at most WINDOW characters)."""
    sentence = article.sentences[mention.sentence]
    return article.text[max(sentence.start, mention.start - WINDOW) : mention.start]


def _around(article: Article, mention: Mention) -> str:
    """The sentence around the mention (at most WINDOW characters each side)."""
    sentence = article.sentences[mention.sentence]
    return article.text[max(sentence.start, mention.start - WINDOW) : min(sentence.end, mention.end + WINDOW)]


def _category(
    place: Place, mentions: list[Mention], article: Article, lexicon: Lexicon, countries: Countries = ()
) -> tuple[str, str, int | None]:
    """(category, status, index of the sentence that decided it)."""
    facility_mentions = [m for m in mentions if m.role == "facility"]
    kind_entry = lexicon.facility_kinds.get(lexicon.family(place.kind)) or lexicon.facility_kinds.get(
        place.kind.lower()
    )
    if facility_mentions and kind_entry and kind_entry[1]:
        operator = (
            lexicon.adjective_for(place.operator)
            if place.operator
            else _operator(facility_mentions, article, lexicon, countries)
        )
        category = f"{operator} {MILITARY}".strip()
        return category, _facility_status(place, facility_mentions, article), None
    if place.precision in ("settlement", "facility"):
        for mention in mentions:
            before = _before(article, mention)
            sentence = _around(article, mention)
            base = _BASE_BEFORE.search(before)
            if base and re.search(r"\bin\b", before[base.start() :]) and _SPECULATIVE.search(sentence):
                return PROPOSED, "under discussion", mention.sentence
        for mention in mentions:
            meeting = _MEETING_BEFORE.search(_before(article, mention))
            if meeting:
                return MEETING, _meeting_status(article, mention, meeting), mention.sentence
    if any(m.role == "route" for m in mentions):
        sentences = " ".join(_around(article, m) for m in mentions)
        return OTHER, place.status or ("planned" if _ROUTE_PLANNED.search(sentences) else ""), None
    return OTHER, place.status, None


def _meeting_status(article: Article, mention: Mention, meeting: re.Match[str]) -> str:
    """ "talks held" or "talks planned": the tense of the meeting's own clause, nearest words first.

    The clause runs from the last punctuation before the meeting word to the first after the
    place ("talks in Y are expected next week"). Within it, the tense word nearest the meeting
    word decides; with none, the meeting is reported as held.
    """
    before = _before(article, mention)
    trigger = meeting.start()  # where the meeting word stands in `before`
    head = before[:trigger]
    cut = max((m.end() for m in _CLAUSE_END.finditer(head)), default=0)
    sentence = article.sentences[mention.sentence]
    after = article.text[mention.end : min(sentence.end, mention.end + 80)]
    end = _CLAUSE_END.search(after)
    tail = after[: end.start()] if end else after
    clause_before = head[cut:]
    inside = before[trigger:]
    found: list[tuple[int, str]] = []  # (distance from the meeting, tense)
    for pattern, tense in ((_FUTURE, "planned"), (_PAST, "held")):
        for word in pattern.finditer(clause_before):
            found.append((len(clause_before) - word.end(), tense))
        for word in pattern.finditer(inside):
            found.append((word.start(), tense))
        for word in pattern.finditer(tail):
            found.append((len(inside) + word.start(), tense))
    if not found:
        return "talks held"
    return f"talks {min(found)[1]}"


def _facility_status(place: Place, mentions: list[Mention], article: Article) -> str:
    """What this article's own words say of the facility (`newsmap.geoparser.status`: tense, modality,
    negation), never the gazetteer's status, which would be the same in every article: "" when the
    text says nothing of its state."""
    return facility_status(article, mentions, place.kind)


def _operator(mentions: list[Mention], article: Article, lexicon: Lexicon, countries: Countries) -> str:
    """Who runs the facility, as the text says: "the Russian air base", "Russia's air base", "China
    opened its first overseas base in X" (the recogniser read those), "the base in X, run by
    Russia". The adjective of that country, or ""."""
    adjective = _adjective_before(mentions, article, lexicon)
    if adjective:
        return adjective
    for mention in mentions:
        if mention.operator:
            return lexicon.adjective_for(mention.operator)
    for mention in mentions:
        sentence = article.sentences[mention.sentence]
        # The first country named after the mention (`countries` is in text order): found by
        # bisection, as reading the list from its start cost facility mentions x countries.
        after = bisect.bisect_left(countries, (mention.end,))
        if after < len(countries) and countries[after][0] <= min(sentence.end, mention.end + 60):
            start, _, code = countries[after]
            if _RUN_BY.match(article.text[mention.end : start]):
                return lexicon.adjective_for(code)
    return ""


def _adjective_before(mentions: list[Mention], article: Article, lexicon: Lexicon) -> str:
    """ "the Russian air base in X": the demonym right before a facility phrase, if any."""
    for mention in mentions:
        words = re.findall(r"[\w’']+", _before(article, mention))[-3:]
        for word in reversed(words):
            if lexicon.demonyms.get(word):
                return word
    return ""


def _best_sentence(mentions: list[Mention], article: Article, trigger: int | None) -> Sentence:
    """The sentence that best says what the place is.

    Prefer the sentence that decided the category, then one that describes the place with a
    phrase ("the air base in Kant"), and avoid headline lines; ties go to the earliest.
    """
    title = article.title.strip()
    scores: dict[int, float] = {}
    for mention in mentions:
        score = 2.0 if mention.anchors else 0.0
        scores[mention.sentence] = max(scores.get(mention.sentence, -99.0), score)
    # What the sentence itself is worth, once per sentence: comparing a long one-sentence article
    # with its title (its first line: the whole text) once per mention cost mentions x length.
    for index in scores:
        sentence = article.sentences[index]
        length = sentence.end - sentence.start
        if index == trigger:
            scores[index] += 3
        if length == len(title) and article.sentence_text(sentence) == title:
            scores[index] -= 3
        if length > 300:
            scores[index] -= 1
    best = min(scores, key=lambda index: (-scores[index], index))
    return article.sentences[best]


def _article_name(mentions: list[Mention]) -> str:
    """The article's most frequent spelling of the place (its lemma where the language inflects names:
    «в Оше» and «Ош» are both Ош)."""
    counts = Counter(m.lemma or m.text for m in mentions)
    first = {}
    for m in sorted(mentions, key=lambda m: m.start):
        first.setdefault(m.lemma or m.text, m.start)
    return min(counts, key=lambda text: (-counts[text], first[text]))


def relative_position(lat: float, lon: float, ref_name: str, ref_lat: float, ref_lon: float) -> str:
    """ "20 km E of Bishkek", measured on the WGS84 ellipsoid by geopy."""
    km = geodesic((ref_lat, ref_lon), (lat, lon)).km
    return f"{km:.0f} km {compass_direction(ref_lat, ref_lon, lat, lon)} of {ref_name}"
