"""Routes: every page and download is a prebuilt `Asset` of the current snapshot (a Blueprint).

A dataset that cannot be loaded gives 503 with its reason and a log line; an unknown place
answers a JSON 404 that names it.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request

from newsmap.serve.site import Site

MAX_QUERY_STRING = 2048

bp = Blueprint("newsmap", __name__)


def site() -> Site:
    return current_app.extensions["newsmap"]


def serve(path: str, missing: str = "") -> Response:
    snapshot = site().snapshot()
    if snapshot.error:
        abort(503, description=f"The dataset could not be loaded: {snapshot.error}")
    asset = snapshot.assets.get(path)
    if asset is None:
        abort(404, description=missing or None)
    response = asset.respond(request)
    if path in snapshot.csp:
        response.headers["Content-Security-Policy"] = snapshot.csp[path]
    return response


@bp.before_app_request
def refuse_huge_queries() -> None:
    if len(request.query_string) > MAX_QUERY_STRING:
        abort(414, description=f"The query string is longer than {MAX_QUERY_STRING} bytes.")


@bp.get("/")
def index() -> Response:
    return serve("/")


@bp.get("/articles/<slug>")
def article(slug: str) -> Response:
    return serve(f"/articles/{slug}", f"No article {slug!r}.")


@bp.get("/articles/<slug>/basemap.geojson")
@bp.get("/data/locations.csv")
@bp.get("/data/mentions.csv")
@bp.get("/data/locations.geojson")
@bp.get("/data/locations.kml")
@bp.get("/api/places")
@bp.get("/api/articles")
@bp.get("/basemap.geojson")
def data_twin(slug: str = "") -> Response:
    return serve(request.path)


@bp.get("/api/articles/<slug>/places")
def article_places(slug: str) -> Response:
    return serve(request.path, f"No article {slug!r}.")


@bp.get("/api/articles/<slug>/places/<place_id>")
def article_place(slug: str, place_id: str) -> Response:
    return serve(request.path, f"No place with id {place_id!r} in article {slug!r}.")


@bp.get("/api/places/<place_id>")
def place(place_id: str) -> Response:
    """A place of the home article (the URL predates articles having pages of their own)."""
    return serve(request.path, f"No place with id {place_id!r}.")


@bp.get("/healthz")
def healthz() -> Response:
    snapshot = site().snapshot()
    if snapshot.error:
        return jsonify(status="error", error=snapshot.error), 503  # type: ignore[return-value]
    return serve("/healthz")


@bp.get("/static/<path:name>")
@bp.get("/vendor/<path:name>")
def static_file(name: str) -> Response:
    asset = site().static_assets.get(request.path)
    if asset is None:
        abort(404)
    return asset.respond(request)
