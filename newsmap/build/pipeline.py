"""seeds/ -> geoparse -> data/locations.csv + data/mentions.csv, the one way data flows."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmap.article import Article, find_articles, load_article
from newsmap.build.describe import describe, relative_position
from newsmap.build.gazetteer import (
    DEFAULT_CURATED,
    Gazetteer,
    NominatimFailure,
    NominatimGeocoder,
    Place,
    default_cache_dir,
    haversine_km,
)
from newsmap.build.geoparse import CandidateSource, Mention, Recognizer, Resolved, Resolver
from newsmap.build.lexicon import load as load_lexicon
from newsmap.dataset import (
    LOCATION_FIELDS,
    LOCATIONS_FILE,
    MENTIONS_FILE,
    DatasetError,
    encode_csv,
    read_table,
    write_dataset,
)
from newsmap.settings import Settings
from newsmap.slugs import slugify

log = logging.getLogger(__name__)
GEOCODERS = ("offline", "nominatim")


class BuildError(ValueError):
    """The build cannot run; one line for the user."""


@dataclass
class ArticleResult:
    article: Article
    locations: list[dict[str, Any]]
    mentions: list[dict[str, Any]]
    geocoder: str


@dataclass
class BuildSummary:
    articles: list[ArticleResult] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def locations(self) -> list[dict[str, Any]]:
        return [row for result in self.articles for row in result.locations]

    def by_precision(self) -> Counter[str]:
        return Counter(row["precision"] for row in self.locations)


def place_rows(
    article: Article, resolved: list[Resolved], gazetteer: Gazetteer
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Group the resolver's decisions by place and describe each place: the article's rows."""
    lexicon = load_lexicon()
    groups: dict[str, list[Mention]] = {}
    places: dict[str, Place] = {}
    for decision in resolved:
        groups.setdefault(decision.place.key, []).append(decision.mention)
        places[decision.place.key] = decision.place
    order = sorted(groups, key=lambda key: (min(m.start for m in groups[key]), key))
    ids = _assign_ids([places[key] for key in order])
    locations, mention_rows = [], []
    for key in order:
        place, group = places[key], groups[key]
        description = describe(place, group, article, lexicon)
        locations.append(
            {
                "id": ids[key],
                "name": place.name,
                "article_name": description.article_name,
                "kind": place.kind,
                "category": description.category,
                "status": description.status,
                "lat": round(place.lat, 5),
                "lon": round(place.lon, 5),
                "precision": place.precision,
                "quote": article.sentence_text(description.quote),
                "mentions": len(group),
                "source": place.source,
                "article": article.slug,
                "country": place.country,
                "context": _context(place, places.values(), gazetteer),
            }
        )
        for mention in group:
            sentence = article.sentences[mention.sentence]
            mention_rows.append(
                {
                    "place_id": ids[key],
                    "article": article.slug,
                    "role": mention.role,
                    "sentence": sentence.index,
                    "sentence_start": sentence.start,
                    "sentence_end": sentence.end,
                    "start": mention.start,
                    "end": mention.end,
                    "text": mention.text,
                }
            )
    mention_rows.sort(key=lambda row: (row["start"], -row["end"], row["place_id"]))
    return locations, mention_rows


def _assign_ids(places: list[Place]) -> dict[str, str]:
    """Ids unique within one article: the gazetteer's slug, then the country, then a number.

    They depend only on this article's places, so adding or removing other articles never
    renames them; the dataset's key is (article, id).
    """
    ids: dict[str, str] = {}
    used: set[str] = set()
    for place in places:
        base = place.slug or slugify(place.name)
        candidate = base
        if candidate in used and place.country:
            candidate = f"{base}-{place.country.lower()}"
        number = 2
        while candidate in used:
            candidate = f"{base}-{number}"
            number += 1
        used.add(candidate)
        ids[place.key] = candidate
    return ids


def _context(place: Place, article_places: Any, gazetteer: Gazetteer) -> str:
    """Where a small place or a facility lies, against a settlement the reader knows.

    The reference is the nearest other settlement the article names (within 100 km), else the
    nearest city of 50,000 or more. Countries, regions and big cities need no such help.
    """
    if place.precision not in ("facility", "settlement") or place.population >= 100_000:
        return ""
    nearby = [
        (haversine_km(place.lat, place.lon, other.lat, other.lon), other.key, other)
        for other in article_places
        if other.precision == "settlement"
        and other.key != place.key
        and not other.kind.endswith(("base", "station", "centre"))
    ]
    nearby = [item for item in nearby if 1.0 < item[0] <= 100.0]
    if nearby:
        reference = min(nearby)[2]
    else:
        found = gazetteer.nearest_city(place.lat, place.lon, min_population=50_000)
        if found is None or found[1] > 300:
            return ""
        reference = found[0]
    return relative_position(place.lat, place.lon, reference.name, reference.lat, reference.lon)


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


def geoparse_article(
    article: Article, gazetteer: Gazetteer, geocoder: CandidateSource | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    recognition = Recognizer(gazetteer).recognize(article)
    resolved = Resolver(gazetteer, geocoder).resolve(recognition)
    return place_rows(article, resolved, gazetteer)


def build(
    seeds_dir: Path,
    data_dir: Path,
    *,
    geocoder_name: str = "offline",
    curated_path: Path = DEFAULT_CURATED,
    cache_dir: Path | None = None,
    nominatim_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> BuildSummary:
    """Build both tables from every seed and write them atomically; report what changed."""
    cache_dir = cache_dir or default_cache_dir()
    if geocoder_name not in GEOCODERS:
        raise BuildError(f"unknown geocoder {geocoder_name!r}: choose one of {', '.join(GEOCODERS)}")
    paths = find_articles(seeds_dir)
    articles = [load_article(path) for path in paths]  # every seed is checked before any work
    _check_writable(data_dir)
    gazetteer = Gazetteer.open(curated_path, cache_dir)
    geocoder = make_geocoder(geocoder_name, cache_dir, nominatim_url)
    summary = BuildSummary()
    all_mentions: list[dict[str, Any]] = []
    for article in articles:
        used = geocoder_name
        try:
            locations, mentions = geoparse_article(article, gazetteer, geocoder)
        except NominatimFailure as failure:
            warning = f"warning: {failure}; {article.slug} falls back to the offline gazetteer"
            summary.warnings.append(warning)
            echo(warning)
            locations, mentions = geoparse_article(article, gazetteer, None)
            used = "offline"
        summary.articles.append(ArticleResult(article, locations, mentions, used))
        all_mentions += mentions
        counts = Counter(row["precision"] for row in locations)
        echo(f"{article.slug}: {len(locations)} places, {len(mentions)} mentions ({_counts(counts)}) [{used}]")
    previous = _previous_rows(data_dir / LOCATIONS_FILE)
    current = {f"{row['article']}#{row['id']}": row for row in summary.locations}
    summary.added = sorted(set(current) - set(previous))
    summary.removed = sorted(set(previous) - set(current))
    summary.changed = sorted(
        key for key in set(current) & set(previous)
        if encode_csv([current[key]], LOCATION_FIELDS) != encode_csv([previous[key]], LOCATION_FIELDS)
    )  # fmt: skip
    write_dataset(data_dir, summary.locations, all_mentions)
    echo(
        f"{len(current)} places ({_counts(summary.by_precision())}); "
        f"{len(summary.added)} added, {len(summary.changed)} changed, {len(summary.removed)} removed "
        f"-> {data_dir / LOCATIONS_FILE}"
    )
    return summary


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
