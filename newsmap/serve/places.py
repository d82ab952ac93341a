"""Reading routes for a place across the library (a Blueprint): its page, its JSON twin, its downloads.

- `/places/<key>` (`?page=N`, 50 articles a page): every article that names the place, oldest first,
  with the status each gives it, its sentences, a small map and a status timeline;
- `/api/places/<key>`: the same as JSON (the route is `views.place`'s, which also answers old
  `/#<id>` links: a key is tried first, see `place_json`);
- `/places/<key>/mentions.csv`, `.geojson`, `.kml`, `.json`: every mention of it in the library.

`<key>` is the key as `schema.key_slug` writes it ("curated-kant-air-base"); a key no article names
is a 404 that says so. Reads are never rate-limited.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from newsmap.placequeries import place_name
from newsmap.serve.placefiles import respond as download
from newsmap.serve.placepage import known, page_path, place_built
from newsmap.serve.site import Site

bp = Blueprint("places", __name__)


def site() -> Site:
    return current_app.extensions["newsmap"]


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _known(slug: str) -> str:
    """The key the URL names, or a 404 that says no article names it."""
    key = known(site(), slug)
    if key is None:
        abort(404, description=f"No article in the library names a place with the key {slug!r}.")
    return key


def _answer(key: str, twin: bool) -> Response:
    """The page (or its JSON) from the cache; a page past the last redirects to the last."""
    page = _page()
    built = place_built(site(), key, page, twin=twin)
    path = next(iter(built.assets), None)
    if path is None:  # the key's last article went since the lookup
        abort(404, description=f"No article in the library names a place with the key {key!r}.")
    if path != page_path(key, page, api=twin):
        return Response(status=302, headers={"Location": path})
    response = built.assets[path].respond(request)
    if path in built.csp:
        response.headers["Content-Security-Policy"] = built.csp[path]
    return response


@bp.get("/places/<key>")
def place_page(key: str) -> Response:
    return _answer(_known(key), twin=False)


def place_json(slug: str) -> Response | None:
    """`/api/places/<key>`, the page's JSON twin; None when `slug` names no key (then it may be an
    old `/#<id>` link's place id: `views.place` answers that)."""
    found = known(site(), slug)
    return None if found is None else _answer(found, twin=True)


@bp.get("/places/<key>/mentions.csv")
@bp.get("/places/<key>/mentions.geojson")
@bp.get("/places/<key>/mentions.kml")
@bp.get("/places/<key>/mentions.json")
def place_file(key: str) -> Response:
    found = _known(key)
    title = f"{place_name(site().store().conn, found)} across the library"
    return download(site(), found, request.path.rsplit("/", 1)[1], title, request)
