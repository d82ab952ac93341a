"""The real app plus the benchmarks' baselines, in one WSGI app: `bench.baseline_app:application`.

Baselines must be served by the same server process as the app (same gunicorn, same
workers), or a ratio would compare two servers instead of two responses. So this wraps
`create_app()` and mounts the folder named by `NEWSMAP_BENCH_STATIC` at `/bench/` with
werkzeug's `SharedDataMiddleware`: every other path reaches the app untouched.

A file with a `<name>.gz` sibling is sent gzipped to clients that accept it, as the app sends
its own pages; the bare and folium baseline pages would otherwise weigh more than they need to.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware

from newsmap.serve import create_app

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def precompressed(static: WSGIApp, folder: Path) -> WSGIApp:
    """Serve `<path>.gz` with `Content-Encoding: gzip` when it exists and the client takes gzip."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        name = environ.get("PATH_INFO", "").lstrip("/")
        packed = folder / f"{name}.gz" if name and ".." not in name else None
        if packed is not None and packed.is_file() and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = packed.read_bytes()
            start_response(
                "200 OK",
                [
                    ("Content-Type", mimetypes.guess_type(name)[0] or "application/octet-stream"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", str(len(body))),
                    ("Vary", "Accept-Encoding"),
                    ("Cache-Control", "no-cache"),
                ],
            )
            return [body]
        return static(environ, start_response)

    return app


def make_application() -> WSGIApp:
    flask_app = create_app()
    folder = os.environ.get("NEWSMAP_BENCH_STATIC")
    if not folder:
        return flask_app
    static = SharedDataMiddleware(NotFound(), {"/": folder}, cache=True)
    mounts: dict[str, WSGIApp] = {"/bench": precompressed(static, Path(folder))}
    return DispatcherMiddleware(flask_app, mounts)  # type: ignore[arg-type]


application = make_application()
