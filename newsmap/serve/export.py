"""`newsmap export OUT/`: the library as a static site, for any web host or CDN, for years.

The pages are the server's own, built by the same `Site` from the same database in its export
mode (no editor links, no search box, no calls to the API), then written as files whose links
are relative: the folder works wherever it is put, under any path, and from `file://` where a
browser allows it. Scripts and stylesheets get content-hashed names (`newsmap.3f2a1c9b0d.js`),
so a CDN may cache them for ever. The same data exported twice gives the same bytes.

Layout: `index.html` and `pages/<n>.html` (the library), `articles/<slug>/index.html` with the
article's downloads beside it (`locations.csv`, `locations-excel.csv`, `mentions.csv`,
`locations.geojson`, `locations.kml`, `article.json`, `places.json`, `corrections.csv`,
`corrections.json`, `basemap.geojson`, and `embed/index.html`), `data/` (the whole library's
CSV, GeoJSON and KML), `articles.json`, `feed.atom`, `static/`, `vendor/`, and `basemap/<level>/<x>/<y>.json`:
the offline basemap's cells, each written once for all the articles whose pages may ask for it.

The folder is written beside OUT and swapped in whole, so a reader never sees half an export; an
OUT that holds anything but an earlier export is refused.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment

from newsmap.dataset import LOCATION_FIELDS, MENTION_FIELDS, iter_csv, iter_geojson, iter_kml
from newsmap.serve import basemap
from newsmap.serve.embed import render_embed
from newsmap.serve.pages import csp_without
from newsmap.serve.site import Config, Site
from newsmap.store import Store, StoreError

MARK = ".newsmap-export"  # in every export: what may be replaced by the next one
_ATTRIBUTE = re.compile(r'(\s(?:href|src|data-page|data-embed|data-path|data-basemap-script|data-phone-script|data-details|data-script)=")(/[^"/][^"]*|/)(")')
_CANONICAL = re.compile(r'<link rel="canonical" href="[^"]*">\n?')
_OEMBED = re.compile(r'<link rel="alternate" type="application/json\+oembed"[^>]*>\n?')
_FEED_LINK = re.compile(r'<link rel="alternate" type="application/atom\+xml"[^>]*>\n?| · <a href="/feed.atom">[^<]*</a>')
_CHARSET = '<meta charset="utf-8">'
ARTICLE_FILES = {  # server path under /articles/<slug>/ -> file beside the article's page
    "locations.csv": "locations.csv",
    "locations.csv?bom=1": "locations-excel.csv",
    "mentions.csv": "mentions.csv",
    "locations.geojson": "locations.geojson",
    "locations.kml": "locations.kml",
    "basemap.geojson": "basemap.geojson",
    "corrections.csv": "corrections.csv",
    "corrections.json": "corrections.json",
}


class ExportError(RuntimeError):
    """The export cannot be made; one line for the user."""


@dataclass
class Exported:
    out: Path
    articles: int = 0
    files: int = 0
    bytes: int = 0
    unmapped: list[str] = field(default_factory=list)  # links to server-only pages, left out


def target(url: str) -> str | None:
    """The export's file for a server URL (path, query and fragment), or None for a server-only page."""
    parts = urlsplit(url)
    path, query, fragment = parts.path, parse_qs(parts.query), f"#{parts.fragment}" if parts.fragment else ""
    segments = [s for s in path.split("/") if s]
    found: str | None = None
    if path == "/":
        page = query.get("page", ["1"])[0]
        found = "index.html" if page in ("", "1") else f"pages/{int(page)}.html" if page.isdigit() else None
    elif len(segments) == 2 and segments[0] == "articles":
        found = f"articles/{segments[1]}/index.html"
    elif len(segments) == 3 and segments[0] == "articles":
        name = segments[2] + ("?bom=1" if query.get("bom") == ["1"] else "")
        found = f"articles/{segments[1]}/{ARTICLE_FILES[name]}" if name in ARTICLE_FILES else None
        found = f"articles/{segments[1]}/embed/index.html" if segments[2] == "embed" else found
    elif segments[:2] == ["api", "articles"]:
        found = {2: "articles.json"}.get(len(segments))
        if len(segments) in (3, 4) and segments[3:] in ([], ["places"], ["corrections"]):
            name = {(): "article.json", ("places",): "places.json", ("corrections",): "corrections.json"}
            found = f"articles/{segments[2]}/{name[tuple(segments[3:])]}"
    elif segments and segments[0] == "data" and len(segments) == 2:
        found = f"data/{segments[1]}"
    elif path == "/feed.atom":
        found = "feed.atom"
    return found + fragment if found is not None else None


def relative(file: str, page: str) -> str:
    """`file` as a link from `page` (both relative to the export's root)."""
    return posixpath.relpath(file, posixpath.dirname(page) or ".")


class _Writer:
    """Files written into the folder being made, with the static files they link to, hashed."""

    def __init__(self, root: Path, static: dict[str, bytes], base_url: str) -> None:
        self.root = root
        self.static = static
        self.base_url = base_url.rstrip("/") + "/" if base_url else ""
        self.hashed: dict[str, str] = {}
        self.result = Exported(root)

    def write(self, name: str, body: bytes | Iterable[bytes]) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            for chunk in [body] if isinstance(body, bytes) else body:
                handle.write(chunk)
                self.result.bytes += len(chunk)
        self.result.files += 1

    def page(self, name: str, html: bytes, csp: str) -> None:
        """A page with relative links, its CSP as a `<meta>` (a static host sends no headers)."""
        text = html.decode("utf-8")
        canonical = target_of_canonical(text)
        text = _CANONICAL.sub("", text)
        text = _OEMBED.sub("", text)
        if not self.base_url:  # a feed needs the site's address: without --base-url there is none
            text = _FEED_LINK.sub("", text)
        if self.base_url and canonical is not None:
            absolute = self.base_url + canonical.removesuffix("index.html")
            text = text.replace(_CHARSET, f'{_CHARSET}\n<link rel="canonical" href="{absolute}">', 1)
        policy = csp_without(csp, "frame-ancestors")
        meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        text = text.replace(_CHARSET, f"{_CHARSET}\n{meta}", 1)
        text = _ATTRIBUTE.sub(lambda m: m[1] + self._link(m[2], name) + m[3], text)
        self.write(name, text.encode("utf-8"))

    def _link(self, url: str, page: str) -> str:
        if url.startswith(("/static/", "/vendor/")) and url in self.static:
            return relative(self._hashed(url), page)
        found = target(url)
        if found is None:
            self.result.unmapped.append(url)
            return "#"
        return relative(found, page)

    def _hashed(self, url: str) -> str:
        """`/static/newsmap.js` -> `static/newsmap.<hash>.js`, written once. Leaflet's images keep
        their names: its stylesheet asks for them as `images/<name>`."""
        if url not in self.hashed:
            body = self.static[url]
            name = url.lstrip("/")
            if "/images/" not in url:
                stem, dot, suffix = name.rpartition(".")
                name = f"{stem}.{hashlib.sha256(body).hexdigest()[:10]}{dot}{suffix}"
            self.hashed[url] = name
            self.write(name, body)
            if url.endswith("leaflet.css"):
                for image in sorted(u for u in self.static if u.startswith("/vendor/leaflet/images/")):
                    self._hashed(image)
        return self.hashed[url]


def target_of_canonical(html: str) -> str | None:
    match = _CANONICAL.search(html)
    if match is None:
        return None
    return target(match[0].split('href="', 1)[1].split('"', 1)[0])


def export_site(
    db: Path,
    out: Path,
    templates: Environment,
    static_dir: Path,
    vendor_files: dict[str, Path],
    *,
    slugs: list[str] | None = None,
    base_url: str = "",
    tiles: str = "offline",
    tiles_attribution: str = "",
    progress: Callable[[str], None] = lambda _: None,
) -> Exported:
    """Write the library (or the articles `slugs` names) as a static site into `out`."""
    _check_out(out)
    try:
        store = Store.open(db, create=False)
    except StoreError as error:
        raise ExportError(str(error)) from None
    try:
        chosen = sorted(set(slugs)) if slugs else [info.slug for info in store.infos()]
        unknown = [slug for slug in chosen if store.info(slug) is None]
        if unknown:
            raise ExportError(f"no article {unknown[0]!r} in the library")
        config = Config(
            db=db, tiles=tiles, tiles_attribution=tiles_attribution, exported=True, cache_entries=1, cache_bytes=1,
            only=frozenset(chosen) if slugs else None,
        )  # fmt: skip
        site = Site(config, templates, static_dir, vendor_files)
        static = {url: asset.body for url, asset in site.static_assets.items()}
        building = out.parent / f".{out.name}.partial-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        try:
            writer = _Writer(building, static, base_url)
            _write_all(site, store, writer, chosen, progress)
            (building / MARK).write_text("A static export of a newsmap library; `newsmap export` replaces it.\n")
            _swap(building, out)
        finally:
            shutil.rmtree(building, ignore_errors=True)
            site.reset()
    finally:
        store.close()
    writer.result.out = out
    writer.result.articles = len(chosen)
    return writer.result


def _write_all(site: Site, store: Store, writer: _Writer, chosen: list[str], progress: Callable[[str], None]) -> None:
    for number, slug in enumerate(chosen, start=1):
        _write_article(site, writer, slug)
        if number % 100 == 0:
            progress(f"{number} of {len(chosen)} articles")
    pages = max(1, -(-store.count("", site.config.only) // site.config.page_size))
    for page in range(1, pages + 1):
        built = site.library("", page)
        writer.page("index.html" if page == 1 else f"pages/{page}.html", built.assets["/"].body, built.csp["/"])
    keep = set(chosen)
    places = lambda: (row for row in store.iter_places() if row["article"] in keep)  # noqa: E731
    mentions = (row for row in store.iter_mentions() if row["article"] in keep)
    writer.write("data/locations.csv", iter_csv(places(), LOCATION_FIELDS))
    writer.write("data/mentions.csv", iter_csv(mentions, MENTION_FIELDS))
    writer.write("data/locations.geojson", iter_geojson(places()))
    writer.write("data/locations.kml", iter_kml(places()))
    writer.write("articles.json", site.library_index().assets["/api/articles"].body)
    _write_basemap(writer, [store.places(slug) for slug in chosen])
    if writer.base_url:  # links in a feed must be absolute to be followed from a feed reader
        writer.write("feed.atom", site.feed(writer.base_url.rstrip("/")).assets["/feed.atom"].body)


def _write_article(site: Site, writer: _Writer, slug: str) -> None:
    built = site.article(slug)
    if built is None:
        return
    base, api = f"/articles/{slug}", f"/api/articles/{slug}"
    writer.page(f"articles/{slug}/index.html", built.assets[base].body, built.csp[base])
    for path, name in ARTICLE_FILES.items():
        asset = built.assets.get(f"{base}/{path}")
        if asset is not None:
            writer.write(f"articles/{slug}/{name}", asset.body)
    writer.write(f"articles/{slug}/article.json", built.assets[api].body)
    writer.write(f"articles/{slug}/places.json", built.assets[f"{api}/places"].body)
    embed = render_embed(site, slug)
    if embed is not None:
        writer.page(f"articles/{slug}/embed/index.html", *embed)


def _write_basemap(writer: _Writer, places_by_article: list[list[dict]]) -> None:
    """The offline basemap's cells the pages may ask for (`basemap.spec`), once each, beside the
    articles (`basemap/` at the root, `../../basemap` from an article's page), not once per article."""
    for level, x, y in basemap.export_cells(places_by_article):
        body = basemap.cell_body(level, x, y)
        if body is not None:
            writer.write(f"basemap/{level}/{x}/{y}.json", body)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARK).exists():
        raise ExportError(f"{out}: holds other files and is not an earlier export: choose an empty or new folder")


def _swap(building: Path, out: Path) -> None:
    """Put the new export in place of the old one with two renames (readers see one or the other)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    building.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def iter_files(root: Path) -> Iterator[Path]:
    """Every file of an export, in a stable order (for checks and benchmarks)."""
    return iter(sorted(p for p in root.rglob("*") if p.is_file()))
