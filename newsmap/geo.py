"""Distances and directions on the globe, for both sides: the build's geoparser and context
lines, and the corrections an editor makes on the serve side (which must not load geopy)."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def compass_direction(from_lat: float, from_lon: float, to_lat: float, to_lon: float) -> str:
    """ "NE": the initial bearing from one point to another, to the nearest of eight directions."""
    dlon = math.radians(to_lon - from_lon)
    p1, p2 = math.radians(from_lat), math.radians(to_lat)
    bearing = math.degrees(
        math.atan2(
            math.sin(dlon) * math.cos(p2), math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dlon)
        )
    )
    return COMPASS[round((bearing % 360) / 45) % 8]
