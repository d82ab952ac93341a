"""Slugs for ids and URLs: transliterated, never empty, unique within their scope.

"Łódź" -> "lodz", "Москва" -> "moskva", "北京" -> "beijing": names in any script keep their
letters (through `anyascii`) instead of losing them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from anyascii import anyascii

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_LIMIT = 60  # characters of a new article's slug (its URL), a "-2" included


def slugify(text: str, fallback: str = "place") -> str:
    """Lower-case ASCII letters and digits joined by single hyphens; `fallback` when nothing is left."""
    ascii_text = anyascii(unicodedata.normalize("NFKC", text)).lower()
    return _NOT_SLUG.sub("-", ascii_text).strip("-") or fallback


def shorten(slug: str, limit: int) -> str:
    """`slug` cut to at most `limit` characters at the end of a word (a hyphen), never in the middle
    of one, so a long title gives `...-on-the-border`, not `...-on-the-border-t`. Only a first word
    longer than `limit` is cut inside itself: there is no word end to cut at."""
    if len(slug) <= limit:
        return slug
    end = slug.rfind("-", 0, limit + 1)  # a hyphen at `limit` itself means the word before it ends in time
    return slug[:end] if end > 0 else slug[:limit]


def unique_slugs(names: Iterable[tuple[str, str]], fallback: str = "place") -> dict[str, str]:
    """{key: slug} for (key, name) pairs, in order; a repeated slug gets "-2", "-3", ...

    The first key with a given slug keeps it bare, so adding names later never renames earlier ones.
    """
    slugs: dict[str, str] = {}
    used: set[str] = set()
    for key, name in names:
        base = slugify(name, fallback)
        candidate, number = base, 2
        while candidate in used:
            candidate = f"{base}-{number}"
            number += 1
        used.add(candidate)
        slugs[key] = candidate
    return slugs
