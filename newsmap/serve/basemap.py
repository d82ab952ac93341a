"""The offline basemap: country outlines (from countryinfo) around an article's places."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from newsmap.serve.mapview import focus_bounds


@cache
def _countries() -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """(name, polygons) of every country outline countryinfo ships, read once per process."""
    import countryinfo

    countries = []
    for path in sorted((Path(countryinfo.__file__).parent / "data").glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        for feature in (info.get("geoJSON") or {}).get("features", []):
            geometry = feature.get("geometry") or {}
            polygons = geometry.get("coordinates", [])
            if geometry.get("type") == "Polygon":
                polygons = [polygons]
            elif geometry.get("type") != "MultiPolygon":
                continue
            countries.append((info.get("name", ""), tuple(polygons)))
    return tuple(countries)


def basemap(places: list[dict[str, Any]], margin: float = 12.0) -> dict[str, Any]:
    """Country outlines around the places: the map's ground when tiles cannot load."""
    (south, west), (north, east) = focus_bounds(places)
    box = (west - margin, south - margin, east + margin, north + margin)
    features = []
    for name, polygons in _countries():
        kept = [
            [[[round(x, 2), round(y, 2)] for x, y in ring[:: max(1, len(ring) // 400)]] for ring in polygon]
            for polygon in polygons
            if _touches(polygon, box)
        ]
        if kept:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": name},
                    "geometry": {"type": "MultiPolygon", "coordinates": kept},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _touches(polygon: list[list[list[float]]], box: tuple[float, float, float, float]) -> bool:
    xs = [x for x, _ in polygon[0]]
    ys = [y for _, y in polygon[0]]
    return not (max(xs) < box[0] or min(xs) > box[2] or max(ys) < box[1] or min(ys) > box[3])
