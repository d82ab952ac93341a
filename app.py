"""The newsmap web app: `flask --app app run`, or `make run`."""

from __future__ import annotations

import os

from flask import Flask

from newsmap.cli import build_command, data_dir_default, seeds_dir_default, validate_command
from newsmap.mapview import OSM_ATTRIBUTION, OSM_TILES


def create_app(test_config: dict | None = None) -> Flask:
    """App factory (as in Flask's tutorial): configuration from the environment, then `test_config`."""
    app = Flask(__name__, static_folder=None)  # static files are served, compressed, by newsmap.web
    app.config.from_mapping(
        DATA_DIR=str(data_dir_default()),
        SEEDS_DIR=str(seeds_dir_default()),
        TILES=os.environ.get("NEWSMAP_TILES") or OSM_TILES,
        TILES_ATTRIBUTION=os.environ.get("NEWSMAP_TILES_ATTRIBUTION") or OSM_ATTRIBUTION,
        MAX_CSV_MB=os.environ.get("NEWSMAP_MAX_CSV_MB", "10"),
        RECHECK_SECONDS=os.environ.get("NEWSMAP_RECHECK_SECONDS", "1"),
    )
    if test_config:
        app.config.update(test_config)

    from newsmap import web

    web.init_app(app)
    app.cli.add_command(build_command, "build-data")
    app.cli.add_command(validate_command, "validate-data")
    return app


if __name__ == "__main__":
    create_app().run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
