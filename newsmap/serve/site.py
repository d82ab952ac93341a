"""Everything the app serves, built from the database once per version and cached.

Pages and downloads are built lazily and per article: an article's page, downloads and API
answers are made the first time they are asked for and kept (in a bounded LRU cache) under the
article's version, which every write of that article changes. Whole-library answers (the
library page, `/data/...`, `/api/places`) are keyed on the store's revision, which every write
changes. A request costs one or two indexed lookups, whatever the size of the library.

Rows are keyed by (article, id): each article has its own page `/articles/<slug>`, its own
place ids and its own downloads.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Request, Response
from jinja2 import Environment

from newsmap.article import Article
from newsmap.corrections import CORRECTION_FIELDS, correction_records
from newsmap.dataset import (
    LOCATION_FIELDS,
    MENTION_FIELDS,
    encode_csv,
    iter_csv,
    iter_geojson,
    iter_json_list,
    iter_kml,
    to_geojson,
    to_json_bytes,
    to_kml,
)
from newsmap.language import name as language_name
from newsmap.language import notice
from newsmap.schema import category_family
from newsmap.serve import basemap
from newsmap.serve.assets import Asset, file_time, minified
from newsmap.serve.feed import ATOM_TYPE, atom_feed
from newsmap.serve.librarymap import Filter, library_data, time_slider
from newsmap.serve.mapview import build_map
from newsmap.serve.pages import (
    History,
    category_index,
    compact_script,
    legend,
    list_quote,
    mention_spans,
    page_csp,
    page_data,
    sentence_segments,
    shown_names,
)
from newsmap.serve.placelinks import also_in, with_place_links
from newsmap.store import Store, StoreError

log = logging.getLogger(__name__)

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
GEOJSON = "application/geo+json"
KML = "application/vnd.google-earth.kml+xml"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Config:
    db: Path
    tiles: str  # a tile URL template, or "offline"
    tiles_attribution: str
    home_article: str = ""  # slug shown at "/"; empty: the library
    page_size: int = 20  # articles per library page
    cache_entries: int = 512  # articles and library pages kept built per worker...
    cache_bytes: int = 24_000_000  # ...and at most this many bytes of them (about 80 articles)
    exported: bool = False  # pages for a static export (`newsmap export`): no server-only links or calls
    only: frozenset[str] | None = None  # the articles a static export holds (None: all)
    map_limit: int = 2000  # places the library map shows one by one; beyond, counts (`librarymap`)


@dataclass
class Built:
    """The responses of one article (or one library page), by path, with their CSPs."""

    assets: dict[str, Asset] = field(default_factory=dict)
    csp: dict[str, str] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)  # an article page's template context
    history: History | None = None  # an article's corrections

    def size(self) -> int:
        return sum(len(a.body) + len(a.gzipped or b"") for a in self.assets.values())


# path -> (content type, download name, how to write it from the store)
STREAMS: dict[str, tuple[str, str, Callable[[Store], Iterator[bytes]]]] = {
    "/data/locations.csv": (CSV, "locations.csv", lambda s: iter_csv(s.iter_places(), LOCATION_FIELDS)),
    "/data/mentions.csv": (CSV, "mentions.csv", lambda s: iter_csv(s.iter_mentions(), MENTION_FIELDS)),
    "/data/locations.geojson": (GEOJSON, "", lambda s: iter_geojson(s.iter_places())),
    "/data/locations.kml": (KML, "locations.kml", lambda s: iter_kml(s.iter_places())),
    "/api/places": (JSON, "", lambda s: iter_json_list(s.iter_places())),
}


# Files sent in front of others as one: the map core that the article page and the library share
# (static/mapcore.js, static/mapcore.css: the colours, layout and markers) costs no page a request of
# its own, and the library's stylesheet leaves out the article page's rules: a request's headers weigh
# as much as a small file.
BUNDLES = {
    "newsmap.js": ("mapcore.js",), "library.js": ("mapcore.js",),
    "newsmap.css": ("mapcore.css",), "library.css": ("mapcore.css",),
}  # fmt: skip

FEED_ENTRIES = 50
SMALL_DOWNLOAD = 4_000_000  # bytes: a whole-library download up to this size is built and cached, larger streamed


class _TooBig(Exception):
    """A download grew past SMALL_DOWNLOAD while being built."""


class Unavailable(RuntimeError):
    """The database cannot be read; the message is safe to show (no server paths)."""


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def article_downloads(slug: str) -> list[tuple[str, str, str, str]]:
    """(label, URL, what, file name) of an article's own downloads, named after it (the name is
    also the link's `download` value, so a static host that sends no Content-Disposition names it too)."""
    base = f"/articles/{slug}"
    return [
        ("CSV", f"{base}/locations.csv", "one row per place", f"{slug}-locations.csv"),
        ("CSV for Excel", f"{base}/locations.csv?bom=1", "with a byte-order mark, so Excel reads UTF-8",
         f"{slug}-locations-excel.csv"),
        ("Mentions CSV", f"{base}/mentions.csv", "one row per mention in the text", f"{slug}-mentions.csv"),
        ("GeoJSON", f"{base}/locations.geojson", "for GIS tools", f"{slug}-locations.geojson"),
        ("KML", f"{base}/locations.kml", "for Google Earth", f"{slug}-locations.kml"),
        ("JSON", f"/api/articles/{slug}", "the article and its places", ""),
        ("Corrections", f"{base}/corrections.csv", "every change editors made, who, when and why",
         f"{slug}-corrections.csv"),
    ]  # fmt: skip


class LRU:
    """A thread-safe LRU cache of built responses, bounded in entries and in bytes (bodies and their
    gzip): memory per worker stays flat however many articles readers ask for."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[Any, Built] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Built]) -> Built:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        built = make()  # outside the lock: two threads may build the same thing once each
        with self.lock:
            if key not in self.items:
                self.items[key] = built
                self.bytes += built.size()
            while len(self.items) > 1 and (len(self.items) > self.size or self.bytes > self.max_bytes):
                _, dropped = self.items.popitem(last=False)
                self.bytes -= dropped.size()
        return built


class Site:
    """Builds and caches responses from the store; one connection per thread (or greenlet)."""

    def __init__(self, config: Config, templates: Environment, static_dir: Path, vendor_files: dict[str, Path]) -> None:
        self.config = config
        self.templates = templates
        self.static_dir = static_dir
        self.vendor_files = vendor_files
        self.cache = LRU(config.cache_entries, config.cache_bytes)
        self._local = threading.local()
        self._health: dict[str, int] = {}
        self._big: dict[str, int] = {}  # path -> the latest revision whose download was too big to keep built
        self.static_assets = self._static_assets()

    # -- the store
    def store(self) -> Store:
        """This thread's connection (greenlet's, under gevent), opened on first use."""
        store = getattr(self._local, "store", None)
        if store is None:
            try:
                store = Store.open(self.config.db, create=False)
            except StoreError as error:
                log.error("newsmap: cannot open the database: %s", error)
                raise Unavailable(str(error)) from None
            self._local.store = store
        return store

    def reset(self) -> None:
        """Forget this thread's connection (after a write elsewhere in the same thread, or an error)."""
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None

    def _read(self, build: Callable[[Store], Built]) -> Built:
        """Run `build` in one read transaction: what it reads is one consistent version."""
        store = self.store()
        try:
            store.conn.execute("BEGIN")
            try:
                return build(store)
            finally:
                store.conn.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            self.reset()
            log.error("newsmap: cannot read the database: %s", error)
            raise Unavailable(f"the database cannot be read ({error.__class__.__name__})") from None

    # -- lookups by path
    def article(self, slug: str) -> Built | None:
        version = self.store().version(slug)  # one indexed lookup per request
        if version is None:
            return None
        # ...and the library's revision: the page says which of its places other articles name too
        key = ("article", slug, version, self.store().revision())
        return self.cache.get(key, lambda: self._read(lambda s: self._build_article(s, slug)))

    def library(self, view: Filter, page: int) -> Built:
        revision = self.store().revision()
        key = ("library", revision, view, page)
        return self.cache.get(key, lambda: self._read(lambda s: self._build_library(s, view, page)))

    def health(self) -> dict[str, int]:
        """Articles and places in the library: counted once per revision (a health check comes often,
        and counting places reads the whole table)."""
        revision = self.store().revision()
        if self._health.get("revision") != revision:
            articles, places = (
                self.store()
                .conn.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM places)")
                .fetchone()
            )
            self._health = {"articles": articles, "places": places, "revision": revision}
        return self._health

    def feed(self, site_url: str) -> Built:
        """`/feed.atom`: the 50 newest articles, cached per revision (and per address the site is asked at)."""
        revision = self.store().revision()
        return self.cache.get(("feed", revision, site_url), lambda: self._read(lambda s: self._build_feed(s, site_url)))

    def _build_feed(self, store: Store, site_url: str) -> Built:
        infos = store.listing("", limit=FEED_ENTRIES, only=self.config.only)
        counts = store.place_counts([info.slug for info in infos])
        updated = store.meta("updated_at") or "1970-01-01T00:00:00+00:00"
        body = atom_feed(infos, site_url=site_url, updated=updated, counts=counts)
        built = Built()
        built.assets["/feed.atom"] = Asset.make(body, f"{ATOM_TYPE}; charset=utf-8", _time(updated))
        return built

    def library_index(self) -> Built:
        """`/api/articles`: every article with its number of places (small: built, cached per revision)."""
        revision = self.store().revision()
        return self.cache.get(("index", revision), lambda: self._read(self._build_index))

    def stream(self, path: str, request: Request) -> Response:
        """A whole-library download, written row by row from the database as the client reads it.

        Its ETag is the store's revision (the same in every worker), so a revalidation costs one
        lookup and no rows; nothing of the library is ever held in memory whole.
        """
        kind, name, encode = STREAMS[path]
        store = self.store()
        revision = store.revision()
        built = self._small_download(path, revision)
        if built is not None:  # a small library's download: built once per revision, cached, gzipped
            return built.assets[path].respond(request)
        updated = _time(store.meta("updated_at") or "")
        # The generator runs only if the body is sent: a 304 or a HEAD never reads a row.
        response = Response(self._rows(encode), status=200, content_type=kind)
        response.implicit_sequence_conversion = False  # else werkzeug would read it all to count its length
        response.set_etag(f"library-{revision}-{path.rsplit('/', 1)[-1]}")
        response.last_modified = updated
        response.headers["Cache-Control"] = "no-cache"
        if name:
            response.headers.update(attachment(name))
        return response.make_conditional(request)

    def _small_download(self, path: str, revision: int) -> Built | None:
        """The download built whole when it is under SMALL_DOWNLOAD bytes (most libraries), else None.

        Whether a revision's download is small is learnt once, by writing it until the limit: a big
        library is then always streamed, a small one served from the cache like an article's files.
        """
        key = ("download", revision, path)
        if self._big.get(path) == revision:
            return None

        def build() -> Built:
            kind, name, encode = STREAMS[path]
            chunks, size = [], 0
            for chunk in self._rows(encode):
                chunks.append(chunk)
                size += len(chunk)
                if size > SMALL_DOWNLOAD:
                    raise _TooBig
            built = Built()
            headers = attachment(name) if name else {}
            updated = _time(self.store().meta("updated_at") or "")
            built.assets[path] = Asset.make(b"".join(chunks), kind, updated, headers=headers)
            return built

        try:
            return self.cache.get(key, build)
        except _TooBig:
            self._big[path] = revision
            return None

    def _rows(self, encode: Callable[[Store], Iterator[bytes]]) -> Iterator[bytes]:
        """Chunks read in one read transaction (one consistent version), on this thread's connection:
        the response is sent by the thread (or greenlet) that made it, before its next request."""
        store = self.store()
        store.conn.execute("BEGIN")
        try:
            yield from encode(store)
        finally:
            store.conn.execute("COMMIT")

    def home_slug(self) -> str:
        """The article `/` shows instead of the library, when NEWSMAP_HOME_ARTICLE names one that exists."""
        slug = self.config.home_article
        return slug if slug and self.store().version(slug) is not None else ""

    # -- building
    def _build_article(self, store: Store, slug: str) -> Built:
        article = store.article(slug)
        if article is None:
            raise LookupError(slug)
        info = store.info(slug)
        places, mentions = store.places(slug), store.mentions(slug)
        history = History(store.corrections(slug), store.skipped(slug))
        modified = _time(info.updated_at if info else "")
        built = Built()
        base, api = f"/articles/{slug}", f"/api/articles/{slug}"
        linked = with_place_links(places, slug)  # each place's page across the library, and its JSON
        detail = {**_meta(article), "added_at": info.added_at if info else "", "page": base, "places": linked}
        built.assets[api] = Asset.make(to_json_bytes(detail), JSON, modified)
        built.assets[f"{api}/places"] = Asset.make(to_json_bytes(linked), JSON, modified)
        by_place: dict[str, list[dict[str, Any]]] = {}
        for mention in mentions:
            by_place.setdefault(mention["place_id"], []).append(mention)
        for place in places:
            one = place_document(place, by_place.get(place["id"], []))
            built.assets[f"{api}/places/{place['id']}"] = Asset.make(one, JSON, modified)
        self._add_downloads(built, article, places, mentions, modified)
        self._add_history(built, slug, history, modified)
        if places:
            ground = basemap.download_bytes(places)  # tens of KB: the pages fetch global cells instead
            built.assets[f"{base}/basemap.geojson"] = Asset.make(
                ground, GEOJSON, modified, headers=attachment(f"{slug}-basemap.geojson")
            )
        also = also_in(store.conn, places, slug, exported=self.config.exported, only=self.config.only)
        self._add_page(built, article, places, mentions, modified, history, also)
        return built

    def _add_history(self, built: Built, slug: str, history: History, modified: datetime) -> None:
        """The article's corrections: CSV (formula-safe) and JSON, for readers and scripts alike."""
        records = correction_records(history.corrections, history.skipped)
        as_json = to_json_bytes(records)
        built.assets[f"/api/articles/{slug}/corrections"] = Asset.make(as_json, JSON, modified)
        built.assets[f"/articles/{slug}/corrections.json"] = Asset.make(
            as_json, JSON, modified, headers=attachment(f"{slug}-corrections.json")
        )
        built.assets[f"/articles/{slug}/corrections.csv"] = Asset.make(
            encode_csv(records, CORRECTION_FIELDS, formula_safe=True), CSV, modified,
            headers=attachment(f"{slug}-corrections.csv"),
        )  # fmt: skip
        built.history = history

    def _add_downloads(
        self,
        built: Built,
        article: Article,
        places: list[dict[str, Any]],
        mentions: list[dict[str, Any]],
        modified: datetime,
    ) -> None:
        """The article's own downloads, each under a file name of its own (two files saved from one page
        must not overwrite each other); the KML is named after the article's title, as Google Earth shows it."""
        slug = article.slug
        base = f"/articles/{slug}"
        locations_csv = encode_csv(places, LOCATION_FIELDS, formula_safe=True)
        built.assets[f"{base}/locations.csv"] = Asset.make(
            locations_csv, CSV, modified, headers=attachment(f"{slug}-locations.csv")
        )
        built.assets[f"{base}/locations.csv?bom=1"] = Asset.make(
            b"\xef\xbb\xbf" + locations_csv, CSV, modified, headers=attachment(f"{slug}-locations-excel.csv")
        )
        built.assets[f"{base}/mentions.csv"] = Asset.make(
            encode_csv(mentions, MENTION_FIELDS, formula_safe=True), CSV, modified,
            headers=attachment(f"{slug}-mentions.csv"),
        )  # fmt: skip
        built.assets[f"{base}/locations.geojson"] = Asset.make(
            to_json_bytes(to_geojson(places)), GEOJSON, modified, headers=attachment(f"{slug}-locations.geojson")
        )
        built.assets[f"{base}/locations.kml"] = Asset.make(
            to_kml(places, title=article.title), KML, modified, headers=attachment(f"{slug}-locations.kml")
        )

    def _add_page(
        self,
        built: Built,
        article: Article,
        places: list[dict[str, Any]],
        mentions: list[dict[str, Any]],
        modified: datetime,
        history: History,
        also: dict[str, dict[str, str]],
    ) -> None:
        """The article beside its map; one `Asset` and its CSP (with the inline script's hash).

        What the template gets is kept too (`Built.page`): the editing page renders the same
        context with its controls, without building the map again."""
        url = f"/articles/{article.slug}"
        index = category_index([p["category"] for p in places]) if places else {}
        parts = build_map(places, index, self.config.tiles, self.config.tiles_attribution) if places else None
        script = compact_script(parts.script) if parts else ""
        shown = shown_names(places, mentions, history.renamed(), article.language)
        corrected = history.corrected()
        names: dict[str, list[str]] = {}  # each place's own words in the text, longest first
        for m in sorted(mentions, key=lambda m: m["start"] - m["end"]):
            names.setdefault(m["place_id"], []).append(m["text"])
        built.page = dict(
            article=article,
            canonical=url,
            places=[
                {
                    **p,
                    "shown": shown[p["id"]],
                    "cat": index[p["category"]],
                    "family": category_family(p["category"]),
                    "corrected": corrected.get(p["id"]),
                    "list_quote": list_quote(p["quote"], [*names.get(p["id"], []), shown[p["id"]], p["name"]]),
                    "also": also.get(p["id"]),
                }
                for p in places
            ],
            categories=legend(places, index),
            paragraphs=sentence_segments(article, mentions),
            spans=mention_spans(mentions),
            data=page_data(
                places, mentions, index, self.config.tiles, self._basemap_spec(places), history, also, article.language
            ),
            map=parts,
            map_script=script,
            downloads=article_downloads(article.slug),
            language=text_language(article),
            corrections=len(history.corrections),
            exported=self.config.exported,
        )
        html = self.templates.get_template("index.html").render(**built.page)
        built.assets[url] = Asset.make(html.encode("utf-8"), HTML, modified)
        built.csp[url] = page_csp([script] if script else [], self.config.tiles)

    def _basemap_spec(self, places: list[dict[str, Any]]) -> dict[str, Any]:
        """What the page's offline basemap fetches: the global cells under `/basemap/` on the server;
        in a static export the folder `basemap/` at its root, seen from `articles/<slug>/index.html`."""
        return basemap.spec(places, "../../basemap" if self.config.exported else "/basemap", self.config.exported)

    def _build_library(self, store: Store, view: Filter, page: int) -> Built:
        """The library page: articles newest first, searchable, filtered by date, paginated; its map (of
        every place of the articles in range, fetched by library.js: `librarymap`) with a time slider."""
        only, size = self.config.only, self.config.page_size
        total = store.count(view.query, only, view.days)
        pages = max(1, -(-total // size))
        page = min(max(page, 1), pages)
        articles = []
        for info in store.listing(view.query, size, (page - 1) * size, only, view.days):
            own = store.places(info.slug)  # the counts by category
            articles.append({**dataclasses.asdict(info), "places": len(own),
                             "categories": dict(sorted(Counter(p["category"] for p in own).items()))})  # fmt: skip
        up = "" if page == 1 else "../"  # exported library pages are index.html and pages/<n>.html
        data = library_data(self, view, up)
        everything = store.count("", only)
        collections = store.conn.execute("SELECT count(*) FROM collections").fetchone()[0]  # a story in several
        html = self.templates.get_template("library.html").render(
            articles=articles, query=view.query, page=page, pages=pages, total=total, data=data,
            everything=everything, has_map=everything > 0, exported=self.config.exported, view=view,
            undated=store.count(view.query, only, ()) if view.days else 0, slider=time_slider(self, store, view),
            collections=collections,
        )  # fmt: skip
        built = Built()
        built.assets["/"] = Asset.make(html.encode("utf-8"), HTML, _time(store.meta("updated_at") or ""))
        built.csp["/"] = page_csp([], self.config.tiles)
        return built

    def _build_index(self, store: Store) -> Built:
        counts = store.place_counts()
        library = [
            {**{k: getattr(info, k) for k in ("slug", "title", "publisher", "published", "url", "added_at", "language")},
             "page": f"/articles/{info.slug}", "places": counts.get(info.slug, 0), "api": f"/api/articles/{info.slug}"}
            for info in store.infos()
            if self.config.only is None or info.slug in self.config.only
        ]  # fmt: skip
        built = Built()
        built.assets["/api/articles"] = Asset.make(to_json_bytes(library), JSON, _time(store.meta("updated_at") or ""))
        return built

    def _static_assets(self) -> dict[str, Asset]:
        """Our static files and the vendored files, read and compressed once; only these are served."""
        types = {
            ".js": "application/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".png": "image/png",
            ".svg": "image/svg+xml",
            ".ico": "image/x-icon",
        }
        files = [
            (f"/static/{p.relative_to(self.static_dir).as_posix()}", p, "no-cache", True)
            for p in sorted(self.static_dir.rglob("*"))
            if p.is_file()
        ]
        files += [(url, path, "public, max-age=86400", False) for url, path in self.vendor_files.items()]
        return {
            url: Asset.make(
                minified(path.name, self._bundled(path)) if ours else path.read_bytes(),
                types[path.suffix],
                file_time(os.stat(path).st_mtime_ns),
                cache_control=cache,
                thorough=ours,
            )
            for url, path, cache, ours in files
            if path.suffix in types
        }


    def _bundled(self, path: Path) -> bytes:
        """A static file's body, with the files BUNDLES sends in front of it (one request, not two)."""
        parts = [*BUNDLES.get(path.relative_to(self.static_dir).as_posix(), ()), path.relative_to(self.static_dir)]
        return b"\n".join((self.static_dir / part).read_bytes() for part in parts)


def _time(iso: str) -> datetime:
    """A time the database recorded (the same in every worker, so Last-Modified agrees too)."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC)
    except ValueError:
        return datetime.now(UTC)


def place_document(place: dict[str, Any], mentions: list[dict[str, Any]]) -> bytes:
    """`/api/articles/<slug>/places/<id>`: the place's row and its mentions. Its hash is the place's
    ETag, which the editing API checks `If-Match` against, so it is made here only."""
    return to_json_bytes({**place, "mentions": mentions})


def _meta(article: Article) -> dict[str, str]:
    """What the API says of an article: its metadata, its language (ISO 639-1) and, for a language the
    geoparser does not read, the notice its page shows ("" otherwise)."""
    meta = {key: getattr(article, key) for key in ("slug", "title", "publisher", "published", "url", "language")}
    return {**meta, "language_name": language_name(article.language), "notice": notice(article.language)}


def text_language(article: Article) -> dict[str, str]:
    """The page's words about the article's language (its own words carry it as `lang`, see the
    `lang_attr` filter): its name for the byline (English goes unsaid: the chrome is English) and the
    notice of a language the geoparser does not read."""
    foreign = article.language not in ("", "en")
    return {"name": language_name(article.language) if foreign else "", "notice": notice(article.language)}
