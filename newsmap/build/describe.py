"""What the article says a place is: its category, status, best quote and spelling.

Rules read the sentence around each mention; they know English news phrasing ("talks in X",
"discussions about a base in X"), never a particular article.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from geopy.distance import geodesic

from newsmap.article import Article, Sentence
from newsmap.build.gazetteer import Place
from newsmap.build.geoparse import Mention
from newsmap.build.lexicon import Lexicon
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
_FUTURE = re.compile(r"\b(?:will|to\s+be|is\s+to|are\s+to|planned|upcoming|next|scheduled)\b", re.IGNORECASE)
_ROUTE_PLANNED = re.compile(r"\b(?:plan\w*|construction|propos\w*|future|build\w*)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Description:
    category: str
    status: str
    quote: Sentence
    article_name: str


def describe(place: Place, mentions: list[Mention], article: Article, lexicon: Lexicon) -> Description:
    category, status, trigger = _category(place, mentions, article, lexicon)
    return Description(category, status, _best_sentence(mentions, article, trigger), _article_name(mentions))


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


def _category(place: Place, mentions: list[Mention], article: Article, lexicon: Lexicon) -> tuple[str, str, int | None]:
    """(category, status, index of the sentence that decided it)."""
    facility_mentions = [m for m in mentions if m.role == "facility"]
    kind_entry = lexicon.facility_kinds.get(lexicon.family(place.kind)) or lexicon.facility_kinds.get(
        place.kind.lower()
    )
    if facility_mentions and kind_entry and kind_entry[1]:
        operator = (
            lexicon.adjective_for(place.operator)
            if place.operator
            else _adjective_before(facility_mentions, article, lexicon)
        )
        category = f"{operator} {MILITARY}".strip()
        return category, place.status or "mentioned", None
    if place.precision in ("settlement", "facility"):
        for mention in mentions:
            before = _before(article, mention)
            sentence = _around(article, mention)
            base = _BASE_BEFORE.search(before)
            if base and re.search(r"\bin\b", before[base.start() :]) and _SPECULATIVE.search(sentence):
                return PROPOSED, "under discussion", mention.sentence
        for mention in mentions:
            if _MEETING_BEFORE.search(_before(article, mention)):
                sentence = _around(article, mention)
                return MEETING, "talks planned" if _FUTURE.search(sentence) else "talks held", mention.sentence
    if any(m.role == "route" for m in mentions):
        sentences = " ".join(_around(article, m) for m in mentions)
        return OTHER, place.status or ("planned" if _ROUTE_PLANNED.search(sentences) else ""), None
    return OTHER, place.status, None


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
        sentence = article.sentences[mention.sentence]
        length = sentence.end - sentence.start
        score = 0.0
        if mention.sentence == trigger:
            score += 3
        if mention.anchors:
            score += 2
        if length == len(title) and article.sentence_text(sentence) == title:
            score -= 3
        if length > 300:
            score -= 1
        scores[mention.sentence] = max(scores.get(mention.sentence, -99.0), score)
    best = min(scores, key=lambda index: (-scores[index], index))
    return article.sentences[best]


def _article_name(mentions: list[Mention]) -> str:
    counts = Counter(m.text for m in mentions)
    first = {}
    for m in sorted(mentions, key=lambda m: m.start):
        first.setdefault(m.text, m.start)
    return min(counts, key=lambda text: (-counts[text], first[text]))


_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def relative_position(lat: float, lon: float, ref_name: str, ref_lat: float, ref_lon: float) -> str:
    """ "20 km E of Bishkek", measured on the WGS84 ellipsoid by geopy."""
    km = geodesic((ref_lat, ref_lon), (lat, lon)).km
    dlon = math.radians(lon - ref_lon)
    p1, p2 = math.radians(ref_lat), math.radians(lat)
    bearing = math.degrees(
        math.atan2(
            math.sin(dlon) * math.cos(p2), math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dlon)
        )
    )
    direction = _COMPASS[round((bearing % 360) / 45) % 8]
    return f"{km:.0f} km {direction} of {ref_name}"
