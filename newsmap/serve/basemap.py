"""The offline basemap: land, water, boundaries and named places, in global cells fetched by view.

Read from the data files `tools/make_basemap.py` makes (data/basemap/, sources in its README).
Three levels of square cells, one URL each (`/basemap/<level>/<x>/<y>.json`, cell x covers
longitudes [x * size, (x + 1) * size)): `world` (30 degrees, zoom 4 and out) and `region`
(10 degrees, zooms 5 to 7) from `overview.zip`, `detail` (1 degree, zoom 8 and in: rivers,
towns of 1,000 people, lines at about 100 m) from `detail.zip`. The browser (static/basemap.js)
asks only for the cells its view needs, each once, so a page costs what its view shows and the
server's cost stays flat however many articles the library holds: a cell is the same for every
article, built once per worker and kept with its gzip and ETag (`Asset`).

Every cell is answered in the compact format the tool's docstring describes (`step`, delta-coded
integer rings and lines per layer, `labels`); detail.zip still holds GeoJSON features, re-encoded
here on first use. A world or region cell of open sea is an empty cell (`{"step": ...}`); a detail
cell that does not exist is a 404, and never asked for: each region cell says which of its detail
cells exist (`detail`, 100 bits as hex).
"""

from __future__ import annotations

import json
import math
import os
import threading
import zipfile
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from newsmap.serve.assets import Asset, file_time
from newsmap.serve.mapview import focus_bounds, story_places

DATA = Path(__file__).resolve().parent / "data" / "basemap"
LEVELS = {"world": 30, "region": 10, "detail": 1}  # level -> cell size in degrees
ARCHIVE = {"world": "overview", "region": "overview", "detail": "detail"}
DETAIL_STEP = 0.001  # detail.zip's coordinates have three decimals
JSON = "application/json"
CACHE_CONTROL = "public, max-age=86400"  # a cell changes only with the app's data files
# A static export holds the detail cells a page shows around its places: every view of a map up to
# LARGEST_MAP pixels centred on one of its places (or on its start view) at any zoom that draws
# detail (DETAIL_ZOOM and in; the widest of those views is DETAIL_ZOOM's, which holds all the others).
# World and region cells are few (1.4 MB in all): an export holds every one.
LARGEST_MAP = (1920, 1200)  # px: a full-HD screen's map; a bigger one shows the region level at its edges
DETAIL_ZOOM = 8  # basemap.js draws detail cells from this zoom in
MAX_LATITUDE = 85.0511287798  # Leaflet's Web Mercator stops here
SNAP = 2  # px each side: Leaflet snaps a view to whole pixels, so its edges may lie that much further out
LAYER_ORDER = ("land", "lake", "river", "admin1", "border")
_lock = threading.Lock()


@cache
def _archive(name: str) -> zipfile.ZipFile | None:
    path = DATA / f"{name}.zip"
    return zipfile.ZipFile(path) if path.exists() else None


def _member(name: str, member: str) -> bytes | None:
    archive = _archive(name)
    if archive is None:
        return None
    with _lock:  # one ZipFile shared by threads: reads must not interleave
        try:
            return archive.read(member)
        except KeyError:
            return None


def in_world(level: str, x: int, y: int) -> bool:
    """Whether (x, y) names a cell of `level` at all (longitudes -180..180, latitudes -90..90)."""
    size = LEVELS.get(level)
    return size is not None and -180 // size <= x < 180 // size and -90 // size <= y < 90 // size


def encode(line: Sequence[Sequence[float]], step: float) -> list[int]:
    """A ring or line as integers in `step` units: the first point, then differences (repeats dropped).
    tools/make_basemap.py encodes its cells with it too."""
    out: list[int] = []
    last = (0, 0)
    for x, y in line:
        point = (round(x / step), round(y / step))
        if out and point == last:
            continue
        out += [point[0] - last[0], point[1] - last[1]] if out else [*point]
        last = point
    return out


def compact(features: list[dict[str, Any]], step: float) -> dict[str, Any]:
    """GeoJSON features (detail.zip's cells) in the compact cell format."""
    shapes: dict[str, list[list[int]]] = {}
    labels = []
    for feature in features:
        props, geometry = feature["properties"], feature["geometry"]
        kind, coordinates = geometry["type"], geometry["coordinates"]
        if kind == "Point":
            rank = int(props.get("rank", 0))
            rank -= rank % 10 ** max(0, len(str(rank)) - 2)
            labels.append([props["layer"], props["name"], rank, *encode([coordinates], step)])
            continue
        if kind == "MultiPolygon":  # outer rings anticlockwise, each followed by its holes, clockwise
            lines = [
                ring if (area(ring) > 0) == (i == 0) else ring[::-1] for p in coordinates for i, ring in enumerate(p)
            ]
        else:
            lines = coordinates
        least = 8 if kind == "MultiPolygon" else 4
        shapes.setdefault(props["layer"], []).extend(
            r for r in (encode(line, step) for line in lines) if len(r) >= least
        )
    body: dict[str, Any] = {"step": step}
    body |= {layer: shapes[layer] for layer in LAYER_ORDER if shapes.get(layer)}
    if labels:
        body["labels"] = labels
    return body


@lru_cache(maxsize=256)  # the bodies an export writes, and those being made into responses
def cell_body(level: str, x: int, y: int) -> bytes | None:
    """One cell's JSON; None for no such cell (unknown level, outside the world, or no detail there)."""
    if not in_world(level, x, y):
        return None
    if level == "detail":
        raw = _member("detail", f"{x}_{y}.json")
        if raw is None:
            return None
        return json.dumps(compact(json.loads(raw), DETAIL_STEP), ensure_ascii=False, separators=(",", ":")).encode()
    raw = _member("overview", f"{level}/{x}_{y}.json")
    if raw is None and _archive("overview") is None:
        return None
    return raw if raw is not None else json.dumps({"step": 0.1 if level == "world" else 0.02}).encode()


@lru_cache(maxsize=512)  # a few MB per worker (a typical cell is 1 to 5 KB with its gzip; the largest 60 KB)
def cell_asset(level: str, x: int, y: int) -> Asset | None:
    """One cell as a response: gzipped once, with its ETag; None answers 404."""
    body = cell_body(level, x, y)
    if body is None:
        return None
    path = DATA / f"{ARCHIVE[level]}.zip"
    modified = file_time(os.stat(path).st_mtime_ns)
    # world and region cells are few and open every offline map: worth zopfli's slower, tighter gzip
    return Asset.make(body, JSON, modified, cache_control=CACHE_CONTROL, thorough=level != "detail")


def cells_in(level: str, west: float, south: float, east: float, north: float) -> list[tuple[int, int]]:
    """The cells of `level` that a box touches, in the world, row by row."""
    size = LEVELS[level]
    return [
        (x, y)
        for y in range(math.floor(max(south, -90) / size), math.floor(min(north, 89.999) / size) + 1)
        for x in range(math.floor(max(west, -180) / size), math.floor(min(east, 179.999) / size) + 1)
    ]


def detail_exists(x: int, y: int) -> bool:
    """Whether detail.zip has cell (x, y), from its list of names (no cell read)."""
    return f"{x}_{y}.json" in _detail_names()


@cache
def _detail_names() -> frozenset[str]:
    archive = _archive("detail")
    return frozenset(archive.namelist()) if archive is not None else frozenset()


def view_box(lat: float, lon: float, zoom: int, size: tuple[int, int] = LARGEST_MAP) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a Leaflet map of `size` pixels centred on (lat, lon) at `zoom`:
    what `map.getBounds()` gives basemap.js (Web Mercator, 256-pixel tiles), SNAP pixels wider."""
    scale = 256 * 2**zoom
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = (lon + 180) / 360 * scale
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale

    def latitude(py: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / scale))))

    half_w, half_h = size[0] / 2 + SNAP, size[1] / 2 + SNAP
    west, east = (x - half_w) / scale * 360 - 180, (x + half_w) / scale * 360 - 180
    return west, latitude(y + half_h), east, latitude(y - half_h)


def detail_around(centres: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """The detail cells (that exist) a page may draw around `centres` ((lat, lon) pairs): those in a
    view of LARGEST_MAP at DETAIL_ZOOM centred on each, which holds its views at every closer zoom."""
    found: set[tuple[int, int]] = set()
    for lat, lon in centres:
        found.update(c for c in cells_in("detail", *view_box(lat, lon, DETAIL_ZOOM)) if detail_exists(*c))
    return sorted(found)


def page_centres(places: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """Where a page's map is centred, some time: on each place (opened, or zoomed in to), on its start
    view (the story's places) and on every place together ("Show all places", the library's map)."""
    centres = [(p["lat"], p["lon"]) for p in places if p.get("lat") is not None and p.get("lon") is not None]
    if not centres:
        return []
    for points in (story_places(places), places):
        (south, west), (north, east) = focus_bounds(points)
        centres.append((_middle_latitude(south, north), (west + east) / 2))
    return centres


def _middle_latitude(south: float, north: float) -> float:
    """The latitude Leaflet centres a box on: the middle in Mercator's y, not in degrees."""
    y = [math.asinh(math.tan(math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, v))))) for v in (south, north)]
    return math.degrees(math.atan(math.sinh((y[0] + y[1]) / 2)))


def spec(places: list[dict[str, Any]], url: str, exported: bool) -> dict[str, Any]:
    """What static/basemap.js needs (the page data's `basemap`): where the cells are and, in a static
    export (which holds every world and region cell but only the detail cells around its pages'
    places), which detail cells this page may ask for; elsewhere it draws the region level."""
    if not exported or not places:
        return {"url": url}
    detail = [f"{x}_{y}" for x, y in detail_around(page_centres(places))]
    return {"url": url, "cells": {"detail": detail}}


def export_cells(places_by_page: list[list[dict[str, Any]]]) -> list[tuple[str, int, int]]:
    """The cells a static export writes: every world and region cell (open sea's are a few bytes),
    and the union over its pages of the detail cells `spec` lets them ask for."""
    wanted = {(level, x, y) for level in ("world", "region") for x, y in cells_in(level, -180, -90, 180, 90)}
    centres = [centre for places in places_by_page for centre in page_centres(places)]
    wanted |= {("detail", x, y) for x, y in detail_around(centres)}
    return sorted(wanted)


def area(ring: list[list[float]]) -> float:
    """Twice the signed area of a ring (positive: anticlockwise)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))


def polygons(rings: list[list[list[float]]]) -> list[list[list[list[float]]]]:
    """Rings as the compact format orders them (outer anticlockwise, then its holes) as GeoJSON polygons."""
    grouped: list[list[list[list[float]]]] = []
    for ring in rings:
        if area(ring) >= 0 or not grouped:
            grouped.append([ring])
        else:
            grouped[-1].append(ring)
    return grouped


def _decode(numbers: list[int], step: float) -> list[list[float]]:
    points, x, y = [], 0, 0
    for i in range(0, len(numbers) - 1, 2):
        x, y = x + numbers[i], y + numbers[i + 1]
        points.append([round(x * step, 6), round(y * step, 6)])
    return points


def download(places: list[dict[str, Any]]) -> dict[str, Any]:
    """An article's `basemap.geojson`, for GIS tools: the 2 x 2 region cells around where most of its
    places on the ground lie, as GeoJSON (tens of KB: the country-scale ground around the story)."""
    size = LEVELS["region"]
    points = [p for p in places if p.get("precision") != "country" and p.get("lat") is not None] or places
    by_cell: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for place in points:
        by_cell.setdefault((math.floor(place["lon"] / size), math.floor(place["lat"] / size)), []).append(place)
    densest = max(sorted(by_cell.values(), key=lambda p: (p[0]["lon"], p[0]["lat"])), key=len)
    lon = sum(p["lon"] for p in densest) / len(densest)
    lat = sum(p["lat"] for p in densest) / len(densest)
    x0, y0 = math.floor(lon / size - 0.5), math.floor(lat / size - 0.5)
    block = [(x, y) for x in (x0, x0 + 1) for y in (y0, y0 + 1) if in_world("region", x, y)]
    features: list[dict[str, Any]] = []
    for x, y in sorted(block):
        body = json.loads(cell_body("region", x, y) or b"{}")
        step = body.get("step", 0.02)
        for layer in LAYER_ORDER:
            lines = [_decode(r, step) for r in body.get(layer, [])]
            if lines:
                polygonal = layer in ("land", "lake", "river")
                geometry = (
                    {
                        "type": "MultiPolygon",
                        "coordinates": polygons([r if r[0] == r[-1] else [*r, r[0]] for r in lines]),
                    }
                    if polygonal
                    else {"type": "MultiLineString", "coordinates": lines}
                )
                features.append({"type": "Feature", "properties": {"layer": layer}, "geometry": geometry})
        for kind, name, rank, lx, ly in body.get("labels", []):
            point = {"type": "Point", "coordinates": _decode([lx, ly], step)[0]}
            features.append({"type": "Feature", "properties": {"layer": kind, "name": name, "rank": rank},
                             "geometry": point})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def download_bytes(places: list[dict[str, Any]]) -> bytes:
    """`download` as compact JSON (one line: a static export writes it once per article)."""
    return json.dumps(download(places), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
