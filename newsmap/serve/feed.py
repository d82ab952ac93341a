"""The library as an Atom feed (RFC 4287): feed readers learn of each article newsmap maps.

A pure function of the articles and the library's last write time, so the route can cache it by
the store's revision, and the same library always gives the same bytes (a reader's conditional
request then costs nothing).

Entry ids never change: a reader that has seen an article must not show it again as new. With a
site URL an entry's id is its page's address; without one (a site that does not know its own
address) it is a `tag:` URI (RFC 4151) of the slug and the day the article was added, which an
edit does not change, and every link is relative, resolved by the reader against the feed's URL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from newsmap import __version__
from newsmap.dataset import xml_text
from newsmap.language import name as language_name
from newsmap.serve import month_year
from newsmap.store import ArticleInfo

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
TAG_AUTHORITY = "newsmap"
FEED_TAG = f"tag:{TAG_AUTHORITY},2026:feed"  # the feed's id when the site's address is unknown; never change it
_SITE_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?", re.IGNORECASE)  # no query or fragment to append to
_HTTP_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def atom_feed(
    articles: Sequence[ArticleInfo],
    *,
    site_url: str,
    feed_path: str = "/feed.atom",
    updated: str,
    title: str = "newsmap",
    counts: dict[str, int] | None = None,
    alternate: str = "/",
) -> bytes:
    """The feed, an entry per article in the order given (newest first, as `Store.listing` reads).

    `site_url` is the site's absolute http(s) address ("https://example.org", a path prefix
    allowed) or "" for relative links; `updated` is the library's last write (an ISO 8601 time);
    `counts` maps slug -> places, for the summaries; `alternate` is the page the feed is of (a
    collection's feed is its page's, with a `tag:` id of its own). Anything else is a ValueError, raised
    before a byte is written: a feed with a malformed id or date is one readers drop silently.
    """
    base = _site_base(site_url)
    if not feed_path.startswith("/"):
        raise ValueError(f"feed_path {feed_path!r} must start with /")
    head = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="{ATOM_NS}">',
        f"<id>{_text(base + feed_path if base else _feed_tag(feed_path))}</id>",
        f"<title>{_text(title) or 'newsmap'}</title>",
        f"<updated>{_rfc3339(updated, 'updated')}</updated>",
        f'<link rel="self" type="{ATOM_TYPE}" href="{_text(base + feed_path)}"/>',
        f'<link rel="alternate" type="text/html" href="{_text(base + alternate)}"/>',
        f'<generator version="{__version__}">newsmap</generator>',
        "<author><name>newsmap</name></author>",
    ]
    entries = [_entry(article, base, (counts or {}).get(article.slug)) for article in articles]
    return "\n".join([*head, *entries, "</feed>", ""]).encode("utf-8")


def _feed_tag(feed_path: str) -> str:
    """The id of a feed whose site's address is unknown: the library's FEED_TAG, or one per feed path."""
    return FEED_TAG if feed_path == "/feed.atom" else f"tag:{TAG_AUTHORITY},2026:{quote(feed_path.lstrip('/'))}"


def _site_base(site_url: str) -> str:
    """The site's address without its final "/", or "" for relative links."""
    if not site_url:
        return ""
    if not _SITE_URL.fullmatch(site_url):
        raise ValueError(f"site_url {site_url!r} is not an absolute http(s) URL (or empty, for relative links)")
    return site_url.rstrip("/")


def _entry(article: ArticleInfo, base: str, places: int | None) -> str:
    """One article: its page as the alternate link, its original (when it has one) as the related."""
    page = f"{base}/articles/{quote(article.slug, safe='')}"
    added = _rfc3339(article.added_at, f"{article.slug}'s added_at")
    entry_id = page if base else f"tag:{TAG_AUTHORITY},{added[:10]}:articles/{quote(article.slug, safe='')}"
    lines = [
        "<entry>",
        f"<id>{_text(entry_id)}</id>",
        f"<title{_lang(article.language)}>{_text(article.title.strip()) or _text(article.slug)}</title>",
        f'<link rel="alternate" type="text/html" href="{_text(page)}"/>',
        f"<updated>{_rfc3339(article.updated_at, f'{article.slug} updated_at')}</updated>",
        f"<published>{added}</published>",
        f"<author><name>{_text(article.publisher.strip()) or 'newsmap'}</name></author>",
    ]
    if _HTTP_URL.fullmatch(article.url):
        lines.append(f'<link rel="related" type="text/html" href="{_text(article.url)}"/>')
    summary = _summary(article, places)
    if summary:
        lines.append(f"<summary>{_text(summary)}</summary>")
    return "\n".join([*lines, "</entry>"])


def _summary(article: ArticleInfo, places: int | None) -> str:
    """ "18 places, published March 2019 by Vestnik Kavkaza": what a reader decides to open it by."""
    parts = []
    if places is not None:
        parts.append(f"{places} place" if places == 1 else f"{places} places")
    if article.language not in ("", "en"):
        parts.append(f"in {language_name(article.language)}")
    published = " ".join(
        part
        for part in (
            "published",
            month_year(article.published.strip()),
            f"by {article.publisher.strip()}" if article.publisher.strip() else "",
        )
        if part
    )
    if published != "published":
        parts.append(published)
    summary = ", ".join(parts)
    return summary[:1].upper() + summary[1:]


def _lang(code: str) -> str:
    """`xml:lang` for an article's own words (its title) in a language other than the feed's English."""
    return f' xml:lang="{_text(code)}"' if code not in ("", "en") else ""


def _rfc3339(value: str, what: str) -> str:
    """An ISO 8601 time as RFC 3339 wants it: with its offset (UTC when it has none)."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not an ISO 8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _text(value: str) -> str:
    """Escaped, with the characters XML 1.0 forbids dropped: a feed is read, not audited."""
    return xml_text(value, replacement="")
