"""Reading routes (a Blueprint): every page and download is a built `Asset` from the site's cache.

The database cannot be read -> 503 with the reason (never a server path); an unknown article
or place -> 404 that names it (JSON on API paths).
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request

from newsmap.dates import DateError
from newsmap.placemap import Tile
from newsmap.serve import places
from newsmap.serve.basemap import cell_asset
from newsmap.serve.headers import error_answer
from newsmap.serve.librarymap import Filter, filtered_places, map_built, map_path
from newsmap.serve.site import Built, Site, Unavailable

MAX_QUERY_STRING = 2048
CELL_NUMBER = re.compile(r"0|-?[1-9][0-9]{0,2}")  # one spelling per cell: no "-0", no leading zeros
ARTICLE_FILES = (
    "locations.csv", "mentions.csv", "locations.geojson", "locations.kml", "basemap.geojson",
    "corrections.csv", "corrections.json",
)  # fmt: skip

bp = Blueprint("newsmap", __name__)


def site() -> Site:
    return current_app.extensions["newsmap"]


def respond(built: Built | None, path: str, missing: str = "") -> Response:
    asset = built.assets.get(path) if built is not None else None
    if asset is None:
        abort(404, description=missing or None)
    response = asset.respond(request)
    if path in built.csp:  # type: ignore[union-attr]
        response.headers["Content-Security-Policy"] = built.csp[path]  # type: ignore[union-attr]
    return response


@bp.app_errorhandler(Unavailable)
def unavailable(error: Unavailable) -> tuple[Response | str, int]:
    return error_answer(503, "Service Unavailable", f"The library could not be read: {error}")


@bp.before_app_request
def refuse_huge_queries() -> None:
    if len(request.query_string) > MAX_QUERY_STRING:
        abort(414, description=f"The query string is longer than {MAX_QUERY_STRING} bytes.")


def library_filter(query: bool = True) -> Filter:
    """`?from=&to=` (and `q`) of this request; a bad date, or `from` after `to`, is a 400 saying which."""
    try:
        return Filter.read(request.args, query)
    except DateError as error:
        abort(400, description=f"The date filter cannot be used: {error} (e.g. ?from=2019&to=2020-06).")


@bp.get("/")
def index() -> Response:
    """The library (or the one article NEWSMAP_HOME_ARTICLE names), filtered by `?from=&to=` and `?q=`."""
    home = site().home_slug()
    if home:
        return respond(site().article(home), f"/articles/{home}")
    page = request.args.get("page", "1")
    return respond(site().library(library_filter(), int(page) if page.isdigit() else 1), "/")


@bp.get("/api/library/map")
@bp.get("/api/library/map/<int:z>/<int:x>/<int:y>")
def library_map(z: int = 0, x: int = 0, y: int = 0) -> Response:
    """The library map's data (`librarymap`): every place of the articles in range, or counts of tiles."""
    tile = Tile.parse(f"{z}/{x}/{y}")
    if tile is None:
        abort(404, description=f"No map tile {z}/{x}/{y}: at level z, x and y are 0 to 2^z - 1 (z up to 24).")
    return respond(map_built(site(), library_filter(), tile), map_path(tile))


@bp.get("/articles")
@bp.get("/articles/")
def articles() -> Response:
    """The library is at `/` (its data twin at /api/articles)."""
    return redirect("/", code=308)


@bp.get("/articles/<slug>")
def article(slug: str) -> Response:
    return respond(site().article(slug), f"/articles/{slug}", f"No article {slug!r}.")


@bp.get("/articles/<slug>/<name>")
def article_file(slug: str, name: str) -> Response:
    if name not in ARTICLE_FILES:
        abort(404)
    path = f"/articles/{slug}/{name}"
    if name == "locations.csv" and request.args.get("bom") == "1":
        path += "?bom=1"
    return respond(site().article(slug), path, f"No article {slug!r}.")


@bp.get("/api/articles/<slug>")
@bp.get("/api/articles/<slug>/places")
@bp.get("/api/articles/<slug>/corrections")
def article_api(slug: str) -> Response:
    return respond(site().article(slug), request.path, f"No article {slug!r}.")


@bp.get("/api/articles/<slug>/places/<place_id>")
def article_place(slug: str, place_id: str) -> Response:
    return respond(site().article(slug), request.path, f"No place with id {place_id!r} in article {slug!r}.")


@bp.get("/api/places/<place_id>")
def place(place_id: str) -> Response:
    """A place across the library (its key, as `/places/<key>` writes it: the page's JSON twin), or the
    place behind an old `/#<id>` link, made when `/` was the only article's page: the home article's
    place, else the earliest-added article's with that id."""
    across = places.place_json(place_id)
    if across is not None:
        return across
    home = site().home_slug()
    store = site().store()
    slug = home if home and store.places_with_id(home, place_id) else store.first_with_place(place_id)
    if slug is None:
        abort(404, description=f"No place with id {place_id!r}.")
    return respond(site().article(slug), f"/api/articles/{slug}/places/{place_id}", f"No place with id {place_id!r}.")


@bp.get("/data/locations.csv")
@bp.get("/data/mentions.csv")
@bp.get("/data/locations.geojson")
@bp.get("/data/locations.kml")
@bp.get("/api/places")
def whole_library() -> Response:
    """The whole library's rows, streamed (they grow with the library); `/api/places?from=&to=`, those
    of the articles published in range."""
    if request.path == "/api/places" and (view := library_filter(query=False)).days is not None:
        return filtered_places(site(), view, request)
    return site().stream(request.path, request)


@bp.get("/feed.atom")
def feed() -> Response:
    """The library's Atom feed (new articles), with absolute links to where it was asked for."""
    return respond(site().feed(request.host_url.rstrip("/")), "/feed.atom")


@bp.get("/api/articles")
def library_index() -> Response:
    return respond(site().library_index(), request.path)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        return jsonify(status="ok", **site().health())
    except Unavailable as error:
        return jsonify(status="error", error=str(error)), 503  # type: ignore[return-value]


@bp.get("/basemap/<level>/<x>/<y>.json")
def basemap_cell(level: str, x: str, y: str) -> Response:
    """One cell of the offline basemap (the same for every article: built once, gzipped, ETag)."""
    asset = cell_asset(level, int(x), int(y)) if CELL_NUMBER.fullmatch(x) and CELL_NUMBER.fullmatch(y) else None
    if asset is None:
        abort(404, description=f"No basemap cell {level}/{x}/{y}: levels are world, region and detail.")
    return asset.respond(request)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where browsers look for it by default (a 404 there fills server logs and
    consoles): newsmap's own small file, no external asset."""
    return site().static_assets["/static/favicon.ico"].respond(request)


@bp.get("/static/<path:name>")
@bp.get("/vendor/<path:name>")
def static_file(name: str) -> Response:
    asset = site().static_assets.get(request.path)
    if asset is None:
        abort(404)
    return asset.respond(request)
