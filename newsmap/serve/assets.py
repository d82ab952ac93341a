"""Responses built once and served many times: bytes, their gzip, an ETag and a date.

Every page, download and vendored file goes through `Asset`, so each is compressed once when
the dataset is loaded (not on every request) and revalidates with 304 Not Modified.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import rcssmin
import rjsmin
import zopfli.gzip
from flask import Request, Response
from werkzeug.http import parse_accept_header

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/geo+json",
    "application/javascript",
    "application/vnd.google-earth.kml+xml",
    "image/svg+xml",
)


def content_etag(body: bytes) -> str:
    """An entity tag from the bytes themselves: the same in every worker and after a restart."""
    return hashlib.sha256(body).hexdigest()[:24]


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    modified: datetime
    headers: dict[str, str] = field(default_factory=dict)
    cache_control: str = "no-cache"  # revalidate every time: the dataset may be rebuilt
    etag: str = ""
    gzipped: bytes | None = None

    @classmethod
    def make(
        cls, body: bytes, content_type: str, modified: datetime, *, thorough: bool = False, **kwargs: object
    ) -> Asset:
        """`thorough`: gzip with zopfli, some 4% smaller and a hundred times slower; for what is
        compressed once per process (our scripts and stylesheets), not for pages built on demand."""
        etag = content_etag(body)
        gzipped = None
        if content_type.startswith(COMPRESSIBLE) and len(body) > 512:
            gzipped = zopfli.gzip.compress(body) if thorough else gzip.compress(body, compresslevel=9, mtime=0)
        return cls(body, content_type, modified.replace(microsecond=0), etag=etag, gzipped=gzipped, **kwargs)  # type: ignore[arg-type]

    def respond(self, request: Request) -> Response:
        """200 with the best encoding the client takes, or 304 when its copy is current.

        The HTTP rules (If-None-Match, If-Modified-Since, weak comparison, what a 304 keeps)
        are werkzeug's own `make_conditional`; the gzip body was made once, in `make`.
        """
        use_gzip = self.gzipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", ""))
        body = self.gzipped if use_gzip else self.body
        response = Response(body, status=200, headers=self.headers, content_type=self.content_type)
        response.headers["Cache-Control"] = self.cache_control
        response.last_modified = self.modified
        response.set_etag(f"{self.etag}-gz" if use_gzip else self.etag)
        if self.gzipped is not None:
            response.vary.add("Accept-Encoding")
        if use_gzip:
            response.content_encoding = "gzip"
        return response.make_conditional(request)


@lru_cache(maxsize=256)
def minified(name: str, body: bytes) -> bytes:
    """Our own scripts and stylesheets without comments and indentation (rjsmin, rcssmin): the files
    stay readable in the repository, and a reader downloads a third less of them. Anything else as is."""
    if name.endswith(".js"):
        return rjsmin.jsmin(body.decode("utf-8")).encode("utf-8")
    if name.endswith(".css"):
        return rcssmin.cssmin(body.decode("utf-8")).encode("utf-8")
    return body


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding value takes gzip, by RFC 9110's rules as werkzeug parses them.

    "gzip;q=0" and "*, gzip;q=0" refuse it; "*" takes it. Cached: clients send a handful of values.
    """
    return parse_accept_header(header).quality("gzip") > 0


def file_time(mtime_ns: int) -> datetime:
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC)
