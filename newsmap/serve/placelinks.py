"""Where a place's page across the library is, and what an article page says of it.

Every place row has a key, its identity across the library (`schema.key_slug` writes it for a URL):
its page is `/places/<key>` and its JSON twin `/api/places/<key>`. An article's JSON gives both for
each place; an article page links a place's page from its popup and its places list when other
articles name the place too ("Also in 3 other articles"), and says nothing when none does (no
weight added to the page). Kept apart from `site` and `placepage` so both can use it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from newsmap.placequeries import other_counts
from newsmap.schema import fallback_key, key_slug

# Counting the other articles is capped: a key named by 10,000 articles ("country:RU") costs an
# article page no more than one named by a hundred; beyond it the page says "100+".
ALSO_CAP = 100


def place_key(row: dict[str, Any], article: str = "") -> str:
    """A row's key; one written before rows had keys gets the store's fallback."""
    return str(row.get("key") or fallback_key(row, article or str(row.get("article", ""))))


def url_slug(key: str) -> str:
    """The key as a URL path segment: `key_slug`, with anything a URL may not hold percent-encoded."""
    return quote(key_slug(key), safe=":")


def place_path(key: str) -> str:
    return f"/places/{url_slug(key)}"


def place_api(key: str) -> str:
    return f"/api/places/{url_slug(key)}"


def file_stem(key: str) -> str:
    """The key as a download's file name: "curated-kant-air-base"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key_slug(key)).strip("-") or "place"


def with_place_links(places: list[dict[str, Any]], article: str = "") -> list[dict[str, Any]]:
    """Place rows with `place_url` and `place_api`: what `GET /api/articles/<slug>` gives."""
    return [
        {**p, "place_url": place_path(place_key(p, article)), "place_api": place_api(place_key(p, article))}
        for p in places
    ]


def also_label(others: int) -> str:
    count = f"{ALSO_CAP}+" if others > ALSO_CAP else f"{others}"
    return f"Also in {count} other article{'' if others == 1 else 's'}"


def also_in(
    conn: sqlite3.Connection,
    places: list[dict[str, Any]],
    article: str,
    *,
    exported: bool = False,
    only: Collection[str] | None = None,
) -> dict[str, dict[str, str]]:
    """{place id: {"label", "url"}} of the article's places that other articles (among `only`, in a
    static export) name too, from one query. In an export the link is relative to the article's page
    (`articles/<slug>/index.html`), as the export writes place pages for exactly these keys."""
    keys = {p["id"]: place_key(p, article) for p in places}
    counts = other_counts(conn, set(keys.values()), article, only, cap=ALSO_CAP)
    links = {}
    for place_id, key in keys.items():
        if counts.get(key):
            url = f"../../places/{url_slug(key)}/index.html" if exported else place_path(key)
            links[place_id] = {"label": also_label(counts[key]), "url": url}
    return links
