"""The offline basemap: global cells (world, region, detail) of land, water, boundaries and names,
served once each, fetched by the browser only for its view."""

from __future__ import annotations

import gzip
import json
import re
import shutil

import pytest

from newsmap.serve import basemap as bm

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, site_env
from .test_browser import wait_until_still

KANT = {"id": "kant", "lat": 42.853, "lon": 74.846, "precision": "facility", "name": "Kant Air Base",
        "category": "Russian military facility"}  # fmt: skip
BISHKEK = {"id": "bishkek", "lat": 42.87, "lon": 74.59, "precision": "settlement", "name": "Bishkek",
           "category": "meeting place"}  # fmt: skip
ISSYK_KUL = (77.3, 42.4)  # lon, lat: the middle of the lake
BUDGET = 8 * 1024  # bytes on the wire (headers + gzip bodies) of the basemap's cells at the seed's start view


def _cell(level: str, x: int, y: int) -> dict:
    body = bm.cell_body(level, x, y)
    assert body is not None, (level, x, y)
    return json.loads(body)


def _lines(cell: dict, layer: str) -> list[list[list[float]]]:
    return [bm._decode(numbers, cell["step"]) for numbers in cell.get(layer, [])]


def _inside(point: tuple[float, float], ring: list[list[float]]) -> bool:
    x, y, inside = point[0], point[1], False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _names(cell: dict, layer: str) -> set[str]:
    return {label[1] for label in cell.get("labels", []) if label[0] == layer}


def test_every_layer_is_there_around_kant():
    region, detail = _cell("region", 7, 4), _cell("detail", 74, 42)
    assert {"land", "lake", "admin1", "border", "labels"} <= set(region)
    assert {"Kyrgyzstan"} <= _names(region, "country") and _names(region, "region")
    assert {"land", "river", "admin1", "border", "labels"} <= set(detail)


@pytest.mark.parametrize(("level", "x", "y"), [("region", 7, 4), ("detail", 77, 42), ("world", 2, 1)])
def test_issyk_kul_is_a_lake_at_every_level(level, x, y):
    assert any(_inside(ISSYK_KUL, ring) for ring in _lines(_cell(level, x, y), "lake"))


def test_towns_near_kant_are_named_in_its_detail_cell():
    assert {"Kant", "Bishkek"} <= _names(_cell("detail", 74, 42), "town")


def test_region_cells_say_which_detail_cells_exist():
    mask = int(_cell("region", 7, 4)["detail"], 16)
    assert mask >> ((42 % 10) * 10 + 74 % 10) & 1  # Kant's cell
    assert "detail" not in _cell("region", -4, -5)  # the South Atlantic: an empty cell, no detail under it


def test_start_view_cells_are_small_and_deterministic():
    """The seed's start view (zoom 7 over Kyrgyzstan) needs two region cells: a few KB gzipped."""
    bodies = [bm.cell_body("region", 7, 4), bm.cell_body("region", 7, 3)]
    assert sum(len(gzip.compress(b, 9)) for b in bodies) < 6_000
    bm.cell_body.cache_clear()
    assert [bm.cell_body("region", 7, 4), bm.cell_body("region", 7, 3)] == bodies


def test_open_sea_unknown_and_outside_cells():
    assert json.loads(bm.cell_body("world", -1, -2)) == {"step": 0.1}  # the South Atlantic: empty, not missing
    assert bm.cell_body("detail", -30, -50) is None  # no detail there: the region cell never lists it
    assert bm.cell_body("nowhere", 0, 0) is None
    assert bm.cell_body("region", 18, 0) is None and bm.cell_body("world", 0, 3) is None  # past 180 E, 90 N


def test_detail_cells_are_reencoded_compactly():
    """detail.zip keeps GeoJSON; what is served is the compact format, outer rings anticlockwise."""
    cell = _cell("detail", 74, 42)
    assert cell["step"] == 0.001 and all(isinstance(n, int) for ring in cell["land"] for n in ring)
    (land,) = _lines(cell, "land")
    assert bm.area(land) > 0 and {tuple(p) for p in land} >= {(74.0, 42.0), (75.0, 43.0)}


def test_a_static_export_asks_only_for_cells_it_holds():
    spec = bm.spec([KANT, BISHKEK], "../../basemap", exported=True)
    assert spec["url"] == "../../basemap" and set(spec["cells"]) == {"detail"}
    detail = {tuple(map(int, key.split("_"))) for key in spec["cells"]["detail"]}
    assert (74, 42) in detail and all(bm.cell_body("detail", *cell) for cell in detail)
    written = bm.export_cells([[KANT], [BISHKEK]])
    assert len(written) == len(set(written)) and {("detail", 74, 42), ("region", 7, 4)} <= set(written)
    assert {(x, y) for level, x, y in written if level == "detail"} >= detail
    assert sum(level == "region" for level, _, _ in written) == 36 * 18  # every region cell, sea's too
    assert bm.spec([KANT], "/basemap", exported=False) == {"url": "/basemap"}


@pytest.mark.parametrize(("lat", "lon"), [(42.853, 74.846), (55.75, 37.62), (-33.9, 18.4)])
def test_the_export_holds_every_detail_cell_of_every_view_around_a_place(lat, lon):
    """At every zoom that draws detail (8 and in), a map of the largest size centred on the place
    shows only detail cells the spec lists: zoom 8's view holds every closer one."""
    place = {"id": "p", "lat": lat, "lon": lon, "precision": "settlement", "category": "other mentioned place"}
    listed = set(bm.spec([place], "basemap", exported=True)["cells"]["detail"])
    for zoom in range(bm.DETAIL_ZOOM, 19):
        view = bm.cells_in("detail", *bm.view_box(lat, lon, zoom))
        assert {f"{x}_{y}" for x, y in view if bm.cell_body("detail", x, y) is not None} <= listed, zoom
    west, south, east, north = bm.view_box(lat, lon, bm.DETAIL_ZOOM)
    assert round(east - west, 3) == round((bm.LARGEST_MAP[0] + 2 * bm.SNAP) / (256 * 2**bm.DETAIL_ZOOM) * 360, 3)
    assert south < lat < north


# -- the routes


def test_a_cell_is_served_gzipped_with_an_etag(client):
    response = client.get("/basemap/region/7/4.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
    assert json.loads(gzip.decompress(response.data))["step"] == 0.02
    again = client.get(
        "/basemap/region/7/4.json", headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/basemap/detail/74/42.json")
    assert plain.status_code == 200 and "Kant" in _names(plain.get_json(), "town")
    assert client.get("/basemap/world/-6/-3.json").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/basemap/nowhere/0/0.json", "/basemap/detail/-30/-50.json", "/basemap/region/18/0.json",
     "/basemap/region/a/0.json", "/basemap/region/7/4.geojson", "/basemap/region/07/4.json", "/basemap/region/-0/4.json"],
)  # fmt: skip
def test_an_unknown_cell_is_a_clear_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "application/json"
    if path.endswith(".json"):
        assert "basemap cell" in response.get_json()["message"]


def test_the_page_names_the_cells_and_the_download_stays_small(client):
    html = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    data = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["basemap"] == {"url": "/basemap"}
    download = client.get(f"/articles/{SEED_SLUG}/basemap.geojson", headers={"Accept-Encoding": "gzip"})
    assert download.status_code == 200 and len(download.data) < 30_000  # was 119 KB gzipped
    assert "attachment" in download.headers["Content-Disposition"]


def test_the_export_holds_every_cell_its_pages_may_ask_for_once(built, tmp_path):
    from newsmap.serve import create_app, vendor_files
    from newsmap.serve.export import export_site
    from newsmap.settings import bundled

    db = built / "data" / "newsmap.db"
    app = create_app({"TESTING": True, "DB": str(db)})
    out = tmp_path / "site"
    export_site(db, out, app.jinja_env, bundled("static"), vendor_files(), tiles="offline")
    for page in (f"articles/{SEED_SLUG}/index.html", f"articles/{SEED_SLUG}/embed/index.html", "index.html"):
        html = (out / page).read_text(encoding="utf-8")
        spec = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', html, re.S).group(1))["basemap"]
        assert not spec["url"].startswith("/")
        cells = ((out / page).parent / spec["url"]).resolve()
        assert cells == (out / "basemap").resolve()
        if page == "index.html":  # the library's places (and its detail cells) come with its map's data
            listed = json.loads((out / "library" / "map.json").read_text(encoding="utf-8"))["detail"]
        else:
            listed = spec["cells"]["detail"]
        wanted = [f"detail/{key.replace('_', '/')}.json" for key in listed]
        wanted += [f"{level}/{x}/{y}.json" for level in ("world", "region") for x, y in bm.cells_in(level, -180, -90, 180, 90)]
        assert [name for name in wanted if not (cells / name).is_file()] == []
        assert "detail/74/42.json" in wanted  # Kant's
    assert (out / f"articles/{SEED_SLUG}/basemap.geojson").stat().st_size < 100_000  # a download, not the map's


# -- in the browser


def _record_cells(page, watched_cells: list[tuple[str, int, int]]) -> None:
    """Record (path under /basemap/, response headers' bytes, body bytes as sent) of every cell fetched."""

    def finished(request) -> None:
        if "/basemap/" in request.url:
            sizes = request.sizes()
            watched_cells.append(
                (request.url.split("/basemap/", 1)[1], sizes["responseHeadersSize"], sizes["responseBodySize"])
            )

    page.on("requestfinished", finished)


def _all_recorded(page, cells: list[tuple[str, int, int]]) -> None:
    """Wait until Playwright has reported every cell the page has loaded (its events may trail the page)."""
    loaded = "performance.getEntriesByType('resource').filter(e => e.name.includes('/basemap/')).length"
    for _ in range(100):
        if len(cells) >= page.evaluate(loaded):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{page.evaluate(loaded)} cells loaded, {len(cells)} reported")


@pytest.fixture()
def offline_server(built, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(built, root)
    server = LiveServer(site_env(root) | {"NEWSMAP_TILES": "offline"})
    yield server
    server.stop()


@pytest.mark.browser
def test_the_start_view_fetches_a_few_kb_of_cells_and_detail_only_when_zoomed_in(browser, offline_server):
    """At the seed's start view (1280 x 800, as bench/page.py loads it) the basemap's cells weigh
    at most BUDGET on the wire; detail cells come only once zoomed in, each cell only once."""
    watched = Watched(browser, offline_server.url, viewport={"width": 1280, "height": 800})
    page = watched.page
    cells: list[tuple[str, int, int]] = []
    _record_cells(page, cells)
    page.goto(f"{offline_server.url}/articles/{SEED_SLUG}")
    page.wait_for_selector('path.nm-land:not([d="M0 0"])', state="attached", timeout=15000)
    wait_until_still(page)
    page.wait_for_load_state("networkidle")
    _all_recorded(page, cells)
    start = list(cells)
    wire = sum(headers + body for _, headers, body in start)
    zoom = page.evaluate("window.newsmapRegistry.map.getZoom()")
    assert start and wire <= BUDGET, (zoom, start)
    assert not [path for path, _, _ in start if path.startswith("detail/")]
    page.evaluate("window.newsmapRegistry.map.setView([42.853, 74.846], 10, {animate: false})")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.nm-bm-town')).some(t => t.textContent === 'Kant')"
    )
    page.wait_for_load_state("networkidle")
    _all_recorded(page, cells)
    detail = [path for path, _, _ in cells[len(start) :] if path.startswith("detail/")]
    assert "detail/74/42.json" in detail
    page.evaluate("window.newsmapRegistry.map.setView([42.4, 76.0], 7, {animate: false})")  # back out, and in again
    page.evaluate("window.newsmapRegistry.map.setView([42.853, 74.846], 10, {animate: false})")
    page.wait_for_load_state("networkidle")
    _all_recorded(page, cells)
    paths = [path for path, _, _ in cells]
    assert len(paths) == len(set(paths)), paths  # each cell fetched once
    assert watched.outside == [] and watched.tiles == [] and watched.errors == []
    watched.close()


def seed_page_offline(browser, server) -> Watched:
    """The seed's page with NEWSMAP_TILES=offline, once its basemap has drawn water."""
    watched = Watched(browser, server.url)
    watched.page.goto(f"{server.url}/articles/{SEED_SLUG}")
    watched.page.wait_for_selector("path.nm-bm-lake", state="attached", timeout=15000)
    return watched


@pytest.mark.browser
def test_issyk_kul_is_drawn_as_a_lake_and_countries_and_regions_are_named(browser, offline_server):
    watched = seed_page_offline(browser, offline_server)
    page = watched.page
    page.evaluate("window.newsmapRegistry.map.setView([42.4, 77.3], 7, {animate: false})")
    wait_until_still(page)
    in_lake = page.evaluate(
        """([lat, lon]) => {
             const p = window.newsmapRegistry.map.latLngToLayerPoint([lat, lon]);
             return Array.from(document.querySelectorAll('path.nm-bm-lake')).some(path => path.isPointInFill(new DOMPoint(p.x, p.y)));
           }""",
        [ISSYK_KUL[1], ISSYK_KUL[0]],
    )
    assert in_lake
    countries = page.locator(".nm-bm-country").evaluate_all("els => els.map(e => e.textContent)")
    regions = page.locator(".nm-bm-region").evaluate_all("els => els.map(e => e.textContent)")
    assert "Kyrgyzstan" in countries, countries
    assert {"Ysyk-Köl", "Naryn"} & set(regions), regions
    page.evaluate("window.newsmapRegistry.map.setView([44, 70], 5, {animate: false})")  # the neighbours too
    page.wait_for_function("() => document.querySelectorAll('.nm-bm-country').length >= 4")
    countries = page.locator(".nm-bm-country").evaluate_all("els => els.map(e => e.textContent)")
    assert {"Kyrgyzstan", "Kazakhstan", "Uzbekistan"} <= set(countries), countries
    assert watched.errors == []
    watched.close()


@pytest.mark.browser
def test_offline_zoom_12_at_kant_shows_labelled_towns_and_water(browser, offline_server):
    watched = seed_page_offline(browser, offline_server)
    page = watched.page
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
    page.wait_for_selector("path.nm-land", state="attached", timeout=5000)
    watched.close()
