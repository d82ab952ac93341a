"""The map's start view (mapview.story_places): the places that carry the story, not every point."""

from __future__ import annotations

from newsmap.serve.mapview import focus_bounds, story_places


def place(id_: str, lat: float, lon: float, category: str = "other mentioned place", precision: str = "settlement",
          mentions: int = 1) -> dict:  # fmt: skip
    return {"id": id_, "lat": lat, "lon": lon, "category": category, "precision": precision, "mentions": mentions}


def ids(places: list[dict]) -> set[str]:
    return {p["id"] for p in places}


def test_facilities_anchor_the_view_and_far_context_is_left_out():
    places = [
        place("kant-air-base", 42.853, 74.846, "Russian military facility", "facility"),
        place("bishkek", 42.87, 74.59, "meeting place"),
        place("osh", 40.53, 72.80, "proposed or discussed base"),
        place("moscow", 55.75, 37.62),
        place("sochi", 43.60, 39.73, "meeting place"),
        place("kyrgyzstan", 41.0, 75.0, precision="country"),
    ]
    assert ids(story_places(places)) == {"kant-air-base", "bishkek", "osh"}
    (south, west), (north, east) = focus_bounds(story_places(places))
    assert 40 < south < north < 43 and 72 < west < east < 75


def test_without_facilities_the_most_mentioned_points_anchor_it():
    places = [
        place("karachi", 24.86, 67.01, mentions=6),
        place("hyderabad", 25.39, 68.37, mentions=2),  # 180 km away: part of the story
        place("washington", 38.90, -77.04, mentions=1),  # the aid came from there: context
        place("pakistan", 30.0, 70.0, precision="country", mentions=9),  # a country's centre is no anchor
    ]
    assert ids(story_places(places)) == {"karachi", "hyderabad"}


def test_an_article_of_countries_only_shows_them_all():
    places = [place("france", 46.0, 2.0, precision="country"), place("germany", 51.0, 9.0, precision="country")]
    assert ids(story_places(places)) == {"france", "germany"}
