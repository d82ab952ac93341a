"""The curated gazetteer files: cited rows for what GeoNames lacks or places badly.

`data/gazetteer.csv` (the project's own facilities and places, `DEFAULT_CURATED`), and the files
shipped in `newsmap/geoparser/data/` (`BUNDLED_CURATED`): physical features the news names (seas,
straits, rivers, ranges, ...), well-known military installations abroad (and ports, radar and space
sites), and de facto states and disputed territories. They are read on
every build, so an edit applies at once; every row must place itself and cite its source.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from newsmap.geoparser.gazetteer.places import GazetteerError, Place
from newsmap.geoparser.gazetteer.russian import RU_NAMES
from newsmap.schema import PRECISIONS
from newsmap.settings import bundled

DEFAULT_CURATED = bundled("data/gazetteer.csv")
# Curated files shipped inside the package: physical features, and military installations abroad.
BUNDLED_CURATED = (
    Path(__file__).resolve().parent.parent / "data" / "features.csv",
    Path(__file__).resolve().parent.parent / "data" / "installations.csv",
    Path(__file__).resolve().parent.parent / "data" / "territories.csv",
)
CURATED_COLUMNS = (
    "id", "name", "aliases", "kind", "precision", "lat", "lon", "country", "population",
    "parts", "operator", "status", "source",
)  # fmt: skip




@functools.cache
def russian_aliases() -> dict[str, tuple[str, ...]]:
    """Curated key -> its Russian names (data/ru/names.csv, each row citing where it was read), so a Russian
    text finds the curated rows as an English one does; the rows' own files stay as they are."""
    found: dict[str, list[str]] = {}
    lines = (line for line in RU_NAMES.read_text(encoding="utf-8").splitlines() if line[:1] != "#")
    for row in csv.DictReader(lines):
        if row["key"].startswith("curated:") and row["source"].strip():
            found.setdefault(row["key"], []).append(row["name"])
    return {key: tuple(names) for key, names in found.items()}


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
