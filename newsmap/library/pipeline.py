"""seeds/ -> geoparse -> the database -> data/locations.csv + data/mentions.csv, the one way data flows.

Each seed is read, checked against the limits and geoparsed on its own: a seed that is
unreadable, too big or too full of places is skipped with its reason, and its previous version
stays in the database, so a half-copied file never changes what is served. One article from
the web, the API or `newsmap add` takes `newsmap.adding` instead, geoparsed by `newsmap.geoparser.child`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import newsmap.geoparser
from newsmap.adding import Limits
from newsmap.article import Article, ArticleError, article_slug, find_articles, load_article
from newsmap.corrections import CorrectionError, corrections_file, read_corrections
from newsmap.dataset import (
    LOCATION_FIELDS,
    LOCATIONS_FILE,
    MENTIONS_FILE,
    DatasetError,
    encode_csv,
    read_table,
    write_dataset,
)
from newsmap.geoparser import geoparse_within_limits, open_gazetteer, sentences_as_seen
from newsmap.geoparser.gazetteer import (
    DEFAULT_CURATED,
    Gazetteer,
    NominatimFailure,
    NominatimGeocoder,
    default_cache_dir,
)
from newsmap.geoparser.resolution import CandidateSource
from newsmap.language import SUPPORTED, decide
from newsmap.language import name as language_name
from newsmap.settings import Settings
from newsmap.store import Store, StoreError

log = logging.getLogger(__name__)
GEOCODERS = ("offline", "nominatim")


class BuildError(ValueError):
    """The build cannot run; one line for the user."""


@dataclass
class ArticleResult:
    article: Article
    locations: list[dict[str, Any]]
    mentions: list[dict[str, Any]]
    geocoder: str  # "offline", "nominatim", or "previous" for a kept older version


@dataclass
class BuildSummary:
    articles: list[ArticleResult] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per article not (re)built, with the reason
    exported: int = 0  # places in the exported CSV, all articles

    @property
    def locations(self) -> list[dict[str, Any]]:
        return [row for result in self.articles for row in result.locations]

    @property
    def mentions(self) -> list[dict[str, Any]]:
        return [row for result in self.articles for row in result.mentions]

    def by_precision(self) -> Counter[str]:
        return Counter(row["precision"] for row in self.locations)


def make_geocoder(name: str, cache_dir: Path, nominatim_url: str | None = None) -> CandidateSource | None:
    """None means the offline gazetteer itself; "nominatim" builds geopy's Nominatim client."""
    if name == "offline":
        return None
    if name == "nominatim":
        settings = Settings.from_env()
        scheme, _, domain = (nominatim_url or settings.nominatim_url).partition("://")
        return NominatimGeocoder(
            settings.nominatim_cache or cache_dir / "nominatim.json",
            domain=domain.rstrip("/"),
            scheme=scheme,
            min_delay_seconds=settings.nominatim_delay,
            timeout=settings.nominatim_timeout,
        )
    raise BuildError(f"unknown geocoder {name!r}: choose one of {', '.join(GEOCODERS)}")


def build_fingerprint(curated_path: Path, geocoder_name: str) -> str:
    """What the rows of an article depend on besides the article: the geoparser's code, word
    lists and curated gazetteer, and the geocoder. A seed whose text, metadata and fingerprint
    are unchanged is not geoparsed again."""
    digest = hashlib.sha256(geocoder_name.encode())
    here = Path(newsmap.geoparser.__file__).resolve().parent
    for path in sorted([*here.rglob("*"), curated_path]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _article_hash(article: Article, fingerprint: str) -> str:
    fields = (fingerprint, article.slug, article.title, article.publisher, article.published, article.url, article.text,
              article.language)  # fmt: skip
    return hashlib.sha256("\x00".join(fields).encode("utf-8")).hexdigest()


def build(
    seeds_dir: Path,
    data_dir: Path,
    *,
    db_path: Path | None = None,
    geocoder_name: str = "offline",
    curated_path: Path = DEFAULT_CURATED,
    cache_dir: Path | None = None,
    nominatim_url: str | None = None,
    limits: Limits | None = None,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> BuildSummary:
    """Import every seed into the database (`db_path`, default `<data_dir>/newsmap.db`), then export
    all its articles to the data folder's CSVs.

    Seeds whose text, metadata and geoparser are unchanged are skipped by hash (`force` redoes
    them). A seed that fails is skipped with its reason and its previous version stays. Seeds
    that were removed from the folder are removed from the database; articles added from the
    web, the API or `newsmap add` stay.

    A seed's `<slug>.corrections.csv` (`newsmap corrections export`) adds the editors' corrections
    the database lacks, by uid; every seed article's corrections that no longer apply to its
    geoparse are reported (`summary.warnings`) and kept.
    """
    settings = Settings.from_env()
    cache_dir = cache_dir or default_cache_dir()
    limits = limits or Limits.from_settings(settings)
    if geocoder_name not in GEOCODERS:
        raise BuildError(f"unknown geocoder {geocoder_name!r}: choose one of {', '.join(GEOCODERS)}")
    paths = find_articles(seeds_dir)
    _check_writable(data_dir)
    store = _open_store(db_path or data_dir / "newsmap.db")
    try:
        fingerprint = build_fingerprint(curated_path, geocoder_name)
        context = _BuildContext(
            store, fingerprint, cache_dir, curated_path, geocoder_name, nominatim_url, limits, force
        )
        summary = BuildSummary()
        seen: set[str] = set()
        for path in paths:
            result = _build_one(path, seen, context, summary, echo)
            seen.add(article_slug(path))
            if result is not None:
                summary.articles.append(result)
                _import_seed_corrections(store, result.article.slug, seeds_dir, summary, echo)
        for info in store.infos():
            if info.source == "seed" and info.slug not in seen:
                store.delete_article(info.slug)
                echo(f"{info.slug}: removed (its seed is gone)")
        _report_skipped_corrections(store, summary, echo)
        _export(store, data_dir, summary, echo)
    finally:
        store.close()
    return summary


def _open_store(path: Path) -> Store:
    try:
        return Store.open(path)
    except (StoreError, OSError) as error:
        raise BuildError(f"{path}: cannot open the database ({error})") from None


@dataclass
class _BuildContext:
    store: Store
    fingerprint: str
    cache_dir: Path
    curated_path: Path
    geocoder_name: str
    nominatim_url: str | None
    limits: Limits
    force: bool
    _geocoder: CandidateSource | None = None
    _ready: bool = False

    def tools(self) -> tuple[Gazetteer, CandidateSource | None]:
        """The gazetteer and geocoder, opened only when an article needs geoparsing."""
        if not self._ready:
            self._geocoder = make_geocoder(self.geocoder_name, self.cache_dir, self.nominatim_url)
            self._ready = True
        return open_gazetteer(self.curated_path, self.cache_dir), self._geocoder


def _build_one(
    path: Path, seen: set[str], context: _BuildContext, summary: BuildSummary, echo: Callable[[str], None]
) -> ArticleResult | None:
    """One seed: unchanged, geoparsed and stored, or skipped with a reason (its previous version stays)."""
    started = time.monotonic()
    try:
        loaded = load_article(path, context.limits.article_bytes)  # its metadata's language overrides the detector
        article = dataclasses.replace(sentences_as_seen(loaded), language=decide(loaded.text, loaded.language))
        if article.slug in seen:
            raise ArticleError(f"{path}: its slug {article.slug!r} is already another seed's")
        article_hash = _article_hash(article, context.fingerprint)
        stored = context.store.info(article.slug)
        if stored is not None and stored.build_hash == article_hash and not context.force:
            echo(f"{article.slug}: unchanged")
            return ArticleResult(article, [], [], "unchanged")
        if len(article.text) > 100_000:
            echo(f"{article.slug}: geoparsing {len(article.text) / 1e6:.1f} M characters…")
        locations, mentions, used = _geoparse_with_fallback(article, context, summary, echo)
    except ArticleError as error:
        kept = context.store.info(article_slug(path)) is not None and article_slug(path) not in seen
        summary.skipped.append(f"skipped {error}" + ("; its previous version is kept" if kept else ""))
        return None
    context.store.put_article(article, locations, mentions, source="seed", build_hash=article_hash)
    counts = Counter(row["precision"] for row in locations)
    seconds = time.monotonic() - started
    took = f" in {seconds:.1f} s" if seconds >= 1 else ""
    echo(f"{article.slug}: {len(locations)} places, {len(mentions)} mentions ({_counts(counts)}) [{used}]{took}")
    return ArticleResult(article, locations, mentions, used)


def _geoparse_with_fallback(
    article: Article, context: _BuildContext, summary: BuildSummary, echo: Callable[[str], None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    if article.language not in SUPPORTED:  # stored, shown with a notice, never misread as English or Russian
        return [], [], f"not geoparsed: {language_name(article.language)}"
    gazetteer, geocoder = context.tools()
    try:
        locations, mentions = geoparse_within_limits(article, gazetteer, geocoder, context.limits)
        return locations, mentions, context.geocoder_name
    except NominatimFailure as failure:
        warning = f"warning: {failure}; {article.slug} falls back to the offline gazetteer"
        summary.warnings.append(warning)
        echo(warning)
        locations, mentions = geoparse_within_limits(article, gazetteer, None, context.limits)
        return locations, mentions, "offline"


def _export(store: Store, data_dir: Path, summary: BuildSummary, echo: Callable[[str], None]) -> None:
    """All articles of the database as locations.csv and mentions.csv, written together."""
    before = _previous_rows(data_dir / LOCATIONS_FILE)
    locations, mentions = store.places(), store.mentions()
    current = {f"{row['article']}#{row['id']}": row for row in locations}
    summary.added = sorted(set(current) - set(before))
    summary.removed = sorted(set(before) - set(current))
    summary.changed = sorted(
        key for key in set(current) & set(before)
        if encode_csv([current[key]], LOCATION_FIELDS) != encode_csv([before[key]], LOCATION_FIELDS)
    )  # fmt: skip
    summary.exported = len(current)
    write_dataset(data_dir, locations, mentions)
    (data_dir / "articles.json").unlink(missing_ok=True)  # written by newsmap 0.2 before the database
    by_precision = Counter(row["precision"] for row in locations)
    echo(
        f"{len(current)} places ({_counts(by_precision)}); "
        f"{len(summary.added)} added, {len(summary.changed)} changed, {len(summary.removed)} removed "
        f"-> {data_dir / LOCATIONS_FILE}"
    )


# --------------------------------------------------------------------------- a seed's corrections


def _import_seed_corrections(
    store: Store, slug: str, seeds_dir: Path, summary: BuildSummary, echo: Callable[[str], None]
) -> None:
    """Add the corrections the seed ships with that the database lacks (by uid): a fresh database
    built from the seeds shows the same corrected rows. A malformed file is a warning, not a stop."""
    path = corrections_file(seeds_dir, slug)
    if not path.is_file():
        return
    try:
        added = store.import_corrections(slug, read_corrections(path))
    except (CorrectionError, DatasetError) as error:
        why = str(error).removeprefix(f"{path}: ")
        warning = " ".join(f"warning: {slug}: {path.name} not imported: {why}".split())
        summary.warnings.append(warning)
        echo(warning)
        return
    if added:
        echo(f"{slug}: {added} correction{'s' if added != 1 else ''} imported from {path.name}")


def _report_skipped_corrections(store: Store, summary: BuildSummary, echo: Callable[[str], None]) -> None:
    """Every seed article's corrections that no longer apply to its geoparse (their place is gone,
    say, after a gazetteer change). They stay in the database: an editor reverts or redoes them."""
    for slug, skipped in store.articles_with_skipped("seed").items():
        for seq, why in skipped:
            line = " ".join(f"{slug}: correction #{seq} could not be applied: {why}".split())
            summary.warnings.append(line)
            echo(line)


def _counts(counter: Counter[str]) -> str:
    order = ("facility", "settlement", "region", "country")
    return ", ".join(f"{counter[p]} {p}" for p in order if counter[p]) or "none"


def _previous_rows(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        rows = read_table(path)
    except DatasetError:
        return {}
    return {
        f"{row['article']}#{row['id']}": row for row in rows if row.get("id") and all(f in row for f in LOCATION_FIELDS)
    }


def _check_writable(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"{data_dir}: cannot create the data folder ({error.strerror})") from None
    if not os.access(data_dir, os.W_OK):
        raise BuildError(f"{data_dir}: the data folder is not writable")
    for name in (LOCATIONS_FILE, MENTIONS_FILE):
        target = data_dir / name
        if target.exists() and target.is_dir():
            raise BuildError(f"{target}: is a folder, not a file")
