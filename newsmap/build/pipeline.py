"""seeds/ -> geoparse -> data/ (articles.json, locations.csv, mentions.csv), the one way data flows.

Each seed is read, checked against the limits and geoparsed on its own: a seed that is
unreadable, too big or too full of places is skipped with its reason, and its previous version
(if the data folder had one) is kept, so a half-copied file never changes what is served.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmap.article import Article, ArticleError, article_from_text, article_slug, find_articles, load_article
from newsmap.build.gazetteer import DEFAULT_CURATED, Gazetteer, NominatimFailure, NominatimGeocoder, default_cache_dir
from newsmap.build.geoparse import CandidateSource, Recognizer, Resolver
from newsmap.build.rows import place_rows
from newsmap.dataset import (
    ARTICLES_FILE,
    LOCATION_FIELDS,
    LOCATIONS_FILE,
    MENTIONS_FILE,
    DatasetError,
    encode_csv,
    quote_core,
    read_articles,
    read_table,
    write_dataset,
)
from newsmap.settings import Settings

log = logging.getLogger(__name__)
GEOCODERS = ("offline", "nominatim")


class BuildError(ValueError):
    """The build cannot run; one line for the user."""


@dataclass(frozen=True)
class Limits:
    """What one article may cost; each is a setting, and the web and API paths use the same ones."""

    article_bytes: int = 500_000  # NEWSMAP_MAX_ARTICLE_KB
    places: int = 1_000  # NEWSMAP_MAX_PLACES
    mentions: int = 10_000  # NEWSMAP_MAX_MENTIONS
    csv_bytes: int = 10_000_000  # NEWSMAP_MAX_CSV_MB: what the server agrees to serve

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            article_bytes=int(settings.max_article_kb * 1000),
            places=settings.max_places,
            mentions=settings.max_mentions,
            csv_bytes=int(settings.max_csv_mb * 1_000_000),
        )


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


# Format characters that change no letter: zero-width space, non-joiner and joiner, word joiner,
# byte-order mark, soft hyphen. "Mos\u200bcow" is Moscow.
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def visible_text(text: str) -> tuple[str, list[int]]:
    """The text without invisible characters, and for each of its offsets the original one.

    The list has one more entry than the text, for the end.
    """
    origins: list[int] = []
    last = 0
    for match in INVISIBLE.finditer(text):
        origins.extend(range(last, match.start()))
        last = match.end()
    origins.extend(range(last, len(text) + 1))
    return INVISIBLE.sub("", text), origins


def _span(origins: list[int], start: int, end: int) -> tuple[int, int]:
    """A span of the visible text as a span of the original (the characters inside kept)."""
    return origins[start], origins[end - 1] + 1 if end > start else origins[end]


def geoparse_article(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The article's rows. Invisible characters are ignored for matching, and every offset and
    quote still points into the original text."""
    visible, origins = visible_text(article.text)
    if visible == article.text:
        recognition = Recognizer(gazetteer).recognize(article)
        return place_rows(article, Resolver(gazetteer, geocoder).resolve(recognition), gazetteer)
    seen = article_from_text(article.slug, visible, title=article.title)
    recognition = Recognizer(gazetteer).recognize(seen)
    locations, mentions = place_rows(seen, Resolver(gazetteer, geocoder).resolve(recognition), gazetteer)
    for row in mentions:
        row["start"], row["end"] = _span(origins, row["start"], row["end"])
        row["sentence_start"], row["sentence_end"] = _span(origins, row["sentence_start"], row["sentence_end"])
        row["text"] = article.text[row["start"] : row["end"]]
    for row in locations:
        core = quote_core(row["quote"])
        at = visible.find(core)
        start, end = _span(origins, at, at + len(core))
        row["quote"] = row["quote"].replace(core, article.text[start:end], 1)
    return locations, mentions


def sentences_as_seen(article: Article) -> Article:
    """The article with the sentences the geoparser used (split without invisible characters)."""
    visible, origins = visible_text(article.text)
    if visible == article.text:
        return article
    seen = article_from_text(article.slug, visible)
    sentences = tuple(type(s)(s.index, *_span(origins, s.start, s.end), s.paragraph) for s in seen.sentences)
    return Article(
        article.slug, article.text, article.title, article.publisher, article.published, article.url, sentences
    )


def geoparse_within_limits(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None, limits: Limits
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The article's rows, or ArticleError when it names more places or mentions than allowed."""
    locations, mentions = geoparse_article(article, gazetteer, geocoder)
    if len(locations) > limits.places:
        raise ArticleError(
            f"{article.slug}: {len(locations)} places, more than the {limits.places} allowed (NEWSMAP_MAX_PLACES)"
        )
    if len(mentions) > limits.mentions:
        raise ArticleError(
            f"{article.slug}: {len(mentions)} mentions, more than the {limits.mentions} allowed (NEWSMAP_MAX_MENTIONS)"
        )
    return locations, mentions


def build(
    seeds_dir: Path,
    data_dir: Path,
    *,
    geocoder_name: str = "offline",
    curated_path: Path = DEFAULT_CURATED,
    cache_dir: Path | None = None,
    nominatim_url: str | None = None,
    limits: Limits | None = None,
    echo: Callable[[str], None] = print,
) -> BuildSummary:
    """Build every seed into the data folder, written atomically; report what changed and what was skipped.

    A seed that fails is skipped with its reason and, if the data folder holds an earlier version
    of it, that version is kept. The summary's `skipped` says which (the CLI then exits 1).
    """
    cache_dir = cache_dir or default_cache_dir()
    limits = limits or Limits.from_settings(Settings.from_env())
    if geocoder_name not in GEOCODERS:
        raise BuildError(f"unknown geocoder {geocoder_name!r}: choose one of {', '.join(GEOCODERS)}")
    paths = find_articles(seeds_dir)
    _check_writable(data_dir)
    gazetteer = Gazetteer.open(curated_path, cache_dir)
    geocoder = make_geocoder(geocoder_name, cache_dir, nominatim_url)
    previous = _previous_version(data_dir)
    summary = BuildSummary()
    taken: set[str] = set()
    for path in paths:
        result = _build_one(path, taken, gazetteer, geocoder, geocoder_name, limits, previous, summary, echo)
        if result is not None:
            taken.add(result.article.slug)
            summary.articles.append(result)
    if not summary.articles:
        raise BuildError(f"{seeds_dir}: no article could be built ({len(summary.skipped)} skipped)")
    _write(data_dir, summary, limits, echo)
    return summary


def _build_one(
    path: Path,
    taken: set[str],
    gazetteer: Gazetteer,
    geocoder: CandidateSource | None,
    geocoder_name: str,
    limits: Limits,
    previous: dict[str, ArticleResult],
    summary: BuildSummary,
    echo: Callable[[str], None],
) -> ArticleResult | None:
    """One seed's result: built, or its previous version with a "skipped" line, or None."""
    started = time.monotonic()
    try:
        article = sentences_as_seen(load_article(path, limits.article_bytes))
        if article.slug in taken:
            raise ArticleError(f"{path}: its slug {article.slug!r} is already another seed's")
        if len(article.text) > 100_000:
            echo(f"{article.slug}: geoparsing {len(article.text) / 1e6:.1f} M characters…")
        used = geocoder_name
        try:
            locations, mentions = geoparse_within_limits(article, gazetteer, geocoder, limits)
        except NominatimFailure as failure:
            warning = f"warning: {failure}; {article.slug} falls back to the offline gazetteer"
            summary.warnings.append(warning)
            echo(warning)
            locations, mentions = geoparse_within_limits(article, gazetteer, None, limits)
            used = "offline"
    except ArticleError as error:
        kept = previous.get(article_slug(path)) if article_slug(path) not in taken else None
        summary.skipped.append(f"skipped {error}" + ("; its previous version is kept" if kept else ""))
        return kept
    counts = Counter(row["precision"] for row in locations)
    seconds = time.monotonic() - started
    took = f" in {seconds:.1f} s" if seconds >= 1 else ""
    echo(f"{article.slug}: {len(locations)} places, {len(mentions)} mentions ({_counts(counts)}) [{used}]{took}")
    return ArticleResult(article, locations, mentions, used)


def _write(data_dir: Path, summary: BuildSummary, limits: Limits, echo: Callable[[str], None]) -> None:
    """Compare with the previous files, refuse what the server would not serve, write all at once."""
    before = _previous_rows(data_dir / LOCATIONS_FILE)
    current = {f"{row['article']}#{row['id']}": row for row in summary.locations}
    summary.added = sorted(set(current) - set(before))
    summary.removed = sorted(set(before) - set(current))
    summary.changed = sorted(
        key for key in set(current) & set(before)
        if encode_csv([current[key]], LOCATION_FIELDS) != encode_csv([before[key]], LOCATION_FIELDS)
    )  # fmt: skip
    try:
        write_dataset(
            data_dir,
            summary.locations,
            summary.mentions,
            [r.article for r in summary.articles],
            max_csv_bytes=limits.csv_bytes,
        )
    except DatasetError as error:
        raise BuildError(str(error)) from None
    echo(
        f"{len(current)} places ({_counts(summary.by_precision())}); "
        f"{len(summary.added)} added, {len(summary.changed)} changed, {len(summary.removed)} removed "
        f"-> {data_dir / LOCATIONS_FILE}"
    )


def _previous_version(data_dir: Path) -> dict[str, ArticleResult]:
    """What the data folder holds now, per article: kept for a seed that cannot be rebuilt."""
    try:
        articles = read_articles(data_dir)
        locations = read_table(data_dir / LOCATIONS_FILE)
        mentions = read_table(data_dir / MENTIONS_FILE)
    except DatasetError:
        return {}
    kept = {slug: ArticleResult(article, [], [], "previous") for slug, article in articles.items()}
    for row in locations:
        if row.get("article") in kept:
            kept[row["article"]].locations.append(row)
    for row in mentions:
        if row.get("article") in kept:
            kept[row["article"]].mentions.append(row)
    return kept


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
    for name in (LOCATIONS_FILE, MENTIONS_FILE, ARTICLES_FILE):
        target = data_dir / name
        if target.exists() and target.is_dir():
            raise BuildError(f"{target}: is a folder, not a file")
