"""gunicorn's settings for `newsmap serve` (loaded with `-c python:newsmap.serve.gunicorn_conf`).

- **gevent workers**: each connection is a greenlet, so clients that send their request a byte
  at a time (slowloris) hold no thread; 2 workers x 1000 connections, the app loaded once
  before forking. For the open internet, put a buffering reverse proxy in front (README).
- **gunicorn's own answers** (400, 414, 431 for malformed or oversized requests, written
  before the app sees the request) carry the app's security headers too, and no response
  names the server software.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports ssl or threading: the app is loaded in this process (preload)

import html  # noqa: E402
import textwrap  # noqa: E402

import gunicorn.http.wsgi  # noqa: E402
import gunicorn.util  # noqa: E402

from newsmap.serve.headers import DEFAULT_CSP, SECURITY_HEADERS, SERVER_NAME  # noqa: E402

worker_class = "gevent"
workers = 2
worker_connections = 1000
preload_app = True
keepalive = 5  # seconds an idle keep-alive connection is kept
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 10
accesslog = None
control_socket_disable = True  # gunicorn's control socket is one per user: two servers would share it


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:  # gunicorn.util.write_error's signature
    """gunicorn.util.write_error with the app's headers: the same page, safe to show in a browser."""
    body = textwrap.dedent(
        """\
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>%(reason)s</title></head>
        <body><h1>%(status)s %(reason)s</h1><p>%(mesg)s</p></body></html>
        """
    ) % {"status": status_int, "reason": html.escape(reason), "mesg": html.escape(mesg)}
    headers = {
        "Connection": "close",
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(body.encode("utf-8"))),
        "Content-Security-Policy": DEFAULT_CSP,
        "Server": SERVER_NAME,
        **SECURITY_HEADERS,
    }
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body.encode("utf-8"))


gunicorn.util.write_error = write_error
gunicorn.http.wsgi.SERVER = SERVER_NAME  # "Server: newsmap" instead of the software and its version


def pre_fork(server, worker) -> None:
    """Let greenlets the app started while loading (the rate limiter's expiry timer) finish in the master.

    With the app preloaded and gevent patched in the master, such a greenlet would otherwise be
    copied into each worker half-run, and die there with a KeyError in threading's bookkeeping.
    """
    import gevent

    gevent.sleep(0.05)
