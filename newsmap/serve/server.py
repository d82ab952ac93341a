"""How newsmap is served in production: one gunicorn command line, used by `newsmap serve`,
`make serve`, the benchmarks and the tests alike."""

from __future__ import annotations

import sys

APP_SPEC = "newsmap.wsgi:create_app()"  # the composition root (newsmap/wsgi.py)


def gunicorn_argv(host: str, port: int, app_spec: str = APP_SPEC) -> list[str]:
    """gunicorn with newsmap's settings (`gunicorn_conf`: gevent workers, the app loaded once).

    Extra gunicorn options come from GUNICORN_CMD_ARGS, which gunicorn reads itself.
    """
    return [
        sys.executable, "-m", "gunicorn", "--config", "python:newsmap.serve.gunicorn_conf",
        "--bind", f"{host}:{port}", app_spec,
    ]  # fmt: skip
