"""The page in a real Chromium (Debian's), driven by Playwright, against a real server process.

Tile requests are answered by the test with a blank PNG, as an online tile server would; any
other request that leaves the app's origin is recorded and fails the test (see `Watched`).
"""

from __future__ import annotations

import pytest

from newsmap.dataset import read_table

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, assert_axe_clean, site_env

PAGE = f"/articles/{SEED_SLUG}"  # the first article's page

pytestmark = pytest.mark.browser


@pytest.fixture()
def watched(browser, live_server):
    watched = Watched(browser, live_server.url)
    yield watched
    watched.close()


@pytest.fixture(scope="module")
def rows(built):
    return read_table(built / "data" / "locations.csv")


def shown_names(page) -> dict[str, str]:
    """{place id: the name the page shows first} (the article's spelling), from the page's own data."""
    places = page.evaluate("() => JSON.parse(document.getElementById('newsmap-data').textContent).places")
    return {place["id"]: place["shown"] for place in places}


def popup_title(page, expected: str | None = None) -> str:
    """The open popup's heading, once it shows `expected` (the map flies before it opens)."""
    page.wait_for_selector(".leaflet-popup .nm-popup h2", state="visible", timeout=5000)
    if expected is not None:
        page.wait_for_function(
            "name => document.querySelector('.leaflet-popup .nm-popup h2')?.textContent === name",
            arg=expected,
            timeout=5000,
        )
    return page.inner_text(".leaflet-popup .nm-popup h2")


# True once the map is still: registry present, no tile loading or fading in, no move or zoom under way,
# no CSS transition running (the popup fades in); and so for 3 animation frames in a row.
STILL = """() => {
  const registry = window.newsmapRegistry;
  const still = !!registry
    && !(registry.tiles && registry.tiles.isLoading())
    && !window.nmMoving
    && !document.querySelector('.leaflet-zoom-anim')
    && !document.getAnimations().some(animation => animation.playState === 'running')
    && [...document.querySelectorAll('.leaflet-tile')].every(tile => getComputedStyle(tile).opacity === '1');
  window.nmStillFrames = still ? (window.nmStillFrames || 0) + 1 : 0;
  return window.nmStillFrames >= 3;
}"""


def track_motion(page) -> None:
    """Keep `window.nmMoving` true between the map's movestart and moveend (flights, zooms, auto-pans)."""
    page.evaluate(
        """() => {
          const map = window.newsmapRegistry.map;
          window.nmMoving = false;
          map.on('movestart', () => { window.nmMoving = true; });
          map.on('moveend', () => { window.nmMoving = false; });
        }"""
    )


def wait_until_still(page) -> None:
    """Wait for 3 frames in a row of a still map (see STILL), counted from now."""
    page.evaluate("() => { window.nmStillFrames = 0; }")
    page.wait_for_function(STILL, timeout=10000)


def settle(page) -> None:
    """Wait for the page's load event, a still map and a quiet network: no fixed sleep."""
    page.wait_for_load_state("load")
    wait_until_still(page)
    page.wait_for_load_state("networkidle")


def close_popup(page) -> None:
    page.keyboard.press("Escape")
    page.wait_for_selector(".leaflet-popup", state="detached", timeout=5000)


def test_one_marker_per_row_and_no_errors(watched, live_server, rows):
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    assert page.locator(".nm-marker").count() == len(rows)
    labels = page.eval_on_selector_all(
        ".nm-marker",
        "els => els.map(e => [e.dataset.place, e.getAttribute('aria-label'), e.title, e.getAttribute('role')])",
    )
    assert sorted(label[0] for label in labels) == sorted(row["id"] for row in rows)
    shown = shown_names(page)
    for place_id, aria, title, role in labels:
        row = next(r for r in rows if r["id"] == place_id)
        name = shown[place_id]
        assert aria.startswith(f"{name}, {row['kind']}") and title == name and role == "button"
    settle(page)  # every tile loaded, nothing in flight: a late error would be in by now
    assert watched.errors == []
    assert watched.outside == [] and watched.tiles  # tiles are the only requests off the app's origin


def test_clicking_each_marker_shows_its_quote(watched, live_server, rows):
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    shown = shown_names(page)
    assert shown["chaldovar"] == "Chaldybar"  # the article's spelling first, the gazetteer's beside it
    for row in rows:
        # Centre the marker and lift it above its neighbours (a facility placed at its town
        # shares the town's point), then click it for real.
        page.evaluate(
            "id => { const m = newsmapRegistry.markers[id]; newsmapRegistry.map.setView(m.getLatLng(), 10, {animate: false}); Object.values(newsmapRegistry.markers).forEach(o => o.setZIndexOffset(0)); m.setZIndexOffset(10000); }",
            row["id"],
        )
        page.click(f'.nm-marker[data-place="{row["id"]}"]')
        name = shown[row["id"]]
        assert popup_title(page, name) == name
        popup = page.inner_text(".leaflet-popup .nm-popup")
        assert " ".join(row["quote"].split()) in " ".join(popup.split())
        beside = f"In the gazetteer: {row['name']}" if name != row["name"] else f"“{row['article_name']}”"
        assert row["source"][:40] in popup and beside in popup
        assert page.evaluate("location.hash") == f"#{row['id']}"
        close_popup(page)
    assert watched.errors == []


def test_clicking_a_mention_opens_the_right_popup_and_show_in_article(watched, live_server):
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    page.click('a.mention[data-place="osh"]')
    assert popup_title(page, "Osh") == "Osh"
    assert "proposed or discussed base" in page.inner_text(".leaflet-popup")
    assert page.inner_text(".leaflet-popup mark") == "Osh"
    page.click('a.mention[data-place="chaldovar"]')
    assert popup_title(page, "Chaldybar") == "Chaldybar"
    assert "In the gazetteer: Chaldovar" in page.inner_text(".leaflet-popup")
    page.click(".leaflet-popup button.nm-show")
    highlighted = page.locator(".sentence.is-highlighted")
    assert highlighted.count() == 1 and "village of Chaldybar" in highlighted.inner_text()
    assert page.evaluate("document.activeElement.id") == highlighted.get_attribute("id")


def test_hash_deep_link_and_history(watched, live_server):
    page = watched.page
    page.goto(live_server.url + PAGE + "#kant-air-base")
    assert popup_title(page, "Kant Air Base") == "Kant Air Base"
    page.click('a.mention[data-place="sochi"]')
    assert popup_title(page, "Sochi") == "Sochi" and page.url.endswith("#sochi")
    page.go_back()
    page.wait_for_function("() => location.hash === '#kant-air-base'")
    popup_title(page, "Kant Air Base")
    page.go_forward()
    popup_title(page, "Sochi")
    assert watched.errors == []


def test_keyboard_reaches_and_opens_every_place(watched, live_server, rows):
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    reached: set[str] = set()
    for _ in range(400):
        page.keyboard.press("Tab")
        place = page.evaluate("document.activeElement.closest('.place-link, .nm-marker')?.dataset.place || ''")
        reached.add(place)
    reached.discard("")
    assert reached >= {row["id"] for row in rows}
    # Enter on a place in the list opens it and moves focus into the popup; Esc closes and returns.
    link = page.locator('.place-link[data-place="issyk-kul-naval-test-base"]')
    link.focus()
    page.keyboard.press("Enter")
    assert (
        popup_title(page, "Issyk-Kul naval test base (954th test base)")
        == "Issyk-Kul naval test base (954th test base)"
    )
    page.wait_for_function("() => document.activeElement.id === 'nm-popup-title'")
    page.keyboard.press("Escape")
    page.wait_for_selector(".leaflet-popup", state="detached")
    assert page.evaluate("document.activeElement.dataset.place") == "issyk-kul-naval-test-base"
    # A marker itself: focus it, Enter opens its popup.
    page.evaluate("newsmapRegistry.map.setView(newsmapRegistry.markers['osh'].getLatLng(), 8, {animate: false})")
    page.focus('.nm-marker[data-place="osh"]')
    page.keyboard.press("Enter")
    assert popup_title(page, "Osh") == "Osh"


def test_legend_hides_and_shows_a_category(watched, live_server, rows):
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    military = [r for r in rows if r["category"].endswith("military facility")]
    page.uncheck(".legend input >> nth=0")
    assert page.locator(".nm-marker").count() == len(rows) - len(military)
    page.check(".legend input >> nth=0")
    assert page.locator(".nm-marker").count() == len(rows)


def test_failing_tiles_give_way_to_the_offline_basemap(browser, live_server):
    watched = Watched(browser, live_server.url, tiles="fail")
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector('path.nm-land:not([d="M0 0"])', timeout=10000)  # a land shape drawn in view
    assert "offline basemap" in page.inner_text(".map-status")
    assert page.locator("path.nm-land").count() > 0 and page.locator("path.nm-bm-lake").count() > 0
    assert watched.outside == []
    watched.close()


def test_offline_tiles_setting_asks_nothing_of_any_other_origin(browser, built):
    server = LiveServer({**site_env(built), "NEWSMAP_TILES": "offline"})
    try:
        watched = Watched(browser, server.url)
        page = watched.page
        page.goto(server.url + PAGE)
        page.wait_for_selector('path.nm-land:not([d="M0 0"])', timeout=10000)  # a land shape drawn in view
        settle(page)  # loaded, outlines drawn, no request in flight: whatever it would ask has been asked
        assert watched.outside == [] and watched.tiles == [] and watched.errors == []
        watched.close()
    finally:
        server.stop()


def test_narrow_screens_stack_map_above_the_article(browser, live_server):
    watched = Watched(browser, live_server.url, viewport={"width": 600, "height": 900})
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    map_box = page.locator(".map-panel").bounding_box()
    article_box = page.locator("#article").bounding_box()
    assert map_box["width"] >= 590 and article_box["y"] > map_box["y"] + map_box["height"] - 1
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "page-narrow.png"))
    watched.close()


def test_axe_finds_no_serious_violations(watched, live_server):
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    assert_axe_clean(page)
    page.click('a.mention[data-place="kant-air-base"]')
    popup_title(page)
    assert_axe_clean(page)


def test_screenshots_of_the_page_and_a_popup(watched, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    page = watched.page
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    track_motion(page)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "page.png"))
    page.click('a.mention[data-place="kant-air-base"]')
    popup_title(page, "Kant Air Base")  # the map has flown there and opened it
    wait_until_still(page)  # its auto-pan, the tiles of the new zoom and the fade-in are over
    page.screenshot(path=str(ARTIFACTS / "popup.png"))
    assert (ARTIFACTS / "page.png").stat().st_size > 10_000 and (ARTIFACTS / "popup.png").stat().st_size > 10_000


def test_a_popup_asked_for_before_its_script_comes_fills_in_and_fits(watched, live_server):
    """details.js (what a popup shows) is fetched on the reader's first move: a marker clicked before it
    has come opens a popup saying "…", filled in and laid out inside the map as soon as it arrives."""
    page = watched.page
    held: list[object] = []
    page.route("**/static/details.js", lambda route: held.append(route))  # answered below, when the test says
    page.goto(live_server.url + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    page.evaluate(
        "() => { const m = newsmapRegistry.markers['osh']; newsmapRegistry.map.setView(m.getLatLng(), 8, {animate: false}); }"
    )
    page.click('.nm-marker[data-place="osh"]')
    page.wait_for_selector(".leaflet-popup .nm-popup", timeout=5000)
    assert page.inner_text(".leaflet-popup .nm-popup") == "…" and held
    held[0].continue_()
    assert popup_title(page, "Osh") == "Osh"
    wait_until_still(page)
    box = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 900
    assert watched.errors == []
