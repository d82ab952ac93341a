"""What the build side writes and the serve side reads: columns, precisions, categories, ids.

This is the one module both sides import for the shape of the data, so it imports nothing of
either side (and nothing outside the standard library).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRECISIONS = ("facility", "settlement", "region", "country")  # what the gazetteer and geoparser give
ROW_PRECISIONS = (*PRECISIONS, "manual")  # ...and a point an editor put on the map by hand
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*")

MILITARY = "military facility"
PROPOSED = "proposed or discussed base"
MEETING = "meeting place"
OTHER = "other mentioned place"
CATEGORY_ORDER = (MILITARY, PROPOSED, MEETING, OTHER)  # legend order; MILITARY may carry an operator
FAMILIES = ("military", "proposed", "meeting", "other")  # one marker style each, in that order


def category_family(label: str) -> str:
    """ "Russian military facility" -> "military": the style of a category, whoever runs it."""
    if label.endswith(MILITARY):
        return "military"
    return dict(zip(CATEGORY_ORDER, FAMILIES, strict=True)).get(label, "other")


def fallback_key(row: dict, article: str) -> str:
    """The identity of a row that carries no gazetteer key (written before rows had one): what its
    source names, else the row itself (`article:<slug>/<id>`, shared with no other article)."""
    source = str(row.get("source") or "")
    if source.startswith("GeoNames country ") and row.get("country"):
        return f"country:{row['country']}"
    if source.startswith("GeoNames "):
        return "geonames:" + source.removeprefix("GeoNames ").split(" ", 1)[0].rstrip(";,:")
    if source.startswith("airportsdata ICAO "):
        return "airport:" + source.removeprefix("airportsdata ICAO ")[:4]
    return f"{'hand' if row.get('precision') == 'manual' else 'article'}:{article}/{row.get('id', '')}"


def key_slug(key: str) -> str:
    """A key as its page's URL writes it: "geonames:1527534" -> "geonames-1527534" (a colon is a poor
    file name in a static export; the namespace has no hyphen, so the first hyphen is the colon)."""
    return key.replace(":", "-", 1).replace("/", "--")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "text" | "float" | "int"
    description: str


LOCATION_COLUMNS: tuple[Column, ...] = (
    Column(
        "id",
        "text",
        "Slug of the place, unique within its article and never changed by other articles; "
        "the row's key is (`article`, `id`) and its deep link `/articles/<article>#<id>`.",
    ),
    Column("name", "text", "The place's name in the gazetteer (GeoNames or the curated file)."),
    Column("article_name", "text", "The place as the article spells it (its most frequent spelling)."),
    Column("kind", "text", "What the place is: air base, naval test base, city, town, country, railway, ..."),
    Column(
        "category",
        "text",
        "`<Operator> military facility`, `proposed or discussed base`, `meeting place` or `other mentioned place`.",
    ),
    Column(
        "status",
        "text",
        "What the article and gazetteer say of its state: in operation, under discussion, talks planned, planned, ... (may be empty).",
    ),
    Column("lat", "float", "Latitude, WGS84, 5 decimals."),
    Column("lon", "float", "Longitude, WGS84, 5 decimals."),
    Column(
        "precision",
        "text",
        "What the point is: `facility` (the site itself), `settlement` (the town it is in or named after), `region`, "
        "`country` (a country's centre), or `manual` (a point an editor put on the map by hand).",
    ),
    Column("quote", "text", "The article sentence that best says what the place is, verbatim."),
    Column("mentions", "int", "How many times the article refers to the place."),
    Column(
        "source",
        "text",
        "Where the coordinates come from: a GeoNames id, Nominatim, or the curated gazetteer's citation; "
        "then, in order, each editor's change: `; corrected by <editor> on <date>: <note>`, or for a new point "
        "`; moved by <editor> on <date> to <its source>: <note>` (see corrections.csv).",
    ),
    Column("article", "text", "Slug of the article (its seed file name without `.txt`)."),
    Column("country", "text", "ISO 3166-1 alpha-2 code of the country the place is in (empty for none)."),
    Column(
        "context", "text", "Where it is relative to a nearby place, from geopy.distance, e.g. `20 km E of Bishkek`."
    ),
    Column(
        "key",
        "text",
        "The place's identity across the library, shared by every article that names it (its page is "
        "`/places/<key>` with `:` written `-`): the gazetteer's key (`geonames:<id>`, `curated:<id>`, "
        "`country:<ISO>`, `airport:<ICAO>`, `osm:<type><id>`), the entry an editor chose, or "
        "`hand:<article>/<id>` for a point placed by hand.",
    ),
)
MENTION_COLUMNS: tuple[Column, ...] = (
    Column("place_id", "text", "The `id` of the place in locations.csv (within the same article)."),
    Column("article", "text", "Slug of the article."),
    Column(
        "role",
        "text",
        "`toponym` (a place name), `adjective` (a country's or region's adjective, like Russian), `organisation` "
        "(a place name inside an organisation's, like Moscow in Moscow State University), `facility` (a phrase "
        "naming a facility) or `route`.",
    ),
    Column("sentence", "int", "Index of the sentence in the article, from 0."),
    Column("sentence_start", "int", "Character offset where the sentence starts in the article text."),
    Column("sentence_end", "int", "Character offset where the sentence ends."),
    Column(
        "start", "int", "Character offset where the mention starts (Python string index into the UTF-8 decoded text)."
    ),
    Column("end", "int", "Character offset where the mention ends (exclusive)."),
    Column("text", "text", "The mention as written: `text == article[start:end]`."),
)
LOCATION_FIELDS = tuple(c.name for c in LOCATION_COLUMNS)
MENTION_FIELDS = tuple(c.name for c in MENTION_COLUMNS)
COLUMN_TYPES = {c.name: c.type for c in LOCATION_COLUMNS + MENTION_COLUMNS}
