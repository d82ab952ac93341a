"""The newsmap web app, as the design card places it: `flask --app app run`, or `make run`.

A composition root: the app of `newsmap.wsgi` (the serve side given the geoparser's parts), plus
the build commands for Flask's command line (`flask --app app build-data|validate-data`). The
app factory lives in the package so that an installed newsmap (`pip install .`, then `newsmap
serve`) has it too; this file keeps the card's top level.
"""

from __future__ import annotations

from flask import Flask

from newsmap import wsgi
from newsmap.adding import Geoparse
from newsmap.cli import build_command, validate_command
from newsmap.serve.editing import Lookup


def create_app(
    test_config: dict | None = None, *, geoparse: Geoparse | None = None, lookup: Lookup | None = None
) -> Flask:
    """`newsmap.wsgi.create_app` (same arguments), with `build-data` and `validate-data` mounted."""
    app = wsgi.create_app(test_config, geoparse=geoparse, lookup=lookup)
    app.cli.add_command(build_command, "build-data")
    app.cli.add_command(validate_command, "validate-data")
    return app


__all__ = ["create_app"]

if __name__ == "__main__":
    from newsmap.settings import Settings

    settings = Settings.from_env()
    create_app().run(host=settings.host, port=settings.port)
