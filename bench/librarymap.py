"""The library's map in bench/library.py (issue 21): filtered maps at 10 and 10,000 articles, and its payload.

What bench/library.py asks of each server, beside its other routes:

- `HOT_MAP`, a filtered library map (five years of the 25 the copies are spread over: with 10,000
  articles 2,000 of them, their places gathered into one marker per place across the library), the
  same each time: cached per (revision, from, to) with an ETag, its p50 and p95 the target (≤ 1.5×);
- `miss_paths`, filtered maps never asked for before (a range of one month to five years from a
  random start), a few a round: each is built from the rows in range, so its cost grows with the
  articles the range holds (reported, no target).

And once, in process (`payload_walk`): the map of a library whose every place is its own (the 10,000
copies with every place row given a key of its own and its point moved up to 10° away: 180,000
places): the root answer and, from it, the densest tile down to one that lists places. Each answer
stays bounded (at most `map_limit` places, or 64 counts) whatever the library holds.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

HOT_MAP = "/api/library/map?from=2010&to=2014"
NEAR_LIMIT = "?from=2019-01&to=2019-03"  # with every place its own, about as many places as one answer lists
MAP_MISSES = 10  # filtered maps never asked for before, per round
PAYLOAD_TARGET = 64 * 1024  # bytes (gzip): the largest answer of the map, whatever the library


def miss_paths(round_: int) -> list[str]:
    """`MAP_MISSES` filtered maps for this round: month ranges of 1 to 60 months from 2000 to 2024, none
    asked for twice in a run (the same in both libraries)."""
    rng = random.Random(1000 + round_)
    paths: list[str] = []
    while len(paths) < MAP_MISSES:
        start = rng.randrange(25 * 12)
        end = min(25 * 12 - 1, start + rng.randrange(60))
        path = f"/api/library/map?from={2000 + start // 12}-{start % 12 + 1:02d}&to={2000 + end // 12}-{end % 12 + 1:02d}"
        if path not in paths and path != HOT_MAP:
            paths.append(path)
    return paths


def distinct_library(db: Path, dest: Path) -> Path:
    """A copy of `db` in which every place row is a place of its own: its key made unique and its point
    moved by up to 10° of latitude and 20° of longitude (so tiles fill as a real world's would)."""
    shutil.copy(db, dest)
    conn = sqlite3.connect(dest)
    try:
        conn.execute(
            "UPDATE places SET key = key || '#' || article, "
            "lat = max(-89.9, min(89.9, lat + ((abs(random()) % 2000) - 1000) / 100.0)), "
            "lon = max(-179.9, min(179.9, lon + ((abs(random()) % 4000) - 2000) / 100.0))"
        )
        conn.commit()
    finally:
        conn.close()
    return dest


def payload_walk(db: Path, query: str = "") -> list[dict[str, Any]]:
    """In process (the app on `db`, Flask's test client): the map (for `query`, e.g. "?from=2019-01&to=2019-03"),
    then the densest of its counts' tiles, and so on down to a tile that lists places; per answer its places,
    counts, gzip bytes and the ms it took to build (a miss)."""
    from newsmap.serve import create_app

    client = create_app({"DB": str(db)}).test_client()
    client.get("/healthz")
    walk: list[dict[str, Any]] = []
    path = "/api/library/map"
    while path:
        started = time.perf_counter()
        answer = client.get(path + query, headers={"Accept-Encoding": "gzip"})
        ms = (time.perf_counter() - started) * 1000
        document = json.loads(gzip.decompress(answer.data) if answer.headers.get("Content-Encoding") else answer.data)
        cells = document.get("cells", [])
        walk.append({"path": path + query, "status": answer.status_code, "places": len(document.get("places", [])),
                     "cells": len(cells), "gzip": len(answer.data), "ms": ms,
                     "count": sum(c["count"] for c in cells) + len(document.get("places", []))})  # fmt: skip
        densest = max(cells, key=lambda c: c["count"], default=None)
        path = f"/api/library/map/{densest['tile']}" if densest else ""
    return walk


def report(walk: list[dict[str, Any]], distinct: int) -> tuple[list[list[Any]], list[dict[str, Any]], str]:
    """Rows, a target and a note on the walk down the map of a library of `distinct` places."""
    rows = [[f"map of {distinct:,} distinct places: `{step['path']}` ({step['count']:,} places: "
             f"{step['places']} listed, {step['cells']} counts), gzip KiB / build ms", "",
             f"{step['gzip'] / 1024:.1f} / {step['ms']:.0f}", "", "1", "info"] for step in walk]  # fmt: skip
    largest = max(step["gzip"] for step in walk)
    bounded = all(step["status"] == 200 and (step["places"] <= 2000 and step["cells"] <= 64) for step in walk)
    target = {"what": f"the library map's largest answer with {distinct:,} distinct places (10,000 articles), gzip",
              "target": f"≤ {PAYLOAD_TARGET // 1024} KiB, ≤ 2,000 places or ≤ 64 counts",
              "measured": f"{largest / 1024:.1f} KiB", "met": bounded and largest <= PAYLOAD_TARGET}  # fmt: skip
    note = (
        f"Library map (issue 21): `{HOT_MAP}` asked for like the other cached routes (it is built once per revision "
        f"and range, then served with an ETag); {MAP_MISSES} filtered maps never asked for before a round (a month "
        "to five years), whose cost grows with the articles in range (with 10,000 a range of five years holds "
        "2,000: every place row of them is read, from the index `places_timeline` alone, or, for a range of few "
        "articles, article by article). The payload: the same 10,000 articles with every place row made a place of "
        f"its own ({distinct:,} places), the map's answers from the whole world down the densest tile to one that "
        f"lists its places, unfiltered and `{NEAR_LIMIT}` (a range whose places are about as many as one answer "
        "lists), in process (Flask's test client, build time of each, never cached before)."
    )
    return rows, [target], note
