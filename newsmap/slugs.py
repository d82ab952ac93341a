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


def slugify(text: str, fallback: str = "place") -> str:
    """Lower-case ASCII letters and digits joined by single hyphens; `fallback` when nothing is left."""
    ascii_text = anyascii(unicodedata.normalize("NFKC", text)).lower()
    return _NOT_SLUG.sub("-", ascii_text).strip("-") or fallback


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
