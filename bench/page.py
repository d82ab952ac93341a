"""Page benchmark: what an article page and the library page cost a reader, against a bare Leaflet page and folium's.

The pages: the built seed's article page (`/articles/<slug>`, the article beside its map) and the
library page `/` (the list of articles with a map of their places), on a database made by
`newsmap build` of the repository's seeds/ into a temporary folder. Measured in headless Chromium, each page several times with a fresh browser context (no cache):
the bytes that cross the wire (gzip bodies plus headers, from the DevTools protocol's
`Network.loadingFinished`), the request count, and the time until the first map marker is
visible. The baselines are served by the same gunicorn process as the app (see
`baseline_app.py`), so the comparison is between pages, not between servers or moments.

- bare: Leaflet 1.9.3 from the app's own /vendor/leaflet/ URLs, one default marker, same tiles.
  The first visible marker is an icon (`.leaflet-marker-icon`: the article page, the baselines) or
  a circle (`path.leaflet-interactive`: the library page's markers).
- folium: `folium.Map(...).save()` for the same places, markers with the quote as popup. Its
  CDN files (jQuery, Bootstrap, Font Awesome, Leaflet, awesome-markers) come from the npm
  registry, fetched once into bench/out/cdn/; without npm this baseline is skipped.

Tiles are answered with a 1×1 PNG and counted apart; any other off-origin request is reported.

- article page, offline basemap: the same article page served with NEWSMAP_TILES=offline (a
  second gunicorn, same command), measured once its basemap is drawn: the page, basemap.js and
  the basemap cells of its start view (`/basemap/...`), counted apart too, against the same bare
  page (target: ≤ OFFLINE_TARGET_RATIO×; the cells: ≤ BASEMAP_BUDGET bytes).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import statistics
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
import folium.folium
from common import OUT, ROOT, WRAPPER_SPEC, bench_server, build_seeds, exit_status, fetch, main_article, write_result
from playwright.sync_api import Browser, Route, sync_playwright

from newsmap.serve.mapview import LEAFLET_CSS, LEAFLET_JS
from newsmap.settings import OSM_ATTRIBUTION, OSM_TILES
from newsmap.store import Store

RUNS = 5
TARGET_BYTES_RATIO = 1.3
OFFLINE_TARGET_RATIO = 1.5  # issue 13: the offline page stays within 1.5× a bare Leaflet page
BASEMAP_BUDGET = 8 * 1024  # bytes on the wire of the basemap cells at the start view
LIBRARY_START_RATIO = 1.164  # issue 21: the library page before its map's data, at most 3 % over issue 15's 1.13×
BASEMAP_DRAWN = 'path.nm-land:not([d="M0 0"])'  # a land shape drawn on the map: the offline page is ready
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PAGES_DIR = OUT / "pages"
CDN_DIR = OUT / "cdn"
TILE_HOST = urlsplit(OSM_TILES).hostname or ""
STUB_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
# cdnjs serves Leaflet.awesome-markers 2.0.2, which npm never had; 2.0.5 is the same plugin's next release.
NPM_SUBSTITUTES = {"leaflet.awesome-markers@2.0.2": "leaflet.awesome-markers@2.0.5"}
TEXT_TYPES = {".js": "application/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".map": "application/json"}
BINARY_TYPES = {".png": "image/png", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}

# Polls every frame for the first marker (an icon, or a circle marker's SVG path) laid out, on screen and painted.
MARKER_PROBE = """
(() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth
      && s.visibility !== 'hidden' && s.display !== 'none' && parseFloat(s.opacity) > 0
      && (el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0));
  };
  const check = () => {
    if ([...document.querySelectorAll('.leaflet-marker-icon, .leaflet-overlay-pane path.leaflet-interactive')]
        .some(visible)) {
      window.__benchFirstMarker = performance.now();
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
})();
"""


def load_places(db: Path, slug: str) -> list[dict[str, Any]]:
    """The article's places, as the app serves them."""
    store = Store.open(db, create=False)
    try:
        return store.places(slug)
    finally:
        store.close()


def bare_page(place: dict[str, Any]) -> str:
    """The least a Leaflet map with one marker can be: Leaflet, a tile layer, L.marker."""
    point = json.dumps([place["lat"], place["lon"]])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bare Leaflet</title>
<link rel="stylesheet" href="{LEAFLET_CSS}">
<style>html, body, #map {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="map"></div>
<script src="{LEAFLET_JS}"></script>
<script>
var map = L.map("map").setView({point}, 9);
L.tileLayer({json.dumps(OSM_TILES)}, {{maxZoom: 18, attribution: {json.dumps(OSM_ATTRIBUTION)}}}).addTo(map);
L.marker({point}).addTo(map);
</script>
</body>
</html>
"""


def folium_page(places: list[dict[str, Any]], path: Path) -> None:
    """folium's own output, defaults untouched: its CDN assets, OSM tiles, a marker and popup per place."""
    fmap = folium.Map(location=[statistics.fmean(p["lat"] for p in places), statistics.fmean(p["lon"] for p in places)])
    for place in places:
        folium.Marker([place["lat"], place["lon"]], popup=place["quote"]).add_to(fmap)
    fmap.fit_bounds([[min(p["lat"] for p in places), min(p["lon"] for p in places)],
                     [max(p["lat"] for p in places), max(p["lon"] for p in places)]])  # fmt: skip
    fmap.save(str(path))


def folium_cdn_urls() -> list[str]:
    return [url for _, url in [*folium.folium._default_js, *folium.folium._default_css]]


def npm_source(url: str) -> tuple[str, str] | None:
    """(npm package@version, path in the package) for a CDN URL, or None when npm does not have it."""
    if m := re.fullmatch(r"https://cdn\.jsdelivr\.net/npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)", url):
        spec, path = f"{m[1]}@{m[2]}", m[3]
    elif m := re.fullmatch(r"https://code\.jquery\.com/jquery-([\d.]+?)(\.min)?\.js", url):
        spec, path = f"jquery@{m[1]}", f"dist/jquery{m[2] or ''}.js"
    elif m := re.fullmatch(r"https://cdnjs\.cloudflare\.com/ajax/libs/Leaflet\.awesome-markers/([^/]+)/(.+)", url):
        spec, path = f"leaflet.awesome-markers@{m[1]}", f"dist/{m[2]}"
    else:
        return None
    return NPM_SUBSTITUTES.get(spec, spec), path


def fetch_cdn_packages(urls: list[str]) -> tuple[dict[str, Path], list[str]]:
    """`npm pack` each package folium's page names (once; kept in bench/out/cdn/). Returns tarballs and problems."""
    CDN_DIR.mkdir(parents=True, exist_ok=True)
    specs = sorted({src[0] for url in urls if (src := npm_source(url))})
    tarballs: dict[str, Path] = {}
    problems: list[str] = []
    for spec in specs:
        name, version = spec.rsplit("@", 1)
        tarball = CDN_DIR / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
        if not tarball.exists():
            try:
                subprocess.run(
                    ["npm", "pack", spec, "--pack-destination", str(CDN_DIR), "--cache", str(CDN_DIR / "npm-cache"),
                     "--silent", "--no-audit", "--no-fund"],
                    check=True, capture_output=True, text=True, timeout=180,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError) as error:
                problems.append(f"npm pack {spec} failed: {str(error).splitlines()[0]}")
                continue
        if tarball.exists():
            tarballs[spec] = tarball
        else:
            problems.append(f"npm pack {spec} made no {tarball.name}")
    return tarballs, problems


class Cdn:
    """Answers folium's CDN URLs from the npm tarballs; counts each as a CDN would send it, gzip -9.

    Chromium ignores `Content-Encoding` on intercepted responses (microsoft/playwright#39292),
    so the body is handed over plain and its wire size is taken as its gzip size instead.
    """

    def __init__(self, tarballs: dict[str, Path]) -> None:
        self.tarballs = tarballs
        self._files: dict[str, tuple[bytes, str, int] | None] = {}

    def lookup(self, url: str) -> tuple[bytes, str, int] | None:
        """(body, content type, wire body size) or None."""
        url = url.split("?", 1)[0].split("#", 1)[0]
        if url not in self._files:
            self._files[url] = self._load(url)
        return self._files[url]

    def _load(self, url: str) -> tuple[bytes, str, int] | None:
        source = npm_source(url)
        if source is None or source[0] not in self.tarballs:
            return None
        with tarfile.open(self.tarballs[source[0]]) as tar:
            try:
                member = tar.extractfile(f"package/{source[1]}")
            except KeyError:
                return None
            if member is None:
                return None
            body = member.read()
        suffix = Path(source[1]).suffix
        if suffix in TEXT_TYPES:
            return body, TEXT_TYPES[suffix], len(gzip.compress(body, compresslevel=9, mtime=0))
        return body, BINARY_TYPES.get(suffix, "application/octet-stream"), len(body)


@dataclass
class Load:
    """One page load: what was requested, what it weighed, when the first marker showed."""

    first_marker_ms: float = float("nan")
    wire: dict[str, int] = field(default_factory=dict)  # url -> bytes on the wire (headers + body)
    tiles: int = 0
    cdn: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # CDN URLs npm cannot supply (aborted)
    outside: list[str] = field(default_factory=list)  # any other off-origin request (aborted)
    failed: list[str] = field(default_factory=list)  # same-origin responses with status >= 400
    errors: list[str] = field(default_factory=list)  # console errors and page errors


def load_page(browser: Browser, origin: str, url: str, cdn: Cdn, cdn_urls: set[str], ready: str = "") -> Load:
    """One load of `url` in a fresh context; with `ready`, also wait for that selector (the offline
    basemap drawn) before the network is taken as quiet."""
    load = Load()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:

        def off_origin(route: Route) -> None:
            url_ = route.request.url
            host = urlsplit(url_).hostname or ""
            if host == TILE_HOST:
                load.tiles += 1
                route.fulfill(status=200, body=STUB_PNG, headers={"content-type": "image/png"})
            elif (found := cdn.lookup(url_)) is not None:
                body, content_type, _ = found
                load.cdn.append(url_)
                route.fulfill(
                    status=200, body=body, headers={"content-type": content_type, "access-control-allow-origin": "*"}
                )
            elif url_.split("?")[0] in cdn_urls or npm_source(url_):
                load.unavailable.append(url_)
                route.abort()
            else:
                load.outside.append(url_)
                route.abort()

        context.route(re.compile("^(?!" + re.escape(origin) + "/)(?!data:)"), off_origin)
        context.add_init_script(MARKER_PROBE)
        page = context.new_page()
        page.on("console", lambda m: load.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: load.errors.append(str(e)))
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        urls: dict[str, str] = {}
        finished: dict[str, int] = {}
        headers_size: dict[str, int] = {}

        def received(event: dict[str, Any]) -> None:
            response = event["response"]
            urls[event["requestId"]] = response["url"]
            headers_size[event["requestId"]] = int(response.get("encodedDataLength") or 0)
            if response["url"].startswith(origin) and response["status"] >= 400:
                load.failed.append(f"{response['status']} {response['url']}")

        cdp.on("Network.responseReceived", received)
        cdp.on("Network.loadingFinished", lambda e: finished.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.__benchFirstMarker !== undefined", timeout=30_000)  # CSP: no eval
        load.first_marker_ms = page.evaluate("window.__benchFirstMarker")
        if ready:
            page.wait_for_selector(ready, state="attached", timeout=30_000)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(200)  # let the last protocol events arrive
        for request_id, size in finished.items():
            url_ = urls.get(request_id, "")
            if not url_.startswith("http") or urlsplit(url_).hostname == TILE_HOST:
                continue
            found = cdn.lookup(url_) if not url_.startswith(origin) else None
            if found is not None:
                size = headers_size.get(request_id, 0) + found[2]  # headers as answered + the gzip body
            load.wire[url_] = load.wire.get(url_, 0) + size
    finally:
        context.close()
    return load


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


ARTICLE, LIBRARY, BARE, FOLIUM = "article page", "library page", "bare Leaflet, 1 marker", "folium default"
OFFLINE = "article page, offline basemap"


def map_data_bytes(load: Load) -> int:
    """Bytes on the wire of the library map's data (`/api/library/map`, fetched once the page is drawn)."""
    return sum(size for url, size in load.wire.items() if urlsplit(url).path.startswith("/api/library/map"))


def basemap_bytes(load: Load) -> int:
    """Bytes on the wire of the offline basemap's cells in one load."""
    return sum(size for url, size in load.wire.items() if urlsplit(url).path.startswith("/basemap/"))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="newsmap-page-") as tmp:
        db = build_seeds(Path(tmp), ROOT / "seeds")  # the built seed, apart from the repository's data/
        return measure(db)


def measure(db: Path) -> int:
    slug = main_article(db)
    places = load_places(db, slug)
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    (PAGES_DIR / "bare.html").write_text(bare_page(places[0]), encoding="utf-8")
    notes: list[str] = []
    pages = {ARTICLE: f"/articles/{slug}", LIBRARY: "/", BARE: "/bench/bare.html"}
    cdn_urls = folium_cdn_urls()
    tarballs, problems = fetch_cdn_packages(cdn_urls)
    notes += problems
    if problems:
        notes.append("folium baseline skipped: its CDN files could not all be fetched from npm.")
    else:
        folium_page(places, PAGES_DIR / "folium.html")
        pages[FOLIUM] = "/bench/folium.html"
    for html in PAGES_DIR.glob("*.html"):
        (PAGES_DIR / f"{html.name}.gz").write_bytes(gzip.compress(html.read_bytes(), compresslevel=9, mtime=0))

    env = {"NEWSMAP_BENCH_STATIC": str(PAGES_DIR), "NEWSMAP_TILES": OSM_TILES, "NEWSMAP_DB": str(db)}
    pages[OFFLINE] = pages[ARTICLE]
    loads: dict[str, list[Load]] = {name: [] for name in pages}
    cdn = Cdn(tarballs)
    statics = [LEAFLET_JS, LEAFLET_CSS, "/static/newsmap.js", "/static/library.js", "/static/newsmap.css"]
    offline_env = {**env, "NEWSMAP_TILES": "offline"}
    with (
        bench_server("page-server", env, WRAPPER_SPEC) as server,
        bench_server("page-server-offline", offline_env, WRAPPER_SPEC) as offline,
        sync_playwright() as pw,
    ):
        origins = {name: offline.url if name == OFFLINE else server.url for name in pages}
        for name, path in pages.items():
            for url in [path, *statics, "/static/basemap.js"]:
                for _ in range(6):  # both workers build the pages and read their files before we time anything
                    fetch(origins[name] + url, {"Accept-Encoding": "gzip"})
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def one(name: str) -> Load:
            ready = BASEMAP_DRAWN if name == OFFLINE else ""
            return load_page(browser, origins[name], origins[name] + pages[name], cdn, set(cdn_urls), ready)

        try:
            for name in pages:  # one untimed load each: the browser's own first-run costs (and the cells built)
                one(name)
            for _ in range(RUNS):  # round robin, so drift on a noisy machine hits every page alike
                for name in pages:
                    loads[name].append(one(name))
            chromium_version = browser.version
        finally:
            browser.close()

    summary: dict[str, dict[str, float]] = {}
    for name, runs in loads.items():
        summary[name] = {
            "bytes": median([sum(r.wire.values()) for r in runs]),
            "requests": median([len(r.wire) for r in runs]),
            "tiles": median([r.tiles for r in runs]),
            "marker": median([r.first_marker_ms for r in runs]),
            "outside": max(len(r.outside) for r in runs),
        }
    bare = summary[BARE]
    rows = [
        [
            f"{name} (`{pages[name]}`)",
            round(s["bytes"] / 1024, 1),
            f"{s['bytes'] / bare['bytes']:.2f}×",
            int(s["requests"]),
            int(s["tiles"]),
            round(s["marker"]),
            f"{s['marker'] / bare['marker']:.2f}×",
            int(s["outside"]),
        ]
        for name, s in summary.items()
    ]
    targets = []
    for name in (ARTICLE, LIBRARY, OFFLINE):
        page, runs = summary[name], loads[name]
        ratio = OFFLINE_TARGET_RATIO if name == OFFLINE else TARGET_BYTES_RATIO
        targets += [
            {
                "what": f"{name} bytes on the wire vs the bare Leaflet page",
                "target": f"≤ {ratio}×",
                "measured": f"{page['bytes'] / bare['bytes']:.2f}× ({page['bytes'] / 1024:.1f} KiB vs "
                f"{bare['bytes'] / 1024:.1f} KiB)",
                "met": page["bytes"] <= ratio * bare["bytes"],
            },
            {
                "what": f"{name}: off-origin requests other than tiles",
                "target": "0",
                "measured": str(sum(len(r.outside) for r in runs)),
                "met": not any(r.outside for r in runs),
            },
            {
                "what": f"{name}: failed requests and console errors",
                "target": "0",
                "measured": str(sum(len(r.failed) + len(r.errors) for r in runs)),
                "met": not any(r.failed or r.errors for r in runs),
            },
        ]
    start = median([sum(r.wire.values()) - map_data_bytes(r) for r in loads[LIBRARY]])
    targets.append(
        {
            "what": f"{LIBRARY} before its map's data (`/api/library/map`, fetched once the page is drawn), bytes on "
            "the wire vs the bare Leaflet page",
            "target": f"≤ {LIBRARY_START_RATIO}×",
            "measured": f"{start / bare['bytes']:.2f}× ({start / 1024:.1f} KiB; the map's data "
            f"{median([map_data_bytes(r) for r in loads[LIBRARY]]) / 1024:.1f} KiB more)",
            "met": start <= LIBRARY_START_RATIO * bare["bytes"],
        }
    )
    cells = median([basemap_bytes(r) for r in loads[OFFLINE]])
    targets.append(
        {
            "what": f"{OFFLINE}: the basemap cells of the start view (`/basemap/...`), bytes on the wire",
            "target": f"≤ {BASEMAP_BUDGET / 1024:.0f} KiB",
            "measured": f"{cells / 1024:.1f} KiB in {median([sum('/basemap/' in u for u in r.wire) for r in loads[OFFLINE]]):.0f}"
            " requests",
            "met": cells <= BASEMAP_BUDGET,
        }
    )
    notes += [
        f"`{OFFLINE}`: the same page from a second gunicorn with NEWSMAP_TILES=offline (no tile requests), "
        "counted once its basemap is drawn: newsmap.js loads static/basemap.js, which fetches the start view's cells.",
        f"The pages: `{pages[ARTICLE]}`, the article page of the built seed, and `/`, the library page, on a "
        "database made by `newsmap build` of seeds/ (into a temporary folder); the baselines show that "
        f"article's {len(places)} places (the bare page its first).",
        f"Medians of {RUNS} loads per page in headless Chromium {chromium_version} (1280×800, fresh context per load, "
        "pages loaded in turn), after one untimed load each. All pages served by the same gunicorn process "
        "(the production command of `newsmap serve`, app `bench.baseline_app:application`).",
        "KiB = bytes on the wire (response headers + gzip body, DevTools `Network.loadingFinished` "
        "encodedDataLength), tiles excluded. Requests exclude tiles. Marker ms = performance.now() "
        "when the first marker (`.leaflet-marker-icon`, or the library's circle markers, SVG "
        "`path.leaflet-interactive`) is on screen (loopback, no throttling: mostly parse and run time).",
        "Tiles (tile.openstreetmap.org) are answered with a 1×1 PNG and only counted.",
    ]
    if FOLIUM in summary:
        cdn_seen = sorted({u for r in loads[FOLIUM] for u in r.cdn})
        missing = sorted({u for r in loads[FOLIUM] for u in r.unavailable})
        notes.append(
            f"folium's {len(cdn_seen)} CDN files are answered from npm packages ({', '.join(sorted(tarballs))}) "
            "and counted at their gzip -9 size plus the response headers as answered (a real CDN sends more headers); "
            "Chromium ignores Content-Encoding on intercepted responses (microsoft/playwright#39292)."
        )
        if missing:
            notes.append(
                "Not on npm, so aborted and not counted (folium's real page is heavier by these): " + ", ".join(missing)
            )
    for name, runs in loads.items():
        outside = sorted({u for r in runs for u in r.outside})
        if outside:
            notes.append(f"{name}: off-origin requests (aborted): {', '.join(outside)}")
        errors = sorted({e for r in runs for e in [*r.failed, *r.errors]})
        if errors:
            notes.append(f"{name}: failed requests / console errors: {'; '.join(errors)[:600]}")
    columns = [
        "page",
        "KiB on the wire",
        "× bare",
        "requests",
        "tile requests",
        "first marker ms",
        "× bare",
        "other off-origin",
    ]
    write_result("page", "Page weight and first marker (headless Chromium)", columns, rows, notes, targets)

    resource_rows = [
        [name, urlsplit(url).path or "/", size, round(size / 1024, 1)]
        for name in (ARTICLE, LIBRARY, OFFLINE)
        for url, size in sorted(loads[name][-1].wire.items(), key=lambda kv: -kv[1])
    ]
    write_result(
        "page-resources",
        "What the article page and the library page download, by resource",
        ["page", "resource", "bytes on the wire", "KiB"],
        resource_rows,
        ["One load of each page (the last measured); headers + gzip body per response, tiles excluded."],
        [],
    )
    return exit_status(targets)


if __name__ == "__main__":
    raise SystemExit(main())
