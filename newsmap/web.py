"""Routes: every page and download is a prebuilt `Asset` of the current snapshot.

Security headers go on every response; errors never show a traceback: API paths answer JSON,
others a page. A dataset that cannot be loaded gives 503 with its reason and a log line.
"""

from __future__ import annotations

import calendar
from pathlib import Path

import xstatic.pkg.leaflet as leaflet
from flask import Flask, Response, abort, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from newsmap.mapview import LEAFLET_CSS, LEAFLET_JS, OSM_ATTRIBUTION
from newsmap.site import Config, Site

MAX_QUERY_STRING = 2048
JSON_PREFIXES = ("/api/", "/data/", "/healthz", "/basemap")


def vendor_files() -> dict[str, Path]:
    base = Path(leaflet.BASE_DIR)
    files = {LEAFLET_JS: base / "leaflet.js", LEAFLET_CSS: base / "leaflet.css"}
    for image in sorted((base / "images").glob("*.png")):
        files[f"/vendor/leaflet/images/{image.name}"] = image
    return files


def init_app(app: Flask) -> None:
    config = Config(
        data_dir=Path(app.config["DATA_DIR"]),
        seeds_dir=Path(app.config["SEEDS_DIR"]),
        tiles=app.config["TILES"],
        tiles_attribution=app.config.get("TILES_ATTRIBUTION", OSM_ATTRIBUTION),
        max_csv_bytes=_megabytes(app.config.get("MAX_CSV_MB", 10)),
        recheck_seconds=float(app.config.get("RECHECK_SECONDS", 1.0)),
    )
    app.jinja_env.filters["month_year"] = month_year
    site = Site(config, app.jinja_env, Path(app.root_path) / "static", vendor_files())
    app.extensions["newsmap"] = site
    site.snapshot()  # build now: with `gunicorn --preload` the workers share this one build

    def serve(path: str) -> Response:
        snapshot = site.snapshot()
        if snapshot.error:
            abort(503, description=f"The dataset could not be loaded: {snapshot.error}")
        asset = snapshot.assets.get(path)
        if asset is None:
            abort(404)
        response = asset.respond(request)
        if path in snapshot.csp:
            response.headers["Content-Security-Policy"] = snapshot.csp[path]
        return response

    @app.before_request
    def refuse_huge_queries() -> None:
        if len(request.query_string) > MAX_QUERY_STRING:
            abort(414, description=f"The query string is longer than {MAX_QUERY_STRING} bytes.")

    @app.get("/")
    def index() -> Response:
        return serve("/")

    @app.get("/articles/<slug>")
    def article(slug: str) -> Response:
        return serve(f"/articles/{slug}")

    @app.get("/data/locations.csv")
    @app.get("/data/mentions.csv")
    @app.get("/data/locations.geojson")
    @app.get("/data/locations.kml")
    @app.get("/api/places")
    @app.get("/basemap.geojson")
    def data_twin() -> Response:
        return serve(request.path)

    @app.get("/api/places/<place_id>")
    def place(place_id: str) -> Response:
        return serve(f"/api/places/{place_id}")

    @app.get("/healthz")
    def healthz() -> Response:
        snapshot = site.snapshot()
        if snapshot.error:
            return jsonify(status="error", error=snapshot.error), 503  # type: ignore[return-value]
        return serve("/healthz")

    @app.get("/static/<path:name>")
    @app.get("/vendor/<path:name>")
    def static_file(name: str) -> Response:
        asset = site.static_assets.get(request.path)
        if asset is None:
            abort(404)
        return asset.respond(request)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        code = error.code or 500
        message = error.description or error.name
        if code == 404 and request.path.startswith("/api/places/"):
            message = f"No place with id {request.path.rsplit('/', 1)[-1]!r}."
        if request.path.startswith(JSON_PREFIXES):
            return jsonify(error=error.name, status=code, message=message), code
        return render_template("error.html", code=code, name=error.name, message=message), code

    @app.errorhandler(Exception)
    def crash(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("newsmap: unexpected error on %s", request.path)
        if request.path.startswith(JSON_PREFIXES):
            return jsonify(
                error="Internal Server Error", status=500, message="Something went wrong; it has been logged."
            ), 500
        return render_template(
            "error.html", code=500, name="Internal Server Error", message="Something went wrong; it has been logged."
        ), 500

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response


def month_year(value: str) -> str:
    """ "2019-03" -> "March 2019"; anything else as it is."""

    year, _, month = value.partition("-")
    if year.isdigit() and month[:2].isdigit() and 1 <= int(month[:2]) <= 12:
        return f"{calendar.month_name[int(month[:2])]} {year}"
    return value


def _megabytes(value: object) -> int:
    try:
        megabytes = float(str(value))
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise ValueError(f"NEWSMAP_MAX_CSV_MB must be a positive number of megabytes, not {value!r}")
    return int(megabytes * 1_000_000)
