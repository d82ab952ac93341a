"""Place names to candidate places, behind geopy's `Geocoder` interface.

The default geocoder works offline: `index` builds, once, an SQLite index of what registry
packages ship (GeoNames places, countries and continents, administrative regions with their
aliases, airfields); `curated` reads the cited rows for what GeoNames lacks (`data/gazetteer.csv`,
and the physical features and military installations shipped in `newsmap/geoparser/data/`);
`query` answers by name, key, prefix and distance over both (`Gazetteer`, and `OfflineGeocoder`
for geopy); `online` asks OpenStreetMap's Nominatim instead (`NominatimGeocoder`). `places` holds
the entry they all give, `Place`, and `normalize`, the form names are looked up by.

This module re-exports what the rest of newsmap uses, so callers need not know the layout.
"""

from newsmap.geoparser.gazetteer.curated import BUNDLED_CURATED, CURATED_COLUMNS, DEFAULT_CURATED, load_curated
from newsmap.geoparser.gazetteer.index import INDEX_PACKAGES, build_index
from newsmap.geoparser.gazetteer.online import NominatimFailure, NominatimGeocoder
from newsmap.geoparser.gazetteer.places import GazetteerError, Place, default_cache_dir, haversine_km, normalize
from newsmap.geoparser.gazetteer.query import (
    Gazetteer,
    OfflineGeocoder,
    location_to_place,
    open_gazetteer,
    place_to_location,
)

__all__ = [
    "BUNDLED_CURATED",
    "CURATED_COLUMNS",
    "DEFAULT_CURATED",
    "INDEX_PACKAGES",
    "Gazetteer",
    "GazetteerError",
    "NominatimFailure",
    "NominatimGeocoder",
    "OfflineGeocoder",
    "Place",
    "build_index",
    "default_cache_dir",
    "haversine_km",
    "load_curated",
    "location_to_place",
    "normalize",
    "open_gazetteer",
    "place_to_location",
]
