"""newsmap.ingest and its HTTP client (newsmap.fetch): pasted text, uploaded files and URLs become article drafts, or one-line refusals.

Every web page here is served locally, by a real `http.server.ThreadingHTTPServer` on 127.0.0.1
in a thread, because no site on the internet can be reached from where the tests run. Loopback
is a private address, so the happy paths pass `allow_private=True`; the SSRF tests leave it off
and prove that refused addresses are refused before any connection is made (the local server
records every request, and `socket.create_connection` is watched).
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsmap import __version__
from newsmap import fetch as http_client
from newsmap.ingest import Draft, IngestError, fetch_url, from_text, from_upload, metadata_from_html

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"
ARTICLE_HTML = (FIXTURES / "article.html").read_bytes()
ARTICLE_MD = (FIXTURES / "article.md").read_bytes()
PUBLIC_IP = "93.184.216.34"  # stands for a public web server; the fake network routes it to the local one
SSRF = "the server cannot be used to reach internal hosts"
LIMIT = "(NEWSMAP_MAX_ARTICLE_KB)"
PARAGRAPHS = (
    "The passenger ferry from Baku docked in Aktau on Sunday morning after a pause of two years, port officials said.",
    "Travellers from Turkmenbashi are expected to use the same crossing later this summer, according to the "
    "operator, which plans two sailings a week.",
    "Freight across the Caspian Sea has grown steadily since the route through Kazakhstan and Azerbaijan became "
    "a favoured corridor between China and Europe.",
)

Route = Callable[[BaseHTTPRequestHandler], None]


# --- a local web site --------------------------------------------------------------------------


class LocalSite:
    """A web server on 127.0.0.1 (the pages are served locally: no real site can be reached here)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sni: list[str | None] = []
        self.stop = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.requests.append((self.path, {key.lower(): value for key, value in self.headers.items()}))
                route = site.routes.get(self.path)
                if route is None:
                    reply(self, b"nothing here", status=404, content_type="text/plain")
                else:
                    route(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # a client that hung up is expected here
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.sni.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]

    def close(self) -> None:
        self.stop.set()  # wakes the slow routes
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def reply(
    handler: BaseHTTPRequestHandler,
    body: bytes = b"",
    *,
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    headers: tuple[tuple[str, str], ...] = (),
) -> None:
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)
    handler.close_connection = True


def page(body: bytes, content_type: str | None = "text/html; charset=utf-8") -> Route:
    return lambda handler: reply(handler, body, content_type=content_type)


def redirect(location: str, status: int = 302) -> Route:
    return lambda handler: reply(
        handler, status=status, content_type="text/plain", headers=(("Location", location), ("Set-Cookie", "s=1"))
    )


@pytest.fixture
def site() -> Iterator[LocalSite]:
    local = LocalSite()
    yield local
    local.close()


def fetch(url: str, **options: Any) -> Draft:
    settings = {"timeout": 5.0, "max_bytes": 100_000, "allow_private": True} | options
    return fetch_url(url, **settings)


def refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(IngestError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message and str(Path.cwd()) not in message
    return message


# --- a fake network: DNS answers and routes, and a record of every connection --------------------


class Network:
    def __init__(self) -> None:
        self.dns: dict[str, Callable[[], list[str]]] = {}
        self.routes: dict[tuple[str, int], tuple[str, int]] = {}
        self.lookups: list[str] = []
        self.connections: list[tuple[str, int]] = []


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    """`socket.getaddrinfo` answers from `dns` for the names it holds; `socket.create_connection`
    records every address it is asked for, and goes to `routes[address]` instead when there is one."""
    net = Network()
    real_getaddrinfo, real_create_connection = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        net.lookups.append(host)
        if host not in net.dns:
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers = []
        for ip in net.dns[host]():
            if ":" in ip:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return answers

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        address = (address[0], address[1])
        net.connections.append(address)
        return real_create_connection(net.routes.get(address, address), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return net


def answers(*ips: str) -> Callable[[], list[str]]:
    return lambda: list(ips)


def fails(errno: int, reason: str) -> Callable[[], list[str]]:
    def lookup() -> list[str]:
        raise socket.gaierror(errno, reason)

    return lookup


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- pasted text -------------------------------------------------------------------------------


def test_text_keeps_everything_but_line_endings() -> None:
    text = "Título\r\n\r\nIn Bishkek,\ttabs  and trailing spaces stay.  \rLast line\n"
    assert from_text(text, max_bytes=1000) == Draft(
        text="Título\n\nIn Bishkek,\ttabs  and trailing spaces stay.  \nLast line\n"
    )


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t\n"])
def test_empty_text_is_refused(text: str) -> None:
    assert refusal(from_text, text, max_bytes=1000) == "the text is empty"


def test_text_over_the_limit_is_refused_in_utf8_bytes() -> None:
    assert from_text("é" * 500, max_bytes=1000).text == "é" * 500  # 1000 bytes: just allowed
    message = refusal(from_text, "é" * 600, max_bytes=1000)  # 600 characters, 1200 bytes
    assert message == f"the text is 1.2 KB, more than the 1 KB allowed {LIMIT}"


def test_text_limit_counts_normalised_line_endings() -> None:
    assert from_text("ab\r\n" * 250, max_bytes=750).text == "ab\n" * 250  # 1000 bytes pasted, 750 kept


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abc\x00def", "the text holds NUL bytes: this looks like a binary file, not a text"),
        ("line one\nline\x07two", "the text holds a control character (U+0007 on line 2)"),
        ("form\x0cfeed", "the text holds a control character (U+000C on line 1)"),
        ("\x1b[31mred", "the text holds a control character (U+001B on line 1)"),
    ],
)
def test_binary_text_is_refused(text: str, fragment: str) -> None:
    message = refusal(from_text, text, max_bytes=1000)
    assert message.startswith(fragment)
    assert message.endswith("paste its text or upload .txt/.md/.html")


def test_draft_is_frozen_and_errors_are_value_errors() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Draft(text="x").title = "y"  # type: ignore[misc]
    assert issubclass(IngestError, ValueError)


# --- uploads -----------------------------------------------------------------------------------


def test_upload_txt_drops_the_bom_and_normalises_line_endings() -> None:
    draft = from_upload("dispatch.txt", "\ufeffOsh, Kyrgyzstan\r\n\r\nA dispatch.\r\n".encode(), max_bytes=1000)
    assert draft == Draft(text="Osh, Kyrgyzstan\n\nA dispatch.\n")


def test_upload_markdown_is_stripped_and_its_front_matter_read() -> None:
    draft = from_upload("ferry.md", ARTICLE_MD, max_bytes=100_000)
    assert draft.title == "Ferry service returns to Aktau"
    assert draft.publisher == "Steppe Courier"
    assert draft.published == "2023-05-14"
    assert draft.url == "https://courier.example/2023/05/ferry-aktau"
    assert draft.text == (
        "Ferry service returns to Aktau\n\n"
        "The passenger ferry from Baku docked in Aktau on Sunday, port officials said.\n\n"
        "Travellers from Turkmenbashi are expected to use the same crossing later this summer.\n\n"
        "Freight across the Caspian Sea has grown steadily, the operator said.\n\n"
        "Timetable: Baku 08:00, Aktau 20:00 *approx*\n\n"
        "Price per ticket: 3 * 20 manat, see https://ferry.example/prices."
    )


def test_markdown_first_heading_is_the_title_and_words_keep_their_underscores() -> None:
    text = (
        "Border talks\n============\n\nSee [the map](https://x.example/m) of snake_case_town, 2 * 3 * 4.\n\n## Later\n"
    )
    draft = from_upload("talks.markdown", text.encode(), max_bytes=1000)
    assert draft.title == "Border talks"
    assert draft.text == "Border talks\n\nSee the map of snake_case_town, 2 * 3 * 4.\n\nLater"
    assert (draft.publisher, draft.published, draft.url) == ("", "", "")


def test_markdown_with_only_markup_is_refused() -> None:
    message = refusal(from_upload, "pictures.md", b"![one](1.png)\n\n---\n", max_bytes=1000)
    assert message == "pictures.md has no text once its markdown is taken away"


def test_upload_html_extracts_the_article_and_its_metadata() -> None:
    draft = from_upload("ferry.html", ARTICLE_HTML, max_bytes=100_000)
    assert draft.title == "Ferry service returns to Aktau"
    assert draft.publisher == "Steppe Courier"
    assert draft.published == "2023-05-14"
    assert draft.url == "https://courier.example/2023/05/ferry-aktau"  # the page's canonical URL
    assert draft.text == "\n\n".join(("Ferry service returns to Aktau", *PARAGRAPHS))
    for boilerplate in ("Subscribe", "Front page", "Most read", "Copyright", "cookie"):
        assert boilerplate not in draft.text


def test_upload_html_is_decoded_with_its_declared_charset() -> None:
    html = (
        '<html><head><meta charset="windows-1251"><title>Бишкек</title></head><body><article>'
        "<p>В Бишкеке открыли новый мост через реку Аламедин, сообщили в мэрии города.</p>"
        "</article></body></html>"
    ).encode("cp1251")
    draft = from_upload("bishkek.htm", html, max_bytes=10_000)
    assert draft.text == "В Бишкеке открыли новый мост через реку Аламедин, сообщили в мэрии города."
    assert draft.title == "Бишкек"


def test_upload_html_fragment_is_read() -> None:
    draft = from_upload("snippet.html", b"<p>Dushanbe hosted the summit on Friday, officials said.</p>", max_bytes=1000)
    assert draft.text == "Dushanbe hosted the summit on Friday, officials said."


def test_upload_html_without_text_is_refused() -> None:
    html = b"<!DOCTYPE html><html><head><title>Nothing</title></head><body><div></div></body></html>"
    assert refusal(from_upload, "empty.html", html, max_bytes=1000) == "empty.html: no article text found in this page"


@pytest.mark.parametrize("filename", ["report.pdf", "notes.docx", "README", "photo.PNG", "page.html.exe"])
def test_upload_of_another_kind_is_refused(filename: str) -> None:
    message = refusal(from_upload, filename, b"text", max_bytes=1000)
    assert message == f"{filename}: only .txt, .md (.markdown) and .html (.htm) files can be uploaded"


def test_upload_message_shows_the_file_name_only() -> None:
    message = refusal(from_upload, "C:\\Users\\editor\\Desktop\\report.pdf", b"%PDF-1.7", max_bytes=1000)
    assert message == "report.pdf: only .txt, .md (.markdown) and .html (.htm) files can be uploaded"


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive (a .docx or .odt is one)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
    ],
)
@pytest.mark.parametrize("filename", ["article.txt", "article.md", "article.html"])
def test_upload_of_a_binary_format_is_refused(filename: str, data: bytes, label: str) -> None:
    message = refusal(from_upload, filename, data, max_bytes=1000)
    assert message == f"{filename}: this looks like {label}, not a text: paste its text or upload .txt/.md/.html"


def test_upload_with_nul_bytes_is_refused() -> None:
    message = refusal(from_upload, "data.txt", b"looks like text\x00\x01\x02", max_bytes=1000)
    assert (
        message
        == "data.txt holds NUL bytes: this looks like a binary file, not a text: paste its text or upload .txt/.md/.html"
    )


@pytest.mark.parametrize("filename", ["cafe.txt", "cafe.md"])
def test_upload_not_in_utf8_is_refused(filename: str) -> None:
    message = refusal(from_upload, filename, "Café in Almaty".encode("latin-1"), max_bytes=1000)
    assert message == f"{filename} is not UTF-8 text (byte 0xe9 at offset 3): save it as UTF-8 and try again"


def test_upload_in_utf16_is_refused() -> None:
    message = refusal(from_upload, "wide.txt", "Almaty".encode("utf-16"), max_bytes=1000)
    assert message == "wide.txt is UTF-16 or UTF-32 text, not UTF-8: save it as UTF-8 and try again"


@pytest.mark.parametrize("data", [b"", b"  \r\n\t"])
def test_empty_upload_is_refused(data: bytes) -> None:
    assert refusal(from_upload, "blank.txt", data, max_bytes=1000) == "blank.txt is empty"


def test_upload_over_the_limit_is_refused() -> None:
    message = refusal(from_upload, "long.txt", b"a" * 1500, max_bytes=1000)
    assert message == f"long.txt is 1.5 KB, more than the 1 KB allowed {LIMIT}"


def test_metadata_from_html() -> None:
    assert metadata_from_html(ARTICLE_HTML.decode()) == {
        "title": "Ferry service returns to Aktau",
        "publisher": "Steppe Courier",
        "published": "2023-05-14",
        "url": "https://courier.example/2023/05/ferry-aktau",
    }
    bare = metadata_from_html("<html><body><p>x</p></body></html>", "https://news.example/a")
    assert bare == {"title": "", "publisher": "news.example", "published": "", "url": "https://news.example/a"}


# --- URLs: the happy paths (allow_private, since the local server is on loopback) ---------------


def test_fetch_html_page(site: LocalSite) -> None:
    site.routes["/2023/ferry"] = page(ARTICLE_HTML)
    draft = fetch(site.url("/2023/ferry"))
    assert draft.title == "Ferry service returns to Aktau"
    assert draft.publisher == "Steppe Courier"
    assert draft.published == "2023-05-14"
    assert draft.url == site.url("/2023/ferry")  # the URL fetched, not the canonical one
    assert draft.text == "\n\n".join(("Ferry service returns to Aktau", *PARAGRAPHS))
    assert "Subscribe" not in draft.text and "Copyright" not in draft.text
    ((_path, headers),) = site.requests
    assert headers["host"] == f"127.0.0.1:{site.port}"
    assert headers["user-agent"] == f"newsmap/{__version__} (+article import)"
    assert headers["accept-encoding"] == "identity"
    assert "cookie" not in headers and "authorization" not in headers


def test_fetch_plain_text_page(site: LocalSite) -> None:
    site.routes["/wire.txt"] = page(b"Aktau\r\n\r\nThe port reopened.\r\n", "text/plain; charset=utf-8")
    assert fetch(site.url("/wire.txt")) == Draft(text="Aktau\n\nThe port reopened.\n", url=site.url("/wire.txt"))


def test_fetch_markdown_page(site: LocalSite) -> None:
    site.routes["/ferry.md"] = page(ARTICLE_MD, "text/markdown")
    draft = fetch(site.url("/ferry.md"))
    assert draft.title == "Ferry service returns to Aktau"
    assert draft.url == site.url("/ferry.md")
    assert draft.text.startswith("Ferry service returns to Aktau\n\nThe passenger ferry from Baku docked")


def test_fetch_decodes_the_charset_the_server_declares(site: LocalSite) -> None:
    html = (
        "<html><body><article><p>Жители Оша встретили праздник на главной площади города.</p></article></body></html>"
    )
    site.routes["/osh"] = page(html.encode("cp1251"), "text/html; charset=windows-1251")
    assert fetch(site.url("/osh")).text == "Жители Оша встретили праздник на главной площади города."


@pytest.mark.parametrize("content_type", ["text/plain; charset=iso-8859-1", "text/html; charset=iso-8859-1"])
def test_fetch_reads_utf8_despite_a_default_charset(site: LocalSite, content_type: str) -> None:
    site.routes["/utf8"] = page("<html><body><p>Café in Almaty, Kazakhstan.</p></body></html>".encode(), content_type)
    assert "Café in Almaty, Kazakhstan." in fetch(site.url("/utf8")).text


def test_fetch_refuses_text_not_in_its_declared_charset(site: LocalSite) -> None:
    site.routes["/bad"] = page(b"Caf\xe9 in Osh", "text/plain; charset=utf-8")
    message = refusal(fetch, site.url("/bad"))
    assert (
        message
        == f"the page at 127.0.0.1:{site.port} is not UTF-8 text (byte 0xe9 at offset 3): paste its text instead"
    )


def test_fetch_without_content_type_sniffs_html(site: LocalSite) -> None:
    site.routes["/bare"] = page(ARTICLE_HTML, content_type=None)
    assert fetch(site.url("/bare")).title == "Ferry service returns to Aktau"


def test_fetch_follows_a_redirect_chain_within_the_limit(site: LocalSite) -> None:
    site.routes["/start"] = redirect(site.url("/hop/1"), 301)  # absolute
    site.routes["/hop/1"] = redirect("/hop/2", 307)  # relative to the host
    site.routes["/hop/2"] = redirect("../article?id=7", 308)  # relative to the path
    site.routes["/article?id=7"] = page(ARTICLE_HTML)
    draft = fetch(site.url("/start"), max_redirects=3)
    assert draft.url == site.url("/article?id=7")
    assert draft.title == "Ferry service returns to Aktau"
    assert site.paths() == ["/start", "/hop/1", "/hop/2", "/article?id=7"]
    assert all("cookie" not in headers for _path, headers in site.requests)  # the Set-Cookie is not sent back


def test_fetch_refuses_a_redirect_loop(site: LocalSite) -> None:
    site.routes["/a"] = redirect("/b")
    site.routes["/b"] = redirect(site.url("/a"))
    assert refusal(fetch, site.url("/a")) == f"127.0.0.1:{site.port} redirects in a loop"
    assert site.paths() == ["/a", "/b"]


def test_fetch_refuses_too_many_redirects(site: LocalSite) -> None:
    for number in range(10):
        site.routes[f"/r{number}"] = redirect(f"/r{number + 1}")
    assert refusal(fetch, site.url("/r0"), max_redirects=2) == f"127.0.0.1:{site.port} redirects more than 2 times"
    assert site.paths() == ["/r0", "/r1", "/r2"]


def test_fetch_refuses_a_redirect_to_another_scheme(site: LocalSite) -> None:
    site.routes["/away"] = redirect("file:///etc/passwd")
    assert refusal(fetch, site.url("/away")) == "only http:// and https:// addresses can be imported, not file:"


# --- URLs: what goes wrong ---------------------------------------------------------------------


def test_fetch_of_a_slow_server_is_cut_at_the_timeout(site: LocalSite) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        site.stop.wait(5)
        reply(handler, ARTICLE_HTML)

    site.routes["/slow"] = slow
    started = time.monotonic()
    assert refusal(fetch, site.url("/slow"), timeout=0.5) == f"127.0.0.1:{site.port} did not answer within 0.5 s"
    assert time.monotonic() - started < 2


def test_fetch_of_a_dribbling_server_is_cut_at_the_timeout(site: LocalSite) -> None:
    def dribble(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        while not site.stop.wait(0.05):  # a byte every 50 ms: each read is quick, the whole never ends
            handler.wfile.write(b"x")
            handler.wfile.flush()

    site.routes["/drip"] = dribble
    started = time.monotonic()
    assert refusal(fetch, site.url("/drip"), timeout=0.5) == f"127.0.0.1:{site.port} did not answer within 0.5 s"
    assert time.monotonic() - started < 2


def test_fetch_with_a_hanging_dns_lookup_is_cut_at_the_timeout(network: Network) -> None:
    released = threading.Event()

    def hang() -> list[str]:
        released.wait(5)
        return ["127.0.0.1"]

    network.dns["hanging.example"] = hang
    started = time.monotonic()
    try:
        message = refusal(fetch, "http://hanging.example/a", timeout=0.5)
    finally:
        released.set()
    assert message == "hanging.example did not answer within 0.5 s"
    assert time.monotonic() - started < 2


def test_fetch_refuses_an_announced_oversized_answer(site: LocalSite) -> None:
    def big(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", "5000000")
        handler.end_headers()
        handler.wfile.write(b"Aktau " * 10)  # the rest never comes: the announcement is enough
        handler.close_connection = True

    site.routes["/big"] = big
    message = refusal(fetch, site.url("/big"), max_bytes=1000)
    assert message == f"the page at 127.0.0.1:{site.port} is 5000 KB, larger than the 1 KB allowed {LIMIT}"


def test_fetch_refuses_an_oversized_answer_without_content_length(site: LocalSite) -> None:
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"Aktau " * 100)
        handler.close_connection = True

    site.routes["/endless"] = endless
    message = refusal(fetch, site.url("/endless"), max_bytes=1000)
    assert message == f"the page at 127.0.0.1:{site.port} is larger than the 1 KB allowed {LIMIT}"


def test_fetch_refuses_an_oversized_chunked_answer(site: LocalSite) -> None:
    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(20):
            handler.wfile.write(b"200\r\n" + b"a" * 0x200 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
        handler.close_connection = True

    site.routes["/chunked"] = chunked
    message = refusal(fetch, site.url("/chunked"), max_bytes=1000)
    assert message == f"the page at 127.0.0.1:{site.port} is larger than the 1 KB allowed {LIMIT}"


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/octet-stream"])
def test_fetch_refuses_other_content_types(site: LocalSite, content_type: str) -> None:
    site.routes["/file"] = page(b"\x89PNG\r\n\x1a\n", content_type)
    message = refusal(fetch, site.url("/file"))
    assert message == (
        f"127.0.0.1:{site.port} sent {content_type}, not a web page or text: "
        "only text/html, text/plain and text/markdown can be imported"
    )


def test_fetch_refuses_a_pdf_sent_as_html(site: LocalSite) -> None:
    site.routes["/paper"] = page(b"%PDF-1.4\n", "text/html")
    message = refusal(fetch, site.url("/paper"))
    assert (
        message
        == f"the page at 127.0.0.1:{site.port}: this looks like a PDF, not a text: paste its text or upload .txt/.md/.html"
    )


def test_fetch_reports_an_error_status(site: LocalSite) -> None:
    assert refusal(fetch, site.url("/missing")) == f"127.0.0.1:{site.port} answered 404 Not Found"


def test_fetch_of_a_page_without_text_is_refused(site: LocalSite) -> None:
    site.routes["/blank"] = page(b"<!DOCTYPE html><html><head><title>x</title></head><body></body></html>")
    message = refusal(fetch, site.url("/blank"))
    assert message == f"the page at 127.0.0.1:{site.port}: no article text found in this page"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example/article.txt", "only http:// and https:// addresses can be imported, not ftp:"),
        ("file:///etc/passwd", "only http:// and https:// addresses can be imported, not file:"),
        ("javascript:alert(1)", "only http:// and https:// addresses can be imported, not javascript:"),
        ("news.example/2023/ferry", "the address must start with http:// or https://"),
        ("http://", "the address has no host name"),
        ("http://news.example:99999/", "this is not a valid web address"),
        ("http://news example/", "the address holds spaces or control characters"),
    ],
)
def test_fetch_refuses_what_is_not_a_web_address(network: Network, url: str, message: str) -> None:
    assert refusal(fetch, url) == message
    assert network.lookups == [] and network.connections == []


def test_fetch_refuses_credentials_in_the_address(site: LocalSite) -> None:
    url = f"http://editor:secret@127.0.0.1:{site.port}/article"
    assert refusal(fetch, url) == "the address must not hold a user name or password"
    assert site.requests == []


def test_fetch_with_nothing_listening(network: Network) -> None:
    port = free_port()
    assert refusal(fetch, f"http://127.0.0.1:{port}/") == f"could not reach 127.0.0.1:{port}: Connection refused"


@pytest.mark.parametrize(
    ("errno", "reason"),
    [(socket.EAI_NONAME, "Name or service not known"), (socket.EAI_AGAIN, "Temporary failure in name resolution")],
)
def test_fetch_offline_fails_with_a_clear_message(network: Network, errno: int, reason: str) -> None:
    network.dns["news.example"] = fails(errno, reason)
    assert refusal(fetch, "https://news.example/2023/ferry") == f"could not reach news.example: {reason}"
    assert network.connections == []


# --- URLs: SSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "[fe80::1]",
        "[2002:7f00:1::]",  # 6to4 around 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 around 169.254.169.254
        "2130706433",  # 127.0.0.1 as one number, which the resolver accepts
        "internal.example",  # a name the fake DNS resolves to a private address
        "mixed.example",  # a public and a private address: refused as a whole
    ],
)
def test_fetch_refuses_internal_addresses_before_connecting(site: LocalSite, network: Network, host: str) -> None:
    network.dns["internal.example"] = answers("192.168.1.20")
    network.dns["mixed.example"] = answers(PUBLIC_IP, "10.1.2.3")
    site.routes["/article"] = page(ARTICLE_HTML)
    message = refusal(fetch, site.url("/article", host=host), allow_private=False)
    assert message.endswith(f": {SSRF}")
    assert site.requests == [] and network.connections == []


def test_internal_address_messages() -> None:
    message = refusal(fetch, "http://169.254.169.254/latest/meta-data/", allow_private=False)
    assert message == f"169.254.169.254 is a private or local address: {SSRF}"
    message = refusal(fetch, "http://localhost:9/", allow_private=False)
    assert message in (f"localhost:9 points to 127.0.0.1, a private or local address: {SSRF}",
                       f"localhost:9 points to ::1, a private or local address: {SSRF}")  # fmt: skip


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/second", "http://localhost:{port}/second", "http://169.254.169.254/latest/meta-data/"],
)
def test_fetch_refuses_a_redirect_from_a_public_to_an_internal_address(
    site: LocalSite, network: Network, target: str
) -> None:
    network.dns["news.example"] = answers(PUBLIC_IP)
    network.routes[(PUBLIC_IP, 80)] = ("127.0.0.1", site.port)
    site.routes["/first"] = redirect(target.format(port=site.port))
    site.routes["/second"] = page(ARTICLE_HTML)
    assert refusal(fetch, "http://news.example/first", allow_private=False).endswith(f": {SSRF}")
    assert site.paths() == ["/first"]  # the redirect was refused before connecting anywhere
    assert network.connections == [(PUBLIC_IP, 80)]
    assert site.requests[0][1]["host"] == "news.example"


def test_fetch_connects_to_the_address_it_checked(site: LocalSite, network: Network) -> None:
    """DNS rebinding: a name that answers a public address, then a private one, is resolved once."""
    replies = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    network.dns["rebind.example"] = lambda: next(replies)
    network.routes[(PUBLIC_IP, 80)] = ("127.0.0.1", site.port)
    site.routes["/article"] = page(ARTICLE_HTML)
    draft = fetch("http://rebind.example/article", allow_private=False)
    assert draft.url == "http://rebind.example/article"
    assert network.lookups.count("rebind.example") == 1
    assert network.connections == [(PUBLIC_IP, 80)]
    assert site.requests[0][1]["host"] == "rebind.example"


# --- URLs: https -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for news.example, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=news.example",
         "-addext", "subjectAltName=DNS:news.example"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_site(certificate: tuple[Path, Path]) -> Iterator[LocalSite]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    local = LocalSite(tls=context)
    yield local
    local.close()


def test_https_sends_the_host_name_as_sni_and_host(
    tls_site: LocalSite, network: Network, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_client, "_tls_context", lambda: ssl.create_default_context(cafile=str(certificate[0])))
    network.dns["news.example"] = answers("127.0.0.1")
    tls_site.routes["/ferry"] = page(ARTICLE_HTML)
    draft = fetch(tls_site.url("/ferry", host="news.example", scheme="https"))
    assert draft.url == f"https://news.example:{tls_site.port}/ferry"
    assert draft.title == "Ferry service returns to Aktau"
    assert tls_site.sni == ["news.example"]
    assert tls_site.requests[0][1]["host"] == f"news.example:{tls_site.port}"
    assert network.connections == [("127.0.0.1", tls_site.port)]


def test_https_refuses_an_untrusted_certificate(tls_site: LocalSite, network: Network) -> None:
    network.dns["news.example"] = answers("127.0.0.1")
    tls_site.routes["/ferry"] = page(ARTICLE_HTML)
    message = refusal(fetch, tls_site.url("/ferry", host="news.example", scheme="https"))
    assert (
        message == f"could not reach news.example:{tls_site.port}: certificate verify failed: self-signed certificate"
    )
    assert tls_site.requests == []
