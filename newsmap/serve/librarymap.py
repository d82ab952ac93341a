"""The library over time: the `from`/`to` filter, the library map's data, and the filtered `/api/places`.

- `Filter`: `?from=YYYY[-MM[-DD]]&to=…` (both ends inclusive at their own precision: `to=2019` keeps
  all of 2019; an article with a partial date is in range when any day it covers is) and the search
  `q`, read once per request; a bad date or `from` after `to` is a `DateError` (the views answer 400).
- `/api/library/map` (`?from=&to=&q=`): every place of the articles in range, one row per place
  across the library (`placemap`), for the library page's map, which fetches it after the page is
  drawn (the page stays as light as it was, whatever the library's size). Beyond `Config.map_limit`
  places it is counts of sub-tiles instead, and `/api/library/map/<z>/<x>/<y>` one of those: the
  payload is bounded however many places the library holds. Built once per (revision, filter, tile),
  cached with the site's pages and served with an ETag.
- `/api/places?from=&to=`: the rows of the articles in range, streamed as the unfiltered list is.

In a static export the unfiltered map is written as `library/map.json` and `library/map/<z>/<x>/<y>.json`
(`export_map`); a filtered view needs a server.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Request, Response

from newsmap import placemap
from newsmap.dataset import iter_json_list
from newsmap.dates import date_range
from newsmap.placemap import Scope, Tile
from newsmap.schema import category_family
from newsmap.serve import basemap
from newsmap.serve.assets import Asset
from newsmap.store import Store

if TYPE_CHECKING:
    from newsmap.serve.site import Built, Site

JSON = "application/json"
MAP_PATH = "/api/library/map"
UNDATED_HEADER = "Newsmap-Undated-Articles"  # how many articles a filtered `/api/places` left out


@dataclass(frozen=True)
class Filter:
    """What a library view shows: articles published in `days` (first and last day; None: any, the
    undated ones included) whose title or places match `query`. `start` and `end` are the dates as
    the reader wrote them, kept for links."""

    start: str = ""
    end: str = ""
    days: tuple[str, str] | None = None
    query: str = ""

    @classmethod
    def read(cls, args: Mapping[str, str], query: bool = True) -> Filter:
        """From a request's arguments (`from`, `to`, and `q` unless `query` is False); DateError when bad."""
        start, end = args.get("from", ""), args.get("to", "")
        return cls(start, end, date_range(start, end), args.get("q", "")[:200] if query else "")

    def params(self) -> dict[str, str]:
        """The filter as URL arguments, only those given (for links and the map's URL)."""
        given = {"q": self.query, "from": self.start, "to": self.end}
        return {name: value for name, value in given.items() if value}

    def label(self) -> str:
        """The range in words, for headings: "in 2019", "from March 2019 to 2020", "since 5 May 2021"."""
        start, end = say_date(self.start), say_date(self.end)
        if self.start and self.start == self.end:
            return f"in {start}" if len(self.start) < 10 else f"on {start}"
        if self.start and self.end:
            return f"from {start} to {end}"
        return f"since {start}" if self.start else f"until {end}"

    def key(self) -> tuple[Any, ...]:
        """What a built answer depends on: the days (not their spelling) and the search."""
        return (self.days, self.query)


def say_date(value: str) -> str:
    """ "2019" -> "2019", "2019-03" -> "March 2019", "2019-03-05" -> "5 March 2019"."""
    year, _, rest = value.partition("-")
    month, _, day = rest.partition("-")
    if not month:
        return year
    in_month = f"{calendar.month_name[int(month)]} {year}"
    return f"{int(day)} {in_month}" if day else in_month


# -- the map's data


def map_built(site: Site, view: Filter, tile: Tile) -> Built:
    """The map's data for `view` in `tile`, from the site's cache (one build per revision, view and tile)."""
    revision = site.store().revision()
    key = ("library-map", revision, view.key(), str(tile))
    return site.cache.get(key, lambda: site._read(lambda store: _build(site, store, view, tile)))


def _build(site: Site, store: Store, view: Filter, tile: Tile) -> Built:
    from newsmap.serve.site import Built, _time

    document = map_document(store, view, tile, site.config.map_limit, site.config.only, site.config.exported)
    built = Built()
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")  # compact: read by a script
    built.assets[map_path(tile)] = Asset.make(body, JSON, _time(store.meta("updated_at") or ""))
    return built


def map_path(tile: Tile) -> str:
    """`/api/library/map` for the whole world, `/api/library/map/<z>/<x>/<y>` for a tile of it."""
    return MAP_PATH if tile == Tile() else f"{MAP_PATH}/{tile}"


def map_document(
    store: Store, view: Filter, tile: Tile, limit: int, only: frozenset[str] | None, exported: bool = False
) -> dict[str, Any]:
    """`places` (one per place key: its name, point, family, precision, how many articles name it and
    the newest one's slug, place id and title) when the tile holds at most `limit`, else `cells` (its
    sub-tiles: how many places each holds and their centre, to draw as counts that zoom in). The
    whole world's also says how many articles are in range and how many a filter left out undated."""
    conn = store.conn
    document: dict[str, Any] = {"tile": str(tile), "bounds": tile.bounds()}
    if tile == Tile():
        days = list(view.days) if view.days else None
        inside = store.count(view.query, only, view.days)
        undated = store.count(view.query, only, ()) if view.days else 0
        document.update({"days": days, "articles": inside, "undated": undated})
    scope = Scope(view.days, tile, only, view.query)
    rows = placemap.places(conn, scope, limit)
    if rows is not None:
        document["places"] = [_marker(row) for row in rows]
    else:  # a tile of one place is that place's marker, not a count of 1
        cells = placemap.counts(conn, scope)
        single = [cell.pop("single") for cell in cells if "single" in cell]
        found = placemap.places(conn, scope, len(single), single) if single else []
        document["places"] = [_marker(row) for row in found or []]
        document["cells"] = [{**cell, "bounds": _bounds(cell["tile"])} for cell in cells if cell["count"] > 1]
    if exported and tile == Tile():  # the detail cells the export holds around the library's places
        every = rows if rows is not None else store.places()
        document["detail"] = basemap.spec(every, "", exported=True).get("cells", {}).get("detail", [])
    return document


def _bounds(tile: str) -> list[float]:
    parsed = Tile.parse(tile)
    assert parsed is not None  # made by `placemap.counts`
    return parsed.bounds()


def _marker(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": row["key"], "name": row["name"], "lat": row["lat"], "lon": row["lon"],
        "family": category_family(row["category"]), "precision": row["precision"], "articles": row["articles"],
        "article": row["article"], "id": row["id"], "title": row["title"],
    }  # fmt: skip


def library_data(site: Site, view: Filter, up: str = "") -> dict[str, Any]:
    """What library.js needs, inlined in the library page: where to fetch the map's data (after the page
    is drawn) and tiles, the offline basemap, article links, the range and its words. In an export,
    files relative to the page (`up`: "" or "../") and no server to ask for a filtered map or an old
    link's place."""
    if site.config.exported:
        urls = {"map": f"{up}library/map.json", "tile": f"{up}library/map/{{tile}}.json", "oldLinks": "",
                "articleLink": f"{up}articles/{{slug}}/index.html", "basemap": {"url": f"{up}basemap"}}  # fmt: skip
    else:
        urls = {"map": MAP_PATH, "tile": f"{MAP_PATH}/{{tile}}", "oldLinks": "/api/places/",
                "articleLink": "/articles/{slug}", "basemap": {"url": "/basemap"}}  # fmt: skip
    words = view.label() if view.days else ""
    return {"tiles": site.config.tiles, **urls, "params": view.params(), **({"words": words} if words else {})}


def time_slider(site: Site, store: Store, view: Filter) -> dict[str, Any] | None:
    """The time slider as the page first shows it (its behaviour, static/timeslider.js, comes on the reader's
    first touch of it): its two handles' ends, step and values, in months from the library's first January,
    by year (by month when the library's dates span four years or less), at `view`'s dates. None without
    dated articles, and in an export (no server to filter)."""
    years = None if site.config.exported else placemap.years(store.conn, site.config.only)
    if years is None:
        return None
    first, span = years[0], (years[1] - years[0] + 1) * 12
    step = 1 if years[1] - years[0] < 4 else 12

    def handle(value: str, end: bool) -> dict[str, Any]:
        low, high = (step - 1, span - 1) if end else (0, span - step)
        year, _, rest = value.partition("-")
        month = int(rest[:2]) - 1 if rest else 11 if end else 0
        at = (int(year) - first) * 12 + month if value else high if end else low
        at += (low - at) % step if end else -(at % step)  # on its steps: to the end (start) of a year that holds it
        at = max(low, min(high, at))
        shown = f"{first + at // 12}" + ("" if step == 12 else f"-{at % 12 + 1:02d}")
        return {"min": low, "max": high, "value": at, "words": say_date(value or shown)}

    return {"first": first, "step": step, "from": handle(view.start, False), "to": handle(view.end, True)}


def export_map(site: Site, write: Callable[[str, bytes], None]) -> None:
    """The unfiltered map of an export: `library/map.json`, and every tile a reader may zoom in to."""
    todo = [Tile()]
    while todo:
        tile = todo.pop()
        built = map_built(site, Filter(), tile)
        body = built.assets[map_path(tile)].body
        write("library/map.json" if tile == Tile() else f"library/map/{tile}.json", body)
        todo.extend(to_cells(body))


def to_cells(body: bytes) -> list[Tile]:
    """The tiles an answer's counts open into."""
    return [tile for cell in json.loads(body).get("cells", []) if (tile := Tile.parse(cell["tile"]))]


# -- /api/places?from=&to=


def filtered_places(site: Site, view: Filter, request: Request) -> Response:
    """The place rows of the articles in range, written row by row as the unfiltered list is; its
    ETag is the revision and the days; the header `Newsmap-Undated-Articles` says how many articles
    the filter left out for having no date."""
    store = site.store()
    first, last = view.days or ("", "")

    def rows() -> Iterator[bytes]:
        conn = site.store().conn
        conn.execute("BEGIN")
        try:
            yield from iter_json_list(site.store().iter_places(view.days))
        finally:
            conn.execute("COMMIT")

    response = Response(rows(), status=200, content_type=JSON)
    response.implicit_sequence_conversion = False  # else werkzeug would read it all to count its length
    response.set_etag(f"library-{store.revision()}-places-{first}-{last}")
    response.headers["Cache-Control"] = "no-cache"
    response.headers[UNDATED_HEADER] = str(store.count("", site.config.only, ()))
    return response.make_conditional(request)
