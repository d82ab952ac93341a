"""The seed's page on a desktop (1440x900, mouse) and a phone (390x844, touch): every place can be
opened by click or tap and by keyboard, none hides under another at the start view, a finger's
targets are 44 px, and a place's details fit the phone's screen. Screenshots online (tiles from the
test's stand-in server) and offline are saved in test-artifacts/ to be looked at.
"""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, assert_axe_clean, site_env
from .test_browser import shown_names, track_motion, wait_until_still

PAGE = f"/articles/{SEED_SLUG}"
SCREENS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "has_touch": True,
        "is_mobile": True,
        "device_scale_factor": 2,
    },
}
FINGER = 44  # px: the smallest comfortable touch target

pytestmark = pytest.mark.browser

# Markers and counts drawn inside the map and the window whose middle is not theirs to click.
COVERED = """() => {
  const box = document.querySelector('.leaflet-container').getBoundingClientRect();
  const top = Math.max(box.top, 0), bottom = Math.min(box.bottom, innerHeight);
  const covered = [];
  for (const e of document.querySelectorAll('.nm-marker:not(.nm-gathered), .nm-count')) {
    const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < box.left || x > box.right || y < top || y > bottom) continue;
    const hit = document.elementFromPoint(x, y);
    if (!hit || !(hit === e || e.contains(hit))) {
      covered.push((e.dataset.place || e.dataset.places) + ' under ' + (hit && (hit.dataset.place || hit.className)));
    }
  }
  return covered;
}"""

# The places a reader can reach at the start view without panning: shown markers, and counts' members.
IN_VIEW = """() => {
  const box = document.querySelector('.leaflet-container').getBoundingClientRect();
  const ids = [];
  for (const e of document.querySelectorAll('.nm-marker:not(.nm-gathered), .nm-count')) {
    const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x >= box.left && x <= box.right && y >= box.top && y <= box.bottom) {
      ids.push(...(e.dataset.place ? [e.dataset.place] : e.dataset.places.split(' ')));
    }
  }
  return ids;
}"""

# What of a place's details is out of sight: title, close button, first quote and its "Show in article".
OUT_OF_SIGHT = """() => {
  const sheet = document.querySelector('.nm-sheet:not([hidden])');
  const root = sheet || document.querySelector('.leaflet-popup');
  if (!root) return ['no details open'];
  const frame = sheet ? sheet.querySelector('.nm-sheet-body').getBoundingClientRect() : root.getBoundingClientRect();
  const parts = {
    title: root.querySelector('.nm-popup h2'),
    close: root.querySelector(sheet ? '.nm-sheet-close' : '.leaflet-popup-close-button'),
    quote: root.querySelector('.nm-quotes blockquote'),
    show: root.querySelector('.nm-quotes .nm-show'),
  };
  const out = [];
  for (const [name, e] of Object.entries(parts)) {
    if (!e) { out.push(name + ' missing'); continue; }
    const r = e.getBoundingClientRect();
    const inWindow = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
    const inFrame = name === 'close' || (r.top >= frame.top - 1 && r.bottom <= frame.bottom + 1);
    if (!inWindow || !inFrame) out.push(name + ' at ' + Math.round(r.top) + '..' + Math.round(r.bottom));
  }
  return out;
}"""


@pytest.fixture(scope="module")
def offline_server(built):
    server = LiveServer({**site_env(built), "NEWSMAP_TILES": "offline"})
    yield server
    server.stop()


def open_page(browser, origin: str, screen: str) -> Watched:
    watched = Watched(browser, origin, **SCREENS[screen])
    start_view(watched.page, origin)
    return watched


def start_view(page, origin: str) -> None:
    """The seed's page as it opens, still, with its map in the window."""
    page.goto(origin + PAGE)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    track_motion(page)
    wait_until_still(page)
    page.locator(".map-panel").scroll_into_view_if_needed()


def details_title(page) -> str:
    """The title of the open popup or sheet, once one is open."""
    selector = ".nm-sheet:not([hidden]) .nm-popup h2, .leaflet-popup .nm-popup h2"
    page.wait_for_selector(selector, timeout=5000)
    return page.inner_text(selector)


def press(locator, screen: str) -> None:
    if screen == "phone":
        locator.tap()
    else:
        locator.click()


def open_by_pointer(page, place_id: str, screen: str) -> None:
    """Tap or click the place's marker; first its count, or "Show all places", if that is what shows it."""
    for _ in range(5):
        marker = page.locator(f'.nm-marker[data-place="{place_id}"]:not(.nm-gathered)')
        if marker.count() and place_id in page.evaluate(IN_VIEW):
            press(marker, screen)
            return
        count = page.locator(f'.nm-count[data-places~="{place_id}"]')
        if count.count() and place_id in page.evaluate(IN_VIEW):
            press(count, screen)
        else:
            button = page.locator(".nm-show-all button")
            assert "Show all" in button.inner_text(), f"{place_id} cannot be reached"
            press(button, screen)
        wait_until_still(page)
    raise AssertionError(f"{place_id} never showed")


def open_by_keyboard(page, place_id: str) -> None:
    """Enter on the place's marker; first on its count if it is gathered under one."""
    for _ in range(5):
        marker = page.locator(f'.nm-marker[data-place="{place_id}"]')
        if "nm-gathered" not in (marker.get_attribute("class") or ""):
            marker.focus()
            page.keyboard.press("Enter")
            return
        page.locator(f'.nm-count[data-places~="{place_id}"]').focus()
        page.keyboard.press("Enter")
        wait_until_still(page)
    raise AssertionError(f"{place_id} never showed")


@pytest.mark.parametrize("screen", SCREENS)
def test_at_the_start_view_no_marker_hides_another_and_targets_fit_the_pointer(browser, live_server, screen):
    watched = open_page(browser, live_server.url, screen)
    page = watched.page
    assert page.evaluate(COVERED) == []
    story = page.evaluate(IN_VIEW)
    assert {"kant-air-base", "kant", "bishkek", "osh", "issyk-kul-naval-test-base"} <= set(story)
    assert not {"moscow", "sochi"} & set(story)  # far context waits behind "Show all places"
    boxes = page.eval_on_selector_all(
        ".nm-marker:not(.nm-gathered), .nm-count", "els => els.map(e => [e.offsetWidth, e.offsetHeight])"
    )
    smallest = min(min(box) for box in boxes)
    assert smallest >= FINGER if screen == "phone" else smallest >= 24
    if screen == "phone":  # the map's other controls too: zoom, "Show all places", the legend's rows
        controls = ".leaflet-control-zoom a, .nm-show-all button, .legend label"
        heights = page.eval_on_selector_all(controls, "els => els.map(e => e.getBoundingClientRect().height)")
        assert len(heights) == 7 and min(heights) >= FINGER
    assert watched.errors == [] and watched.outside == []
    watched.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_every_place_opens_by_click_or_tap_and_its_details_fit(browser, live_server, screen):
    watched = open_page(browser, live_server.url, screen)
    page = watched.page
    names = shown_names(page)
    for place_id, name in names.items():
        open_by_pointer(page, place_id, screen)
        assert details_title(page) == name
        wait_until_still(page)
        assert page.evaluate(OUT_OF_SIGHT) == [], (screen, place_id)
        if screen == "phone":  # the sheet stands in for the popup, with the whole of its first quote
            assert page.locator(".leaflet-popup").count() == 0
        start_view(page, live_server.url)  # back to the start view for the next place
    assert watched.errors == [] and watched.outside == []
    watched.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_every_place_opens_by_keyboard(browser, live_server, screen):
    watched = open_page(browser, live_server.url, screen)
    page = watched.page
    names = shown_names(page)
    page.focus(".leaflet-container")
    reached: set[str] = set()
    for _ in range(3 * len(names) + 10):  # Tab through the map: its markers, its counts, then its controls
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return e.closest('.leaflet-container') ? "
            "(e.dataset.place || e.dataset.places || '') : null; }"
        )
        if focused is None:
            break
        reached.update(focused.split())
    assert reached == set(names)
    for place_id, name in names.items():
        open_by_keyboard(page, place_id)
        assert details_title(page) == name
        page.keyboard.press("Escape")
        if screen == "phone":
            page.wait_for_selector(".nm-sheet", state="hidden")
        else:
            page.wait_for_selector(".leaflet-popup", state="detached")
    assert watched.errors == [] and watched.outside == []
    watched.close()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("tiles", ["online", "offline"])
def test_screenshots_of_the_seed_page(browser, live_server, offline_server, screen, tiles):
    """Looked at, not compared: the start view, then Kant Air Base opened (a sheet on the phone)."""
    server = live_server if tiles == "online" else offline_server
    watched = open_page(browser, server.url, screen)
    page = watched.page
    if tiles == "offline":
        page.wait_for_selector('path.nm-land:not([d="M0 0"])', timeout=10000)
    page.wait_for_load_state("networkidle")
    wait_until_still(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"screen-{screen}-{tiles}.png"))
    open_by_pointer(page, "kant-air-base", screen)
    details_title(page)
    wait_until_still(page)
    page.screenshot(path=str(ARTIFACTS / f"screen-{screen}-{tiles}-open.png"))
    assert watched.errors == [] and watched.outside == []
    watched.close()


def test_axe_finds_no_serious_violations_on_the_phone_with_a_sheet_open(browser, live_server):
    watched = open_page(browser, live_server.url, "phone")
    page = watched.page
    open_by_pointer(page, "kant-air-base", "phone")
    details_title(page)
    wait_until_still(page)
    assert_axe_clean(page)
    watched.close()
