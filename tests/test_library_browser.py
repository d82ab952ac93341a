"""Several articles in a real Chromium: old `/#<id>` links find their article, deep links open."""

from __future__ import annotations

import pytest

from newsmap.library.pipeline import build

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, copy_article, site_env
from .test_browser import popup_title

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
    count = page.locator("#library-map .nm-marker").count()
    places = page.evaluate("() => JSON.parse(document.getElementById('newsmap-data').textContent).places.length")
    assert count == places  # the article pages' markers: a shape and colour by family, one per place
    # none hides another: each shown marker is on top where it is drawn, the rest are under counts
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#library-map .nm-marker:not(.nm-gathered), #library-map .nm-count')]
              .filter(e => { const r = e.getBoundingClientRect(), m = e.closest('.leaflet-container').getBoundingClientRect();
                             const x = r.left + r.width / 2, y = r.top + r.height / 2;
                             return x > m.left && x < m.right && y > m.top && y < m.bottom; })
              .map(e => { const r = e.getBoundingClientRect(), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                          return hit === e || e.contains(hit); })"""
    )
    assert shown and all(shown)
    gathered = page.evaluate("() => [...document.querySelectorAll('#library-map .nm-count')].map(e => e.dataset.places.split(' ').length)")
    spread = page.locator("#library-map .nm-marker:not(.nm-gathered)").count()
    assert spread + sum(gathered) == places
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
