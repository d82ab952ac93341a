"""Embeds, sharing and printing in a real Chromium (Debian's), against real server processes.

Another site is played by a second local HTTP server on another port (another origin): its page
frames the embed with the snippet /oembed gives, and tries to frame the other pages, which the
browser must refuse. The share control copies links and embed code (clipboard permissions
granted, then read back) and draws the map to a PNG; print media shows the map on top, without
controls, and the seed article prints on at most 3 A4 pages.
"""

from __future__ import annotations

import json
import re
import struct
import threading
import urllib.request
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import ARTIFACTS, BLANK_PNG, SEED_SLUG, TILE, LiveServer, Watched, assert_axe_clean, site_env
from .test_browser import popup_title, settle, track_motion, wait_until_still

pytestmark = pytest.mark.browser

PAGE = f"/articles/{SEED_SLUG}"
EMBED = f"{PAGE}/embed"
CLIPBOARD = ["clipboard-read", "clipboard-write"]
REFUSED = "chrome-error://chromewebdata/"  # where Chromium leaves a frame whose page refused to be framed


class OtherSite:
    """Another origin (127.0.0.1 on its own port) serving the pages a test gives it, as a news site would."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def frames(self, name: str, frames: dict[str, str]) -> str:
        """A page holding `frames` ({id: iframe markup or a URL}); `window.loaded` lists the ids that loaded."""
        markup = [
            html
            if html.startswith("<iframe")
            else f'<iframe src="{escape(html)}" width="480" height="320" title="{key}"></iframe>'
            for key, html in frames.items()
        ]
        markup = [
            re.sub(r"^<iframe ", f'<iframe id="{key}" name="{key}" ', html)
            for key, html in zip(frames, markup, strict=True)
        ]
        self.pages[f"/{name}.html"] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head><body>'
            "<h1>A story on another site</h1><p>The map of the places it names:</p>" + "\n".join(markup) + "<script>"
            "window.loaded = []; document.querySelectorAll('iframe').forEach(f => f.addEventListener('load', () => loaded.push(f.id)));"
            "</script></body></html>"
        ).encode()
        return f"{self.url}/{name}.html"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def other_site():
    site = OtherSite()
    yield site
    site.close()


def watch(browser, server: LiveServer, *also: str, **context_args) -> Watched:
    """A Watched page that may also reach `also` (the other site's origins)."""
    watched = Watched(browser, server.url, **context_args)
    for origin in also:  # routes added later are asked first
        watched.page.route(origin + "/**", lambda route: route.continue_())
    return watched


def oembed_html(server: LiveServer, path: str = PAGE) -> str:
    with urllib.request.urlopen(f"{server.url}/oembed?url={path}", timeout=30) as answer:
        return json.loads(answer.read())["html"]


def frame_errors(errors: list[str]) -> list[str]:
    """Console errors, less Chromium's report of the framing it refused (what the test asks for)."""
    return [e for e in errors if "frame-ancestors" not in e and "X-Frame-Options" not in e]


def load_frames(page, url: str, count: int) -> dict[str, str]:
    """Open the other site's page and wait for its `count` frames to load (or be refused): {id: URL}."""
    page.goto(url)
    page.wait_for_function("n => window.loaded && window.loaded.length === n", arg=count, timeout=20000)
    ids = page.eval_on_selector_all("iframe", "frames => frames.map(f => f.id)")
    return dict(zip(ids, [frame.url for frame in page.main_frame.child_frames], strict=True))


# --------------------------------------------------------------------------- embedding


def test_the_embed_works_in_another_sites_iframe(browser, live_server, other_site):
    watched = watch(browser, live_server, other_site.url)
    page = watched.page
    assert load_frames(page, other_site.frames("story", {"map": oembed_html(live_server)}), 1) == {
        "map": live_server.url + EMBED
    }
    frame = page.frame(url=live_server.url + EMBED)
    frame.wait_for_selector(".nm-marker:not(.nm-gathered)")
    assert frame.locator(".nm-marker").count() == 18 and frame.locator(".place-link").count() == 18
    entries = page.evaluate("history.length")
    frame.click('.place-link[data-place="osh"]')  # the panel's list opens a place's popup
    frame.wait_for_function("() => document.querySelector('.leaflet-popup .nm-popup h2')?.textContent === 'Osh'")
    assert "proposed or discussed base" in frame.inner_text(".leaflet-popup")
    assert frame.locator(".leaflet-popup .nm-show").count() == 0  # no article here to show the sentence in
    assert frame.evaluate("location.hash") == "#osh" and page.evaluate("history.length") == entries
    frame.evaluate(  # a marker itself, clicked for real
        "() => { const m = newsmapRegistry.markers['kant-air-base']; newsmapRegistry.map.setView(m.getLatLng(), 10, {animate: false}); m.setZIndexOffset(10000); }"
    )
    frame.click('.nm-marker[data-place="kant-air-base"]')
    frame.wait_for_function(
        "() => document.querySelector('.leaflet-popup .nm-popup h2')?.textContent === 'Kant Air Base'"
    )
    link = frame.locator(".embed-open a")
    assert link.get_attribute("target") == "_blank" and link.get_attribute("href") == PAGE
    frame.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-in-iframe.png"))
    assert watched.errors == [] and watched.outside == []
    watched.close()


def test_other_pages_refuse_to_be_framed(browser, live_server, other_site):
    watched = watch(browser, live_server, other_site.url)
    page = watched.page
    frames = {"embed": live_server.url + EMBED, "page": live_server.url + PAGE, "library": live_server.url + "/"}
    loaded = load_frames(page, other_site.frames("all", frames), 3)
    assert loaded == {"embed": live_server.url + EMBED, "page": REFUSED, "library": REFUSED}
    page.frame(url=live_server.url + EMBED).wait_for_selector(".nm-marker:not(.nm-gathered)")
    assert any("frame-ancestors 'none'" in e for e in watched.errors)  # Chromium says why it refused
    assert frame_errors(watched.errors) == [] and watched.outside == []
    watched.close()


def test_the_setting_names_the_sites_that_may_frame_embeds(browser, built):
    allowed, other = OtherSite(), OtherSite()
    server = LiveServer({**site_env(built), "NEWSMAP_EMBED_ORIGINS": f"https://news.example.org, {allowed.url}"})
    try:
        watched = watch(browser, server, allowed.url, other.url)
        page = watched.page
        html = oembed_html(server)
        assert load_frames(page, allowed.frames("story", {"map": html}), 1) == {"map": server.url + EMBED}
        page.frame(url=server.url + EMBED).wait_for_selector(".nm-marker:not(.nm-gathered)")
        assert load_frames(page, other.frames("story", {"map": html}), 1) == {"map": REFUSED}
        assert frame_errors(watched.errors) == [] and watched.outside == []
        watched.close()
    finally:
        server.stop()
        allowed.close()
        other.close()


def test_axe_finds_no_serious_violations_in_the_embed(browser, live_server):
    watched = Watched(browser, live_server.url, viewport={"width": 640, "height": 480})
    page = watched.page
    page.goto(live_server.url + EMBED)
    page.wait_for_selector(".nm-marker:not(.nm-gathered)")
    track_motion(page)
    for step in range(2):
        if step:
            page.click('.place-link[data-place="kant-air-base"]')
            popup_title(page, "Kant Air Base")
        wait_until_still(page)  # no fade-in under way: axe reads the colours as they end up
        assert_axe_clean(page)
    assert watched.errors == [] and watched.outside == []
    watched.close()


# --------------------------------------------------------------------------- sharing


@pytest.fixture()
def sharer(browser, live_server):
    watched = Watched(browser, live_server.url, permissions=CLIPBOARD)
    watched.page.goto(live_server.url + PAGE)
    watched.page.wait_for_selector(".share:not([hidden]) button")
    yield watched
    assert watched.errors == [] and watched.outside == []
    watched.close()


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def status_says(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent === t", arg=[selector, text], timeout=5000
    )


def test_share_copies_the_page_link_and_the_embed_code(sharer, live_server):
    page = sharer.page
    share = page.get_by_role("group", name="Share this map")
    share.get_by_role("button", name="Copy link").focus()
    page.keyboard.press("Enter")  # keyboard first
    status_says(page, ".share-status", "Link copied")
    assert clipboard(page) == live_server.url + PAGE
    share.get_by_role("button", name="Copy embed code").click()
    status_says(page, ".share-status", "Embed code copied")
    assert clipboard(page) == oembed_html(live_server)  # the same snippet oEmbed gives
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".masthead").screenshot(path=str(ARTIFACTS / "share.png"))


def test_a_places_popup_copies_its_deep_link(sharer, live_server):
    page = sharer.page
    page.click('a.mention[data-place="kant-air-base"]')
    popup_title(page, "Kant Air Base")
    page.get_by_role("button", name="Copy link to Kant Air Base").click()
    status_says(page, ".leaflet-popup .nm-share-status", "Link copied")
    assert clipboard(page) == f"{live_server.url}{PAGE}#kant-air-base"
    page.get_by_role("button", name="Copy embed code to Kant Air Base").click()
    status_says(page, ".leaflet-popup .nm-share-status", "Embed code copied")
    assert clipboard(page) == oembed_html(live_server, f"{PAGE}%23kant-air-base")
    wait_until_still(page)
    page.screenshot(path=str(ARTIFACTS / "share-popup.png"))


def test_without_the_clipboard_api_the_text_is_selected_to_copy(browser, live_server):
    watched = Watched(browser, live_server.url)
    page = watched.page
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})")
    page.goto(live_server.url + PAGE)
    page.get_by_role("button", name="Copy link").click()
    field = page.get_by_role("textbox", name="Text to copy")
    assert field.input_value() == live_server.url + PAGE and field.is_visible()
    selected = page.evaluate(
        "() => { const f = document.activeElement; return [f.readOnly, f.selectionStart, f.selectionEnd, f.value.length]; }"
    )
    assert selected == [True, 0, len(live_server.url + PAGE), len(live_server.url + PAGE)]
    assert "Ctrl+C" in page.inner_text(".share-status")
    assert watched.errors == [] and watched.outside == []
    watched.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_download_png_of_the_map(sharer):
    page = sharer.page
    track_motion(page)
    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PNG").click()
    assert download.value.suggested_filename == f"{SEED_SLUG}-map.png"
    data = download.value.path().read_bytes()
    width, height = png_size(data)
    box = page.locator(".folium-map").bounding_box()
    assert (width, height) == (round(box["width"]), round(box["height"]) + 40 + 26)  # the title and credit lines
    assert len(data) > 10_000
    status_says(page, ".share-status", "Map image downloaded")


# The colour of the canvas at (x, y) of the map (below the title line), and how many pixels are land.
SAMPLE = """async ([x, y]) => {
  const canvas = await window.newsmap.mapCanvas();
  const ratio = canvas.width / document.querySelector('.folium-map').getBoundingClientRect().width;
  const ctx = canvas.getContext('2d');
  const pixel = Array.from(ctx.getImageData(x * ratio, (40 + y) * ratio, 1, 1).data.slice(0, 3));
  const all = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let land = 0;
  for (let i = 0; i < all.length; i += 4) { if (all[i] === 244 && all[i + 1] === 241 && all[i + 2] === 232) land++; }
  return {pixel, land: land / (all.length / 4)};
}"""
TILE_GREY = [232, 232, 228]  # BLANK_PNG's one pixel


def test_the_png_has_tiles_only_when_they_can_be_drawn(sharer):
    page = sharer.page

    def tile_for(origin: str):
        def answer(route) -> None:  # Playwright would allow any origin itself if no header were given
            headers = {"Access-Control-Allow-Origin": origin}
            route.fulfill(status=200, content_type="image/png", body=BLANK_PNG, headers=headers)

        return answer

    page.route(TILE, tile_for("https://elsewhere.example"))  # a tile server that refuses CORS: no tiles drawn
    track_motion(page)
    settle(page)
    assert page.locator("img.leaflet-tile-loaded").count() > 0  # the page itself shows them
    assert page.evaluate(SAMPLE, [5, 5])["pixel"] == [220, 235, 245]  # the water behind, as on the page
    refused = [e for e in sharer.errors if "Access-Control-Allow-Origin" in e or "net::ERR_FAILED" in e]
    assert refused and len(refused) == len(sharer.errors)  # only Chromium's report of the refused CORS copies
    sharer.errors.clear()
    page.route(TILE, tile_for("*"))
    assert page.evaluate(SAMPLE, [5, 5])["pixel"] == TILE_GREY


# The legend drawn on the PNG: its box, the colour at each row's swatch and near its top right corner.
LEGEND = """async () => {
  const canvas = await window.newsmap.mapCanvas();
  const box = canvas.nmLegend, ratio = canvas.width / document.querySelector('.folium-map').getBoundingClientRect().width;
  const ctx = canvas.getContext('2d');
  const at = (x, y) => Array.from(ctx.getImageData(Math.round(x * ratio), Math.round((40 + y) * ratio), 1, 1).data.slice(0, 3));
  return {box, swatches: [...Array(box.rows).keys()].map(i => at(box.x + 14, box.y + 17 + 18 * i)), corner: at(box.x + box.w - 3, box.y + 3)};
}"""
FAMILY_COLOURS = [[179, 38, 30], [179, 83, 0], [31, 95, 168], [89, 99, 110]]  # mapcore.css: military, proposed, meeting, other


def test_the_png_carries_the_legend(sharer):
    """A map image shared alone says what its shapes and colours mean: the legend's shown categories,
    each swatch in its family's colour, on a white box inside the map's bottom left."""
    page = sharer.page
    track_motion(page)
    settle(page)
    legend = page.evaluate(LEGEND)
    box = legend["box"]
    width = page.locator(".folium-map").bounding_box()["width"]
    assert box["rows"] == 4 and box["x"] >= 0 and box["x"] + box["w"] <= width
    assert legend["swatches"] == FAMILY_COLOURS
    assert all(channel > 240 for channel in legend["corner"])
    page.uncheck(".legend input >> nth=0")  # a category hidden on the map is left out of its legend too
    assert page.evaluate(LEGEND)["swatches"] == FAMILY_COLOURS[1:]


def test_the_png_draws_the_country_outlines_offline(browser, built):
    server = LiveServer({**site_env(built), "NEWSMAP_TILES": "offline"})
    try:
        watched = Watched(browser, server.url)
        page = watched.page
        page.goto(server.url + PAGE)
        page.wait_for_selector('path.nm-land:not([d="M0 0"])', timeout=10000)  # a land shape drawn in view
        settle(page)
        assert page.evaluate(SAMPLE, [5, 5])["land"] > 0.2  # the land of the outlines, as the page shows it
        assert watched.errors == [] and watched.outside == [] and watched.tiles == []
        watched.close()
    finally:
        server.stop()


# --------------------------------------------------------------------------- print


def visible(page, selector: str) -> bool:
    return any(page.locator(selector).nth(i).is_visible() for i in range(page.locator(selector).count()))


def test_print_shows_the_map_then_the_places_and_the_article_on_three_pages(browser, live_server):
    watched = Watched(browser, live_server.url, viewport={"width": 1400, "height": 900})
    page = watched.page
    page.goto(live_server.url + PAGE + "#kant-air-base")
    popup_title(page, "Kant Air Base")
    track_motion(page)
    page.emulate_media(media="print")
    wait_until_still(page)
    for hidden in (".leaflet-control-zoom", ".legend", ".share", ".downloads", 'a[href$="/edit"]', ".leaflet-popup"):
        assert not visible(page, hidden), hidden
    assert page.inner_text(".print-url") == live_server.url + PAGE
    assert "Source: Vestnik Kavkaza, March 2019" in page.inner_text(".print-source")
    boxes = [page.locator(s).bounding_box() for s in (".map-panel", ".places", "#article")]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    assert 340 < boxes[0]["height"] < 380 and 660 < boxes[0]["width"] < 700  # 18 x 9.5 cm at 96 px an inch
    shown = page.evaluate(  # a marker counts one place, a count of gathered markers its number
        """box => [...document.querySelectorAll('.nm-marker:not(.nm-gathered), .nm-count')].map(e => {
            const r = e.getBoundingClientRect();
            const inside = r.width && r.x >= box.x && r.x <= box.x + box.width && r.y >= box.y && r.y <= box.y + box.height;
            return inside ? (e.classList.contains('nm-count') ? Number(e.textContent) : 1) : 0;
        }).reduce((a, b) => a + b, 0)""",
        boxes[0],
    )
    assert shown == 18  # the printed map shows every place, not the reader's zoomed view
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "print.png"), full_page=True)
    pdf = page.pdf(format="A4")
    (ARTIFACTS / "print.pdf").write_bytes(pdf)
    assert 1 <= len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) <= 3
    page.emulate_media(media="screen")  # the reader's view comes back
    page.wait_for_function("() => !document.documentElement.classList.contains('nm-printing')")
    assert page.locator(".leaflet-control-zoom").is_visible()
    assert watched.errors == [] and watched.outside == []
    watched.close()
