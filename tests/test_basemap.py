"""The offline basemap: land, water, boundaries and labelled towns around an article's places."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from newsmap.serve import basemap as bm

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, site_env
from .test_browser import wait_until_still

KANT = {"id": "kant", "lat": 42.853, "lon": 74.846, "precision": "point", "name": "Kant Air Base"}
BISHKEK = {"id": "bishkek", "lat": 42.87, "lon": 74.59, "precision": "city", "name": "Bishkek"}


def _inside(point: tuple[float, float], ring: list[list[float]]) -> bool:
    x, y, inside = point[0], point[1], False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _layers(collection: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for feature in collection["features"]:
        found.setdefault(feature["properties"]["layer"], []).append(feature)
    return found


@pytest.fixture(scope="module")
def kyrgyz():
    return bm.basemap([KANT, BISHKEK])


def test_every_layer_is_there_around_the_places(kyrgyz):
    layers = _layers(kyrgyz)
    assert {"land", "lake", "river", "admin1", "border", "country", "region", "town"} <= set(layers)


def test_issyk_kul_is_a_lake(kyrgyz):
    lakes = [p for f in _layers(kyrgyz)["lake"] for p in f["geometry"]["coordinates"]]
    assert any(_inside((77.3, 42.4), polygon[0]) for polygon in lakes)


def test_towns_near_kant_are_named(kyrgyz):
    towns = {
        f["properties"]["name"]
        for f in _layers(kyrgyz)["town"]
        if abs(f["geometry"]["coordinates"][1] - 42.9) < 0.3 and abs(f["geometry"]["coordinates"][0] - 74.8) < 0.4
    }
    assert {"Kant", "Bishkek"} <= towns
    assert len(towns) >= 5  # villages too, for zoom 12


def test_detail_rivers_and_lines_near_kant(kyrgyz):
    detail = [f for f in kyrgyz["features"] if f["properties"]["level"] == "detail"]
    assert {"land", "river", "town"} <= {f["properties"]["layer"] for f in detail}


def test_size_is_bounded_and_deterministic(kyrgyz):
    body = json.dumps(kyrgyz, separators=(",", ":")).encode()
    assert len(gzip.compress(body)) < 400_000
    bm.cell.cache_clear()
    assert json.dumps(bm.basemap([KANT, BISHKEK]), separators=(",", ":")).encode() == body


def test_places_spread_over_the_world_stay_bounded():
    places = [{"lat": lat, "lon": lon, "precision": "point"} for lat in (-40, 0, 40) for lon in (-120, 0, 120)]
    collection = bm.basemap(places)
    assert len(gzip.compress(json.dumps(collection).encode())) < 1_500_000


def test_open_sea_and_missing_cells_give_nothing():
    assert bm.cell("detail", -30, -50) == ()
    assert bm.cell("nowhere", 0, 0) == ()


@pytest.mark.browser
def test_offline_zoom_12_at_kant_shows_labelled_towns_and_water(browser, built, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(built, root)
    server = LiveServer(site_env(root) | {"NEWSMAP_TILES": "offline"})
    try:
        watched = Watched(browser, server.url)
        page = watched.page
        page.goto(f"{server.url}/articles/{SEED_SLUG}")
        page.wait_for_selector("path.nm-bm-lake", state="attached", timeout=15000)
        wait_until_still(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "basemap-start.png"))
        assert page.locator(".nm-bm-country").count() > 0
        page.evaluate("window.newsmapRegistry.map.setView([42.853, 74.846], 12, {animate: false})")
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.nm-bm-town')).some(t => t.textContent.trim() === 'Kant')"
        )
        wait_until_still(page)
        page.screenshot(path=str(ARTIFACTS / "basemap-zoom12.png"))
        assert "Kant" in page.locator(".nm-bm-town").all_inner_texts()
        assert visible(page, "path.nm-bm-river, path.nm-bm-lake") > 0  # water around the facility
        page.evaluate("window.newsmapRegistry.map.setView([42.853, 74.846], 10, {animate: false})")
        page.wait_for_function("() => document.querySelectorAll('.nm-bm-town').length >= 3")
        towns = page.locator(".nm-bm-town").all_inner_texts()
        assert {"Kant", "Bishkek"} <= set(towns), towns  # the towns a reader judges the point against
        assert watched.outside == [] and watched.tiles == [] and watched.errors == []
        watched.close()
    finally:
        server.stop()


def visible(page, selector: str) -> int:
    """How many drawn paths matching `selector` lie (partly) inside the map."""
    return page.evaluate(
        """selector => Array.from(document.querySelectorAll(selector)).filter(p => {
             const b = p.getBoundingClientRect(), m = document.querySelector('.leaflet-container').getBoundingClientRect();
             return (p.getAttribute('d') || '').length > 10 && b.right > m.left && b.left < m.right && b.bottom > m.top && b.top < m.bottom;
           }).length""",
        selector,
    )


def test_a_hanging_tile_server_gives_way_to_the_offline_basemap_within_5_seconds(browser, live_server):
    """Tile requests that neither load nor fail (the route is never answered) switch to the basemap."""
    import re
    import time

    watched = Watched(browser, live_server.url)
    page = watched.page
    hung: list[object] = []
    page.route(re.compile(r"^https://tile\.openstreetmap\.org/"), lambda route: hung.append(route))
    started = time.monotonic()
    page.goto(f"{live_server.url}/articles/{SEED_SLUG}", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => (document.querySelector('.map-status')?.textContent || '').includes('offline basemap')", timeout=5000
    )
    assert time.monotonic() - started < 5.5 and hung
    assert page.locator("path.nm-land").count() > 0
    watched.close()
