"""Adding one article to the library, from the web, the API or `newsmap add`: the same steps for all.

1. A text already in the library (same words, whatever the spacing) is not added again.
2. Its size is checked against NEWSMAP_MAX_ARTICLE_KB.
3. Its language is decided (`language.decide`: the one given, else detected). In a language the
   geoparser does not read it is stored with no places (its page says why), and nothing is geoparsed.
4. A `geoparse` function finds its places: in the app and the CLI, a `GeoparsePool` child with
   the NEWSMAP_GEOPARSE_TIMEOUT budget (`geoparse_pool`); in tests, possibly in-process.
5. The article and its rows are stored in one transaction.

Nothing is stored unless every step succeeds, so a refused or timed-out add changes nothing.
This module imports nothing of the geoparser: it receives one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from newsmap.article import Article, ArticleError, Sentence, article_from_text
from newsmap.geoparse_pool import GeoparseError
from newsmap.language import SUPPORTED, checked, decide
from newsmap.settings import Settings
from newsmap.slugs import slugify
from newsmap.store import Store

Geoparse = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Limits:
    """What one article may cost; each is a setting, and the web, API and CLI use the same ones."""

    article_bytes: int = 500_000  # NEWSMAP_MAX_ARTICLE_KB
    places: int = 1_000  # NEWSMAP_MAX_PLACES
    mentions: int = 10_000  # NEWSMAP_MAX_MENTIONS

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(int(settings.max_article_kb * 1000), settings.max_places, settings.max_mentions)


@dataclass(frozen=True)
class Adding:
    """How an app or a command adds articles: the geoparse function it was given, and the limits."""

    geoparse: Geoparse
    limits: Limits


@dataclass
class Added:
    """What adding one article did: its slug, its places, or the article it duplicates."""

    slug: str
    places: list[dict[str, Any]]
    duplicate: bool = False
    language: str = ""


def add_article(
    store: Store,
    geoparse: Geoparse,
    text: str,
    *,
    limits: Limits,
    title: str = "",
    publisher: str = "",
    published: str = "",
    url: str = "",
    language: str = "",
    added_by: str = "",
    source: str = "web",
) -> Added:
    """Geoparse one article with `geoparse` and store it. Raises ArticleError for what the limits
    refuse and GeoparseError when the geoparse itself fails or runs out of time. `language`, an
    ISO 639-1 code, overrides the detector."""
    existing = store.duplicate_of(text)
    if existing is not None:
        return _duplicate(store, existing)
    if len(text.encode("utf-8")) > limits.article_bytes:
        raise ArticleError(f"the text is more than the {limits.article_bytes // 1000} KB allowed (NEWSMAP_MAX_ARTICLE_KB)")
    try:
        language = decide(text, checked(language))
    except ValueError as error:
        raise ArticleError(str(error)) from None
    meta = {"title": title, "publisher": publisher, "published": published, "url": url, "language": language}
    if meta["language"] in SUPPORTED:
        article, locations, mentions = _geoparsed(geoparse, text, meta, limits)
    else:  # stored as it is, with no places: the geoparser would misread it
        article = article_from_text("", text, **meta)
        article, locations, mentions = dataclasses.replace(article, slug=slugify(article.title, fallback="article")), [], []
    slug = store.insert_article(article, locations, mentions, added_by=added_by, source=source)
    if slug is None:  # the same text was added meanwhile, by another request
        return _duplicate(store, store.duplicate_of(text) or "")
    return Added(slug, store.places(slug), language=article.language)


def _geoparsed(
    geoparse: Geoparse, text: str, meta: dict[str, str], limits: Limits
) -> tuple[Article, list[dict[str, Any]], list[dict[str, Any]]]:
    """The article as the geoparser saw it (its slug, title and sentences) and its rows."""
    answer = geoparse({"text": text, **meta, "limits": vars(limits)})
    if not answer.get("ok"):
        raise ArticleError(str(answer.get("error") or "the article could not be geoparsed"))
    sentences = tuple(Sentence(*sentence) for sentence in answer["sentences"])
    article = Article(answer["slug"], text, answer["title"], meta["publisher"], meta["published"], meta["url"],
                      sentences, meta["language"])  # fmt: skip
    return article, answer["locations"], answer["mentions"]


def _duplicate(store: Store, slug: str) -> Added:
    info = store.info(slug)
    return Added(slug, store.places(slug), duplicate=True, language=info.language if info else "")


__all__ = ["Added", "Adding", "GeoparseError", "Limits", "add_article"]
