"""newsmap's own HTTP client, for the one request the server makes on an editor's behalf: a web page to import.

Fetching a URL is the dangerous part of importing an article, as the server makes the request
(SSRF). `fetch`:

- accepts only `http`/`https` addresses without a user name or password;
- resolves the host once per hop, refuses the whole host if any of its addresses is private,
  loopback, link-local, multicast, reserved, unspecified or otherwise not global (IPv4 inside
  IPv6 included: mapped, 6to4, Teredo, NAT64), and then connects to that checked address, never
  to a second resolution (DNS rebinding), sending the real `Host` header and, for https, the
  real name as SNI and for certificate verification;
- follows redirects itself, each hop checked again the same way, up to `max_redirects`;
- bounds the whole exchange (DNS included) by one deadline, and the body by `max_bytes`;
- asks only for what can be an article's text (HTML, plain text, Markdown), uncompressed, and
  refuses any other content type before reading the body;
- sends no cookies, no credentials and no proxy headers (`http.client` uses no proxy).

It is built on `http.client` rather than a client library because each of those steps needs a
hook no library offers at once (connect to a checked address while verifying the URL's name, a
deadline over the whole body). Every refusal is a `FetchError` whose message is one line for the
editor; `newsmap.ingest.fetch_url` makes the page an article draft.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from newsmap import __version__

USER_AGENT = f"newsmap/{__version__} (+article import)"
LIMIT_SETTING = "NEWSMAP_MAX_ARTICLE_KB"
ACCEPTED_TYPES = "text/html, text/plain and text/markdown"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_URL_CHARS = 2048
_CHUNK = 64 * 1024
_CONTENT_KINDS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
}
_HOSTNAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_.])?$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Control characters a message must not carry (newsmap.ingest refuses texts that hold them).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class FetchError(ValueError):
    """A page that cannot be fetched, or is refused; the message is one line meant for the editor."""


@dataclass(frozen=True)
class Page:
    """What a server answered at the end of the redirects: its body and what it said the body is."""

    url: str  # the final URL, without fragment
    origin: str  # host[:port], as messages name it
    kind: str  # "html", "text", "markdown", or "" when the server did not say
    charset: str
    body: bytes


def kb(count: int) -> str:
    """A size as messages give it: "12.5 KB"."""
    return f"{round(count / 1000, 1):g} KB"


def one_line(value: str, limit: int = 300) -> str:
    """Untrusted text made fit for a one-line message: no control characters, spaces joined, cut at `limit`."""
    value = " ".join(CONTROL.sub("", value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def fetch(url: str, *, timeout: float, max_bytes: int, allow_private: bool, max_redirects: int = 5) -> Page:
    """The page at an http(s) URL, its redirects followed (see the module's docstring)."""
    deadline = _Deadline(timeout)
    current = url.strip()
    seen: set[str] = set()
    for _ in range(max_redirects + 1):
        target = _Target.parse(current)
        seen.add(target.url)
        answer = _get(target, deadline, max_bytes=max_bytes, allow_private=allow_private)
        if answer.location is None:
            return Page(target.url, target.origin, answer.kind, answer.charset, answer.body)
        current = urljoin(target.url, answer.location.strip())
        if _Target.parse(current).url in seen:  # a refused address or scheme is refused here
            raise FetchError(f"{target.origin} redirects in a loop")
    raise FetchError(f"{_origin_of(url)} redirects more than {max_redirects} times")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    path: str  # request target: path and query, percent-encoded
    origin: str  # host[:port]: the Host header, and what the editor reads in messages
    url: str  # without fragment

    @classmethod
    def parse(cls, url: str) -> _Target:
        if len(url) > MAX_URL_CHARS:
            raise FetchError(f"the address is longer than {MAX_URL_CHARS} characters")
        if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
            raise FetchError("the address holds spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError("this is not a valid web address") from None
        scheme = parts.scheme.lower()
        if not scheme:
            raise FetchError("the address must start with http:// or https://")
        if scheme not in ("http", "https"):
            raise FetchError(f"only http:// and https:// addresses can be imported, not {scheme[:20]}:")
        if parts.username is not None or parts.password is not None:
            raise FetchError("the address must not hold a user name or password")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise FetchError("the address has no host name")
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            literal = True
        except ValueError:
            literal = False
        if not literal:
            try:
                host = host.encode("idna").decode("ascii").lower()
            except UnicodeError:
                raise FetchError("the address has an invalid host name") from None
            if not _HOSTNAME.match(host):
                raise FetchError("the address has an invalid host name")
        default = 443 if scheme == "https" else 80
        port = default if port is None else port
        if port == 0:
            raise FetchError("this is not a valid web address")
        bracketed = f"[{host}]" if ":" in host else host
        authority = bracketed if port == default else f"{bracketed}:{port}"
        path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
        if parts.query:
            path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?")
        return cls(
            scheme=scheme,
            host=host,
            port=port,
            path=path,
            origin=authority,
            url=urlunsplit((scheme, authority, path.split("?", 1)[0], path.partition("?")[2], "")),
        )


def _origin_of(url: str) -> str:
    try:
        return _Target.parse(url).origin
    except FetchError:
        return "the address"


class _Deadline:
    """One time limit for a whole import: DNS, connections, redirects and bodies."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def remaining(self, origin: str) -> float:
        left = self.left()
        if left <= 0:
            raise self.expired(origin)
        return left

    def expired(self, origin: str) -> FetchError:
        return FetchError(f"{origin} did not answer within {self.seconds:g} s")


class _Watchdog:
    """Shuts the socket down when the deadline passes, so no read can outlast it.

    A socket timeout bounds each read, not their sum: a server dribbling a byte now and then
    would hold us forever without this.
    """

    def __init__(self, deadline: _Deadline) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(deadline.left(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                self._shutdown(self._sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, under any TLS layer


@dataclass(frozen=True)
class _Answer:
    location: str | None  # a redirect's Location
    kind: str = ""
    charset: str = ""
    body: bytes = b""


def _resolve(target: _Target, deadline: _Deadline, *, allow_private: bool) -> list[tuple[int, tuple[Any, ...]]]:
    """The checked addresses to connect to, resolved once (a second lookup could answer otherwise)."""
    try:
        literal = ipaddress.ip_address(target.host.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        if not allow_private and _internal(literal):
            raise FetchError(f"{target.origin} is a private or local address: {_SSRF}")
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        sockaddr = (target.host, target.port, 0, 0) if literal.version == 6 else (target.host, target.port)
        return [(family, sockaddr)]

    found: dict[str, Any] = {}

    def lookup() -> None:
        try:
            found["infos"] = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            found["error"] = error

    worker = threading.Thread(target=lookup, name="newsmap-dns", daemon=True)
    worker.start()
    worker.join(deadline.remaining(target.origin))  # getaddrinfo itself has no timeout
    if worker.is_alive():
        raise deadline.expired(target.origin)
    if "error" in found:
        raise FetchError(f"could not reach {target.origin}: {_reason(found['error'])}")
    addresses: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _name, sockaddr in found.get("infos", []):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allow_private and _internal(address):
            raise FetchError(f"{target.origin} points to {address}, a private or local address: {_SSRF}")
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise FetchError(f"could not reach {target.origin}: it has no address")
    return addresses


_SSRF = "the server cannot be used to reach internal hosts"


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a global unicast address, including IPv4 addresses carried inside IPv6 ones."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo:
            embedded.append(address.teredo[1])
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(inner is not None and _internal(inner) for inner in embedded):
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs, for the host name in the URL."""
    return ssl.create_default_context()


def _connect(target: _Target, sockaddr: tuple[Any, ...], deadline: _Deadline, dog: _Watchdog) -> socket.socket:
    """A connection to the checked address; for https, TLS for the URL's host name (SNI, certificate)."""
    sock = socket.create_connection(sockaddr[:2], timeout=deadline.remaining(target.origin))
    dog.watch(sock)
    if target.scheme != "https":
        return sock
    tls = None
    try:
        sock.settimeout(deadline.remaining(target.origin))
        tls = _tls_context().wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
        dog.watch(tls)
        tls.do_handshake()
    except BaseException:
        (tls or sock).close()
        raise
    return tls


def _get(target: _Target, deadline: _Deadline, *, max_bytes: int, allow_private: bool) -> _Answer:
    addresses = _resolve(target, deadline, allow_private=allow_private)
    dog = _Watchdog(deadline)
    connection = http.client.HTTPConnection(target.host, target.port, timeout=deadline.remaining(target.origin))
    try:
        for index, (_family, sockaddr) in enumerate(addresses):
            try:
                connection.sock = _connect(target, sockaddr, deadline, dog)
                break
            except (OSError, FetchError) as error:
                if dog.fired or deadline.left() <= 0 or isinstance(error, TimeoutError):
                    raise deadline.expired(target.origin) from None
                if isinstance(error, FetchError):
                    raise
                if index == len(addresses) - 1:
                    raise FetchError(f"could not reach {target.origin}: {_reason(error)}") from None
        try:
            return _exchange(connection, target, deadline, dog, max_bytes=max_bytes)
        except (OSError, http.client.HTTPException) as error:
            if dog.fired or deadline.left() <= 0 or isinstance(error, TimeoutError):
                raise deadline.expired(target.origin) from None
            raise FetchError(f"{target.origin} sent a broken answer ({_reason(error)})") from None
    finally:
        dog.cancel()
        connection.close()


def _exchange(
    connection: http.client.HTTPConnection, target: _Target, deadline: _Deadline, dog: _Watchdog, *, max_bytes: int
) -> _Answer:
    connection.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", target.origin)
    connection.putheader("User-Agent", USER_AGENT)
    connection.putheader("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9")
    connection.putheader("Accept-Encoding", "identity")
    connection.putheader("Connection", "close")
    connection.endheaders()
    response = connection.getresponse()
    if dog.fired:
        raise deadline.expired(target.origin)
    status = response.status
    if status in REDIRECTS:
        location = response.getheader("Location")
        if not location:
            raise FetchError(f"{target.origin} answered {status} without saying where to go")
        return _Answer(location=location)
    if not 200 <= status < 300:
        raise FetchError(f"{target.origin} answered {status} {one_line(response.reason or '', 60)}".rstrip())
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise FetchError(f"{target.origin} sent {one_line(encoding, 30)}-compressed content, which is not supported")
    lengths = [int(value) for value in re.findall(r"\d+", response.getheader("Content-Length") or "")]
    if lengths and max(lengths) > max_bytes:  # announced too much (the largest, should it say several)
        raise FetchError(
            f"the page at {target.origin} is {kb(max(lengths))}, larger than the {kb(max_bytes)} allowed ({LIMIT_SETTING})"
        )
    mime, charset = _content_type(response.getheader("Content-Type") or "")
    kind = _CONTENT_KINDS.get(mime, "")
    if mime and not kind:
        raise FetchError(
            f"{target.origin} sent {one_line(mime, 60)}, not a web page or text: only {ACCEPTED_TYPES} can be imported"
        )
    body = bytearray()
    while True:
        chunk = response.read(min(_CHUNK, max_bytes + 1 - len(body)))
        if dog.fired:
            raise deadline.expired(target.origin)  # the watchdog cut the body short
        if not chunk:
            break
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(
                f"the page at {target.origin} is larger than the {kb(max_bytes)} allowed ({LIMIT_SETTING})"
            )
    return _Answer(location=None, kind=kind, charset=charset, body=bytes(body))


def _content_type(value: str) -> tuple[str, str]:
    mime, _, parameters = value.partition(";")
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", parameters, re.IGNORECASE)
    return mime.strip().lower(), charset.group(1) if charset else ""


def _reason(error: BaseException) -> str:
    """Why a connection failed, in words (no source paths, no error codes from C files)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error ({error.reason or 'handshake failed'})"
    if isinstance(error, http.client.HTTPException):
        return one_line(type(error).__name__, 60)
    if isinstance(error, OSError) and error.strerror:
        return one_line(error.strerror, 120)
    return one_line(str(error), 120) or type(error).__name__
