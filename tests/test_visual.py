"""Visual checks that fail when a page looks broken, in a real Chromium against real servers.

Every kind of page (the library, an article, its embed, the editor, and the static export served by
`python -m http.server`) at four screens (1440x900 and 1280x640 with a mouse, 640x480 as an embed
is framed, 390x844 touch), with tiles answered (a blank tile) and with tiles blocked (newsmap's
offline basemap). On each, as it opens and with places opened, it asserts:

- no request answered 4xx or 5xx, and no error in the console (but the blocked tiles' own);
- a place's popup (or, on a phone, its sheet) is inside the window and the map, no two text blocks
  in it overlap, no control or notice lies over its title or close button (`POPUP_LAYOUT`, the
  shared definition in shared/visual/popup_layout.js, copied here);
- no basemap label lies under a marker or a count;
- the start view looks as its reference in tests/visual_refs/ does (a screenshot scaled down by
  SCALE, within a small tolerance): an unintended change shows; a missing reference fails.
  `python tools/visual_refs.py` makes them anew, after a change meant to be seen.

Every place of every article is opened where room is tight (the laptop, the embed's 640x480, the
phone), with tiles blocked (a notice and labels: the harder case) and without animation (a jump
per place, not a flight); elsewhere two places are sampled, flights and all. The export's pages are
also swept: around each place at zooms from the world to the street, every basemap cell they ask
for is there (no 404) and the finest level is drawn. Screenshots are saved in test-artifacts/visual/.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsmap.accounts import add_user
from newsmap.serve import create_app, vendor_files
from newsmap.serve.export import export_site
from newsmap.settings import OSM_ATTRIBUTION, OSM_TILES, bundled
from newsmap.store import Store, connect

from .conftest import ARTIFACTS, SEED_SLUG, LiveServer, Watched, build_library, free_port, site_env
from .liveserver import wait_for_health

pytestmark = pytest.mark.browser

ARTICLES = (SEED_SLUG, "tajikistan-border-2021", "caspian-ports-2023")
PASSWORD = "correct horse battery"
SHOTS = ARTIFACTS / "visual"
REFS = Path(__file__).resolve().parent / "visual_refs"
SCALE = 4  # references are the screenshots at a quarter of their size: a few KB each
CHANGED = 40  # a pixel differs when one of its channels moved more than this (of 255)...
TOLERANCE = 0.01  # ...and a screenshot differs from its reference when more than this share of pixels did
SCREENS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "laptop": {"viewport": {"width": 1280, "height": 640}},
    "embed": {"viewport": {"width": 640, "height": 480}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
TIGHT = ("laptop", "embed", "phone")  # where every place is opened
KINDS = ("library", "article", "embed", "editor", "export")

# shared/visual/popup_layout.js, as it is there: one definition of "a popup laid out right".
POPUP_LAYOUT = """(sel) => {
    const pop = document.querySelector(sel);
    if (!pop) return {open: false};
    const r = pop.getBoundingClientRect();
    const blocks = [...pop.querySelectorAll('*')].filter(e => {
        if (!e.childNodes.length) return false;
        const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        const cs = getComputedStyle(e);
        return own && cs.display !== 'inline' && cs.visibility !== 'hidden' && e.getBoundingClientRect().height > 0;
    }).map(e => e.getBoundingClientRect());
    let overlaps = 0;
    for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) {
        const a = blocks[i], b = blocks[j];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        const nested = (a.left <= b.left && a.right >= b.right && a.top <= b.top && a.bottom >= b.bottom) ||
                       (b.left <= a.left && b.right >= a.right && b.top <= a.top && b.bottom >= a.bottom);
        if (w > 2 && h > 2 && !nested) overlaps++;
    }
    const head = pop.querySelector('h2, h3, .nm-popup-title, strong, b') || pop;
    const hr = head.getBoundingClientRect();
    let covered = 0;
    for (const c of document.querySelectorAll('.leaflet-control, .nm-notice, [class*=notice]')) {
        const cr = c.getBoundingClientRect();
        if (!cr.width || getComputedStyle(c).visibility === 'hidden') continue;
        if (Math.min(cr.right, hr.right) - Math.max(cr.left, hr.left) > 2 &&
            Math.min(cr.bottom, hr.bottom) - Math.max(cr.top, hr.top) > 2) covered++;
    }
    return {open: true, top: r.top, bottom: r.bottom, left: r.left, right: r.right, overlaps, covered,
            vw: innerWidth, vh: innerHeight};
}"""

# Beyond the shared definition: the popup inside its map too, and its close button under no control.
POPUP_EXTRA = """() => {
  const popup = document.querySelector('.leaflet-popup-content-wrapper');
  if (!popup) return [];
  const out = [], r = popup.getBoundingClientRect(), m = popup.closest('.leaflet-container').getBoundingClientRect();
  if (r.top < m.top - 1 || r.left < m.left - 1 || r.bottom > m.bottom + 1 || r.right > m.right + 1) out.push('outside the map');
  const close = document.querySelector('.leaflet-popup-close-button').getBoundingClientRect();
  for (const c of document.querySelectorAll('.leaflet-control, .nm-notice, .legend')) {
    const cr = c.getBoundingClientRect();
    if (cr.width && Math.min(cr.right, close.right) - Math.max(cr.left, close.left) > 1 &&
        Math.min(cr.bottom, close.bottom) - Math.max(cr.top, close.top) > 1) out.push('close button under ' + c.className);
  }
  return out;
}"""

# Basemap labels lying under a marker's dot (18 px) or a count (32 px), as drawn now.
LABELS_UNDER_MARKERS = """() => {
  const marks = [...document.querySelectorAll('.nm-marker:not(.nm-gathered), .nm-count')].map(e => {
    const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    const h = e.classList.contains('nm-count') ? 16 : 9;
    return [x - h, y - h, x + h, y + h, e.dataset.place || e.dataset.places];
  });
  const bad = [];
  for (const s of document.querySelectorAll('.nm-bm-label span')) {
    const r = s.getBoundingClientRect();
    for (const m of marks) {
      if (Math.min(r.right, m[2]) - Math.max(r.left, m[0]) > 1 && Math.min(r.bottom, m[3]) - Math.max(r.top, m[1]) > 1) {
        bad.push(s.textContent + ' under ' + m[4]);
      }
    }
  }
  return bad;
}"""


# --------------------------------------------------------------------------- the library, its servers


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """The three fixture articles, built, with an editor account."""
    root = tmp_path_factory.mktemp("visual")
    build_library(root, ARTICLES)
    conn = connect(root / "data" / "newsmap.db")
    add_user(conn, "editor", PASSWORD)
    conn.close()
    return root


@pytest.fixture(scope="module")
def server(library):
    server = LiveServer(site_env(library))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def exported(library, tmp_path_factory):
    """The library exported (OpenStreetMap tiles, as `newsmap export` does by default) and served by
    `python -m http.server`, as a user tries an export."""
    out = tmp_path_factory.mktemp("visual-export") / "site"
    db = library / "data" / "newsmap.db"
    app = create_app({"TESTING": True, "DB": str(db)})
    export_site(
        db, out, app.jinja_env, bundled("static"), vendor_files(), tiles=OSM_TILES, tiles_attribution=OSM_ATTRIBUTION
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=out,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(origin, process, timeout=20, name="http.server", path="/index.html")
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def signed_in(browser, server, tmp_path_factory) -> Path:
    """An editor's session (its cookies), signed in once for every editor page's context."""
    state = tmp_path_factory.mktemp("session") / "state.json"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/login?next=/")
    page.fill("#login-name", "editor")
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    context.storage_state(path=str(state))
    context.close()
    return state


def places_in(root: Path) -> int:
    """How many places the library's articles hold (what "every place" must come to)."""
    store = Store.open(root / "data" / "newsmap.db", create=False)
    try:
        return sum(len(store.places(info.slug)) for info in store.infos())
    finally:
        store.close()


# --------------------------------------------------------------------------- a watched page


class Visit:
    """A page of one kind at one screen, online or with tiles blocked, with every answer recorded."""

    def __init__(self, browser, origin: str, screen: str, tiles: str, **extra) -> None:
        args = {**SCREENS[screen], **extra}
        self.watched = Watched(browser, origin, tiles="serve" if tiles == "online" else "fail", **args)
        self.page = self.watched.page
        self.tiles = tiles
        self.bad: list[str] = []
        self.page.on("response", lambda r: r.status >= 400 and self.bad.append(f"{r.status} {r.url}"))

    def errors(self) -> list[str]:
        """Console errors, but Chromium's report of each blocked tile (what the test asked for)."""
        blocked = "Failed to load resource: net::ERR_FAILED"
        return [e for e in self.watched.errors if not (self.tiles == "offline" and e == blocked)]

    def close(self) -> None:
        assert self.bad == [], self.bad
        assert self.errors() == [] and self.watched.outside == []
        self.watched.close()


def page_url(kind: str, origin: str, slug: str = SEED_SLUG) -> str:
    return {
        "library": f"{origin}/",
        "article": f"{origin}/articles/{slug}",
        "embed": f"{origin}/articles/{slug}/embed",
        "editor": f"{origin}/articles/{slug}/edit",
        "export": f"{origin}/articles/{slug}/index.html",
    }[kind]


# True once nothing on the map has moved for 5 frames in a row: the map pane, the zoom and the popup
# where they were, no tile loading, no CSS animation (Leaflet pans by frames, and a pan may begin
# inside another move's events: its movestart and moveend say too little).
STILL = """() => {
  const registry = window.newsmapRegistry, popup = document.querySelector('.leaflet-popup');
  const key = [document.querySelector('.leaflet-map-pane').style.transform, registry.map.getZoom(),
               popup ? popup.style.transform + popup.getBoundingClientRect().height : ''].join('|');
  const busy = (registry.tiles && registry.tiles.isLoading()) || document.querySelector('.leaflet-zoom-anim')
    || document.getAnimations().some(animation => animation.playState === 'running');
  window.nmSame = !busy && key === window.nmKey ? (window.nmSame || 0) + 1 : 0;
  window.nmKey = key;
  return window.nmSame >= 5;
}"""


def still(page) -> None:
    page.evaluate("() => { window.nmSame = 0; window.nmKey = ''; }")
    page.wait_for_function(STILL, polling="raf", timeout=15000)


def settle(visit: Visit) -> None:
    """The page loaded, its ground drawn (tiles, or the basemap once they failed), the map still."""
    page = visit.page
    page.wait_for_load_state("load")
    page.wait_for_selector(".nm-marker:not(.nm-gathered), .nm-count", timeout=15000)
    if visit.tiles == "offline":
        page.wait_for_selector(".leaflet-container[data-nm-ground]", state="attached", timeout=15000)
    else:
        page.wait_for_selector("img.leaflet-tile-loaded", state="attached", timeout=15000)
    still(page)
    page.wait_for_load_state("networkidle")
    still(page)


def shot(page, name: str, notice: bool = True) -> bytes:
    """A screenshot in test-artifacts/visual/; without the notice (`notice=False`) for a comparison:
    it shrinks to a badge after 5 s, whenever that falls. Hidden through the CSS object model, which
    the pages' Content-Security-Policy allows (Playwright's `style` option adds a <style> it refuses)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("hide => document.querySelectorAll('.nm-notice').forEach(e => { e.style.visibility = hide ? 'hidden' : ''; })", not notice)
    try:
        return page.screenshot(path=str(SHOTS / f"{name}.png"))
    finally:
        page.evaluate("() => document.querySelectorAll('.nm-notice').forEach(e => { e.style.visibility = ''; })")


def compare(name: str, png: bytes) -> None:
    """The screenshot, scaled down, against tests/visual_refs/<name>.png (written instead when
    NEWSMAP_VISUAL_REFS=write, as tools/visual_refs.py runs this file)."""
    from PIL import Image, ImageChops

    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.resize((image.width // SCALE, image.height // SCALE), Image.Resampling.BOX)
    path = REFS / f"{name}.png"
    if os.environ.get("NEWSMAP_VISUAL_REFS") == "write":
        REFS.mkdir(exist_ok=True)
        small.save(path, optimize=True)
        return
    assert path.is_file(), f"no reference {path.name}: make the references with `python tools/visual_refs.py`"
    reference = Image.open(path).convert("RGB")
    assert reference.size == small.size, (name, reference.size, small.size)
    diff = ImageChops.difference(small, reference)
    red, green, blue = diff.split()
    worst = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    changed = sum(worst.histogram()[CHANGED + 1 :]) / (small.width * small.height)
    if changed > TOLERANCE:
        SHOTS.mkdir(parents=True, exist_ok=True)
        worst.point(lambda v: 255 if v > CHANGED else 0).save(SHOTS / f"{name}-diff.png")
        small.save(SHOTS / f"{name}-now.png")
    assert changed <= TOLERANCE, f"{name}: {changed:.1%} of pixels differ from its reference (see {SHOTS})"


# --------------------------------------------------------------------------- what is checked


def check_map(page, where: str) -> None:
    assert page.evaluate(LABELS_UNDER_MARKERS) == [], where


def check_details(page, where: str) -> None:
    """The open popup (or sheet) laid out right (POPUP_LAYOUT and POPUP_EXTRA)."""
    sheet = page.locator(".nm-sheet:not([hidden])").count() > 0
    layout = page.evaluate(POPUP_LAYOUT, ".nm-sheet:not([hidden])" if sheet else ".leaflet-popup-content-wrapper")
    assert layout["open"], where
    inside = layout["top"] >= 0 and layout["left"] >= 0 and layout["bottom"] <= layout["vh"] and layout["right"] <= layout["vw"]
    assert inside and layout["overlaps"] == 0 and layout["covered"] == 0, (where, layout)
    if not sheet:
        assert page.evaluate(POPUP_EXTRA) == [], where
    check_map(page, where)


def places_of(page) -> list[str]:
    return page.evaluate("() => JSON.parse(document.getElementById('newsmap-data').textContent).places.map(p => p.id)")


def open_place(page, place_id: str) -> None:
    """A place opened as a link to it opens it (its hash), once its details show and the map is still."""
    page.evaluate("id => { location.hash = '#' + encodeURIComponent(id); }", place_id)
    page.wait_for_function(
        """id => { const t = document.querySelector('.nm-sheet:not([hidden]) .nm-popup h2, .leaflet-popup .nm-popup h2');
                   const place = window.newsmap.places[id]; return t && place && t.textContent === place.shown; }""",
        arg=place_id,
        timeout=10000,
    )
    still(page)


def open_every_place(page, where: str) -> int:
    ids = places_of(page)
    for place_id in ids:
        open_place(page, place_id)
        check_details(page, f"{where} #{place_id}")
    return len(ids)


# --------------------------------------------------------------------------- the tests


def origin_of(kind: str, server, exported: str) -> str:
    return exported if kind == "export" else server.url


@pytest.mark.parametrize("tiles", ["online", "offline"])
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_page_at_every_screen_looks_right(browser, server, exported, signed_in, kind, screen, tiles):
    """The start view checked and compared with its reference, then two places opened (flights and
    all); every place, without animation, where room is tight (see test_every_place_fits)."""
    extra = {"storage_state": str(signed_in)} if kind == "editor" else {}
    visit = Visit(browser, origin_of(kind, server, exported), screen, tiles, **extra)
    page = visit.page
    name = f"{kind}-{screen}-{tiles}"
    page.goto(page_url(kind, origin_of(kind, server, exported)))
    settle(visit)
    check_map(page, name)
    if kind == "library":  # no marker under another (a red diamond under a grey dot)
        hidden = page.evaluate(
            """() => [...document.querySelectorAll('#library-map .nm-marker:not(.nm-gathered), #library-map .nm-count')]
                 .filter(e => { const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
                                const m = e.closest('.leaflet-container').getBoundingClientRect();
                                if (y < Math.max(m.top, 0) || y > Math.min(m.bottom, innerHeight) || x < m.left || x > m.right) return false;
                                const hit = document.elementFromPoint(x, y);
                                return !!hit && !(hit === e || e.contains(hit)) && !!hit.closest('.nm-marker, .nm-count'); })
                 .map(e => e.dataset.place || e.dataset.places)"""
        )
        assert hidden == [], (name, hidden)
    compare(name, shot(page, name, notice=False))
    if kind != "library":
        ids = places_of(page)
        for place_id in (ids[0], ids[-1]):
            open_place(page, place_id)
            check_details(page, f"{name} #{place_id}")
        shot(page, f"{name}-open")
    visit.close()


@pytest.mark.parametrize(("kind", "screen"), [("article", "laptop"), ("embed", "embed"), ("article", "phone")])
def test_every_place_fits_where_room_is_tight(browser, server, library, kind, screen):
    """Every place of every article, tiles blocked (the notice and the labels are there too)."""
    visit = Visit(browser, server.url, screen, "offline", reduced_motion="reduce")
    page = visit.page
    opened = 0
    for slug in ARTICLES:
        page.goto(page_url(kind, server.url, slug))
        settle(visit)
        opened += open_every_place(page, f"{kind}-{screen} {slug}")
        shot(page, f"every-{kind}-{screen}-{slug}")
    assert opened == places_in(library)
    visit.close()


@pytest.mark.parametrize("slug", [SEED_SLUG, "caspian-ports-2023"])
def test_a_deep_linked_popup_on_a_laptop_is_whole(browser, server, slug):
    """/articles/<slug>#<id> on a 1280x640 laptop: the map flies there and the popup, title first, is
    inside the map (it was cut off at the top)."""
    for tiles in ("online", "offline"):
        visit = Visit(browser, server.url, "laptop", tiles)
        page = visit.page
        page.goto(page_url("article", server.url, slug))
        place_id = places_of(page)[0]
        page.goto(f"{page_url('article', server.url, slug)}#{place_id}")
        page.wait_for_selector(".leaflet-popup .nm-popup h2", timeout=10000)
        page.wait_for_load_state("networkidle")
        still(page)
        check_details(page, f"{slug}#{place_id} {tiles}")
        shot(page, f"deep-link-laptop-{slug}-{tiles}")
        visit.close()


def test_a_notice_shrinks_to_a_badge_on_a_phone(browser, server):
    """"Map tiles could not load" takes a quarter of a phone's map no longer than a few seconds."""
    visit = Visit(browser, server.url, "phone", "offline")
    page = visit.page
    page.goto(page_url("article", server.url))
    page.wait_for_function("() => document.querySelector('.nm-notice')?.textContent.includes('offline basemap')")
    full = page.locator(".nm-notice").bounding_box()
    page.wait_for_selector(".nm-notice.nm-badge", timeout=10000)
    page.wait_for_function("() => document.querySelector('.nm-notice').getBoundingClientRect().width < 40")
    badge = page.locator(".nm-notice").bounding_box()
    assert full["width"] * full["height"] > 4 * badge["width"] * badge["height"] and badge["width"] <= 40
    shot(page, "notice-badge-phone")
    page.locator(".nm-notice").tap()  # a tap shows it again
    page.wait_for_function("() => document.querySelector('.nm-notice').getBoundingClientRect().width > 100")
    visit.close()


def test_the_exports_pages_find_every_cell_at_every_zoom_around_every_place(browser, exported, library):
    """Each exported article's embed at the largest map the export allows for (LARGEST_MAP: the embed's
    panel beside it), tiles blocked: around each place at zooms from the world to the street, no
    request fails and the view is drawn at its own level (detail from zoom 8), not a coarser one."""
    from newsmap.serve import basemap as bm

    width, height = bm.LARGEST_MAP
    visit = Visit(browser, exported, "desktop", "offline", viewport={"width": width + 240, "height": height})
    page = visit.page
    store = Store.open(library / "data" / "newsmap.db", create=False)
    try:
        slugs = [info.slug for info in store.infos()]
    finally:
        store.close()
    views = 0
    for slug in slugs:
        page.goto(f"{exported}/articles/{slug}/embed/index.html")
        page.wait_for_selector(".leaflet-container[data-nm-ground]", state="attached", timeout=15000)
        size = page.evaluate("() => newsmapRegistry.map.getSize()")
        assert (size["x"], size["y"]) == (width, height)
        for place in page.evaluate("() => JSON.parse(document.getElementById('newsmap-data').textContent).places"):
            for zoom in (3, 5, 7, 8, 9, 12, 18):
                ground = page.evaluate(
                    """([lat, lon, zoom]) => new Promise(done => {
                         const map = newsmapRegistry.map, box = map.getContainer();
                         box.removeAttribute('data-nm-ground');
                         map.setView([lat, lon], zoom, {animate: false});
                         const wait = () => box.getAttribute('data-nm-ground') ? done(box.getAttribute('data-nm-ground')) : setTimeout(wait, 10);
                         wait();
                       })""",
                    [place["lat"], place["lon"], zoom],
                )
                expected = "world" if zoom <= 4 else "region" if zoom < bm.DETAIL_ZOOM else "detail"
                assert ground == expected, (slug, place["id"], zoom)
                views += 1
    page.wait_for_load_state("networkidle")
    assert views == places_in(library) * 7
    visit.close()


def test_references_are_small():
    """The reference screenshots stay small in the repository (they are scaled down)."""
    if os.environ.get("NEWSMAP_VISUAL_REFS") == "write":
        pytest.skip("writing the references")
    sizes = [p.stat().st_size for p in REFS.glob("*.png")]
    assert len(sizes) == len(KINDS) * len(SCREENS) * 2 and sum(sizes) < 4_000_000

