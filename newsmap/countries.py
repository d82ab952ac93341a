"""The country a point lies in, from the country shapes shipped offline in `countryinfo`.

A point an editor places by hand has no gazetteer entry to say its country, yet every row's
`country` column should say one (downloads are filtered and joined by it). The shapes are coarse
(about 1:110m), so a point within a few kilometres of a border may get its neighbour; a point at
sea gets "". Read once, on the first hand-placed point: reading never pays for them.
"""

from __future__ import annotations

from functools import cache

Ring = list[tuple[float, float]]


@cache
def _shapes() -> list[tuple[str, tuple[float, float, float, float], list[list[Ring]]]]:
    """(ISO alpha-2, bounding box, polygons as lists of rings) of every country countryinfo knows."""
    from countryinfo import all_countries

    shapes = []
    for country in all_countries():
        try:
            code = str((country.iso() or {}).get("alpha2", ""))
            features = (country.geo_json() or {}).get("features", [])
        except (KeyError, ValueError, AttributeError):  # a country without a shape: no point can be in it
            continue
        if len(code) != 2:
            continue
        polygons: list[list[Ring]] = []
        for feature in features:
            geometry = feature.get("geometry") or {}
            parts = geometry.get("coordinates") or []
            for polygon in parts if geometry.get("type") == "MultiPolygon" else [parts]:
                polygons.append([[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon])
        points = [point for polygon in polygons for ring in polygon for point in ring]
        if points:
            xs, ys = [x for x, _ in points], [y for _, y in points]
            shapes.append((code.upper(), (min(xs), min(ys), max(xs), max(ys)), polygons))
    return shapes


def _inside(x: float, y: float, ring: Ring) -> bool:
    """Ray casting: whether (x, y) is inside the closed ring."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def country_at(lat: float, lon: float) -> str:
    """The ISO 3166-1 alpha-2 code of the country at (lat, lon), "" at sea or where no shape says."""
    for code, (west, south, east, north), polygons in _shapes():
        if not (west <= lon <= east and south <= lat <= north):
            continue
        for outer, *holes in polygons:
            if _inside(lon, lat, outer) and not any(_inside(lon, lat, hole) for hole in holes):
                return code
    return ""
