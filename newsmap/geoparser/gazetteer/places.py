"""What a gazetteer holds: `Place`, one entry, and `normalize`, the form names are looked up by.

Shared by every part of the gazetteer (index, curated rows, queries, Nominatim) and by the
geoparser, which compares places and names through them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from newsmap.geo import haversine_km
from newsmap.settings import Settings

__all__ = ["GazetteerError", "Place", "default_cache_dir", "haversine_km", "normalize"]


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


def default_cache_dir() -> Path:
    """Where the GeoNames index and Nominatim's answers are kept (NEWSMAP_CACHE_DIR, else the user's cache)."""
    return Settings.from_env().cache_dir
