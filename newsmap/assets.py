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

from flask import Request, Response

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/geo+json",
    "application/javascript",
    "application/vnd.google-earth.kml+xml",
    "image/svg+xml",
)


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
    def make(cls, body: bytes, content_type: str, modified: datetime, **kwargs: object) -> Asset:
        etag = hashlib.sha256(body).hexdigest()[:24]
        gzipped = (
            gzip.compress(body, compresslevel=9, mtime=0)
            if content_type.startswith(COMPRESSIBLE) and len(body) > 512
            else None
        )
        return cls(body, content_type, modified.replace(microsecond=0), etag=etag, gzipped=gzipped, **kwargs)  # type: ignore[arg-type]

    def respond(self, request: Request) -> Response:
        """200 with the best encoding the client takes, or 304 when its copy is current."""
        use_gzip = self.gzipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", ""))
        etag = f"{self.etag}-gz" if use_gzip else self.etag
        headers = {
            **self.headers,
            "Cache-Control": self.cache_control,
            "Last-Modified": self.modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "ETag": f'"{etag}"',
        }
        if self.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if self._not_modified(request):
            return Response(status=304, headers=headers)
        body = self.gzipped if use_gzip else self.body
        response = Response(body, status=200, headers=headers, content_type=self.content_type)
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
        return response

    def _not_modified(self, request: Request) -> bool:
        if request.if_none_match:
            return any(request.if_none_match.contains_weak(tag) for tag in (self.etag, f"{self.etag}-gz"))
        since = request.if_modified_since
        return since is not None and self.modified <= since


@lru_cache(maxsize=256)
def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding value takes gzip (cached: clients send a handful of values)."""
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def file_time(mtime_ns: int) -> datetime:
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC)
