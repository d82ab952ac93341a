"""Everything the app serves, built from the dataset once per version of its files.

A `Snapshot` holds every response body (pages, downloads, API answers) for one version of
`locations.csv`, `mentions.csv` and the seeds. Requests only look up bytes; when the files
change on disk, the next request builds a new snapshot (under a lock) and swaps it in.

Rows are keyed by (article, id): each article has its own page, `/articles/<slug>`, its own
place ids and its own API; `/` shows the home article (see `pages.home_article`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment

from newsmap.article import Article
from newsmap.dataset import (
    ARTICLES_FILE,
    LOCATION_FIELDS,
    LOCATIONS_FILE,
    MENTION_FIELDS,
    MENTIONS_FILE,
    Dataset,
    DatasetError,
    encode_csv,
    read_articles,
    to_geojson,
    to_json_bytes,
    to_kml,
)
from newsmap.schema import category_family
from newsmap.serve.assets import Asset, file_time
from newsmap.serve.basemap import basemap
from newsmap.serve.mapview import build_map
from newsmap.serve.pages import (
    category_index,
    compact_script,
    home_article,
    legend,
    page_csp,
    page_data,
    sentence_segments,
)

log = logging.getLogger(__name__)

DOWNLOADS = (
    ("CSV", "/data/locations.csv", "one row per place, all articles"),
    ("Mentions CSV", "/data/mentions.csv", "one row per mention in the text, all articles"),
    ("GeoJSON", "/data/locations.geojson", "for GIS tools, all articles"),
    ("KML", "/data/locations.kml", "for Google Earth, all articles"),
)


@dataclass(frozen=True)
class Config:
    data_dir: Path
    tiles: str  # a tile URL template, or "offline"
    tiles_attribution: str
    max_csv_bytes: int = 10_000_000  # a map of more places than this holds is no longer readable
    recheck_seconds: float = 1.0  # how often a request may look whether the files changed
    home_article: str = ""  # slug shown at "/"; empty: the newest article


@dataclass
class Snapshot:
    version: tuple[Any, ...]
    assets: dict[str, Asset] = field(default_factory=dict)
    csp: dict[str, str] = field(default_factory=dict)  # path -> Content-Security-Policy of that page
    error: str = ""
    home: str = ""  # slug of the article "/" shows


@dataclass(frozen=True)
class ArticleRows:
    """One article with its own rows: what its page and its API are built from."""

    article: Article
    places: list[dict[str, Any]]
    mentions: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return f"/articles/{self.article.slug}"


def split_by_article(articles: dict[str, Article], dataset: Dataset) -> list[ArticleRows]:
    """Each served article with its rows, in slug order: those with places, or every seed if none has."""
    places: dict[str, list[dict[str, Any]]] = {}
    mentions: dict[str, list[dict[str, Any]]] = {}
    for row in dataset.locations:
        places.setdefault(row["article"], []).append(row)
    for row in dataset.mentions:
        mentions.setdefault(row["article"], []).append(row)
    slugs = [slug for slug in articles if slug in places] or list(articles)
    return [ArticleRows(articles[slug], places.get(slug, []), mentions.get(slug, [])) for slug in sorted(slugs)]


def public_reason(error: str, data_dir: Path) -> str:
    """An error as a reader may see it: file names, never the server's folders."""
    for folder in {str(data_dir.resolve()), str(data_dir)}:
        error = error.replace(folder + os.sep, "").replace(folder, "the data folder")
    return error


class Site:
    """Holds the current snapshot and rebuilds it when the dataset's files change."""

    def __init__(self, config: Config, templates: Environment, static_dir: Path, vendor_files: dict[str, Path]) -> None:
        self.config = config
        self.templates = templates
        self.static_dir = static_dir
        self.vendor_files = vendor_files
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")
        self.static_assets = self._static_assets()

    def _version(self) -> tuple[Any, ...]:
        """The data files' stamps: only what a build wrote is served, never the seeds folder."""
        stamps: list[Any] = []
        for name in (ARTICLES_FILE, LOCATIONS_FILE, MENTIONS_FILE):
            path = self.config.data_dir / name
            try:
                stat = path.stat()
                stamps.append((path.name, stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append((path.name, None))
        return tuple(stamps)

    def snapshot(self) -> Snapshot:
        """The current snapshot; the files are looked at (a few stat calls) at most once a `recheck_seconds`."""
        current = self._snapshot
        now = time.monotonic()
        if current is not None and now - self._checked < self.config.recheck_seconds:
            return current
        version = self._version()
        self._checked = now
        if current is not None and current.version == version:
            return current
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = self._build(version)
            return self._snapshot

    def _build(self, version: tuple[Any, ...]) -> Snapshot:
        try:
            articles = read_articles(self.config.data_dir)
            texts = {slug: a.text for slug, a in articles.items()}
            dataset = Dataset.load(self.config.data_dir, texts, self.config.max_csv_bytes)
        except DatasetError as error:
            log.error("newsmap: cannot serve the dataset: %s", error)
            return Snapshot(version, error=public_reason(str(error), self.config.data_dir))
        modified = max((file_time(s[1]) for s in version if len(s) == 3 and s[1]), default=datetime.now(UTC))
        served = split_by_article(articles, dataset)
        snapshot = Snapshot(version, home=home_article([r.article for r in served], self.config.home_article))
        self._add_data_twins(snapshot, dataset, modified)
        for rows in served:
            self._add_article(snapshot, rows, served, modified)
        library = [
            {**{k: getattr(r.article, k) for k in ("slug", "title", "publisher", "published", "url")},
             "page": r.url, "places": len(r.places), "api": f"/api/articles/{r.article.slug}/places"}
            for r in served
        ]  # fmt: skip
        snapshot.assets["/api/articles"] = Asset.make(to_json_bytes(library), "application/json", modified)
        home = next(r for r in served if r.article.slug == snapshot.home)
        for path, alias in ((home.url, "/"), (f"{home.url}/basemap.geojson", "/basemap.geojson")):
            snapshot.assets[alias] = snapshot.assets[path]
            if path in snapshot.csp:
                snapshot.csp[alias] = snapshot.csp[path]
        # /api/places/<id> and /#<id> predate article pages: an id means the home article's place,
        # else the place of the earliest article that has one (so old links of the first article hold).
        for rows in [home, *sorted(served, key=lambda r: (r.article.published, r.article.slug))]:
            for place in rows.places:
                snapshot.assets.setdefault(
                    f"/api/places/{place['id']}",
                    snapshot.assets[f"/api/articles/{rows.article.slug}/places/{place['id']}"],
                )
        log.info(
            "newsmap: serving %d places of %d articles from %s",
            len(dataset.locations),
            len(served),
            self.config.data_dir,
        )
        return snapshot

    def _add_data_twins(self, snapshot: Snapshot, dataset: Dataset, modified: datetime) -> None:
        """The whole dataset's downloads and API, and the health check."""
        locations, mentions = list(dataset.locations), list(dataset.mentions)
        attach = lambda name: {"Content-Disposition": f'attachment; filename="{name}"'}  # noqa: E731
        csv_type = "text/csv; charset=utf-8"
        assets = snapshot.assets
        assets["/data/locations.csv"] = Asset.make(
            encode_csv(locations, LOCATION_FIELDS, formula_safe=True),
            csv_type,
            modified,
            headers=attach("locations.csv"),
        )
        assets["/data/mentions.csv"] = Asset.make(
            encode_csv(mentions, MENTION_FIELDS, formula_safe=True), csv_type, modified, headers=attach("mentions.csv")
        )
        assets["/data/locations.geojson"] = Asset.make(
            to_json_bytes(to_geojson(locations)), "application/geo+json", modified
        )
        assets["/data/locations.kml"] = Asset.make(
            to_kml(locations), "application/vnd.google-earth.kml+xml", modified, headers=attach("locations.kml")
        )
        assets["/api/places"] = Asset.make(to_json_bytes(locations), "application/json", modified)
        health = {"status": "ok", "places": len(locations), "mentions": len(mentions), "modified": modified.isoformat()}
        assets["/healthz"] = Asset.make(to_json_bytes(health), "application/json", modified)

    def _add_article(
        self, snapshot: Snapshot, rows: ArticleRows, served: list[ArticleRows], modified: datetime
    ) -> None:
        """An article's page, its basemap and its API: a place list and one answer per place."""
        slug = rows.article.slug
        api = f"/api/articles/{slug}/places"
        snapshot.assets[api] = Asset.make(to_json_bytes(rows.places), "application/json", modified)
        by_place: dict[str, list[dict[str, Any]]] = {}
        for mention in rows.mentions:
            by_place.setdefault(mention["place_id"], []).append(mention)
        for place in rows.places:
            detail = {**place, "mentions": by_place.get(place["id"], [])}
            snapshot.assets[f"{api}/{place['id']}"] = Asset.make(to_json_bytes(detail), "application/json", modified)
        if rows.places:
            snapshot.assets[f"{rows.url}/basemap.geojson"] = Asset.make(
                to_json_bytes(basemap(rows.places)), "application/geo+json", modified
            )
        self._add_page(snapshot, rows, served, modified)

    def _add_page(self, snapshot: Snapshot, rows: ArticleRows, served: list[ArticleRows], modified: datetime) -> None:
        """The article beside its map; one `Asset` and its CSP (with the inline script's hash)."""
        article, places = rows.article, rows.places
        index = category_index([p["category"] for p in places]) if places else {}
        parts = build_map(places, index, self.config.tiles, self.config.tiles_attribution) if places else None
        script = compact_script(parts.script) if parts else ""
        html = self.templates.get_template("index.html").render(
            article=article,
            canonical=rows.url,
            places=[{**p, "cat": index[p["category"]], "family": category_family(p["category"])} for p in places],
            categories=legend(places, index),
            paragraphs=sentence_segments(article, rows.mentions),
            data=page_data(places, rows.mentions, index, self.config.tiles, f"{rows.url}/basemap.geojson"),
            map=parts,
            map_script=script,
            downloads=(
                *DOWNLOADS,
                ("JSON API", f"/api/articles/{article.slug}/places", "this article's places as JSON"),
            ),
            others=[(other.url, other.article.title) for other in served if other is not rows],
        )
        snapshot.assets[rows.url] = Asset.make(html.encode("utf-8"), "text/html; charset=utf-8", modified)
        snapshot.csp[rows.url] = page_csp([script] if script else [], self.config.tiles)

    def _static_assets(self) -> dict[str, Asset]:
        """Our static files and the vendored files, read and compressed once; only these are served."""
        types = {
            ".js": "application/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".png": "image/png",
            ".svg": "image/svg+xml",
        }
        files = [
            (f"/static/{p.relative_to(self.static_dir).as_posix()}", p, "no-cache")
            for p in sorted(self.static_dir.rglob("*"))
            if p.is_file()
        ]
        files += [(url, path, "public, max-age=86400") for url, path in self.vendor_files.items()]
        return {
            url: Asset.make(
                path.read_bytes(), types[path.suffix], file_time(os.stat(path).st_mtime_ns), cache_control=cache
            )
            for url, path, cache in files
            if path.suffix in types
        }
