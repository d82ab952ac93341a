"""Everything the app serves, built from the dataset once per version of its files.

A `Snapshot` holds every response body (pages, downloads, API answers) for one version of
`locations.csv`, `mentions.csv` and the seeds. Requests only look up bytes; when the files
change on disk, the next request builds a new snapshot (under a lock) and swaps it in.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment

from newsmap.article import Article, ArticleError, find_articles, load_article
from newsmap.assets import Asset, file_time
from newsmap.dataset import (
    LOCATION_FIELDS,
    LOCATIONS_FILE,
    MENTION_FIELDS,
    MENTIONS_FILE,
    Dataset,
    DatasetError,
    encode_csv,
    to_geojson,
    to_json_bytes,
    to_kml,
)
from newsmap.describe import FAMILIES, category_family
from newsmap.mapview import ZOOM_BY_PRECISION, build_map, focus_bounds

log = logging.getLogger(__name__)

DOWNLOADS = (
    ("CSV", "/data/locations.csv", "one row per place"),
    ("Mentions CSV", "/data/mentions.csv", "one row per mention in the text"),
    ("GeoJSON", "/data/locations.geojson", "for GIS tools"),
    ("KML", "/data/locations.kml", "for Google Earth"),
    ("JSON API", "/api/places", "the places as JSON"),
)


@dataclass(frozen=True)
class Config:
    data_dir: Path
    seeds_dir: Path
    tiles: str  # a tile URL template, or "offline"
    tiles_attribution: str
    max_csv_bytes: int = 10_000_000  # a map of more places than this holds is no longer readable
    recheck_seconds: float = 1.0  # how often a request may look whether the files changed


@dataclass
class Snapshot:
    version: tuple[Any, ...]
    assets: dict[str, Asset] = field(default_factory=dict)
    csp: dict[str, str] = field(default_factory=dict)  # path -> Content-Security-Policy of that page
    error: str = ""
    default_article: str = ""


def category_index(labels: list[str]) -> dict[str, int]:
    """Legend order: military facilities, proposed bases, meeting places, other places."""

    def rank(label: str) -> tuple[int, str]:
        return (FAMILIES.index(category_family(label)), label)

    return {label: index for index, label in enumerate(sorted(set(labels), key=rank))}


def tile_origin(tiles: str) -> str:
    """The origin the CSP must allow images from: "https://*.tile.example.org" for "{s}" URLs."""
    if tiles == "offline":
        return ""
    parts = urlsplit(tiles.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


def sentence_segments(article: Article, mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paragraphs of sentences, each cut into runs of text that link to at most one place.

    Mentions nest ("air base in Kant" holds "Kant"): each run links to the innermost mention
    covering it, so both the facility and the town stay clickable without nested links.
    """
    by_sentence: dict[int, list[dict[str, Any]]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention["sentence"], []).append(mention)
    title = article.title.strip()
    paragraphs = []
    for paragraph in article.paragraphs():
        rendered = []
        for sentence in paragraph:
            inside = by_sentence.get(sentence.index, [])
            cuts = sorted({sentence.start, sentence.end, *(m["start"] for m in inside), *(m["end"] for m in inside)})
            segments = []
            for a, b in itertools.pairwise(cuts):
                covering = [m for m in inside if m["start"] <= a and m["end"] >= b]
                best = min(covering, key=lambda m: m["end"] - m["start"]) if covering else None
                segments.append(
                    {
                        "text": article.text[a:b],
                        "place": best["place_id"] if best else "",
                        "role": best["role"] if best else "",
                    }
                )
            rendered.append(
                {
                    "index": sentence.index,
                    "segments": segments,
                    "title_line": article.sentence_text(sentence).strip() == title,
                }
            )
        paragraphs.append(rendered)
    return paragraphs


def page_data(
    places: list[dict[str, Any]], mentions: list[dict[str, Any]], index: dict[str, int], tiles: str
) -> dict[str, Any]:
    """What newsmap.js needs, beyond the page's own text: places, their mention spans, settings."""
    spans: dict[str, list[list[int]]] = {}
    for m in mentions:
        spans.setdefault(m["place_id"], []).append(
            [m["sentence"], m["start"] - m["sentence_start"], m["end"] - m["sentence_start"]]
        )
    keep = (
        "id",
        "name",
        "article_name",
        "kind",
        "category",
        "status",
        "lat",
        "lon",
        "precision",
        "source",
        "context",
        "country",
    )
    return {
        "places": [
            {**{k: p[k] for k in keep}, "cat": index[p["category"]], "mentions": spans.get(p["id"], [])} for p in places
        ],
        "zoom": ZOOM_BY_PRECISION,
        "tiles": tiles,
        "basemap": "/basemap.geojson",
    }


def script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def page_csp(scripts: list[str], tiles: str) -> str:
    images = " ".join(filter(None, ["'self'", "data:", tile_origin(tiles)]))
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {' '.join(script_hash(s) for s in scripts)}",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def basemap(places: list[dict[str, Any]], margin: float = 12.0) -> dict[str, Any]:
    """Country outlines (countryinfo) around the places: the map's ground when tiles cannot load."""
    import countryinfo

    (south, west), (north, east) = focus_bounds(places)
    box = (west - margin, south - margin, east + margin, north + margin)
    features = []
    for path in sorted((Path(countryinfo.__file__).parent / "data").glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        for feature in (info.get("geoJSON") or {}).get("features", []):
            geometry = feature.get("geometry") or {}
            polygons = geometry.get("coordinates", [])
            if geometry.get("type") == "Polygon":
                polygons = [polygons]
            elif geometry.get("type") != "MultiPolygon":
                continue
            kept = [
                [[[round(x, 2), round(y, 2)] for x, y in ring[:: max(1, len(ring) // 400)]] for ring in polygon]
                for polygon in polygons
                if _touches(polygon, box)
            ]
            if kept:
                features.append(
                    {
                        "type": "Feature",
                        "properties": {"name": info.get("name", "")},
                        "geometry": {"type": "MultiPolygon", "coordinates": kept},
                    }
                )
    return {"type": "FeatureCollection", "features": features}


def _touches(polygon: list[list[list[float]]], box: tuple[float, float, float, float]) -> bool:
    xs = [x for x, _ in polygon[0]]
    ys = [y for _, y in polygon[0]]
    return not (max(xs) < box[0] or min(xs) > box[2] or max(ys) < box[1] or min(ys) > box[3])


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
        stamps: list[Any] = []
        for path in (self.config.data_dir / LOCATIONS_FILE, self.config.data_dir / MENTIONS_FILE):
            try:
                stat = path.stat()
                stamps.append((path.name, stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append((path.name, None))
        try:
            for path in sorted(self.config.seeds_dir.glob("*.txt")):
                stat = path.stat()
                stamps.append((path.name, stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(("seeds", None))
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
            articles = {p.stem: load_article(p) for p in find_articles(self.config.seeds_dir)}
            texts = {slug: a.text for slug, a in articles.items()}
            dataset = Dataset.load(self.config.data_dir, texts, self.config.max_csv_bytes)
        except (ArticleError, DatasetError) as error:
            log.error("newsmap: cannot serve the dataset: %s", error)
            return Snapshot(version, error=str(error))
        modified = max((file_time(s[1]) for s in version if len(s) == 3 and s[1]), default=datetime.now(UTC))
        snapshot = Snapshot(version)
        self._add_data_twins(snapshot, dataset, modified)
        slugs = [slug for slug in articles if any(row["article"] == slug for row in dataset.locations)] or list(
            articles
        )
        snapshot.default_article = slugs[0]
        for slug in slugs:
            path = "/" if slug == snapshot.default_article else f"/articles/{slug}"
            self._add_page(snapshot, path, articles[slug], dataset, slugs, articles, modified)
        log.info("newsmap: serving %d places from %s", len(dataset.locations), self.config.data_dir)
        return snapshot

    def _add_data_twins(self, snapshot: Snapshot, dataset: Dataset, modified: datetime) -> None:
        locations, mentions = list(dataset.locations), list(dataset.mentions)
        attach = lambda name: {"Content-Disposition": f'attachment; filename="{name}"'}  # noqa: E731
        snapshot.assets["/data/locations.csv"] = Asset.make(
            encode_csv(locations, LOCATION_FIELDS, formula_safe=True),
            "text/csv; charset=utf-8",
            modified,
            headers=attach("locations.csv"),
        )
        snapshot.assets["/data/mentions.csv"] = Asset.make(
            encode_csv(mentions, MENTION_FIELDS, formula_safe=True),
            "text/csv; charset=utf-8",
            modified,
            headers=attach("mentions.csv"),
        )
        snapshot.assets["/data/locations.geojson"] = Asset.make(
            to_json_bytes(to_geojson(locations)), "application/geo+json", modified
        )
        snapshot.assets["/data/locations.kml"] = Asset.make(
            to_kml(locations), "application/vnd.google-earth.kml+xml", modified, headers=attach("locations.kml")
        )
        snapshot.assets["/api/places"] = Asset.make(to_json_bytes(locations), "application/json", modified)
        by_place: dict[str, list[dict[str, Any]]] = {}
        for mention in mentions:
            by_place.setdefault(mention["place_id"], []).append(mention)
        for row in locations:
            detail = {**row, "mentions": by_place.get(row["id"], [])}
            snapshot.assets[f"/api/places/{row['id']}"] = Asset.make(
                to_json_bytes(detail), "application/json", modified
            )
        snapshot.assets["/basemap.geojson"] = Asset.make(
            to_json_bytes(basemap(locations)), "application/geo+json", modified
        )
        health = {"status": "ok", "places": len(locations), "mentions": len(mentions), "modified": modified.isoformat()}
        snapshot.assets["/healthz"] = Asset.make(to_json_bytes(health), "application/json", modified)

    def _add_page(
        self,
        snapshot: Snapshot,
        path: str,
        article: Article,
        dataset: Dataset,
        slugs: list[str],
        articles: dict[str, Article],
        modified: datetime,
    ) -> None:
        """The article beside its map; one `Asset` and its CSP (with the inline script's hash)."""
        places = [row for row in dataset.locations if row["article"] == article.slug]
        mentions = [row for row in dataset.mentions if row["article"] == article.slug]
        index = category_index([p["category"] for p in places]) if places else {}
        parts = build_map(places, index, self.config.tiles, self.config.tiles_attribution) if places else None
        script = _compact(parts.script) if parts else ""
        categories = [
            {
                "index": i,
                "label": label,
                "family": category_family(label),
                "count": sum(p["category"] == label for p in places),
            }
            for label, i in sorted(index.items(), key=lambda item: item[1])
        ]
        html = self.templates.get_template("index.html").render(
            article=article,
            places=[{**p, "cat": index[p["category"]], "family": category_family(p["category"])} for p in places],
            categories=categories,
            paragraphs=sentence_segments(article, mentions),
            data=page_data(places, mentions, index, self.config.tiles),
            map=parts,
            map_script=script,
            downloads=DOWNLOADS,
            others=[
                ("/" if slug == slugs[0] else f"/articles/{slug}", articles[slug].title)
                for slug in slugs
                if slug != article.slug
            ],
        )
        snapshot.assets[path] = Asset.make(html.encode("utf-8"), "text/html; charset=utf-8", modified)
        snapshot.csp[path] = page_csp([script] if script else [], self.config.tiles)

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


def _compact(script: str) -> str:
    """folium's script without its blank lines and indentation (JSON strings never span lines)."""
    return "\n".join(line.strip() for line in script.splitlines() if line.strip())
