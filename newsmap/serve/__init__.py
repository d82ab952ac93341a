"""The serve side: the Flask app that shows the dataset (never the geoparser: see tests/test_layout.py).

`create_app` is the app factory of Flask's tutorial: settings from the environment
(`newsmap.settings`), then `test_config`. What it needs of the geoparser it is given: a
`geoparse` function for added articles and a `Lookup` for the editor's candidates. The
composition roots that give them are `newsmap.wsgi` (gunicorn, `newsmap run`) and `app.py`
(`flask --app app`, which also mounts the build commands); this package imports neither them
nor the command line.
"""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import TYPE_CHECKING

import xstatic.pkg.leaflet as leaflet
from flask import Flask
from markupsafe import Markup

from newsmap.adding import Adding, Geoparse, Limits
from newsmap.geoparse_pool import GeoparsePool
from newsmap.language import is_code, notice
from newsmap.language import name as language_name
from newsmap.schema import category_family
from newsmap.settings import Settings, bundled

if TYPE_CHECKING:
    from newsmap.serve.editing import Lookup


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


def lang_attr(code: str) -> Markup:
    """` lang="ru"` for the article's own words (title, text, quotes) in a language other than the
    page's English; nothing for English (the page's own `lang`) or an unknown one."""
    return Markup(' lang="{}"').format(code) if code and code != "en" and is_code(code) else Markup("")


def create_app(
    test_config: dict | None = None, *, geoparse: Geoparse | None = None, lookup: Lookup | None = None
) -> Flask:
    """The app: configuration from the environment (`newsmap.settings`), then `test_config`.

    `geoparse` is how added articles are geoparsed (`newsmap.adding`); by default a pool of child
    processes with the NEWSMAP_GEOPARSE_TIMEOUT budget, so this process never loads the geoparser.
    `lookup` answers the editor's candidates and gazetteer search; without one those answer 503.
    """
    from newsmap.serve import auth, bodies, collections, editing, embed, headers, places, views, writes
    from newsmap.serve.site import Config, Site

    app = Flask(__name__, static_folder=None, template_folder=str(bundled("templates")))  # static: see views
    settings = Settings.from_env()
    app.config.from_mapping(
        DB=str(settings.db),
        HOME_ARTICLE=settings.home_article,
        TILES=settings.tiles,
        TILES_ATTRIBUTION=settings.tiles_attribution,
        SECRET_KEY=settings.secret_key,
        HTTPS=settings.https,
        PROXIES=settings.proxies,
        WRITE_LIMIT=settings.write_limit,
        EDIT_LIMIT=settings.edit_limit,
        ALLOW_PRIVATE_URLS=settings.allow_private_urls,
        URL_TIMEOUT=settings.url_timeout,
        MAX_ARTICLE_KB=settings.max_article_kb,
        MAX_PLACES=settings.max_places,
        MAX_MENTIONS=settings.max_mentions,
        GEOPARSE_TIMEOUT=settings.geoparse_timeout,
        EMBED_ORIGINS=settings.embed_origins,
    )
    if test_config:
        app.config.update(test_config)
    # The ceiling for any body; `bodies` lowers it per request (Flask's default config holds the key
    # as None, so a setdefault would never apply).
    if not (test_config and "MAX_CONTENT_LENGTH" in test_config):
        app.config["MAX_CONTENT_LENGTH"] = bodies.article_body_limit(float(app.config["MAX_ARTICLE_KB"]))
    config = Config(
        db=Path(app.config["DB"]),
        tiles=app.config["TILES"],
        tiles_attribution=app.config["TILES_ATTRIBUTION"],
        home_article=app.config["HOME_ARTICLE"],
        map_limit=int(app.config.get("LIBRARY_MAP_LIMIT", Config.map_limit)),  # tests gather at a few places
    )
    app.jinja_env.filters["month_year"] = month_year
    app.jinja_env.filters["family"] = category_family
    app.jinja_env.filters["lang_attr"] = lang_attr
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["language_notice"] = notice
    app.extensions["newsmap"] = Site(config, app.jinja_env, bundled("static"), vendor_files())
    limits = Limits(
        article_bytes=int(float(app.config["MAX_ARTICLE_KB"]) * 1000),
        places=int(app.config["MAX_PLACES"]),
        mentions=int(app.config["MAX_MENTIONS"]),
    )
    geoparse = geoparse or GeoparsePool(timeout=float(app.config["GEOPARSE_TIMEOUT"]))
    app.extensions[writes.ADDING] = Adding(geoparse, limits)
    if lookup is not None:
        app.extensions[editing.LOOKUP] = lookup
    app.register_blueprint(views.bp)
    app.register_blueprint(writes.bp)
    app.register_blueprint(editing.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(collections.bp)
    app.register_blueprint(places.bp)
    bodies.init_app(app)  # first: a body is bounded before any other hook may read it
    headers.init_app(app)
    auth.init_app(app)
    auth.exempt_from_limits(app, views.bp)  # reads are never rate-limited: skip the limiter's per-request check
    auth.exempt_from_limits(app, places.bp)
    return app
