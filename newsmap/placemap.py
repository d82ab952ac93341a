"""The library's map: every place the articles of a date range name, one row per place across the library.

A place named by 3,000 articles is one marker, not 3,000: rows are grouped by `places.key` (their
identity across the library, schema step 6), each with how many articles name it and the newest
of them (the library's order: date published, then added), whose row gives the point, the name
and the link. The world is cut into tiles (`Tile`: level z halves level z - 1 both ways, in
degrees), so that a map of any library is bounded: a tile that holds more places than a limit is
answered as counts of its sub-tiles (`SPLIT` levels down: at most 64 of them, each with the
centre of its places), and the reader's map asks for a sub-tile when it zooms in to it.

Reads only, over a store's connection, by one of two plans (`_rows`): a range that holds few of the
library's articles reads them from the index `articles_published_span` and their places by the
places' primary key; a wide range (or none) scans the index `places_timeline` (schema step 7: key,
first day, time added and article of every place row) without reading the table, since every row
of it is wanted anyway. A tile below the whole world reads each row's point too.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from newsmap.store import article_filter

SPLIT = 3  # a gathered tile is answered as its sub-tiles 3 levels down: 8 x 8 at most
MAX_LEVEL = 24  # a tile 2 m wide: no finer one is ever needed
_TILE = re.compile(r"(0|[1-9][0-9]?)/(0|[1-9][0-9]*)/(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class Tile:
    """A cell of the map's grid: at level z the world is 2^z columns of 360 / 2^z degrees of longitude
    (x from 180° W) by 2^z rows of 180 / 2^z degrees of latitude (y from 90° S)."""

    z: int = 0
    x: int = 0
    y: int = 0

    @classmethod
    def parse(cls, text: str) -> Tile | None:
        """ "3/5/2" -> Tile(3, 5, 2); None for anything else, or a tile outside the world."""
        match = _TILE.fullmatch(text)
        if not match:
            return None
        z, x, y = (int(part) for part in match.groups())
        return cls(z, x, y) if z <= MAX_LEVEL and x < 2**z and y < 2**z else None

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"

    def bounds(self) -> list[float]:
        """[south, west, north, east] in degrees."""
        width, height = 360 / 2**self.z, 180 / 2**self.z
        return [-90 + self.y * height, -180 + self.x * width, -90 + (self.y + 1) * height, -180 + (self.x + 1) * width]

    def sql(self, level: int | None = None) -> tuple[str, str, list[float | int]]:
        """SQL expressions of a place's column and row at `level` (this tile's by default), and their arguments.

        The same arithmetic decides which tile a place is in and which sub-tile a count puts it in, so
        a place is counted where it is then found (a place on 180° or 90° N is in the last column or row)."""
        level = self.z if level is None else level
        n = 2**level
        column = "min(CAST((p.lon + 180.0) / ? AS INTEGER), ?)"
        row = "min(CAST((p.lat + 90.0) / ? AS INTEGER), ?)"
        return column, row, [360 / n, n - 1, 180 / n, n - 1]


FEW = 8  # a range holding at most 1/8 of the library's articles is read article by article


@dataclass(frozen=True)
class Scope:
    """Which place rows: of the articles published in `days` (first and last day; None: any, the undated
    included), matching `query` (the library's search), among `only` (an export's articles); in `tile`."""

    days: tuple[str, str] | None = None
    tile: Tile = Tile()
    only: Collection[str] | None = None
    query: str = ""


def _few(conn: sqlite3.Connection, days: tuple[str, str]) -> bool:
    """Whether `days` holds few of the library's articles (two counts over indexes)."""
    inside, total = conn.execute(
        "SELECT (SELECT count(*) FROM articles WHERE published_from <= ? AND published_to >= ?), "
        "(SELECT count(*) FROM articles)",
        days[::-1],
    ).fetchone()
    return inside * FEW <= total


def _rows(
    conn: sqlite3.Connection, scope: Scope, keys: list[str] | None = None, points: bool = False
) -> tuple[str, list[Any]]:
    """FROM and WHERE of the place rows `p` in `scope` (with one of `keys`, when given), and their arguments;
    `points`: the rows' points are read too (the table, then, not only the index)."""
    days, conditions, values = scope.days, [], []
    if days is not None and _few(conn, days):  # the range's articles, then their places
        source = "articles a CROSS JOIN places p ON p.article = a.slug"
        conditions.append("a.published_from <= ? AND a.published_to >= ?")
        values += [days[1], days[0]]
    else:  # every row's key, first day and article are in the index: no table is read for them...
        source = "places p" if points or scope.tile.z else "places p INDEXED BY places_timeline"  # ...but points
        if days is not None:  # a partial date covers a year at most: its first day is at most a year before
            before = (date.fromisoformat(days[0]) - timedelta(days=366)).isoformat() if days[0] else ""
            conditions += ["p.published_from BETWEEN ? AND ?", "(p.published_from >= ? OR "
                           "(SELECT a.published_to FROM articles a WHERE a.slug = p.article) >= ?)"]  # fmt: skip
            values += [before, days[1], days[0], days[0]]
    clauses, args = article_filter(scope.query, scope.only)
    if clauses:
        conditions.append(f"p.article IN (SELECT a.slug FROM articles a WHERE {' AND '.join(clauses)})")
        values += args
    if scope.tile.z:
        column, row, numbers = scope.tile.sql()
        conditions += [f"{column} = ?", f"{row} = ?"]
        values += [*numbers[:2], scope.tile.x, *numbers[2:], scope.tile.y]
    if keys is not None:
        conditions.append("p.key IN (SELECT value FROM json_each(?))")
        values.append(json.dumps(keys))
    return f"FROM {source} WHERE {' AND '.join(conditions) or '1'}", values


def places(
    conn: sqlite3.Connection, scope: Scope, limit: int, keys: list[str] | None = None
) -> list[dict[str, Any]] | None:
    """One row per place key in `scope` (key, name, lat, lon, category, precision, how many articles
    name it, and the newest one's slug, place id and title: newest by first day of publication, then
    by when it was added), or None when there are more than `limit` (ask for `counts` instead).
    `keys`: only those places."""
    rows, values = _rows(conn, scope, keys)
    newest = conn.execute(  # one row per (key, article) first, in the index's order, then per key
        "SELECT key, count(*), max(coalesce(first, '') || char(31) || added || char(31) || article) FROM "
        f"(SELECT p.key AS key, p.article AS article, p.published_from AS first, p.added_at AS added {rows} "
        "GROUP BY p.key, p.published_from IS NULL, p.published_from, p.added_at, p.article) "
        "GROUP BY key ORDER BY key LIMIT ?",
        [*values, limit + 1],
    ).fetchall()
    if len(newest) > limit:
        return None
    counted = {key: n for key, n, _ in newest}
    pairs = json.dumps([[key, last.rsplit(chr(31), 1)[1]] for key, _, last in newest])
    found = conn.execute(
        "SELECT p.key, p.name, p.lat, p.lon, p.category, p.precision, p.article, p.id, a.title "
        "FROM json_each(?) j JOIN places p ON p.key = json_extract(j.value, '$[0]') AND p.article = json_extract(j.value, '$[1]') "
        "JOIN articles a ON a.slug = p.article GROUP BY p.key ORDER BY p.key",
        (pairs,),
    ).fetchall()
    names = ("key", "name", "lat", "lon", "category", "precision", "article", "id", "title")
    return [{**dict(zip(names, row, strict=True)), "articles": counted[row[0]]} for row in found]


def counts(conn: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    """The places of `scope`'s tile gathered into its sub-tiles `SPLIT` levels down: each non-empty one
    with how many place keys it holds, the centre of its places' rows (where its count is drawn) and,
    when it holds one place, that place's key (`single`: a count of 1 is better shown as the place)."""
    rows, values = _rows(conn, scope, points=True)
    level = min(scope.tile.z + SPLIT, MAX_LEVEL)
    column, row, numbers = scope.tile.sql(level)
    found = conn.execute(
        "SELECT cx, cy, count(DISTINCT key), avg(lat), avg(lon), min(key) FROM "
        f"(SELECT p.key AS key, p.lat AS lat, p.lon AS lon, {column} AS cx, {row} AS cy {rows}) "
        "GROUP BY cx, cy ORDER BY cx, cy",
        [*numbers, *values],
    ).fetchall()
    return [
        {"tile": str(Tile(level, cx, cy)), "count": n, "lat": round(lat, 5), "lon": round(lon, 5)}
        | ({"single": key} if n == 1 else {})
        for cx, cy, n, lat, lon, key in found
    ]


def years(conn: sqlite3.Connection, only: Collection[str] | None = None) -> tuple[int, int] | None:
    """The first and last year of the library's dated articles (the time slider's ends): two ends of
    the index `articles_published_span`, read from the index alone."""
    among = only is not None
    extra, args = ("AND slug IN (SELECT value FROM json_each(?))", [json.dumps(sorted(only))]) if among else ("", [])
    first, last = conn.execute(
        f"SELECT min(published_from), max(published_to) FROM articles WHERE published_from IS NOT NULL {extra}", args
    ).fetchone()
    return (int(first[:4]), int(last[:4])) if first else None
