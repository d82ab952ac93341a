"""Untrusted input to an article draft: pasted text, an uploaded file, or a URL.

Everything here refuses what cannot be an article with an `IngestError` whose message is one
line meant for the editor (never a traceback, never a path on the server). The module is pure:
it reads no environment and no Flask state, so the limits come in as arguments (the web layer
takes them from `newsmap.settings.Settings`: `max_article_kb * 1000` bytes,
`allow_private_urls`, `url_timeout`).

Fetching a URL is the dangerous part, as the server makes the request (SSRF): `fetch_url` asks
newsmap's own HTTP client (`newsmap.fetch`, which says how it guards every hop), then reads the
page it got like an uploaded file.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import trafilatura
from trafilatura.utils import decode_file
from trafilatura.xml import xmltotxt

from newsmap.dates import is_published
from newsmap.fetch import CONTROL, LIMIT_SETTING, FetchError, fetch, kb, one_line
from newsmap.language import is_code

ADVICE = "paste its text or upload .txt/.md/.html"
ACCEPTED_UPLOADS = ".txt, .md (.markdown) and .html (.htm)"


@dataclass(frozen=True)
class Draft:
    """An article as an editor handed it in, before it has a slug or any places."""

    text: str
    title: str = ""
    publisher: str = ""
    published: str = ""  # "YYYY-MM-DD", "YYYY-MM" or ""
    url: str = ""
    language: str = ""  # ISO 639-1, when the file says (markdown front matter); else decided when it is added


class IngestError(ValueError):
    """Input that cannot become an article; the message is one line meant for the editor."""


# --- pasted text -------------------------------------------------------------------------------

def from_text(text: str, *, max_bytes: int) -> Draft:
    """Pasted text, line endings made `\\n` and everything else kept verbatim."""
    return Draft(text=_checked_text(text, max_bytes=max_bytes, what="the text"))


def _checked_text(text: str, *, max_bytes: int, what: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise IngestError(f"{what} is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise IngestError(f"{what} is {kb(size)}, more than the {kb(max_bytes)} allowed ({LIMIT_SETTING})")
    if "\x00" in text:
        raise IngestError(f"{what} holds NUL bytes: this looks like a binary file, not a text: {ADVICE}")
    control = CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise IngestError(
            f"{what} holds a control character (U+{ord(control.group()):04X} on line {line}): "
            f"this looks like a binary file, not a text: {ADVICE}"
        )
    return text


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
        raise IngestError(f"{name} is {kb(len(data))}, more than the {kb(max_bytes)} allowed ({LIMIT_SETTING})")
    return _draft_from_bytes(data, kind, what=name, charset="", url="", max_bytes=max_bytes)


def _display_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = " ".join(CONTROL.sub("", base).split())
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
            raise IngestError(f"{what} is not valid {one_line(charset, 40)} text, as its server declared") from None
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
    "language": "language",
    "lang": "language",
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
        language=_language(meta.get("language", "")),
    )


def _language(value: str) -> str:
    """A front matter's language as a code ("ru-RU" -> "ru"), or "" (then detected) for what is not one."""
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if is_code(code) else ""


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
            meta[field] = one_line(value.strip().strip("\"'"))
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
    return plain, one_line(heading)


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
    return CONTROL.sub("", _BLANK_RUN.sub("\n\n", text))


def _date_params() -> dict[str, Any]:
    # Dates the page declares (meta, JSON-LD, <time>), not any date its text happens to hold.
    return {"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()}


def _metadata(document: Any, url: str) -> dict[str, str]:
    return {
        "title": one_line(document.title or ""),
        "publisher": one_line(document.sitename or document.author or ""),
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


# --- URLs --------------------------------------------------------------------------------------


def fetch_url(url: str, *, timeout: float, max_bytes: int, allow_private: bool, max_redirects: int = 5) -> Draft:
    """The article at an http(s) URL, its redirects followed; `url` of the draft is the final URL."""
    try:
        page = fetch(url, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private, max_redirects=max_redirects)
    except FetchError as error:
        raise IngestError(str(error)) from None
    kind = page.kind
    if not kind:  # no Content-Type: a page if it looks like one, else text
        kind = "html" if _WHOLE_DOCUMENT.search(page.body[:1024].decode("latin-1")) else "text"
    return _draft_from_bytes(
        page.body, kind, what=f"the page at {page.origin}", charset=page.charset, url=page.url, max_bytes=max_bytes
    )
