"""Several articles in a real Chromium: old `/#<id>` links find their article, deep links open; the
library's map of every place in a date range, its time slider (by keyboard, by mouse, on a phone),
and its counts of the tiles the server gathers places in past its limit. Screenshots at 1440 x 900
and 390 x 844 in test-artifacts/, axe-core on each.

The time-slider tests serve made-up articles dated to the year, the month and the day
(tests/timeline_library.py), built by the real pipeline, with newsmap's offline basemap.
"""

from __future__ import annotations

import json
import sys
import urllib.request

import pytest

from newsmap.library.pipeline import build

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, assert_axe_clean, copy_article, site_env
from .test_browser import popup_title
from .timeline_library import build_timeline_library

pytestmark = pytest.mark.browser

THIRD = "caspian-ports-2023"  # the newest article: the home page


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    for slug in (SEED_SLUG, "tajikistan-border-2021", THIRD):
        copy_article(slug, root / "seeds")
    build(root / "seeds", root / "data", echo=lambda _: None)
    server = LiveServer(site_env(root))
    yield server
    server.stop()


@pytest.fixture()
def watched(browser, library):
    watched = Watched(browser, library.url)
    yield watched
    assert watched.errors == [] and watched.outside == []
    watched.close()


@pytest.fixture()
def page(watched):
    return watched.page


MARKED = "() => [...document.querySelectorAll('#library-map .nm-marker')].map(e => e.dataset.place)"


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def test_an_old_home_link_to_a_place_of_the_first_article_still_opens_it(page, library):
    """`/#kant-air-base` was shared when `/` was the Kyrgyzstan article; `/` is now another one."""
    page.goto(f"{library.url}/#kant-air-base")
    page.wait_for_url(f"{library.url}/articles/{SEED_SLUG}#kant-air-base", timeout=10000)
    assert popup_title(page, "Kant Air Base") == "Kant Air Base"


def test_an_old_link_to_a_place_only_a_newer_article_has_opens_that_article(page, library):
    page.goto(f"{library.url}/#aktau")
    page.wait_for_url(f"{library.url}/articles/{THIRD}#aktau", timeout=10000)
    assert popup_title(page, "Aktau") == "Aktau"


def test_an_article_deep_link_opens_its_place_and_leads_back_to_the_library(page, library):
    page.goto(f"{library.url}/articles/tajikistan-border-2021#dushanbe")
    assert popup_title(page, "Dushanbe") == "Dushanbe"
    assert page.locator(".brand a", has_text="library").get_attribute("href") == "/"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "library-second-article.png"))


def test_the_library_maps_every_listed_place_and_a_marker_opens_its_article(page, library):
    page.goto(f"{library.url}/")
    titles = page.locator(".article-item h3 a").all_inner_texts()
    assert titles[0].startswith("Kazakhstan and Russia") and len(titles) == 3
    page.wait_for_function("() => document.querySelectorAll('#library-map .nm-marker').length > 30")
    places = fetch_json(f"{library.url}/api/library/map")["places"]
    page.wait_for_function("n => document.querySelectorAll('#library-map .nm-marker').length === n", arg=len(places))
    # the article pages' markers: a shape and colour by family, one per place across the library
    assert sorted(page.evaluate(MARKED)) == sorted(p["key"] for p in places)
    # none hides another: each shown marker is on top where it is drawn, the rest are under counts (in the map
    # above the time slider, which lies over its foot)
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#library-map .nm-marker:not(.nm-gathered), #library-map .nm-count')]
              .filter(e => { const r = e.getBoundingClientRect(), m = e.closest('.leaflet-container').getBoundingClientRect();
                             const x = r.left + r.width / 2, y = r.top + r.height / 2;
                             const foot = document.querySelector('.nm-time').getBoundingClientRect().top - 36;
                             return x > m.left && x < m.right && y > m.top && y < foot; })
              .map(e => { const r = e.getBoundingClientRect(), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                          return hit === e || e.contains(hit); })"""
    )
    assert shown and all(shown)
    gathered = page.evaluate("() => [...document.querySelectorAll('#library-map .nm-count')].map(e => e.dataset.places.split(' ').length)")
    spread = page.locator("#library-map .nm-marker:not(.nm-gathered)").count()
    assert spread + sum(gathered) == len(places)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "library.png"))
    page.fill("#q", "Dushanbe")
    page.press("#q", "Enter")
    page.wait_for_url(f"{library.url}/?q=Dushanbe")
    assert page.locator(".article-item h3 a").all_inner_texts() == [
        "Russia to reinforce its base in Tajikistan as tension grows on the Afghan border"
    ]


def test_an_unknown_old_link_leaves_the_home_page_as_it_is(watched, library):
    page = watched.page
    with page.expect_response(f"{library.url}/api/places/atlantis") as answer:
        page.goto(f"{library.url}/#atlantis")
    assert answer.value.status == 404
    page.wait_for_load_state("networkidle")
    assert page.url == f"{library.url}/#atlantis"
    assert page.locator(".leaflet-popup").count() == 0
    # the browser logs the lookup's 404 in the console: that one is expected
    watched.errors[:] = [e for e in watched.errors if "404" not in e]


# --------------------------------------------------------------------------- the library over time


@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("timeline-browser")
    build_timeline_library(root)
    server = LiveServer({**site_env(root), "NEWSMAP_TILES": "offline"})
    yield server
    server.stop()


def watch(browser, server, **screen):
    return Watched(browser, server.url, **({"viewport": {"width": 1440, "height": 900}} | screen))


def shows(page, server, query: str) -> None:
    """Wait until the map shows exactly the places `/api/library/map?<query>` has."""
    keys = sorted(p["key"] for p in fetch_json(f"{server.url}/api/library/map?{query}")["places"])
    page.wait_for_function(f"keys => JSON.stringify(({MARKED})().sort()) === JSON.stringify(keys)", arg=keys)


def handle(page, which: str) -> str:
    return page.get_attribute(f"#nm-time-{which}", "aria-valuetext") or ""


def test_the_time_slider_moves_the_map_and_the_address_and_lists_the_articles(browser, timeline):
    """By keyboard: the articles of 2018 to 2021 step by month; each step moves the map (the places of
    the articles published in range, the undated one left out and counted) and the address, which
    opens the same view; "Show these articles" lists them."""
    watched = watch(browser, timeline)
    page = watched.page
    page.goto(f"{timeline.url}/")
    shows(page, timeline, "")
    assert (handle(page, "from"), handle(page, "to")) == ("January 2018", "December 2021")
    assert page.get_attribute("#nm-time-from", "step") == "1"  # four years: by month
    page.focus("#nm-time-from")
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.wait_for_url(f"{timeline.url}/?from=2019-01&to=2021-12")
    shows(page, timeline, "from=2019-01&to=2021-12")
    assert handle(page, "from") == "January 2019" and page.inner_text("#nm-time-from-value") == "January 2019"
    page.focus("#nm-time-to")
    for _ in range(24):
        page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"{timeline.url}/?from=2019-01&to=2019-12")
    shows(page, timeline, "from=2019-01&to=2019-12")
    page.wait_for_function("() => document.querySelector('.nm-time-status').textContent.includes('without a date')")
    page.wait_for_selector("#library-map[data-nm-ground]", state="attached")
    page.wait_for_load_state("networkidle")  # the basemap's cells drawn
    status = page.inner_text(".nm-time-status")
    assert "in 3 articles published from January 2019 to December 2019; 1 without a date left out" in status
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "library-time-desktop.png"))
    assert_axe_clean(page)
    page.click(".nm-time-show")
    page.wait_for_load_state("load")
    assert page.inner_text("#articles-heading") == "3 articles published from January 2019 to December 2019"
    assert "1 article without a date is left out." in page.inner_text(".range-note")
    shows(page, timeline, "from=2019-01&to=2019-12")  # the linked view: the same map, the slider where it was
    assert (handle(page, "from"), handle(page, "to")) == ("January 2019", "December 2019")
    assert not page.is_visible(".nm-time-show")  # the list shows what the slider says
    assert_axe_clean(page)
    assert watched.errors == [] and watched.outside == []
    watched.close()


def test_a_handle_dragged_with_the_mouse_stops_at_the_other(browser, timeline):
    watched = watch(browser, timeline)
    page = watched.page
    page.goto(f"{timeline.url}/?from=2020")
    shows(page, timeline, "from=2020")
    box = page.locator("#nm-time-to").bounding_box()
    y, end = box["y"] + box["height"] / 2, box["x"] + box["width"] - 14  # the "to" handle, at the end
    page.mouse.move(end, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 20, y, steps=8)  # far left of "from": it stops there
    page.mouse.up()
    page.wait_for_function("() => location.search === '?from=2020-01&to=2020-01'")
    assert handle(page, "to") == "January 2020"
    shows(page, timeline, "from=2020-01&to=2020-01")  # Dushanbe's floods, 15 January 2020
    assert watched.errors == [] and watched.outside == []
    watched.close()


def test_the_time_slider_on_a_phone(browser, timeline):
    """390 x 844, touch: the slider over the map, its handles and links 44 px targets, axe clean."""
    watched = watch(browser, timeline, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = watched.page
    page.goto(f"{timeline.url}/?from=2019-03&to=2020-06")
    shows(page, timeline, "from=2019-03&to=2020-06")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.nm-time input')].map(e => {
             const thumb = getComputedStyle(e, '::-webkit-slider-thumb');
             return [e.getBoundingClientRect().height, parseFloat(thumb.width), parseFloat(thumb.height)]; })"""
    )
    assert sizes and all(min(size) >= 44 for size in sizes), sizes
    link = page.locator(".nm-time-show").bounding_box()
    assert link["height"] >= 44
    panel, holder = page.locator(".nm-time").bounding_box(), page.locator("#library-map").bounding_box()
    assert holder["y"] < panel["y"] and panel["y"] + panel["height"] <= holder["y"] + holder["height"]  # over the map
    scale = page.locator(".leaflet-control-scale").bounding_box()
    assert scale["y"] + scale["height"] <= panel["y"]  # the scale stays above it
    page.wait_for_selector("#library-map[data-nm-ground]", state="attached")
    page.wait_for_load_state("networkidle")  # the basemap's cells drawn
    page.screenshot(path=str(ARTIFACTS / "library-time-phone.png"))
    assert_axe_clean(page)
    assert watched.errors == [] and watched.outside == []
    watched.close()


@pytest.fixture(scope="module")
def gathered(tmp_path_factory):
    """The same library served with a limit of 3 places an answer: the server gathers the rest in tiles."""
    root = tmp_path_factory.mktemp("gathered-browser")
    db = build_timeline_library(root)
    script = ("import sys; from newsmap.wsgi import create_app; create_app({'DB': sys.argv[1], 'TILES': 'offline', "
              "'LIBRARY_MAP_LIMIT': 3}).run(host=sys.argv[2], port=int(sys.argv[3]))")  # fmt: skip
    server = LiveServer(command=lambda host, port: [sys.executable, "-c", script, str(db), host, str(port)])
    yield server
    server.stop()


def test_counts_of_the_servers_tiles_open_as_the_reader_zooms_in(browser, gathered):
    watched = watch(browser, gathered)
    page = watched.page
    page.goto(f"{gathered.url}/")
    page.wait_for_selector("#library-map .nm-tile-count")
    counts = "() => [...document.querySelectorAll('#library-map .nm-tile-count')].map(e => Number(e.textContent))"
    page.wait_for_load_state("networkidle")
    total = sum(page.evaluate(counts)) + page.locator("#library-map .nm-marker").count()
    assert total == 14  # every place: a marker, or in a count
    label = page.get_attribute("#library-map .nm-tile-count", "aria-label")
    assert label.endswith("places here. Zoom in to them")
    before = page.locator("#library-map .nm-marker").count()
    page.locator("#library-map .nm-tile-count").first.focus()
    page.keyboard.press("Enter")  # zooms in: the tile opens, its places (or its own counts) come
    page.wait_for_function(f"() => document.querySelectorAll('#library-map .nm-marker').length > {before}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "library-gathered.png"))
    page.evaluate("newsmapRegistry.map.setZoom(1, {animate: false})")  # out again: the tiles close
    page.wait_for_function(f"() => document.querySelectorAll('#library-map .nm-marker').length <= {before}")
    assert_axe_clean(page)
    assert watched.errors == [] and watched.outside == []
    watched.close()
