"""A place across the library in a real Chromium: three dated reports of one air base and an undated one.

Its page lists them oldest first with the sentences that name it and the status each gives it, the
timeline marks where the status changes, an article page links the place's page from its places
list and popup, and axe finds no serious violation. Screenshots at 1440x900 and 390x844 go to
test-artifacts/.
"""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, LiveServer, Watched, assert_axe_clean, site_env
from .places_library import KANT_SLUG, PUBLISHER, build_places_library
from .test_browser import popup_title

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("places")
    build_places_library(root)
    server = LiveServer({**site_env(root), "NEWSMAP_TILES": "offline"})
    yield server
    server.stop()


@pytest.fixture()
def watched(browser, server):
    watched = Watched(browser, server.url, viewport={"width": 1440, "height": 900})
    yield watched
    assert watched.errors == [] and watched.outside == []
    watched.close()


def test_the_place_page_lists_the_articles_oldest_first_with_their_statuses_and_quotes(watched, server):
    page = watched.page
    page.goto(f"{server.url}/places/{KANT_SLUG}")
    assert page.locator("h1").inner_text() == "Kant Air Base"
    titles = page.locator(".entry-title a").all_inner_texts()
    assert titles == [
        "Russia extends its lease on the Kant air base",
        "Kyrgyzstan to take over the Kant air base",
        "New drones at Kant after the handover",
        "A denial from Bishkek",
    ]
    statuses = page.locator(".entry-status strong").all_inner_texts()
    assert statuses == ["in operation", "handover planned", "handed over", "presence denied"]
    assert page.locator(".undated-heading").inner_text() == "Without a date"
    quotes = page.locator(".entry").nth(1).locator(".quotes li")
    assert "will be handed over to Kyrgyzstan" in quotes.last.inner_text()
    assert quotes.last.locator("mark").inner_text() == "air base in Kant"
    assert quotes.last.locator("a").get_attribute("href") == "/articles/kant-handover-2019#kant-air-base"
    assert page.locator(".entry .byline").first.inner_text().startswith(PUBLISHER)  # text, never markup
    assert page.locator(".entry img").count() == 0
    # The timeline: the three dated articles, a change at each of the last two.
    dots = page.locator(".timeline-strip .dot")
    assert dots.count() == 3
    assert page.locator(".timeline-strip .dot-date").all_inner_texts() == ["September 2012", "March 2019", "May 2023"]
    assert page.locator(".dot-change").all_inner_texts() == [
        "changed: in operation → handover planned",
        "changed: handover planned → handed over",
    ]
    assert "not on the timeline" in page.locator(".timeline .hint").inner_text()
    page.wait_for_selector("#place-map[data-nm-ground] .nm-marker", timeout=15000)  # the offline basemap drawn
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "place-desktop.png"), full_page=True)
    assert_axe_clean(page)


def test_the_place_page_on_a_phone(browser, server):
    watched = Watched(browser, server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = watched.page
        page.goto(f"{server.url}/places/{KANT_SLUG}")
        page.wait_for_selector("#place-map[data-nm-ground] .nm-marker", timeout=15000)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the screen: the timeline scrolls inside itself
        page.screenshot(path=str(ARTIFACTS / "place-phone.png"), full_page=True)
        assert_axe_clean(page)
        assert watched.errors == [] and watched.outside == []
    finally:
        watched.close()


def test_an_article_page_links_the_place_page_from_its_list_and_popup(watched, server):
    page = watched.page
    page.goto(f"{server.url}/articles/kant-handover-2019")
    link = page.locator("#place-kant-air-base .place-also")
    assert link.inner_text().startswith("Also in 3 other articles")
    assert link.get_attribute("href") == f"/places/{KANT_SLUG}"
    page.locator("#place-kant-air-base .place-link").click()
    popup_title(page)
    also = page.locator(".leaflet-popup .nm-also")
    also.wait_for(timeout=5000)
    assert also.inner_text() == "Also in 3 other articles"
    page.screenshot(path=str(ARTIFACTS / "place-popup-link.png"))
    also.click()
    page.wait_for_url(f"{server.url}/places/{KANT_SLUG}")
    assert page.locator("h1").inner_text() == "Kant Air Base"
    # A place no other article names gets no link, and its page data carries nothing for it.
    page.goto(f"{server.url}/articles/kant-lease-2012")
    assert page.locator("#place-moscow .place-also").count() == 0
    data = page.evaluate("() => JSON.parse(document.getElementById('newsmap-data').textContent).places")
    assert [p["id"] for p in data if "also" in p] and all("also" not in p for p in data if p["id"] == "moscow")
