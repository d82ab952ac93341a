"""Adding one article to the library, from the web, the API or `newsmap add`: the same steps for all.

1. A text already in the library (same words, whatever the spacing) is not added again.
2. Its size is checked against NEWSMAP_MAX_ARTICLE_KB.
3. A `geoparse` function finds its places: in the app and the CLI, a `GeoparsePool` child with
   the NEWSMAP_GEOPARSE_TIMEOUT budget (`geoparse_pool`); in tests, possibly in-process.
4. The article and its rows are stored in one transaction.

Nothing is stored unless every step succeeds, so a refused or timed-out add changes nothing.
This module imports nothing of the geoparser: it receives one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from newsmap.article import Article, ArticleError, Sentence
from newsmap.geoparse_pool import GeoparseError
from newsmap.settings import Settings
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
    added_by: str = "",
    source: str = "web",
) -> Added:
    """Geoparse one article with `geoparse` and store it. Raises ArticleError for what the limits
    refuse and GeoparseError when the geoparse itself fails or runs out of time."""
    existing = store.duplicate_of(text)
    if existing is not None:
        return Added(existing, store.places(existing), duplicate=True)
    if len(text.encode("utf-8")) > limits.article_bytes:
        raise ArticleError(f"the text is more than the {limits.article_bytes // 1000} KB allowed (NEWSMAP_MAX_ARTICLE_KB)")
    meta = {"title": title, "publisher": publisher, "published": published, "url": url}
    answer = geoparse({"text": text, **meta, "limits": vars(limits)})
    if not answer.get("ok"):
        raise ArticleError(str(answer.get("error") or "the article could not be geoparsed"))
    sentences = tuple(Sentence(*sentence) for sentence in answer["sentences"])
    article = Article(answer["slug"], text, answer["title"], publisher, published, url, sentences)
    slug = store.insert_article(article, answer["locations"], answer["mentions"], added_by=added_by, source=source)
    if slug is None:  # the same text was added meanwhile, by another request
        existing = store.duplicate_of(text) or ""
        return Added(existing, store.places(existing), duplicate=True)
    return Added(slug, store.places(slug))


__all__ = ["Added", "Adding", "GeoparseError", "Limits", "add_article"]
