"""Asking the gazetteer: places by name, by key, by the start of a name, near a point.

`Gazetteer` reads the offline index (`index`, built on first use) and keeps the curated rows
(`curated`) in memory, so edits to them apply at every build. `OfflineGeocoder` puts the same
lookups behind geopy's `Geocoder` interface, the interface `NominatimGeocoder` (`online`) shares,
so the resolver asks either the same way.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geopy.adapters import BaseSyncAdapter
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from newsmap.geoparser.gazetteer.curated import BUNDLED_CURATED, DEFAULT_CURATED, load_curated, russian_aliases
from newsmap.geoparser.gazetteer.index import build_index, index_file
from newsmap.geoparser.gazetteer.online import place_from_nominatim
from newsmap.geoparser.gazetteer.places import GazetteerError, Place, default_cache_dir, haversine_km, normalize

log = logging.getLogger(__name__)

# `Gazetteer.search`: a prefix shared by more names than this (two or three letters) is looked for
# among the names of the MAJOR_PLACES most populous places only, so that no search reads and sorts
# tens of thousands of index rows (the index has no column to rank a name range by population).
SEARCH_SCAN = 3_000
MAJOR_PLACES = 20_000
_KEY_PREFIXES = {"country": "country", "airport": "facility", "geonames": ""}  # the index's keys -> precision hint
_PLACE_COLUMNS = "p.key, p.name, p.lat, p.lon, p.country, p.admin1, p.population, p.kind, p.precision, p.source"

# The recogniser asks for the same few strings again and again (each capitalised word starts up to
# six candidate names): normalising each once saves most of a place-dense article's lookup time.
_lookup_key = functools.lru_cache(maxsize=1 << 16)(normalize)


@dataclass
class Gazetteer:
    """Name lookups over GeoNames (SQLite index) and the curated rows (in memory)."""

    index_path: Path
    curated: list[Place] = field(default_factory=list)
    curated_names: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)  # key -> name, aliases
    _curated_by_name: dict[str, list[Place]] = field(default_factory=dict, repr=False)
    _db: sqlite3.Connection | None = field(default=None, repr=False)
    _cache: dict[str, list[Place]] = field(default_factory=dict, repr=False)
    _city_arrays: dict[int, tuple[list[Place], Any, Any]] = field(default_factory=dict, repr=False)
    _facility_arrays: tuple[list[Place], Any, Any] | None = field(default=None, repr=False)
    _majors: list[tuple[str, int, str, int]] | None = field(default=None, repr=False)  # (norm, -population, key, id)
    _by_key: dict[str, Place | None] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls,
        curated_path: Path | None = DEFAULT_CURATED,
        cache_dir: Path | None = None,
        bundled: Iterable[Path] = BUNDLED_CURATED,
    ) -> Gazetteer:
        """The index (built once) and the curated rows: `curated_path`, then the bundled files
        (physical features, military installations). With no `curated_path`, no curated rows at
        all: the gazetteer-only floor."""
        index_path = index_file(cache_dir or default_cache_dir())
        if not index_path.exists():
            log.info("building the GeoNames index at %s (once)", index_path)
            build_index(index_path)
        gazetteer = cls(index_path=index_path)
        if curated_path is not None:
            gazetteer.add_curated(curated_path)
            for path in bundled:
                gazetteer.add_curated(path)
        return gazetteer

    def add_curated(self, path: Path) -> None:
        known = {place.key for place in self.curated}
        russian = russian_aliases()
        for place, aliases in load_curated(path):
            aliases = [*aliases, *russian.get(place.key, ())]  # Russian names are aliases: looked up, never shown
            if place.key in known:
                raise GazetteerError(f"{path}: the id {place.slug} is used by another curated row")
            known.add(place.key)
            self.curated.append(place)
            self.curated_names[place.key] = (place.name, *aliases)
            for number, name in enumerate([place.name, *aliases]):
                entry = place if number == 0 else _replace(place, primary=False)
                bucket = self._curated_by_name.setdefault(normalize(name), [])
                if all(other.key != place.key for other in bucket):
                    bucket.append(entry)
        self._cache.clear()
        self._by_key.clear()
        self._facility_arrays = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.index_path}?mode=ro", uri=True, check_same_thread=False)
        return self._db

    def lookup(self, name: str) -> list[Place]:
        """Every place called `name` (any spelling we index), curated rows first."""
        norm = _lookup_key(name)
        if norm in self._cache:
            return self._cache[norm]
        rows = self.db.execute(
            "SELECT p.key, p.name, p.lat, p.lon, p.country, p.admin1, p.population, p.kind,"
            " p.precision, p.source, n.is_primary FROM names n JOIN places p ON p.id = n.place"
            " WHERE n.norm = ? ORDER BY p.population DESC, p.key",
            (norm,),
        ).fetchall()
        found = list(self._curated_by_name.get(norm, []))
        seen: set[str] = {p.key for p in found}
        for key, pname, lat, lon, country, admin1, population, kind, precision, source, primary in rows:
            if key in seen:
                continue
            seen.add(key)
            found.append(
                Place(key, pname, lat, lon, country, admin1, population, kind, precision, source, primary=bool(primary))
            )
        self._cache[norm] = found
        return found

    def is_name(self, name: str) -> bool:
        return bool(self.lookup(name))

    def by_key(self, key: str) -> Place | None:
        """The place a candidate list named by its key (a curated row or one of the index's), or None.

        An editor picks a candidate by key, and its point is read again here rather than trusted
        from the browser. The index has no index on its keys (adding one means rebuilding it):
        country and airport keys go through the precision index, a GeoNames key costs one scan
        of the places (~40 ms), so answers are remembered (a bounded number of them).
        """
        if key.startswith("curated:"):
            return next((place for place in self.curated if place.key == key), None)
        prefix = key.partition(":")[0]
        if prefix not in _KEY_PREFIXES:
            return None  # not a key of this gazetteer ("osm:...", or anything else): no scan
        if key not in self._by_key:
            hint = _KEY_PREFIXES[prefix]
            where, args = ("p.precision = ? AND p.key = ?", (hint, key)) if hint else ("p.key = ?", (key,))
            row = self.db.execute(f"SELECT {_PLACE_COLUMNS} FROM places p WHERE {where} LIMIT 1", args).fetchone()
            if len(self._by_key) >= 1024:
                self._by_key.clear()
            self._by_key[key] = Place(*row) if row else None
        return self._by_key[key]

    def search(self, query: str, limit: int = 20) -> list[Place]:
        """Places called `query` (as `lookup` finds them), then places with a name that starts with
        it: curated rows first, then the index's by population; each place once.

        What an editor types to find the right place by hand; a query under two letters (once
        normalised) finds nothing, since nearly every name would match it.
        """
        norm = normalize(query)
        if len(norm) < 2 or limit <= 0:
            return []
        found: dict[str, Place] = {}
        for place in (*self.lookup(query), *self._curated_prefixed(norm)):
            found.setdefault(place.key, place)
        for place in self._index_prefixed(norm, limit + len(found)):  # some may be found already
            found.setdefault(place.key, place)
        return list(found.values())[:limit]

    def _curated_prefixed(self, norm: str) -> list[Place]:
        """Curated rows with a name that starts with `norm` (not equal to it), by population."""
        matches: dict[str, Place] = {}
        for name, places in self._curated_by_name.items():
            if name != norm and name.startswith(norm):
                for place in places:
                    if place.key not in matches or (place.primary and not matches[place.key].primary):
                        matches[place.key] = place
        return sorted(matches.values(), key=lambda p: (-p.population, p.key))

    def _index_prefixed(self, norm: str, limit: int) -> list[Place]:
        """The index's places with a name that starts with `norm` (not equal to it), most populous first.

        Names that start with `norm` are one range of the `names_norm` index (every string that
        starts with it sorts below `norm` + the last code point).
        """
        high = norm + "\U0010ffff"
        shared = self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM names WHERE norm > ? AND norm < ? LIMIT ?)",
            (norm, high, SEARCH_SCAN + 1),
        ).fetchone()[0]
        if shared > SEARCH_SCAN:
            return self._major_prefixed(norm, limit)
        rows = self.db.execute(
            f"SELECT {_PLACE_COLUMNS}, max(n.is_primary) FROM names n JOIN places p ON p.id = n.place"
            " WHERE n.norm > ? AND n.norm < ? GROUP BY p.id ORDER BY p.population DESC, p.key LIMIT ?",
            (norm, high, limit),
        ).fetchall()
        return [Place(*row[:10], primary=bool(row[10])) for row in rows]

    def _major_prefixed(self, norm: str, limit: int) -> list[Place]:
        """For a short prefix: the most populous places whose main name starts with it."""
        if self._majors is None:
            rows = self.db.execute(
                "SELECT id, key, name, population FROM places ORDER BY population DESC, key LIMIT ?", (MAJOR_PLACES,)
            ).fetchall()
            self._majors = sorted((normalize(name), -population, key, pid) for pid, key, name, population in rows)
        majors = self._majors
        hits = []
        for at in range(bisect.bisect_left(majors, (norm,)), len(majors)):
            if not majors[at][0].startswith(norm):
                break
            if majors[at][0] != norm:
                hits.append(majors[at])
        ids = [pid for _, _, _, pid in sorted(hits, key=lambda hit: hit[1:3])[:limit]]
        if not ids:
            return []
        rows = self.db.execute(
            f"SELECT p.id, {_PLACE_COLUMNS} FROM places p WHERE p.id IN ({', '.join('?' for _ in ids)})", ids
        ).fetchall()
        by_id = {row[0]: Place(*row[1:]) for row in rows}
        return [by_id[pid] for pid in ids if pid in by_id]

    def nearest_city(
        self, lat: float, lon: float, min_population: int = 100_000, exclude_km: float = 2.0
    ) -> tuple[Place, float] | None:
        """The closest GeoNames city of at least `min_population`, for "19 km E of Bishkek"."""
        places, lats, lons = self._cities(min_population)
        if not places:
            return None
        distances = _haversine_many(lat, lon, lats, lons)
        distances[distances <= exclude_km] = float("inf")
        index = int(distances.argmin())
        if not math.isfinite(distances[index]):
            return None
        return places[index], float(distances[index])

    def _cities(self, min_population: int) -> tuple[list[Place], Any, Any]:
        """Cities above a size, loaded once into arrays: a vectorised scan beats an SQL box query."""
        if min_population not in self._city_arrays:
            import numpy

            rows = self.db.execute(
                "SELECT key, name, lat, lon, country, admin1, population, kind, precision, source"
                " FROM places WHERE population >= ? AND precision = 'settlement' ORDER BY key",
                (min_population,),
            ).fetchall()
            places = [Place(*row) for row in rows]
            self._city_arrays[min_population] = (
                places,
                numpy.radians(numpy.array([p.lat for p in places], dtype=float)),
                numpy.radians(numpy.array([p.lon for p in places], dtype=float)),
            )
        return self._city_arrays[min_population]

    def facilities_near(
        self, lat: float, lon: float, kinds: str | Iterable[str] | None = None, km: float = 25.0, limit: int = 10
    ) -> list[tuple[Place, float]]:
        """Facilities within `km` of a point, nearest first: for "the air base near Kant", "X airport".

        `kinds` keeps only places of those kinds ("airport", "air base", "naval base", ...;
        None: any). Airfields come from airportsdata (kind "air base" for military fields, by
        their names; "airport" otherwise), installations from the curated files. One vectorised
        scan over arrays loaded once, like `nearest_city`.
        """
        places, lats, lons = self._facilities()
        if not places:
            return []
        distances = _haversine_many(lat, lon, lats, lons)
        wanted = {kinds} if isinstance(kinds, str) else set(kinds) if kinds is not None else None
        near = [
            (float(distances[i]), not places[i].curated, places[i].key, places[i])
            for i in (distances <= km).nonzero()[0]
            if wanted is None or places[i].kind in wanted
        ]
        near.sort()  # nearest first; at a tie, a curated row first
        curated = [place for _, _, _, place in near if place.curated]
        found: list[tuple[Place, float]] = []
        for distance, _, _, place in near:
            if not place.curated and any(
                other.kind == place.kind and haversine_km(other.lat, other.lon, place.lat, place.lon) <= 2.0
                for other in curated
            ):
                continue  # an airfield a curated row already describes ("Kant Air Base" twice)
            found.append((place, distance))
        return found[:limit]

    def _facilities(self) -> tuple[list[Place], Any, Any]:
        """Every facility (index and curated), loaded once into arrays."""
        if self._facility_arrays is None:
            import numpy

            rows = self.db.execute(
                "SELECT key, name, lat, lon, country, admin1, population, kind, precision, source"
                " FROM places WHERE precision = 'facility' ORDER BY key"
            ).fetchall()
            curated = [p for p in self.curated if p.precision == "facility" or (
                p.precision == "settlement" and p.kind not in ("city", "town", "village", "place"))]  # fmt: skip
            places = curated + [Place(*row) for row in rows]
            self._facility_arrays = (
                places,
                numpy.radians(numpy.array([p.lat for p in places], dtype=float)),
                numpy.radians(numpy.array([p.lon for p in places], dtype=float)),
            )
        return self._facility_arrays


def _haversine_many(lat: float, lon: float, lats: Any, lons: Any) -> Any:
    import numpy

    p1, l1 = math.radians(lat), math.radians(lon)
    a = numpy.sin((lats - p1) / 2) ** 2 + math.cos(p1) * numpy.cos(lats) * numpy.sin((lons - l1) / 2) ** 2
    return 2 * 6371.0088 * numpy.arcsin(numpy.minimum(1.0, numpy.sqrt(a)))


def _replace(place: Place, **changes: Any) -> Place:
    values = asdict(place)
    values.update(changes)
    values["parts"] = tuple(values["parts"])
    return Place(**values)


@functools.cache
def open_gazetteer(curated_path: Path, cache_dir: Path) -> Gazetteer:
    """The gazetteer, opened once per process (the web's "add article" reuses it)."""
    return Gazetteer.open(curated_path, cache_dir)


# --------------------------------------------------------------------------- geopy interface


def place_to_location(place: Place) -> Location:
    """A geopy Location whose `raw` carries the gazetteer entry itself (in-process, no copying)."""
    return Location(place.name, (place.lat, place.lon), {"newsmap_place": place})


def location_to_place(location: Location) -> Place:
    raw = location.raw or {}
    if isinstance(raw.get("newsmap_place"), Place):
        return raw["newsmap_place"]
    return place_from_nominatim(raw, location)


class _NoNetwork(BaseSyncAdapter):
    """The offline geocoder's HTTP adapter: it never sends a request (and loads no TLS certificates)."""

    def __init__(self, *, proxies: object, ssl_context: object) -> None:
        super().__init__(proxies=proxies, ssl_context=ssl_context)

    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        raise RuntimeError("the offline geocoder makes no requests")

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        raise RuntimeError("the offline geocoder makes no requests")


class OfflineGeocoder(Geocoder):
    """geopy's `Geocoder` over the offline gazetteer: same call shape as Nominatim's."""

    name = "offline"

    def __init__(self, gazetteer: Gazetteer) -> None:
        super().__init__(user_agent="newsmap-offline", adapter_factory=_NoNetwork)
        self.gazetteer = gazetteer

    def geocode(
        self, query: str, *, exactly_one: bool = True, country_codes: str | list[str] | None = None, **_: Any
    ) -> Location | list[Location] | None:
        """`query` is a name, optionally qualified: "Kant, Kyrgyzstan". Best candidates first."""
        name, *qualifiers = [part.strip() for part in str(query).split(",")]
        candidates = self.gazetteer.lookup(name)
        wanted = {c.upper() for c in ([country_codes] if isinstance(country_codes, str) else country_codes or [])}
        for qualifier in qualifiers:
            wanted |= {p.country for p in self.gazetteer.lookup(qualifier) if p.precision == "country"}
        if wanted:
            candidates = [c for c in candidates if c.country in wanted]
        ranked = sorted(candidates, key=lambda p: (-p.curated, -p.primary, -p.population, p.key))
        locations = [place_to_location(p) for p in ranked]
        if exactly_one:
            return locations[0] if locations else None
        return locations or None
