"""The serve side: the Flask app that shows the dataset (never the geoparser: see tests/test_layout.py).

`create_app` is the app factory of Flask's tutorial: settings from the environment
(`newsmap.settings`), then `test_config`.
"""

from __future__ import annotations

import calendar
from pathlib import Path

import xstatic.pkg.leaflet as leaflet
from flask import Flask

from newsmap.settings import Settings, bundled


def vendor_files() -> dict[str, Path]:
    """Leaflet's files from the xstatic-leaflet package, under the URLs the map asks for."""
    from newsmap.serve.mapview import LEAFLET_CSS, LEAFLET_JS

    base = Path(leaflet.BASE_DIR)
    files = {LEAFLET_JS: base / "leaflet.js", LEAFLET_CSS: base / "leaflet.css"}
    for image in sorted((base / "images").glob("*.png")):
        files[f"/vendor/leaflet/images/{image.name}"] = image
    return files


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


def create_app(test_config: dict | None = None) -> Flask:
    """The app: configuration from the environment, then `test_config`; the snapshot built at once."""
    from newsmap.cli import build_command, validate_command
    from newsmap.serve import headers, views
    from newsmap.serve.site import Config, Site

    app = Flask(
        __name__, static_folder=None, template_folder=str(bundled("templates"))
    )  # static files are served, compressed, by views
    settings = Settings.from_env()
    app.config.from_mapping(
        DATA_DIR=str(settings.data_dir),
        HOME_ARTICLE=settings.home_article,
        TILES=settings.tiles,
        TILES_ATTRIBUTION=settings.tiles_attribution,
        MAX_CSV_MB=settings.max_csv_mb,
        RECHECK_SECONDS=settings.recheck_seconds,
    )
    if test_config:
        app.config.update(test_config)
    config = Config(
        data_dir=Path(app.config["DATA_DIR"]),
        tiles=app.config["TILES"],
        tiles_attribution=app.config["TILES_ATTRIBUTION"],
        max_csv_bytes=_megabytes(app.config["MAX_CSV_MB"]),
        recheck_seconds=float(app.config["RECHECK_SECONDS"]),
        home_article=app.config["HOME_ARTICLE"],
    )
    app.jinja_env.filters["month_year"] = month_year
    site = Site(config, app.jinja_env, bundled("static"), vendor_files())
    app.extensions["newsmap"] = site
    site.snapshot()  # build now: with `gunicorn --preload` the workers share this one build
    app.register_blueprint(views.bp)
    headers.init_app(app)
    app.cli.add_command(build_command, "build-data")
    app.cli.add_command(validate_command, "validate-data")
    return app
