"""What the editing page asks the gazetteer: the candidates for a place's names, a search by name,
and the entry an editor picked, as plain JSON-able dicts.

The serve side never imports this module: the app's composition root (`newsmap.wsgi`) hands it a
`LazyLookup` that imports it on its first call, so reading the library never loads the gazetteer.
The gazetteer is the one the build and the geoparser child use (`open_gazetteer`, opened once per
process), so an editor picks among exactly the entries the geoparser chose from. With `NEWSMAP_GEOCODER=nominatim` a search
also asks Nominatim, through the build's own client (its rate limit and on-disk answer cache).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from geopy.location import Location

from newsmap.geoparser import open_gazetteer
from newsmap.geoparser.gazetteer import (
    Gazetteer,
    NominatimFailure,
    NominatimGeocoder,
    Place,
    default_cache_dir,
    haversine_km,
    location_to_place,
    normalize,
)
from newsmap.library.pipeline import make_geocoder
from newsmap.settings import Settings

NOMINATIM_PREFIX = "osm:"


def gazetteer() -> Gazetteer:
    """The gazetteer the settings name, opened once per process (as the geoparser child opens it)."""
    settings = Settings.from_env()
    return open_gazetteer(settings.gazetteer, settings.cache_dir or default_cache_dir())


def candidate_dict(place: Place, lat: float | None = None, lon: float | None = None) -> dict[str, Any]:
    """One gazetteer entry as the editing page shows it; `km` is its distance from (lat, lon), when given."""
    km = None
    if lat is not None and lon is not None:
        km = round(haversine_km(lat, lon, place.lat, place.lon), 1)
    return {
        "key": place.key,
        "name": place.name,
        "kind": place.kind,
        "country": place.country,
        "admin1": place.admin1,
        "population": place.population,
        "lat": place.lat,
        "lon": place.lon,
        "precision": place.precision,
        "source": place.source,
        "km": km,
    }


def candidates(
    names: list[str], lat: float | None = None, lon: float | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Every entry any of `names` is a name of, each once, in the order the geoparser weighs them
    (`Gazetteer.lookup`: curated rows first, then by population): the places the article's words
    could have meant."""
    found: dict[str, Place] = {}
    source = gazetteer()
    for name in names:
        if name.strip():
            for place in source.lookup(name):
                found.setdefault(place.key, place)
    return [candidate_dict(place, lat, lon) for place in list(found.values())[: max(limit, 0)]]


def search(query: str, lat: float | None = None, lon: float | None = None, limit: int = 20) -> dict[str, Any]:
    """`{"results": [...], "warning": ""}`: the gazetteer's entries called `query` or with a name
    that starts with it (`Gazetteer.search`), and Nominatim's when it is the configured geocoder.

    Nominatim's answers (at most five) take the places of the offline list's last ones, so both
    show within `limit`. When Nominatim fails the offline entries still come back, and `warning`
    says in one line why Nominatim's are missing.
    """
    if limit <= 0:
        return {"results": [], "warning": ""}
    settings = Settings.from_env()
    offline = gazetteer().search(query, limit)
    online: list[Place] = []
    warning = ""
    if settings.geocoder == "nominatim" and len(normalize(query)) >= 2:
        try:
            online = nominatim_places(query, settings)
        except NominatimFailure as failure:
            warning = " ".join(f"Only the offline gazetteer's entries: {failure}.".split())
    known = {place.key for place in offline}
    online = [place for place in online if place.key not in known]
    online = online[: max(limit - len(offline), limit // 2, 1)]
    places = offline[: limit - len(online)] + online
    return {"results": [candidate_dict(place, lat, lon) for place in places], "warning": warning}


def place_for_key(key: str, lat: float | None = None, lon: float | None = None) -> dict[str, Any] | None:
    """The entry an editor picked, read again by its key (never taken from the request), or None.

    An `osm:` key is found among the Nominatim answers kept on disk (a search saved it there),
    so a pick from Nominatim's results works in any worker; it is None when the answer is not
    there (another process's cache write replaced it, or Nominatim is not the geocoder).
    """
    if not isinstance(key, str) or not key:
        return None
    if key.startswith(NOMINATIM_PREFIX):
        place = _cached_nominatim_place(key, Settings.from_env())
    else:
        place = gazetteer().by_key(key)
    return candidate_dict(place, lat, lon) if place is not None else None


def nominatim_places(query: str, settings: Settings) -> list[Place]:
    """Nominatim's answers for `query`, as gazetteer places (`osm:` keys); NominatimFailure when it
    cannot answer (network, HTTP status, a malformed reply)."""
    geocoder = _nominatim(
        settings.nominatim_url, settings.nominatim_delay, settings.nominatim_timeout, _nominatim_cache(settings)
    )
    found = geocoder.geocode(query, exactly_one=False)
    try:
        places = [location_to_place(location) for location in (found if isinstance(found, list) else [])]
    except (TypeError, ValueError, AttributeError) as error:
        raise NominatimFailure(f"Nominatim answered {query!r} with a malformed result ({error})") from None
    return list({place.key: place for place in places}.values())


@functools.lru_cache(maxsize=4)
def _nominatim(url: str, delay: float, timeout: float, cache_path: Path) -> NominatimGeocoder:
    """One client per configuration and process: its rate limiter must see every request of the
    process (the public server allows one a second), and its answer cache is read once."""
    geocoder = make_geocoder("nominatim", cache_path.parent, url)
    assert isinstance(geocoder, NominatimGeocoder)
    return geocoder


def _nominatim_cache(settings: Settings) -> Path:
    """Where the build's Nominatim client keeps its answers (`make_geocoder` picks the same file)."""
    return settings.nominatim_cache or settings.cache_dir / "nominatim.json"


def _cached_nominatim_place(key: str, settings: Settings) -> Place | None:
    """The place with this `osm:` key among the Nominatim answers on disk, or None."""
    if settings.geocoder != "nominatim":
        return None
    try:
        cache = json.loads(_nominatim_cache(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for raws in cache.values() if isinstance(cache, dict) else ():
        for raw in raws if isinstance(raws, list) else ():
            try:
                place = location_to_place(Location(raw.get("display_name", ""), (raw["lat"], raw["lon"]), raw))
            except (AttributeError, KeyError, TypeError, ValueError):
                continue
            if place.key == key:
                return place
    return None
