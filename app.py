"""The newsmap web app, as the design card places it: `flask --app app run`, or `make run`.

The app factory lives in the package (`newsmap.serve.create_app`) so that an installed newsmap
(`pip install .`, then `newsmap serve`) has it too; this file keeps the card's top level.
"""

from __future__ import annotations

from newsmap.serve import create_app

__all__ = ["create_app"]

if __name__ == "__main__":
    from newsmap.settings import Settings

    settings = Settings.from_env()
    create_app().run(host=settings.host, port=settings.port)
