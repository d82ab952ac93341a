"""The web app's composition root: `create_app` with what the serve side must not import itself.

gunicorn loads `newsmap.wsgi:create_app()` (`newsmap.serve.server.APP_SPEC`, so `newsmap serve`
and `make serve`), `newsmap run` calls it, and `app.py` builds on it for `flask --app app`. The
serve side (`newsmap.serve.create_app`) imports neither the geoparser nor the library; here it is
handed them:

- `geoparse`, how an added article is geoparsed: by default the serve side's `GeoparsePool`, child
  processes that hold the geoparser (this process never loads it);
- `lookup`, what the editor asks the gazetteer: by default a `LazyLookup`, which imports
  `newsmap.library.lookup` (and with it the gazetteer) on its first call, so a reader's request
  never pays for it (tests/test_layout.py serves every page and checks that nothing of it is loaded).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from flask import Flask

from newsmap.adding import Geoparse
from newsmap.serve import create_app as serve_app
from newsmap.serve.editing import Lookup


class LazyLookup:
    """`newsmap.library.lookup` behind the serve side's `Lookup`, imported on its first use.

    A plain import inside a method: Python's own module cache makes every later call a dictionary
    lookup, and no module is named in a string.
    """

    def candidates(
        self, names: list[str], lat: float | None = None, lon: float | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        return self.module().candidates(names, lat, lon, limit=limit)

    def search(self, query: str, lat: float | None = None, lon: float | None = None, limit: int = 20) -> dict[str, Any]:
        return self.module().search(query, lat, lon, limit=limit)

    def place_for_key(self, key: str, lat: float | None = None, lon: float | None = None) -> dict[str, Any] | None:
        return self.module().place_for_key(key, lat, lon)

    @staticmethod
    def module() -> ModuleType:
        from newsmap.library import lookup

        return lookup


def create_app(
    test_config: dict | None = None, *, geoparse: Geoparse | None = None, lookup: Lookup | None = None
) -> Flask:
    """The app as newsmap serves it: `newsmap.serve.create_app` given the geoparser's parts (see above)."""
    return serve_app(test_config, geoparse=geoparse, lookup=lookup or LazyLookup())
