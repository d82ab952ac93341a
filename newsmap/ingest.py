"""Untrusted input to an article draft: pasted text, an uploaded file, or a URL.

Everything here refuses what cannot be an article with an `IngestError` whose message is one
line meant for the editor (never a traceback, never a path on the server). The module is pure:
it reads no environment and no Flask state, so the limits come in as arguments (the web layer
takes them from `newsmap.settings.Settings`: `max_article_kb * 1000` bytes,
`allow_private_urls`, `url_timeout`).

Fetching a URL is the dangerous part, as the server makes the request (SSRF). `fetch_url`:

- accepts only `http`/`https` addresses without a user name or password;
- resolves the host once per hop, refuses the whole host if any of its addresses is private,
  loopback, link-local, multicast, reserved, unspecified or otherwise not global (IPv4 inside
  IPv6 included: mapped, 6to4, Teredo, NAT64), and then connects to that checked address, never
  to a second resolution (DNS rebinding), sending the real `Host` header and, for https, the
  real name as SNI and for certificate verification;
- follows redirects itself, each hop checked again the same way, up to `max_redirects`;
- bounds the whole exchange (DNS included) by one deadline, and the body by `max_bytes`;
- sends no cookies, no credentials and no proxy headers (`http.client` uses no proxy).
"""

from __future__ import annotations

import codecs
import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import trafilatura
from trafilatura.utils import decode_file
from trafilatura.xml import xmltotxt

from newsmap import __version__
from newsmap.dates import is_published

USER_AGENT = f"newsmap/{__version__} (+article import)"
LIMIT_SETTING = "NEWSMAP_MAX_ARTICLE_KB"
ADVICE = "paste its text or upload .txt/.md/.html"
ACCEPTED_UPLOADS = ".txt, .md (.markdown) and .html (.htm)"
ACCEPTED_TYPES = "text/html, text/plain and text/markdown"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_URL_CHARS = 2048
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Draft:
    """An article as an editor handed it in, before it has a slug or any places."""

    text: str
    title: str = ""
    publisher: str = ""
    published: str = ""  # "YYYY-MM-DD", "YYYY-MM" or ""
    url: str = ""


class IngestError(ValueError):
    """Input that cannot become an article; the message is one line meant for the editor."""


# --- pasted text -------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def from_text(text: str, *, max_bytes: int) -> Draft:
    """Pasted text, line endings made `\\n` and everything else kept verbatim."""
    return Draft(text=_checked_text(text, max_bytes=max_bytes, what="the text"))


def _checked_text(text: str, *, max_bytes: int, what: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise IngestError(f"{what} is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise IngestError(f"{what} is {_kb(size)}, more than the {_kb(max_bytes)} allowed ({LIMIT_SETTING})")
    if "\x00" in text:
        raise IngestError(f"{what} holds NUL bytes: this looks like a binary file, not a text: {ADVICE}")
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise IngestError(
            f"{what} holds a control character (U+{ord(control.group()):04X} on line {line}): "
            f"this looks like a binary file, not a text: {ADVICE}"
        )
    return text


def _kb(count: int) -> str:
    return f"{round(count / 1000, 1):g} KB"


# --- uploads -----------------------------------------------------------------------------------

_KINDS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}

# Files people upload by mistake, recognised by their first bytes.
_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (a .docx or .odt is one)"),
    (b"PK\x05\x06", "a ZIP archive (a .docx or .odt is one)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Word or Excel document"),
    (b"{\\rtf", "an RTF document"),
)
_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def from_upload(filename: str, data: bytes, *, max_bytes: int) -> Draft:
    """An uploaded `.txt`, `.md` or `.html` file (the kind comes from the name's extension)."""
    name = _display_name(filename)
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    extension = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    kind = _KINDS.get(extension)
    if kind is None:
        raise IngestError(f"{name}: only {ACCEPTED_UPLOADS} files can be uploaded")
    if len(data) > max_bytes:
        raise IngestError(f"{name} is {_kb(len(data))}, more than the {_kb(max_bytes)} allowed ({LIMIT_SETTING})")
    return _draft_from_bytes(data, kind, what=name, charset="", url="", max_bytes=max_bytes)


def _display_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = " ".join(_CONTROL.sub("", base).split())
    if len(base) > 80:
        base = base[:79] + "…"
    return base or "the file"


def _draft_from_bytes(data: bytes, kind: str, *, what: str, charset: str, url: str, max_bytes: int) -> Draft:
    if not data.strip():
        raise IngestError(f"{what} is empty")
    for magic, label in _MAGIC:
        if data.startswith(magic):
            raise IngestError(f"{what}: this looks like {label}, not a text: {ADVICE}")
    unicode_bom = data.startswith(_UTF16_BOMS)
    if b"\x00" in data and not unicode_bom:
        raise IngestError(f"{what} holds NUL bytes: this looks like a binary file, not a text: {ADVICE}")
    if kind == "html":
        return _draft_from_html(_decode_html(data, charset), what=what, url=url, max_bytes=max_bytes)
    advice = "paste its text instead" if url else "save it as UTF-8 and try again"
    text = _decode_text(data, charset, what=what, advice=advice)
    if kind == "markdown":
        return _draft_from_markdown(text, what=what, url=url, max_bytes=max_bytes)
    return Draft(text=_checked_text(text, max_bytes=max_bytes, what=what), url=url)


def _decode_text(data: bytes, charset: str, *, what: str, advice: str) -> str:
    """UTF-8 (a BOM is dropped), or else the charset an HTTP answer declared.

    Bytes that are valid UTF-8 are read as UTF-8 whatever the server says: many servers declare
    iso-8859-1 by default, and text in another charset is almost never valid UTF-8 by chance.
    """
    codec = _codec(charset)
    if codec and codec != "utf-8":
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            raise IngestError(f"{what} is not valid {_one_line(charset, 40)} text, as its server declared") from None
    if data.startswith(_UTF16_BOMS):
        raise IngestError(f"{what} is UTF-16 or UTF-32 text, not UTF-8: {advice}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError(
            f"{what} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}): {advice}"
        ) from None


# Labels that browsers read as windows-1252 (the WHATWG Encoding Standard).
_WINDOWS_1252 = frozenset({"ascii", "us-ascii", "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "cp819"})
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


def _codec(label: str) -> str:
    """The Python codec for a charset label, or "" for a missing or unknown one."""
    label = label.strip().strip("\"'").lower()
    if not label:
        return ""
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        info = codecs.lookup(label)
    except LookupError:
        return ""
    if not getattr(info, "_is_text_encoding", True):
        return ""
    return "utf-8" if info.name in ("utf-8", "utf-8-sig") else info.name


def _decode_html(data: bytes, charset: str) -> str:
    """HTML bytes as text: a BOM, else UTF-8 if valid, else the declared charset (HTTP, then <meta>), else a guess.

    Valid UTF-8 wins over a declaration for the reason `_decode_text` gives.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if data.startswith(_UTF16_BOMS):
        codec = "utf-32" if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else "utf-16"
        return data.decode(codec, "replace")
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("utf-8")
    meta = _META_CHARSET.search(data[:4096])
    for label in (charset, meta.group(1).decode("ascii") if meta else ""):
        codec = _codec(label)
        if codec and not codec.startswith(("utf-16", "utf-32")):  # an ASCII-compatible page cannot be UTF-16
            with contextlib.suppress(LookupError):
                return data.decode(codec, "replace")
    return decode_file(data)  # trafilatura's guess (charset_normalizer), lossy at worst


# --- markdown ----------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_QUOTE = re.compile(r"^ {0,3}(?:> ?)+")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|<])")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
)
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_FRONT_KEYS = {
    "title": "title",
    "publisher": "publisher",
    "source": "publisher",
    "site": "publisher",
    "date": "published",
    "published": "published",
    "url": "url",
    "link": "url",
    "canonical": "url",
}


def _draft_from_markdown(text: str, *, what: str, url: str, max_bytes: int) -> Draft:
    text = _checked_text(text, max_bytes=max_bytes, what=what)
    meta, text = _front_matter(text)
    plain, heading = strip_markdown(text)
    if not plain.strip():
        raise IngestError(f"{what} has no text once its markdown is taken away")
    return Draft(
        text=plain,
        title=meta.get("title") or heading,
        publisher=meta.get("publisher", ""),
        published=_published(meta.get("published", "")),
        url=url or _http_url(meta.get("url", "")),
    )


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---`-fenced `key: value` lines at the very top (YAML front matter, read loosely)."""
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    end = next((number for number, line in enumerate(lines[1:60], start=1) if line.strip() in ("---", "...")), 0)
    if not end:
        return {}, text
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        field = _FRONT_KEYS.get(key.strip().lower())
        if sep and field and field not in meta:
            meta[field] = _one_line(value.strip().strip("\"'"))
    return meta, "\n".join(lines[end + 1 :])


def strip_markdown(text: str) -> tuple[str, str]:
    """Markdown as plain text, lightly, and its first heading.

    Headings lose their `#`, emphasis its `*`/`_`, links keep their text, images go, fenced
    code stays as it is (without the fences), quotes lose their `>`; lists keep their markers.
    """
    out: list[str] = []
    heading = ""
    fence = ""
    for line in text.split("\n"):
        if fence:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            else:
                out.append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            line = _inline(atx.group(1) or "")
            heading = heading or line.strip()
            out.append(line)
            continue
        if _SETEXT.match(line) and out and out[-1].strip():
            heading = heading or out[-1].strip()
            continue
        if _RULE.match(line) or _REFERENCE.match(line):
            out.append("")
            continue
        plain = _inline(_QUOTE.sub("", line))
        if plain.strip() or not line.strip():  # a line that held only an image goes, not its paragraph
            out.append(plain)
    plain = _BLANK_RUN.sub("\n\n", "\n".join(out)).strip("\n")
    return plain, _one_line(heading)


def _inline(line: str) -> str:
    parts: list[str] = []
    position = 0
    for code in _CODE_SPAN.finditer(line):
        parts.append(_inline_plain(line[position : code.start()]))
        parts.append(code.group(2))
        position = code.end()
    parts.append(_inline_plain(line[position:]))
    return "".join(parts)


def _inline_plain(segment: str) -> str:
    escaped: list[str] = []

    def stash(match: re.Match[str]) -> str:
        escaped.append(match.group(1))
        return f"\x00{len(escaped) - 1}\x00"  # the text holds no NUL (checked before)

    segment = _ESCAPE.sub(stash, segment)
    segment = _IMAGE.sub("", segment)
    segment = _LINK.sub(r"\1", segment)
    segment = _AUTOLINK.sub(r"\1", segment)
    for pattern in _EMPHASIS:
        segment = pattern.sub(r"\1", segment)
    return re.sub(r"\x00(\d+)\x00", lambda match: escaped[int(match.group(1))], segment)


# --- HTML --------------------------------------------------------------------------------------

_WHOLE_DOCUMENT = re.compile(r"<!doctype|<html|<body", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4}-\d{2})(-\d{2})?")


def _draft_from_html(html: str, *, what: str, url: str, max_bytes: int) -> Draft:
    if not _WHOLE_DOCUMENT.search(html[:4096]):
        html = f"<html><body>{html}</body></html>"  # trafilatura expects a whole document
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url or None,
            with_metadata=True,
            include_comments=False,
            date_extraction_params=_date_params(),
        )
    except Exception:  # a third-party parser on hostile input: whatever it raises, one line for the editor
        raise IngestError(f"{what} could not be read as HTML") from None
    text = _html_text(document) if document is not None else ""
    if not text.strip():
        raise IngestError(f"{what}: no article text found in this page")
    text = _checked_text(text, max_bytes=max_bytes, what=what)
    return Draft(text=text, **_metadata(document, url))


def _html_text(document: Any) -> str:
    """The extracted text, one block (paragraph, heading, list, quote, table) per paragraph."""
    blocks: list[str] = []
    body = document.body
    if body is not None:
        if body.text and body.text.strip():
            blocks.append(" ".join(body.text.split()))
        for child in body:
            tail, child.tail = child.tail, None  # loose text after a block is a block of its own
            blocks.append(xmltotxt(child, False).strip())
            if tail and tail.strip():
                blocks.append(" ".join(tail.split()))
    blocks = [block for block in blocks if block]
    if not blocks and document.text:
        blocks = [document.text.strip()]
    text = "\n\n".join(blocks).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _BLANK_RUN.sub("\n\n", text))


def _date_params() -> dict[str, Any]:
    # Dates the page declares (meta, JSON-LD, <time>), not any date its text happens to hold.
    return {"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()}


def _metadata(document: Any, url: str) -> dict[str, str]:
    return {
        "title": _one_line(document.title or ""),
        "publisher": _one_line(document.sitename or document.author or ""),
        "published": _published(document.date or ""),
        "url": url or _http_url(document.url or ""),
    }


def metadata_from_html(html: str, url: str = "") -> dict[str, str]:
    """Title, publisher, published date and URL a page declares, to pre-fill a form; "" when absent."""
    try:
        document = trafilatura.extract_metadata(html, default_url=url or None, date_config=_date_params())
    except Exception:  # hostile input: no metadata rather than an error
        document = None
    if document is None:
        return {"title": "", "publisher": "", "published": "", "url": _http_url(url)}
    return _metadata(document, _http_url(url))


def _published(value: str) -> str:
    """A page's or file's own date, as far as it is a real one ("" when it is not: it only pre-fills)."""
    match = _DATE.match(value.strip())
    if not match:
        return ""
    found = match.group(1) + (match.group(2) or "")
    return found if is_published(found) else ""


def _http_url(value: str) -> str:
    value = value.strip()
    return value if re.match(r"^https?://[^\s]+$", value, re.IGNORECASE) else ""


def _one_line(value: str, limit: int = 300) -> str:
    value = " ".join(_CONTROL.sub("", value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- URLs --------------------------------------------------------------------------------------

_CONTENT_KINDS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
}
_HOSTNAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_.])?$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def fetch_url(url: str, *, timeout: float, max_bytes: int, allow_private: bool, max_redirects: int = 5) -> Draft:
    """The article at an http(s) URL, its redirects followed; `url` of the draft is the final URL."""
    deadline = _Deadline(timeout)
    current = url.strip()
    seen: set[str] = set()
    for _ in range(max_redirects + 1):
        target = _Target.parse(current)
        seen.add(target.url)
        answer = _get(target, deadline, max_bytes=max_bytes, allow_private=allow_private)
        if answer.location is None:
            return _draft_from_bytes(
                answer.body, answer.kind, what=f"the page at {target.origin}", charset=answer.charset,
                url=target.url, max_bytes=max_bytes,
            )  # fmt: skip
        current = urljoin(target.url, answer.location.strip())
        if _Target.parse(current).url in seen:  # a refused address or scheme is refused here
            raise IngestError(f"{target.origin} redirects in a loop")
    raise IngestError(f"{_origin_of(url)} redirects more than {max_redirects} times")


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
            raise IngestError(f"the address is longer than {MAX_URL_CHARS} characters")
        if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
            raise IngestError("the address holds spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise IngestError("this is not a valid web address") from None
        scheme = parts.scheme.lower()
        if not scheme:
            raise IngestError("the address must start with http:// or https://")
        if scheme not in ("http", "https"):
            raise IngestError(f"only http:// and https:// addresses can be imported, not {scheme[:20]}:")
        if parts.username is not None or parts.password is not None:
            raise IngestError("the address must not hold a user name or password")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise IngestError("the address has no host name")
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            literal = True
        except ValueError:
            literal = False
        if not literal:
            try:
                host = host.encode("idna").decode("ascii").lower()
            except UnicodeError:
                raise IngestError("the address has an invalid host name") from None
            if not _HOSTNAME.match(host):
                raise IngestError("the address has an invalid host name")
        default = 443 if scheme == "https" else 80
        port = default if port is None else port
        if port == 0:
            raise IngestError("this is not a valid web address")
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
    except IngestError:
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

    def expired(self, origin: str) -> IngestError:
        return IngestError(f"{origin} did not answer within {self.seconds:g} s")


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
            raise IngestError(f"{target.origin} is a private or local address: {_SSRF}")
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
        raise IngestError(f"could not reach {target.origin}: {_reason(found['error'])}")
    addresses: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _name, sockaddr in found.get("infos", []):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allow_private and _internal(address):
            raise IngestError(f"{target.origin} points to {address}, a private or local address: {_SSRF}")
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise IngestError(f"could not reach {target.origin}: it has no address")
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
            except (OSError, IngestError) as error:
                if dog.fired or deadline.left() <= 0 or isinstance(error, TimeoutError):
                    raise deadline.expired(target.origin) from None
                if isinstance(error, IngestError):
                    raise
                if index == len(addresses) - 1:
                    raise IngestError(f"could not reach {target.origin}: {_reason(error)}") from None
        try:
            return _exchange(connection, target, deadline, dog, max_bytes=max_bytes)
        except (OSError, http.client.HTTPException) as error:
            if dog.fired or deadline.left() <= 0 or isinstance(error, TimeoutError):
                raise deadline.expired(target.origin) from None
            raise IngestError(f"{target.origin} sent a broken answer ({_reason(error)})") from None
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
            raise IngestError(f"{target.origin} answered {status} without saying where to go")
        return _Answer(location=location)
    if not 200 <= status < 300:
        raise IngestError(f"{target.origin} answered {status} {_one_line(response.reason or '', 60)}".rstrip())
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise IngestError(f"{target.origin} sent {_one_line(encoding, 30)}-compressed content, which is not supported")
    lengths = [int(value) for value in re.findall(r"\d+", response.getheader("Content-Length") or "")]
    if lengths and max(lengths) > max_bytes:  # announced too much (the largest, should it say several)
        raise IngestError(
            f"the page at {target.origin} is {_kb(max(lengths))}, larger than the {_kb(max_bytes)} allowed ({LIMIT_SETTING})"
        )
    mime, charset = _content_type(response.getheader("Content-Type") or "")
    kind = _CONTENT_KINDS.get(mime, "")
    if mime and not kind:
        raise IngestError(
            f"{target.origin} sent {_one_line(mime, 60)}, not a web page or text: only {ACCEPTED_TYPES} can be imported"
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
            raise IngestError(
                f"the page at {target.origin} is larger than the {_kb(max_bytes)} allowed ({LIMIT_SETTING})"
            )
    data = bytes(body)
    if not kind:  # no Content-Type: a page if it looks like one, else text
        kind = "html" if _WHOLE_DOCUMENT.search(data[:1024].decode("latin-1")) else "text"
    return _Answer(location=None, kind=kind, charset=charset, body=data)


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
        return _one_line(type(error).__name__, 60)
    if isinstance(error, OSError) and error.strerror:
        return _one_line(error.strerror, 120)
    return _one_line(str(error), 120) or type(error).__name__
