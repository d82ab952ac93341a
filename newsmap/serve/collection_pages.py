"""A collection's page, downloads, embed and feed: built once per state of the collection, then cached.

The same machinery as an article's (`site.Built`, `assets.Asset`: gzipped once, ETag, 304): the
page and every download are built together, the first time one is asked for, from one read
transaction, and kept in the site's bounded LRU cache under the collection's state
(`newsmap.collections.state`: its version and its articles' versions), which every write of the
collection or of one of its articles changes, and nothing else does. A request then costs one
indexed query, however big the library or the collection.

The downloads are the article's, over all the collection's articles in its order (the `article`
column tells them apart): `locations.csv` (formula-safe, `?bom=1` for Excel), `mentions.csv`,
`locations.geojson`, `locations.kml` (a folder per article), and `collection.json` (the collection
with each article and its places). The map is drawn by static/collection.js on the map core the
article page and the library share (static/mapcore.js), from a JSON block: no inline script, so the
page's CSP holds no hash and its embed keeps it but for `frame-ancestors`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from newsmap import collections as stories
from newsmap.dataset import LOCATION_FIELDS, MENTION_FIELDS, encode_csv, iter_geojson, iter_kml, to_json_bytes
from newsmap.schema import category_family
from newsmap.serve import basemap, month_year
from newsmap.serve.assets import Asset
from newsmap.serve.embed import _below, configured_origins, embed_csp, frame_ancestors
from newsmap.serve.feed import ATOM_TYPE, atom_feed
from newsmap.serve.mapview import ZOOM_BY_PRECISION, focus_bounds, story_places
from newsmap.serve.pages import category_index, legend, list_quote, page_csp, shown_names
from newsmap.serve.site import CSV, GEOJSON, HTML, JSON, KML, Built, Site, attachment
from newsmap.store import ArticleInfo, Store

PAGE = "/collections/{slug}"
EMBED = "/collections/{slug}/embed"
FEED = "/collections/{slug}/feed.atom"
API = "/api/collections/{slug}"
FILES = {  # a download's name under /collections/<slug>/ -> its file beside the page in a static export
    "locations.csv": "locations.csv",
    "locations.csv?bom=1": "locations-excel.csv",
    "mentions.csv": "mentions.csv",
    "locations.geojson": "locations.geojson",
    "locations.kml": "locations.kml",
    "collection.json": "collection.json",
}
PLACE_FIELDS = ("id", "name", "kind", "category", "status", "lat", "lon", "precision")


def downloads(slug: str) -> list[tuple[str, str, str, str]]:
    """(label, URL, what, file name) of a collection's downloads, named after it (as an article's are)."""
    base = PAGE.format(slug=slug)
    return [
        ("CSV", f"{base}/locations.csv", "one row per place, the article column says whose", f"{slug}-locations.csv"),
        ("CSV for Excel", f"{base}/locations.csv?bom=1", "with a byte-order mark, so Excel reads UTF-8",
         f"{slug}-locations-excel.csv"),
        ("Mentions CSV", f"{base}/mentions.csv", "one row per mention in the articles' text", f"{slug}-mentions.csv"),
        ("GeoJSON", f"{base}/locations.geojson", "for GIS tools", f"{slug}-locations.geojson"),
        ("KML", f"{base}/locations.kml", "for Google Earth: a folder per article", f"{slug}-locations.kml"),
        ("JSON", f"{base}/collection.json", "the collection, its articles and their places", f"{slug}.json"),
    ]  # fmt: skip


def api_body(collection: stories.Collection) -> bytes:
    """`/api/collections/<slug>`: its hash is the ETag the API's If-Match is checked against."""
    return to_json_bytes(collection.document())


def when(iso: str) -> datetime:
    """A time the database recorded, for Last-Modified (the same in every worker)."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- built and cached


def built(site: Site, slug: str) -> Built | None:
    """The collection's page, downloads and API answer, or None for no such collection."""
    key = stories.state(site.store().conn, slug)
    if key is None:
        return None
    return site.cache.get(("collection", slug, key), lambda: site._read(lambda store: _build(site, store, slug)))


def index(site: Site) -> Built:
    """`/collections` and `/api/collections`: every collection, cached per library revision."""
    revision = site.store().revision()
    return site.cache.get(("collections", revision), lambda: site._read(lambda store: _build_index(site, store)))


@dataclasses.dataclass(frozen=True)
class Story:
    """What one collection's files are made of, read in one transaction."""

    collection: stories.Collection
    articles: list[ArticleInfo]
    places: list[list[dict[str, Any]]]  # each article's places, in the collection's order
    mentions: list[list[dict[str, Any]]]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for own in self.places for row in own]

    def modified(self) -> datetime:
        return max([when(self.collection.updated_at), *(when(a.updated_at) for a in self.articles)])


def read_story(site: Site, store: Store, slug: str) -> Story:
    collection = stories.get(store.conn, slug)
    if collection is None:
        raise LookupError(slug)
    only = site.config.only  # a static export of some articles: the collection shows those
    articles = [a for a in stories.articles_of(store.conn, slug) if only is None or a.slug in only]
    return Story(collection, articles, [store.places(a.slug) for a in articles],
                 [store.mentions(a.slug) for a in articles])  # fmt: skip


def _build(site: Site, store: Store, slug: str) -> Built:
    story = read_story(site, store, slug)
    result = Built()
    modified = story.modified()
    _add_downloads(result, story, modified)
    result.assets[API.format(slug=slug)] = Asset.make(
        api_body(story.collection), JSON, when(story.collection.updated_at)
    )
    page = PAGE.format(slug=slug)
    result.page = page_context(site, story)
    html = site.templates.get_template("collection.html").render(**result.page)
    result.assets[page] = Asset.make(html.encode("utf-8"), HTML, modified)
    result.csp[page] = page_csp([], site.config.tiles)
    return result


def _add_downloads(result: Built, story: Story, modified: datetime) -> None:
    """The article's downloads, over every article of the collection in its order."""
    slug, rows = story.collection.slug, story.rows
    mentions = [row for own in story.mentions for row in own]
    base = PAGE.format(slug=slug)
    names = {url: name for _, url, _, name in downloads(slug)}
    locations = encode_csv(rows, LOCATION_FIELDS, formula_safe=True)
    bodies = {
        "locations.csv": (locations, CSV),
        "locations.csv?bom=1": (b"\xef\xbb\xbf" + locations, CSV),
        "mentions.csv": (encode_csv(mentions, MENTION_FIELDS, formula_safe=True), CSV),
        "locations.geojson": (b"".join(iter_geojson(rows)), GEOJSON),
        "locations.kml": (b"".join(iter_kml(rows, title=story.collection.title)), KML),
        "collection.json": (to_json_bytes(_document(story)), JSON),
    }
    for name, (body, kind) in bodies.items():
        url = f"{base}/{name}"
        result.assets[url] = Asset.make(body, kind, modified, headers=attachment(names[url]))


def _document(story: Story) -> dict[str, Any]:
    """`collection.json`: the collection, then each article (in its order) with its places."""
    fields = ("slug", "title", "publisher", "published", "url", "language")
    return {
        **story.collection.document(),
        "articles": [
            {**{k: getattr(a, k) for k in fields}, "page": f"/articles/{a.slug}", "places": places}
            for a, places in zip(story.articles, story.places, strict=True)
        ],
    }


# --------------------------------------------------------------------------- the page


def page_context(site: Site, story: Story) -> dict[str, Any]:
    """What collection.html (and its embed) render: the articles in order, the legend, the map's data.

    The map starts on the story's places (as an article's does: its facilities and proposed bases and
    what lies within 300 km of them, of every article), and each step of the time control on its
    article's (`bounds`); far context is a zoom away."""
    rows = story.rows
    index = category_index([p["category"] for p in rows]) if rows else {}
    order = stories.story_order(story.articles)
    rank = {article: step for step, article in enumerate(order)}
    articles, places = [], []
    for number, (info, own, mentions) in enumerate(zip(story.articles, story.places, story.mentions, strict=True)):
        shown = shown_names(own, mentions, language=info.language)
        names = list(dict.fromkeys(shown[p["id"]] for p in own))
        articles.append({**dataclasses.asdict(info), "places": len(own), "names": names, "step": rank[number] + 1,
                         "date": month_year(info.published)})  # fmt: skip
        places += [_place(p, number, shown[p["id"]], index) for p in own]
    slug = story.collection.slug
    exported = site.config.exported
    data = {
        "articles": [{"slug": a["slug"], "title": a["title"], "date": a["date"],
                      **({"bounds": focus_bounds(story_places(own))} if own else {})}
                     for a, own in zip(articles, story.places, strict=True)],
        "bounds": focus_bounds(story_places(rows)) if rows else None, "steps": order, "places": places, "zoom": ZOOM_BY_PRECISION, "tiles": site.config.tiles,
        "basemap": basemap.spec(rows, "../../basemap" if exported else "/basemap", exported),
        "articleLink": "../../articles/{slug}/index.html" if exported else "/articles/{slug}",
    }  # fmt: skip
    dated = [a["date"] for a in sorted(articles, key=lambda a: a["step"]) if a["published"]]
    return dict(
        collection=story.collection, articles=articles, categories=legend(rows, index), data=data,
        downloads=downloads(slug), canonical=PAGE.format(slug=slug), embed=EMBED.format(slug=slug),
        feed=FEED.format(slug=slug), span=" – ".join(dict.fromkeys([dated[0], dated[-1]])) if dated else "",
        place_count=len(rows), exported=exported,
    )  # fmt: skip


def _place(row: dict[str, Any], article: int, shown: str, index: dict[str, int]) -> dict[str, Any]:
    """One marker's data: where, what (its family draws it), whose, and a line of its quote."""
    return {
        **{k: row[k] for k in PLACE_FIELDS}, "a": article, "shown": shown, "cat": index[row["category"]],
        "family": category_family(row["category"]), "quote": list_quote(row["quote"], [shown, row["name"]]),
    }  # fmt: skip


def _build_index(site: Site, store: Store) -> Built:
    """The list of collections, as a page and as JSON (small: a row per collection)."""
    only = site.config.only
    items = []
    for collection, size in stories.listing(store.conn):
        if only is not None:
            size = sum(slug in only for slug in stories.get(store.conn, collection.slug).articles)  # type: ignore[union-attr]
            if not size:
                continue
        items.append({**collection.document(), "articles": size, "api": API.format(slug=collection.slug)})
    modified = when(store.meta("updated_at") or "")
    result = Built()
    result.assets["/api/collections"] = Asset.make(to_json_bytes(items), JSON, modified)
    html = site.templates.get_template("collections.html").render(collections=items, exported=site.config.exported)
    result.assets["/collections"] = Asset.make(html.encode("utf-8"), HTML, modified)
    result.csp["/collections"] = page_csp([], site.config.tiles)
    return result


# --------------------------------------------------------------------------- embed and feed


def embed_built(site: Site, slug: str, ancestors: str) -> Built | None:
    """The collection's map for another site's `<iframe>`: the page's context in a compact layout, with
    the page's CSP but `frame-ancestors` (`ancestors`, from NEWSMAP_EMBED_ORIGINS). Keyed on the page's
    ETag, so a new state of the collection makes a new embed."""
    page = built(site, slug)
    url = PAGE.format(slug=slug)
    if page is None or url not in page.assets:
        return None
    path = EMBED.format(slug=slug)

    def make() -> Built:
        data = dict(page.page["data"])
        data.update(embed=True, basemap={**data["basemap"], "url": _below(data["basemap"]["url"])},
                    articleLink=_below(data["articleLink"]))  # fmt: skip
        body = site.templates.get_template("collection_embed.html").render(**{**page.page, "data": data})
        result = Built()
        result.assets[path] = Asset.make(body.encode("utf-8"), HTML, page.assets[url].modified)
        result.csp[path] = embed_csp(page.csp[url], ancestors)
        return result

    return site.cache.get(("collection-embed", slug, page.assets[url].etag, ancestors), make)


def feed_built(site: Site, slug: str, site_url: str) -> Built | None:
    """`/collections/<slug>/feed.atom`: an entry per article of the collection, in its order, so a feed
    reader learns of each article added to the story; absolute links to where it was asked for."""
    page = built(site, slug)
    if page is None or not page.page:
        return None
    path = FEED.format(slug=slug)
    context = page.page

    def make() -> Built:
        infos = [ArticleInfo(**{k: a[k] for k in ArticleInfo.__dataclass_fields__}) for a in context["articles"]]
        modified = page.assets[PAGE.format(slug=slug)].modified
        body = atom_feed(
            infos, site_url=site_url, feed_path=path, updated=modified.isoformat(), title=context["collection"].title,
            counts={a["slug"]: a["places"] for a in context["articles"]}, alternate=PAGE.format(slug=slug),
        )  # fmt: skip
        result = Built()
        result.assets[path] = Asset.make(body, f"{ATOM_TYPE}; charset=utf-8", modified)
        return result

    return site.cache.get(("collection-feed", slug, page.assets[PAGE.format(slug=slug)].etag, site_url), make)


# --------------------------------------------------------------------------- the static export


def export_collections(site: Site, store: Store, writer: Any) -> list[list[dict[str, Any]]]:
    """Write every collection (with the exported articles) into a static export: the list at
    `collections/index.html`, each collection's page, downloads, embed and (with a base URL) feed
    under `collections/<slug>/`. `writer` is the export's (`page`, `write`, `base_url`). Returns each
    page's places, for the basemap cells the export must hold."""
    ancestors = frame_ancestors(configured_origins())  # NEWSMAP_EMBED_ORIGINS, as an article's embed
    listed = index(site)
    writer.page("collections/index.html", listed.assets["/collections"].body, listed.csp["/collections"])
    writer.write("collections.json", listed.assets["/api/collections"].body)
    maps: list[list[dict[str, Any]]] = []
    for item in stories.listing(store.conn):
        slug = item[0].slug
        result = built(site, slug)
        if result is None or not result.page["articles"]:
            continue
        page = PAGE.format(slug=slug)
        writer.page(f"collections/{slug}/index.html", result.assets[page].body, result.csp[page])
        for name, file in FILES.items():
            writer.write(f"collections/{slug}/{file}", result.assets[f"{page}/{name}"].body)
        embed = embed_built(site, slug, ancestors)
        if embed is not None:
            path = EMBED.format(slug=slug)
            writer.page(f"collections/{slug}/embed/index.html", embed.assets[path].body, embed.csp[path])
        if writer.base_url:
            feed = feed_built(site, slug, writer.base_url.rstrip("/"))
            if feed is not None:
                writer.write(f"collections/{slug}/feed.atom", feed.assets[FEED.format(slug=slug)].body)
        maps.append(result.page["data"]["places"])
    return maps


def export_target(segments: Sequence[str], bom: bool) -> str | None:
    """The export's file for a collection's URL path (its segments), or None (export.target asks)."""
    if segments == ["collections"]:
        return "collections/index.html"
    if len(segments) == 2 and segments[0] == "collections":
        return f"collections/{segments[1]}/index.html"
    if len(segments) == 3 and segments[0] == "collections":
        name = segments[2] + ("?bom=1" if bom else "")
        if segments[2] == "embed":
            return f"collections/{segments[1]}/embed/index.html"
        if segments[2] == "feed.atom":
            return f"collections/{segments[1]}/feed.atom"
        return f"collections/{segments[1]}/{FILES[name]}" if name in FILES else None
    return None
