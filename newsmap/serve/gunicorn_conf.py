"""gunicorn's settings for `newsmap serve` (loaded with `-c python:newsmap.serve.gunicorn_conf`).

- **gevent workers**: each connection is a greenlet, so clients that send their request a byte
  at a time (slowloris) hold no thread; 2 workers x 4,000 connections (2,000 slow clients leave
  room for everyone else: bench/hostile.py), the app loaded once before forking. For the open
  internet, put a buffering reverse proxy in front (README).
- **bodies** (`newsmap.serve.bodies`): the app bounds their size and, through the socket's
  timeout, the time they take to arrive; after the answer, `post_request` reads at most 64 KB or
  one second of what is left of a body, and otherwise closes the connection.
- **gunicorn's own answers** (400, 414, 431 for malformed or oversized requests, written
  before the app sees the request) carry the app's security headers too, and no response
  names the server software.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports ssl or threading: the app is loaded in this process (preload)

import html  # noqa: E402
import resource  # noqa: E402
import textwrap  # noqa: E402

import gunicorn.http.wsgi  # noqa: E402
import gunicorn.util  # noqa: E402

from newsmap.serve.bodies import finish_body  # noqa: E402
from newsmap.serve.headers import DEFAULT_CSP, SECURITY_HEADERS, SERVER_NAME  # noqa: E402

worker_class = "gevent"
workers = 2
worker_connections = 4000
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


def open_files_for_connections(wanted: int) -> None:
    """Let the process hold a socket for every connection it accepts (the soft limit is often 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


open_files_for_connections(worker_connections + 256)


def post_request(worker, req, environ, resp) -> None:  # gunicorn's hook
    """Close the connection rather than read a refused body to its end (`bodies.finish_body`)."""
    if not finish_body(getattr(req, "body", None), environ.get("gunicorn.socket")):
        req.must_close = True


gunicorn.util.write_error = write_error
gunicorn.http.wsgi.SERVER = SERVER_NAME  # "Server: newsmap" instead of the software and its version


def pre_fork(server, worker) -> None:
    """Let greenlets the app started while loading (e.g. an in-memory rate limiter's expiry timer) finish in the master.

    With the app preloaded and gevent patched in the master, such a greenlet would otherwise be
    copied into each worker half-run, and die there with a KeyError in threading's bookkeeping.
    """
    import gevent

    gevent.sleep(0.05)
