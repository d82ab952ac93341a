"""A place across the library (`/places/<key>`): every article that names it, oldest first, with the
status each article's own text gives it, the sentences that name it, a small map and a timeline.

Built from the store once per library revision and page (any write may add an article that names
the place), kept in the site's LRU cache beside the articles, served with an ETag; the JSON twin
(`/api/places/<key>`) is built from the same reads, separately (a reader of one never pays for the
other). A page is 50 articles, read from one index range (`newsmap.placequeries`), so a place named
by thousands of articles costs what one named by ten does; the timeline shows that page's dated
articles, starting from the status stated last before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from newsmap.dataset import to_json_bytes
from newsmap.placequeries import PAGE_SIZE, Entry, Summary, key_candidates, page_entries, status_before, summary
from newsmap.schema import category_family, key_slug
from newsmap.serve import basemap
from newsmap.serve.assets import Asset
from newsmap.serve.mapview import ZOOM_BY_PRECISION
from newsmap.serve.pages import page_csp
from newsmap.serve.placefiles import FILES
from newsmap.serve.placelinks import file_stem, place_api, place_path
from newsmap.serve.site import HTML, JSON, Built, Site, _time
from newsmap.store import Store

# A status's colour on the page and in its timeline, by what it says of the place.
STATUS_FAMILIES = {
    "in operation": "active",
    "planned": "coming", "under discussion": "coming", "talks planned": "coming",
    "closure planned": "ending", "closure discussed": "ending", "handover planned": "ending",
    "handover discussed": "ending",
    "closed": "ended", "handed over": "ended", "dissolved": "ended",
    "presence denied": "denied",
    "talks held": "held",
}  # fmt: skip
NOT_STATED = "not stated"


def status_family(status: str) -> str:
    return STATUS_FAMILIES.get(status, "none" if not status else "other")


def known(site: Site, slug: str) -> str | None:
    """The key a URL's slug names, if an article (of the export, in one) names it: two indexed lookups."""
    conn = site.store().conn
    for key in key_candidates(slug):
        if conn.execute("SELECT 1 FROM places WHERE key = ? LIMIT 1", (key,)).fetchone():
            return key
    return None


def place_built(site: Site, key: str, page: int, twin: bool = False) -> Built:
    """The place's page `page` (its HTML, or with `twin` its JSON), built once per library revision."""
    revision = site.store().revision()
    what = "json" if twin else "html"
    return site.cache.get(
        ("place", revision, key, page, what), lambda: site._read(lambda store: _build(site, store, key, page, twin))
    )


def page_path(key: str, page: int, api: bool = False) -> str:
    base = place_api(key) if api else place_path(key)
    return base if page == 1 else f"{base}?page={page}"


def downloads(key: str) -> list[tuple[str, str, str, str]]:
    """(label, URL, what, file name) of the place's downloads: every mention across the library."""
    what = {"csv": "one row per mention, every article", "geojson": "for GIS tools",
            "kml": "for Google Earth, dated", "json": "every mention, as JSON"}  # fmt: skip
    return [
        (name.rsplit(".", 1)[1].upper().replace("GEOJSON", "GeoJSON"), f"{place_path(key)}/{name}",
         what[name.rsplit(".", 1)[1]], f"{file_stem(key)}-{name}")
        for name in FILES
    ]  # fmt: skip


def timeline(entries: list[Entry], before: tuple[str, str] | None) -> list[dict[str, Any]]:
    """One dot per dated article of the page with the status it states, and where that differs from
    the status stated last before it (on this page or, for the first, before the page), the change.
    A status not stated is no change."""
    last = before[1] if before else ""
    dots = []
    for index, entry in enumerate(entries):
        if not entry.published:
            continue
        change = f"{last} → {entry.status}" if entry.status and last and entry.status != last else ""
        last = entry.status or last
        dots.append({
            "article": entry.article, "place_id": entry.place_id, "published": entry.published,
            "status": entry.status, "family": status_family(entry.status), "change": change, "entry": index,
        })  # fmt: skip
    return dots


def quote_segments(quote: dict[str, Any]) -> list[tuple[str, bool]]:
    """A quote as (text, is the place's own words) runs, for the page to mark its mentions."""
    text, at, runs = quote["text"], 0, []
    for start, end in quote["marks"]:
        if start > at:
            runs.append((text[at:start], False))
        runs.append((text[start:end], True))
        at = end
    if at < len(text):
        runs.append((text[at:], False))
    return runs


def _build(site: Site, store: Store, key: str, page: int, twin: bool) -> Built:
    """The page's reads (a summary, the page's rows, the status before it), then its HTML or its JSON."""
    only = site.config.only
    about = summary(store.conn, key, only)
    built = Built()
    if about is None:
        return built
    pages = max(1, -(-about.rows // PAGE_SIZE))
    page = min(max(page, 1), pages)
    entries = page_entries(store.conn, key, page, PAGE_SIZE, only)
    first = (entries[0].article, entries[0].place_id) if entries and page > 1 else None
    before = status_before(store.conn, key, first, only) if first else None
    modified = _time(store.meta("updated_at") or "")
    path = page_path(key, page, api=twin)
    if twin:
        built.assets[path] = Asset.make(to_json_bytes(_document(about, entries, before, page, pages)), JSON, modified)
        return built
    html = _html(site, about, entries, before, page, pages)
    built.assets[path] = Asset.make(html.encode("utf-8"), HTML, modified)
    built.csp[path] = page_csp([], site.config.tiles)
    return built


def _html(
    site: Site, about: Summary, entries: list[Entry], before: tuple[str, str] | None, page: int, pages: int
) -> str:
    key, row = about.key, about.row
    depth = 2 if page == 1 else 3  # places/<slug>/index.html, places/<slug>/pages/<n>.html
    ground = basemap.spec([row], "../" * depth + "basemap" if site.config.exported else "/basemap",
                          site.config.exported)  # fmt: skip
    data = {
        "place": {**{k: row[k] for k in ("name", "lat", "lon", "precision", "kind")},
                  "family": category_family(row["category"])},
        "zoom": ZOOM_BY_PRECISION, "tiles": site.config.tiles, "basemap": ground,
    }  # fmt: skip
    return site.templates.get_template("place.html").render(
        about=about, place=row, key=key, entries=[_shown(e) for e in entries], timeline=timeline(entries, before),
        before={"published": before[0], "status": before[1], "family": status_family(before[1])} if before else None,
        page=page, pages=pages, offset=(page - 1) * PAGE_SIZE, downloads=downloads(key),
        canonical=page_path(key, page), api=page_path(key, page, api=True), data=data, exported=site.config.exported,
        previous=page_path(key, page - 1) if page > 1 else "", next=page_path(key, page + 1) if page < pages else "",
        not_stated=NOT_STATED,
    )  # fmt: skip


def _shown(entry: Entry) -> dict[str, Any]:
    """An entry as the page shows it: its quotes cut into runs, a headline repeated once."""
    seen: set[str] = set()
    quotes = []
    for quote in entry.quotes:
        if quote["text"] not in seen:
            seen.add(quote["text"])
            quotes.append(quote_segments(quote))
    return {**vars(entry), "quotes": quotes, "family": status_family(entry.status),
            "link": f"/articles/{entry.article}#{entry.place_id}"}  # fmt: skip


def _document(
    about: Summary, entries: list[Entry], before: tuple[str, str] | None, page: int, pages: int
) -> dict[str, Any]:
    """The page as JSON (`/api/places/<key>`): the place, the page's articles, the timeline, links."""
    key = about.key
    return {
        "key": key, "slug": key_slug(key), "page_url": place_path(key), "api": place_api(key),
        "place": about.row, "articles": about.rows, "undated": about.undated, "first": about.first, "last": about.last,
        "page": page, "pages": pages, "per_page": PAGE_SIZE,
        "previous": page_path(key, page - 1, api=True) if page > 1 else None,
        "next": page_path(key, page + 1, api=True) if page < pages else None,
        "status_before": {"published": before[0], "status": before[1]} if before else None,
        "timeline": timeline(entries, before),
        "entries": [{**vars(e), "page": f"/articles/{e.article}#{e.place_id}"} for e in entries],
        "downloads": {label: url for label, url, _, _ in downloads(key)},
    }  # fmt: skip


def export_files(site: Site, store: Store, key: str) -> Iterator[tuple[str, bytes, str]]:
    """(file, body, CSP) of a place's pages and JSON twins in a static export (CSP "" for a JSON file):
    `places/<slug>/index.html`, `pages/<n>.html`, `place.json`, `pages/<n>.json`."""
    about = summary(store.conn, key, site.config.only)
    if about is None:
        return
    folder = f"places/{key_slug(key)}"
    for page in range(1, max(1, -(-about.rows // PAGE_SIZE)) + 1):
        name = "index" if page == 1 else f"pages/{page}"
        html, twin = place_built(site, key, page), place_built(site, key, page, twin=True)
        path = page_path(key, page)
        yield f"{folder}/{name}.html", html.assets[path].body, html.csp[path]
        json_name = "place" if page == 1 else f"pages/{page}"
        yield f"{folder}/{json_name}.json", twin.assets[page_path(key, page, api=True)].body, ""
