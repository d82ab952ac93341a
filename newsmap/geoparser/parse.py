"""The geoparser's entry: one article in, its rows out (a place row per place, a mention row per mention).

Recognise (`recognition.Recognizer`), resolve (`resolution.Resolver`), check the limits, then
describe (`rows.place_rows`). The build, the batch command and the geoparser child all call
`geoparse_article` (or `geoparse_within_limits`), so an article gets the same rows whichever
way it comes in.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from newsmap.adding import Limits
from newsmap.article import Article, ArticleError, article_from_text
from newsmap.dataset import quote_core
from newsmap.geoparser.gazetteer import Gazetteer
from newsmap.geoparser.mentions import Recognition
from newsmap.geoparser.recognition import Recognizer
from newsmap.geoparser.resolution import CandidateSource, Resolved, Resolver
from newsmap.geoparser.rows import place_rows
from newsmap.language import detect

# Format characters that change no letter: zero-width space, non-joiner and joiner, word joiner,
# byte-order mark, soft hyphen. "Mos\u200bcow" is Moscow.
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def visible_text(text: str) -> tuple[str, list[int]]:
    """The text without invisible characters, and for each of its offsets the original one.

    The list has one more entry than the text, for the end.
    """
    origins: list[int] = []
    last = 0
    for match in INVISIBLE.finditer(text):
        origins.extend(range(last, match.start()))
        last = match.end()
    origins.extend(range(last, len(text) + 1))
    return INVISIBLE.sub("", text), origins


def _span(origins: list[int], start: int, end: int) -> tuple[int, int]:
    """A span of the visible text as a span of the original (the characters inside kept)."""
    return origins[start], origins[end - 1] + 1 if end > start else origins[end]


def geoparse_article(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None, limits: Limits | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The article's rows. Invisible characters are ignored for matching, and every offset and
    quote still points into the original text.

    With `limits`, an article naming more places or mentions than allowed raises ArticleError as
    soon as the resolver has decided, before any place is described, quoted or written.
    """
    if not INVISIBLE.search(article.text):  # the usual case: no copy of the text, no offset table
        return _rows_within_limits(article, gazetteer, geocoder, limits)
    visible, origins = visible_text(article.text)
    seen = article_from_text(article.slug, visible, title=article.title, language=article.language)
    locations, mentions = _rows_within_limits(seen, gazetteer, geocoder, limits)
    for row in mentions:
        row["start"], row["end"] = _span(origins, row["start"], row["end"])
        row["sentence_start"], row["sentence_end"] = _span(origins, row["sentence_start"], row["sentence_end"])
        row["text"] = article.text[row["start"] : row["end"]]
    for row in locations:
        core = quote_core(row["quote"])
        at = visible.find(core)
        start, end = _span(origins, at, at + len(core))
        row["quote"] = row["quote"].replace(core, article.text[start:end], 1)
    return locations, mentions


def _rows_within_limits(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None, limits: Limits | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Recognise, resolve, check the limits, then describe: a place-dense article is refused after
    the (linear) recognition and resolution, never after describing thousands of places.

    An article in a language the geoparser does not read has no rows (rather than rows misread)."""
    recognition = recognize(article, gazetteer)
    if recognition is None:
        return [], []
    resolved = Resolver(gazetteer, geocoder).resolve(recognition)
    if limits is not None:
        places = len({decision.place.key for decision in resolved})  # a place row per place, a mention row each
        _check_limits(article.slug, places, len(resolved), limits)
    return place_rows(article, resolved, gazetteer)


def language_of(article: Article) -> str:
    """The article's language: the one it was stored with, else the detector's."""
    return article.language or detect(article.text)


def recognize(article: Article, gazetteer: Gazetteer) -> Recognition | None:
    """The mentions of the article, by its language's recogniser; None for a language not read.

    English is `recognition.Recognizer`; Russian, `ru.RussianRecognizer`, imported only here, on the first
    Russian article, so English-only use never loads its morphology.
    """
    language = language_of(article)
    if language == "en":
        return Recognizer(gazetteer).recognize(article)
    if language == "ru":
        from newsmap.geoparser.ru import RussianRecognizer

        return RussianRecognizer.shared(gazetteer).recognize(article)
    return None


def _check_limits(slug: str, places: int, mentions: int, limits: Limits) -> None:
    if places > limits.places:
        raise ArticleError(f"{slug}: {places} places, more than the {limits.places} allowed (NEWSMAP_MAX_PLACES)")
    if mentions > limits.mentions:
        raise ArticleError(
            f"{slug}: {mentions} mentions, more than the {limits.mentions} allowed (NEWSMAP_MAX_MENTIONS)"
        )


def sentences_as_seen(article: Article) -> Article:
    """The article with the sentences the geoparser used (split without invisible characters)."""
    if not INVISIBLE.search(article.text):
        return article
    visible, origins = visible_text(article.text)
    seen = article_from_text(article.slug, visible)
    sentences = tuple(type(s)(s.index, *_span(origins, s.start, s.end), s.paragraph) for s in seen.sentences)
    return dataclasses.replace(article, sentences=sentences)  # its language and metadata kept


def geoparse_within_limits(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None, limits: Limits
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The article's rows, or ArticleError when it names more places or mentions than allowed
    (counted as soon as the resolver has decided: a place row per place, a mention row per mention)."""
    return geoparse_article(article, gazetteer, geocoder, limits)


def geoparse(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None = None
) -> tuple[list[Resolved], Recognition]:
    """Recognise and resolve: the mentions of `article` that could be placed, each with its place
    (none, in a language the geoparser does not read)."""
    recognition = recognize(article, gazetteer) or Recognition([], [])
    return Resolver(gazetteer, geocoder).resolve(recognition), recognition
