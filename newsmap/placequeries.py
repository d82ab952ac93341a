"""A place across the library: every article that names one gazetteer identity (`places.key`), oldest first.

Reads only, over a store's connection, so that a place page costs the same whether ten articles
name the place or ten thousand: a page of rows is one range of the `places_timeline` index (key,
undated last, first day of publication, time added, article, id, status: schema step 7), read with
LIMIT/OFFSET from the index alone; only the page's rows are then joined to their articles and
mentions. Counting a key's rows is a count over the same index range (no row is read), and the
status before a page (for the timeline's first change) is read from the index too. The whole
list of mentions (the downloads) is O(the place's mentions) by nature, read with a cursor.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from newsmap.schema import LOCATION_FIELDS, key_slug

PAGE_SIZE = 50  # articles per place page
MAX_QUOTES = 3  # sentences quoted per article on the page (the downloads hold every mention)
LOOKBACK = 1000  # rows before a page read for the status its timeline starts from
TIMELINE_ORDER = "published_from IS NULL, published_from, added_at, article, id"  # `places_timeline`'s order
MENTION_FIELDS = (
    "key", "article", "title", "publisher", "published", "language", "place_id", "name", "status", "lat", "lon", "precision",
    "role", "sentence", "start", "end", "text", "quote", "page",
)  # fmt: skip


def key_candidates(slug: str) -> list[str]:
    """The keys whose URL form (`schema.key_slug`) is `slug`: "geonames-1527534" -> ["geonames:1527534"].

    `key_slug` writes the first ":" as "-" and each "/" as "--"; the namespace ("curated", "hand", ...)
    has no hyphen, so the first hyphen is the colon. A "--" is a "/" in `hand:<article>/<id>` keys, but an
    id may hold "--" itself, so both readings are tried (the one that `key_slug` gives back wins)."""
    namespace, dash, rest = slug.partition("-")
    if not dash or not namespace or not rest:
        return []
    readings = [f"{namespace}:{rest.replace('--', '/')}", f"{namespace}:{rest}"]
    return [key for key in dict.fromkeys(readings) if key_slug(key) == slug]


def find_key(conn: sqlite3.Connection, slug: str, only: Collection[str] | None = None) -> str | None:
    """The key a place page's URL names, if some article (among `only`, when given) names it."""
    for key in key_candidates(slug):
        if count_rows(conn, key, only):
            return key
    return None


def _among(only: Collection[str] | None, column: str = "article") -> tuple[str, tuple[str, ...]]:
    """An extra condition keeping the articles a static export holds (none: every article)."""
    if only is None:
        return "", ()
    return f" AND {column} IN (SELECT value FROM json_each(?))", (json.dumps(sorted(only)),)


def place_name(conn: sqlite3.Connection, key: str) -> str:
    """The name of the newest row with `key` (what a download is titled)."""
    row = conn.execute(
        f"SELECT name FROM places WHERE key = ? ORDER BY {TIMELINE_ORDER.replace(', ', ' DESC, ')} DESC LIMIT 1", (key,)
    ).fetchone()
    return str(row[0]) if row else key


def count_rows(conn: sqlite3.Connection, key: str, only: Collection[str] | None = None) -> int:
    """How many place rows carry `key` (an index range count: no row is read)."""
    extra, args = _among(only)
    return int(conn.execute(f"SELECT count(*) FROM places WHERE key = ?{extra}", (key, *args)).fetchone()[0])


@dataclass(frozen=True)
class Summary:
    """What a place page says of the place itself, from its newest row (an editor's latest word)."""

    key: str
    row: dict[str, Any]  # the newest row naming it: name, kind, point, precision, country
    rows: int  # the articles naming it: place rows with this key (an article with two such places counts twice)
    undated: int  # of those, how many have no publication date
    first: str  # the first and last publication dates of the dated ones ("" when none)
    last: str


def summary(conn: sqlite3.Connection, key: str, only: Collection[str] | None = None) -> Summary | None:
    """The place's summary: four short reads of the `places_timeline` index and one row."""
    extra, args = _among(only)
    newest = conn.execute(
        f"SELECT * FROM places WHERE key = ?{extra} ORDER BY published_from IS NULL DESC, published_from DESC, "
        "added_at DESC, article DESC, id DESC LIMIT 1",
        (key, *args),
    ).fetchone()
    if newest is None:
        return None
    rows, dated = conn.execute(
        f"SELECT count(*), count(published_from) FROM places WHERE key = ?{extra}", (key, *args)
    ).fetchone()
    bounds = []
    for order in ("", " DESC"):  # the first and the last dated row, from either end of the index range
        found = conn.execute(
            f"SELECT a.published FROM articles a WHERE a.slug = (SELECT article FROM places WHERE key = ?{extra} "
            f"AND published_from IS NOT NULL ORDER BY published_from IS NULL{order}, published_from{order}, "
            f"added_at{order} LIMIT 1)",
            (key, *args),
        ).fetchone()
        bounds.append(str(found[0]) if found else "")
    row = {f: newest[f] for f in LOCATION_FIELDS}
    return Summary(key, row, int(rows), int(rows) - int(dated), bounds[0], bounds[1])


@dataclass
class Entry:
    """One article naming the place, as its page lists it."""

    article: str
    title: str
    publisher: str
    published: str
    place_id: str
    name: str
    status: str
    lat: float
    lon: float
    language: str = ""  # the article's (ISO 639-1): its quotes carry it as `lang`
    quotes: list[dict[str, Any]] = field(default_factory=list)  # {sentence, text, marks: [[start, end], ...]}
    more_quotes: int = 0  # sentences naming it beyond the MAX_QUOTES shown


def page_entries(
    conn: sqlite3.Connection, key: str, page: int, size: int = PAGE_SIZE, only: Collection[str] | None = None
) -> list[Entry]:
    """Page `page` (from 1) of the rows naming `key`, oldest first, undated last, with their quotes:
    the page's rows picked from the index alone, then joined to their articles (three queries)."""
    extra, args = _among(only)
    rows = conn.execute(
        "SELECT p.article, a.title, a.publisher, a.published, p.id, p.name, p.status, p.lat, p.lon, a.language "
        f"FROM (SELECT article, id FROM places WHERE key = ?{extra} ORDER BY {TIMELINE_ORDER} LIMIT ? OFFSET ?) k "
        "JOIN places p ON p.article = k.article AND p.id = k.id JOIN articles a ON a.slug = p.article "
        f"ORDER BY p.{TIMELINE_ORDER.replace(', ', ', p.')}",
        (key, *args, size, (page - 1) * size),
    ).fetchall()
    entries = [Entry(*row) for row in rows]
    _add_quotes(conn, entries)
    return entries


def _add_quotes(conn: sqlite3.Connection, entries: list[Entry], limit: int = MAX_QUOTES) -> None:
    """Each entry's first `limit` sentences that name the place, with the mentions marked in them,
    and how many more there are: its mentions' spans in one query, the sentences' text in another."""
    pairs = json.dumps([[e.article, e.place_id] for e in entries])
    spans = conn.execute(
        'SELECT m.article, m.place_id, m.sentence, m.sentence_start, m.sentence_end, m.start, m."end" '
        "FROM json_each(?) j JOIN mentions m ON m.article = j.value ->> 0 AND m.place_id = j.value ->> 1 "
        "ORDER BY m.article, m.place_id, m.sentence, m.start",
        (pairs,),
    ).fetchall()
    sentences: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for article, place_id, sentence, s_start, s_end, start, end in spans:
        own = sentences.setdefault((article, place_id), {})
        quote = own.setdefault(sentence, {"sentence": sentence, "start": s_start, "end": s_end, "marks": []})
        quote["marks"].append([start - s_start, end - s_start])
    wanted = []
    for entry in entries:
        own = sorted(sentences.get((entry.article, entry.place_id), {}).values(), key=lambda q: q["sentence"])
        entry.quotes, entry.more_quotes = own[:limit], max(0, len(own) - limit)
        wanted += [[entry.article, q["start"], q["end"]] for q in entry.quotes]
    texts = {
        (article, start): text
        for article, start, text in conn.execute(
            "SELECT j.value ->> 0, j.value ->> 1, substr(a.text, (j.value ->> 1) + 1, (j.value ->> 2) - (j.value ->> 1)) "
            "FROM json_each(?) j JOIN articles a ON a.slug = j.value ->> 0",
            (json.dumps(wanted),),
        )
    }
    for entry in entries:
        for quote in entry.quotes:
            quote["text"] = texts.get((entry.article, quote.pop("start")), "")
            quote["marks"] = _merged(quote["marks"], len(quote["text"]))
            del quote["end"]


def _merged(marks: list[list[int]], length: int) -> list[list[int]]:
    """Mention spans inside a sentence, nested or overlapping ones merged ("air base in Kant" holds "Kant")."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in marks):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    return merged


def status_before(
    conn: sqlite3.Connection, key: str, start: tuple[str, str], only: Collection[str] | None = None
) -> tuple[str, str] | None:
    """(publication date, status) of the last dated row before a page that states a status, among the
    LOOKBACK rows before it: where a later page's timeline starts from. Read backwards in the index
    from the page's first row, `start` (its article and place id, found by its primary key), so a deep
    page steps through the rows before it once, when the page itself is read."""
    extra, args = _among(only)
    first = conn.execute(
        "SELECT published_from, added_at, article, id FROM places WHERE article = ? AND id = ?", start
    ).fetchone()
    bound, bound_args = ("", ()) if first is None or first[0] is None else (
        " AND (published_from, added_at, article, id) < (?, ?, ?, ?)", tuple(first))  # fmt: skip
    row = conn.execute(
        f"SELECT article, status FROM (SELECT article, status FROM places WHERE key = ?{extra} "
        f"AND published_from IS NULL = 0{bound} ORDER BY published_from DESC, added_at DESC, article DESC, id DESC "
        "LIMIT ?) WHERE status != '' LIMIT 1",
        (key, *args, *bound_args, LOOKBACK),
    ).fetchone()
    if row is None:
        return None
    published = conn.execute("SELECT published FROM articles WHERE slug = ?", (row[0],)).fetchone()[0]
    return str(published), str(row[1])


def other_counts(
    conn: sqlite3.Connection,
    keys: Collection[str],
    article: str,
    only: Collection[str] | None = None,
    cap: int = 100,
) -> dict[str, int]:
    """{key: how many other articles name it} of one article's keys that others name too, from one
    query over `places_key`: for an article page's "Also in N other articles". Each count stops past
    `cap` (cap + 1 means "more than cap"), so a key named by every article costs what one named by
    `cap` does."""
    if not keys:
        return {}
    extra, args = _among(only)
    rows = conn.execute(
        "SELECT k.value, (SELECT count(*) FROM (SELECT DISTINCT article FROM places INDEXED BY places_key "
        f"WHERE key = k.value AND article != ?{extra} LIMIT ?)) FROM json_each(?) k",
        (article, *args, cap + 1, json.dumps(sorted(keys))),
    ).fetchall()
    return {key: int(n) for key, n in rows if n}


def shared_keys(conn: sqlite3.Connection, only: Collection[str] | None = None, least: int = 2) -> list[str]:
    """The keys at least `least` articles name (a static export writes their pages)."""
    extra, args = _among(only)
    query = f"SELECT key FROM places WHERE 1{extra} GROUP BY key HAVING count(DISTINCT article) >= ? ORDER BY key"
    return [row[0] for row in conn.execute(query, (*args, least))]


def iter_mentions(conn: sqlite3.Connection, key: str, only: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every mention of the place in the library, in the page's order (then the article's), with its
    article, its row and its sentence: what the place's downloads hold. Read with a cursor."""
    extra, args = _among(only, "p.article")
    cursor = conn.execute(
        "SELECT p.key, p.article, a.title, a.publisher, a.published, a.language, p.id, p.name, p.status, p.lat, p.lon, "
        'p.precision, m.role, m.sentence, m.start, m."end", m.text, '
        "substr(a.text, m.sentence_start + 1, m.sentence_end - m.sentence_start) "
        "FROM places p JOIN articles a ON a.slug = p.article "
        "JOIN mentions m ON m.article = p.article AND m.place_id = p.id "
        f"WHERE p.key = ?{extra} ORDER BY p.published_from IS NULL, p.published_from, p.added_at, p.article, p.id, "
        "m.position",
        (key, *args),
    )
    for values in cursor:
        row = dict(zip(MENTION_FIELDS, (*values, ""), strict=True))
        row["page"] = f"/articles/{row['article']}#{row['place_id']}"
        yield row
