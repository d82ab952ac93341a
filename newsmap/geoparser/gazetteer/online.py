"""Nominatim, OpenStreetMap's geocoder, as a source of candidates (`NEWSMAP_GEOCODER=nominatim`).

Through geopy, at most one request a second, with a user agent and an on-disk answer cache. The
recogniser still uses the offline index to find names in text; Nominatim only places them. Any
failure is a `NominatimFailure`, and the build then falls back to the offline geocoder for the
whole article, so a dataset is never half online, half offline.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from newsmap.atomic import atomic_write_text
from newsmap.geoparser.gazetteer.places import Place

log = logging.getLogger(__name__)


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


def place_from_nominatim(raw: dict[str, Any], location: Location) -> Place:
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
