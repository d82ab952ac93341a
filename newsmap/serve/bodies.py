"""Request bodies: how big each may be, how long it may take to arrive, and JSON that cannot hurt.

Anyone may send a request, so a body is refused before it costs anything:

- **Size.** Only an editor adding an article (`POST /new`, `POST /api/articles`) may send a large
  body: the article limit (`NEWSMAP_MAX_ARTICLE_KB`) times what a page's markup, JSON escapes or
  URL-encoding may add to it. Sign-in gets `SIGN_IN_BODY`, every other request `SMALL_BODY`. A
  `Content-Length` over the limit is answered 413 before a byte of the body is read; a chunked
  body is cut off (413) as it streams past the limit (werkzeug's `max_content_length`).
- **Memory, not disk.** Uploads are parsed into memory (they are bounded by the limit above), so
  no request, least of all an anonymous one, makes werkzeug spool a temporary file.
- **Time.** Under gunicorn, reading a body times out after `BODY_IDLE` seconds of silence or a
  total of `BODY_TOTAL` (`ARTICLE_BODY_TOTAL` for articles): 408, and the connection is closed.
  A client sending its body a byte a second costs one greenlet for a few seconds, not the site.
- **JSON.** Parsed with a depth limit: a deeply nested body is a 400 with a message, never a
  `RecursionError`.

After the answer, gunicorn's `post_request` hook (`finish_body`) reads what is left of a body for
at most 64 KB or a second, and otherwise closes the connection: a refused 300 MB upload is not
drained to its end.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, abort, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout

SMALL_BODY = 64 * 1024  # any form or JSON change: a correction, a note, a new mention
SIGN_IN_BODY = 16 * 1024  # a name, a password (at most 1,024 characters), a CSRF token
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields of the article form
JSON_ESCAPE = 6  # a character may become "\\u00e9" in JSON
HTML_ALLOWANCE = 4  # an uploaded or fetched file may be this many times the text limit (its text is then checked)
BODY_IDLE = 5.0  # seconds a client may go silent while sending a body
BODY_TOTAL = 10.0  # seconds a small body may take to arrive
ARTICLE_BODY_TOTAL = 60.0  # ...and an article (3 MB at 50 KB/s)
JSON_DEPTH = 32  # nesting of a JSON body: newsmap's own bodies use 2
ARTICLE_ENDPOINTS = frozenset({"writes.new_submit", "writes.api_add"})
SIGN_IN_ENDPOINTS = frozenset({"auth.login", "auth.logout"})
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 1.0


def article_body_limit(max_article_kb: float) -> int:
    """The largest body that can carry an article of `max_article_kb` KB of text, in any form."""
    text = int(max_article_kb * 1000)
    return text * max(HTML_ALLOWANCE, JSON_ESCAPE) + FORM_OVERHEAD


def body_limit(endpoint: str | None, editor: Callable[[], str | None]) -> int:
    """The limit for a request to `endpoint`; `editor` is asked only where the answer matters."""
    if endpoint in ARTICLE_ENDPOINTS and editor() is not None:
        return article_body_limit(float(current_app.config["MAX_ARTICLE_KB"]))
    return SIGN_IN_BODY if endpoint in SIGN_IN_ENDPOINTS else SMALL_BODY


class NewsmapRequest(Request):
    """Flask's request, with uploads kept in memory (a body is bounded before it is parsed)."""

    def _get_file_stream(  # type: ignore[override]
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> io.BytesIO:
        return io.BytesIO()


def limit_this_body() -> None:
    """Before anything reads the body: set this request's limit, and refuse a declared length over it."""
    from newsmap.serve.auth import current_editor  # auth imports this module's limits

    limit = body_limit(request.endpoint, current_editor)
    request.max_content_length = limit + 1  # see GuardedInput: it refuses that byte
    request.max_form_memory_size = limit
    guarded = request.environ.get("wsgi.input")
    if isinstance(guarded, GuardedInput):
        guarded.limit = limit
    length = request.content_length
    if length is not None and length > limit:
        what = "an article" if request.endpoint in ARTICLE_ENDPOINTS else "this request"
        raise RequestEntityTooLarge(
            f"The body is {length:,} bytes; {what} may send at most {limit:,}."
            + (" Sign in as an editor to add articles." if request.endpoint in ARTICLE_ENDPOINTS else "")
        )


def _depth_ok(value: Any, limit: int) -> bool:
    """Whether `value` nests at most `limit` levels (iteratively: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def json_body() -> Any:
    """The request's JSON, or a 400 that says what is wrong with it (never a 500)."""
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw)
    except RecursionError:
        abort(400, description=f"The JSON body is nested too deeply: at most {JSON_DEPTH} levels.")
    except (ValueError, UnicodeDecodeError) as error:
        abort(400, description=f"The body is not valid JSON ({error}).")
    if not _depth_ok(value, JSON_DEPTH):
        abort(400, description=f"The JSON body is nested too deeply: at most {JSON_DEPTH} levels.")
    return value


class GuardedInput:
    """`wsgi.input` that stops a body at its limit and, under gunicorn, when it arrives too slowly.

    - `limit` (set per request by `limit_this_body`): reading byte `limit + 1` raises 413. Werkzeug
      alone stops a chunked body at its maximum without a word (its stream just ends there), so the
      app sees werkzeug a limit one byte higher and this stream refuses that byte.
    - `sock` (gunicorn's): before each read the connection socket's timeout is set to `idle` or
      the time left, whichever is less (gevent sockets honour it), and the read as a whole runs
      under a gevent Timeout of the time left (one read may wait on many small packets); the
      socket is put back afterwards, so gunicorn's keep-alive handling is unchanged. No socket
      (Flask's development server): no deadline.
    """

    def __init__(self, stream: Any, sock: socket.socket | None, idle: float, deadline: float) -> None:
        self._stream, self._sock, self._idle, self._deadline = stream, sock, idle, deadline
        self.limit: int | None = None
        self._read = 0

    def _counted(self, data: Any) -> Any:
        self._read += len(data) if isinstance(data, bytes) else sum(map(len, data))
        if self.limit is not None and self._read > self.limit:
            raise RequestEntityTooLarge(f"The body is larger than the {self.limit:,} bytes this request may send.")
        return data

    def _call(self, method: str, *args: Any) -> Any:
        if self._sock is None:
            return self._counted(getattr(self._stream, method)(*args))
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimeout("The request body took too long to arrive.")
        from gevent import Timeout  # gunicorn's gevent worker: one read may span many recv() calls

        before = self._sock.gettimeout()
        self._sock.settimeout(min(self._idle, remaining))
        try:
            with Timeout(remaining, RequestTimeout("The request body took too long to arrive.")):
                return self._counted(getattr(self._stream, method)(*args))
        except TimeoutError:
            raise RequestTimeout("The request body stopped arriving: send it again.") from None
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(before)

    def read(self, size: int | None = None) -> bytes:
        return self._call("read", size) if size is not None else self._call("read")

    def readline(self, size: int | None = None) -> bytes:
        return self._call("readline", size) if size is not None else self._call("readline")

    def readlines(self, hint: int | None = None) -> list[bytes]:
        return self._call("readlines", hint) if hint is not None else self._call("readlines")

    def __iter__(self) -> Iterable[bytes]:
        return iter(self.readline, b"")


class GuardedBodies:
    """WSGI middleware: every request body is read through a `GuardedInput`."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sock = environ.get("gunicorn.socket")
        if sock is not None and not hasattr(sock, "settimeout"):
            sock = None
        article = environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in ("/new", "/api/articles")
        total = ARTICLE_BODY_TOTAL if article else BODY_TOTAL
        environ["wsgi.input"] = GuardedInput(environ["wsgi.input"], sock, BODY_IDLE, time.monotonic() + total)
        return self.app(environ, start_response)


def finish_body(body: Any, sock: Any) -> bool:
    """Read what is left of a request body, at most DRAIN_BYTES for DRAIN_SECONDS; whether it ended.

    gunicorn's gevent worker would otherwise read a refused body to its end before the next request.
    """
    if body is None or sock is None:
        return True
    before = sock.gettimeout()
    deadline = time.monotonic() + DRAIN_SECONDS
    drained = 0
    try:
        while drained < DRAIN_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            sock.settimeout(remaining)
            data = body.read(8192)
            if not data:
                return True
            drained += len(data)
        return False
    except (OSError, ValueError):
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(before)


def init_app(app: Flask) -> None:
    """Bodies bounded in size (first of the app's before-request hooks) and, under gunicorn, in time."""
    app.request_class = NewsmapRequest
    app.before_request_funcs.setdefault(None, []).insert(0, limit_this_body)
    app.wsgi_app = GuardedBodies(app.wsgi_app)  # type: ignore[method-assign]
