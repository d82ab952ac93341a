"""One article's resolved mentions -> its rows: a place row per place, a mention row per mention.

Every step is linear in the article's length: ids from one pass, quotes cut to a bounded
window, and the "20 km E of Bishkek" context found through a grid of the article's settlements
rather than by comparing every place with every other.
"""

from __future__ import annotations

import math
from typing import Any

from newsmap.article import Article, quote_window
from newsmap.geoparser.describe import describe, named_mentions, relative_position
from newsmap.geoparser.gazetteer import Gazetteer, Place, haversine_km
from newsmap.geoparser.lexicon import load as load_lexicon
from newsmap.geoparser.mentions import Mention
from newsmap.geoparser.resolution import Resolved
from newsmap.slugs import slugify

CONTEXT_REACH_KM = 100.0


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
    # A place's first naming orders the rows; "Russian" before "Russia" does not move Russia up.
    order = sorted(groups, key=lambda key: (min(m.start for m in named_mentions(groups[key])), key))
    ids = _assign_ids([places[key] for key in order])
    grid = SettlementGrid(p for p in places.values() if lexicon.family(p.kind) not in lexicon.facility_kinds)
    countries = sorted(  # where the article names each country (or its adjective): who runs a facility
        (d.mention.start, d.mention.end, d.place.country)
        for d in resolved
        if d.place.kind == "country" and d.place.country
    )
    locations, mention_rows = [], []
    for key in order:
        place, group = places[key], groups[key]
        description = describe(place, group, article, lexicon, countries)
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
                "quote": _quote(article, description.quote.index, group),
                "mentions": len(group),
                "source": place.source,
                "article": article.slug,
                "country": place.country,
                "context": _context(place, grid, gazetteer),
                "key": place.key,  # its identity across the library: the same entry in every article
            }
        )
        mention_rows.extend(_mention_rows(article, ids[key], group))
    mention_rows.sort(key=lambda row: (row["start"], -row["end"], row["place_id"]))
    return locations, mention_rows


def _mention_rows(article: Article, place_id: str, group: list[Mention]) -> list[dict[str, Any]]:
    """A mention row per mention of one place, with the sentence it stands in."""
    rows = []
    for mention in group:
        sentence = article.sentences[mention.sentence]
        rows.append(
            {
                "place_id": place_id,
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
    return rows


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


def _quote(article: Article, sentence_index: int, group: list[Mention]) -> str:
    """The chosen sentence, cut around the place's first mention in it when it is long."""
    sentence = article.sentences[sentence_index]
    inside = [m for m in group if m.sentence == sentence_index] or group
    focus = min(inside, key=lambda m: m.start)
    if focus.sentence != sentence_index:
        return quote_window(article, sentence, sentence.start, sentence.start)
    return quote_window(article, sentence, focus.start, focus.end)


class SettlementGrid:
    """The article's settlements in 1-degree cells: "which named settlement is near" in constant time.

    Only towns: a facility or a feature placed at a town (precision `settlement` too) is no reference,
    nor is a place of a facility kind."""

    def __init__(self, places: Any) -> None:
        self.cells: dict[tuple[int, int], list[Place]] = {}
        for place in places:
            own = place.key.startswith(("facility:", "feature:"))
            if place.precision == "settlement" and not own and not place.kind.endswith(("base", "station", "centre")):
                self.cells.setdefault((math.floor(place.lat), math.floor(place.lon)), []).append(place)

    def nearest(self, place: Place, reach_km: float = CONTEXT_REACH_KM) -> Place | None:
        """The nearest other settlement more than 1 km and at most `reach_km` away, ties by key."""
        lat_cells = math.ceil(reach_km / 111.0)
        lon_cells = min(180, math.ceil(reach_km / (111.0 * max(math.cos(math.radians(place.lat)), 0.01))))
        row, column = math.floor(place.lat), math.floor(place.lon)
        best: tuple[float, str, Place] | None = None
        for dy in range(-lat_cells, lat_cells + 1):
            for dx in range(-lon_cells, lon_cells + 1):
                for other in self.cells.get((row + dy, (column + dx + 180) % 360 - 180), ()):
                    if other.key == place.key:
                        continue
                    distance = haversine_km(place.lat, place.lon, other.lat, other.lon)
                    if 1.0 < distance <= reach_km and (best is None or (distance, other.key) < best[:2]):
                        best = (distance, other.key, other)
        return best[2] if best else None


def _context(place: Place, grid: SettlementGrid, gazetteer: Gazetteer) -> str:
    """Where a small place or a facility lies, against a settlement the reader knows.

    The reference is the nearest other settlement the article names (within 100 km), else the
    nearest city of 50,000 or more. Countries, regions and big cities need no such help.
    """
    if place.precision not in ("facility", "settlement") or place.population >= 100_000:
        return ""
    reference = grid.nearest(place)
    if reference is None:
        found = gazetteer.nearest_city(place.lat, place.lon, min_population=50_000)
        if found is None or found[1] > 300:
            return ""
        reference = found[0]
    return relative_position(place.lat, place.lon, reference.name, reference.lat, reference.lon)
