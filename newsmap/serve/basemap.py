"""The offline basemap: land, water, boundaries and named places around an article's places.

Read from the data files `tools/make_basemap.py` makes (data/basemap/, sources in its README):
`overview.zip`, 10-degree cells of coarse land, lakes, country and first-level region lines,
country, region and big-town labels; `detail.zip`, 1-degree cells of the same at about 100 m
with river areas and every town of 1,000 people or more. An article's `basemap.geojson` holds
the overview cells around its places and the detail cells under them, so a reader can zoom from
the region down to street level around any place without tiles; the cost depends on the
article's places, not on the world. Each feature's `properties` carry `layer` (land, lake, river,
admin1, border, country, region, town), `level` (overview or detail) and, for labels, `name` and
`rank` (population, or a country's area).
"""

from __future__ import annotations

import json
import math
import threading
import zipfile
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from newsmap.serve.mapview import focus_bounds

DATA = Path(__file__).resolve().parent / "data" / "basemap"
CELL = {"overview": 10, "detail": 1}
MAX_OVERVIEW_CELLS = 16
MAX_DETAIL_CELLS = 16
_lock = threading.Lock()


@cache
def _archive(level: str) -> zipfile.ZipFile | None:
    path = DATA / f"{level}.zip"
    return zipfile.ZipFile(path) if path.exists() else None


@lru_cache(maxsize=256)
def cell(level: str, x: int, y: int) -> tuple[dict[str, Any], ...]:
    """The features of one cell (none for open sea or a missing data file)."""
    archive = _archive(level)
    if archive is None:
        return ()
    with _lock:
        try:
            body = archive.read(f"{x}_{y}.json")
        except KeyError:
            return ()
    features = json.loads(body)
    for feature in features:
        feature["properties"]["level"] = level
    return tuple(features)


def _cells(level: str, west: float, south: float, east: float, north: float) -> list[tuple[int, int]]:
    size = CELL[level]
    return [
        (x, y)
        for y in range(math.floor(max(south, -90) / size), math.floor(min(north, 89.999) / size) + 1)
        for x in range(math.floor(max(west, -180) / size), math.floor(min(east, 179.999) / size) + 1)
    ]


def basemap(places: list[dict[str, Any]], margin: float = 3.0, near: float = 0.2) -> dict[str, Any]:
    """The ground around the places: overview cells over their region, detail cells under each place."""
    (south, west), (north, east) = focus_bounds(places)
    chosen = _cells("overview", west - margin, south - margin, east + margin, north + margin)
    if len(chosen) > MAX_OVERVIEW_CELLS:  # places spread over a continent: the cells nearest the middle
        middle = ((west + east) / 2 / CELL["overview"], (south + north) / 2 / CELL["overview"])
        chosen = sorted(chosen, key=lambda c: (abs(c[0] + 0.5 - middle[0]) + abs(c[1] + 0.5 - middle[1]), c))
        chosen = sorted(chosen[:MAX_OVERVIEW_CELLS])
    detail: list[tuple[int, int]] = []
    for place in places:
        lat, lon = place.get("lat"), place.get("lon")
        if lat is None or lon is None or place.get("precision") == "country":
            continue
        for found in _cells("detail", lon - near, lat - near, lon + near, lat + near):
            if found not in detail and len(detail) < MAX_DETAIL_CELLS:
                detail.append(found)
    features = [f for x, y in chosen for f in cell("overview", x, y)]
    features += [f for x, y in sorted(detail) for f in cell("detail", x, y)]
    return {"type": "FeatureCollection", "features": features}
