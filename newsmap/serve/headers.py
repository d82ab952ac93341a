"""Security headers on every response, and error answers that never show a traceback or a path.

No page may be shown in another site's frame (`X-Frame-Options: DENY`, `frame-ancestors 'none'`)
except the one a view marks with `allow_framing()`: an article's embed page, whose own CSP says
which sites may frame it (NEWSMAP_EMBED_ORIGINS).
"""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

JSON_PREFIXES = ("/api/", "/data/", "/healthz", "/basemap", "/articles/", "/oembed")
DEFAULT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SERVER_NAME = "newsmap"  # what the Server header says: no software name or version to look up
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
    ),
}
# Data files and API answers may be used by other sites' pages (no credentials are involved).
OPEN_DATA_PREFIXES = ("/data/", "/api/")


def wants_json(path: str) -> bool:
    """API paths and data files answer errors in JSON; pages (an article's page included) in HTML."""
    if path.startswith(("/articles/", "/collections/")):
        return path.count("/") > 2 and "." in path.rsplit("/", 1)[-1]  # /articles/<slug>/<file>, not .../edit
    return path.startswith(JSON_PREFIXES)


def allow_framing() -> None:
    """Let this request's response be framed: its CSP's `frame-ancestors` (which the view sets) rules
    alone. Without it, an error page or any other answer on the same path stays unframeable."""
    g.newsmap_frameable = True


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith(OPEN_DATA_PREFIXES):
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    if g.get("newsmap_frameable") and response.status_code in (200, 304):
        del response.headers["X-Frame-Options"]  # it has no allow-list: frame-ancestors decides
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # framable by a COEP page too
    response.headers["Server"] = SERVER_NAME
    return response


def error_answer(code: int, name: str, message: str) -> tuple[Response | str, int]:
    if wants_json(request.path):
        return jsonify(error=name, status=code, message=message), code
    return render_template("error.html", code=code, name=name, message=message), code


def init_app(app: Flask) -> None:
    """Register the headers and the error handlers on `app`."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        return error_answer(error.code or 500, error.name, error.description or error.name)

    @app.errorhandler(Exception)
    def crash(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("newsmap: unexpected error on %s", request.path)
        return error_answer(500, "Internal Server Error", "Something went wrong; it has been logged.")

    app.after_request(add_security_headers)
