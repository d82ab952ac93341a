"""Abuse of the production server (gunicorn, real sockets): bodies too big, too slow or too deep,
impossible values. Each case was reproducible before issue 18; the tests assert outcomes, and
bench/hostile.py measures what they cost.
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmap.accounts import add_token, add_user
from newsmap.serve.bodies import SIGN_IN_BODY, SMALL_BODY, article_body_limit
from newsmap.store import connect

from .conftest import SEED_SLUG, LiveServer, app_for, site_env

API = f"/api/articles/{SEED_SLUG}"
pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def abused(built: Path, tmp_path_factory) -> Iterator[tuple[LiveServer, str, Path]]:
    """The production server on a copy of the seed library, with an editor's token and its own TMPDIR."""
    root = tmp_path_factory.mktemp("abused")
    shutil.copytree(built, root / "site")
    conn = connect(root / "site" / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    token = add_token(conn, "alice", "abuse")
    conn.close()
    spool = root / "tmp"
    spool.mkdir()
    env = {**site_env(root / "site"), "TMPDIR": str(spool), "NEWSMAP_WRITE_LIMIT": "1000 per hour", "NEWSMAP_EDIT_LIMIT": "1000 per hour"}
    server = LiveServer(env, gunicorn=True)
    yield server, token, spool
    server.stop()


def send_body(url: str, path: str, head: str, total: int, *, chunked: bool = False) -> tuple[bytes, int]:
    """POST `total` bytes of body as fast as the server takes them, reading its answer meanwhile.

    Returns the answer (head and body) and how much of the request body had been sent when it came.
    """
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{framing}\r\n{head}\r\n".encode())
    sent, done = [0], threading.Event()

    def pour() -> None:
        piece = b"a" * 65536
        frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        try:
            while sent[0] < total and not done.is_set():
                sock.sendall(frame)
                sent[0] += len(piece)
        except OSError:  # the server closed the connection: what these tests want
            pass

    pourer = threading.Thread(target=pour, daemon=True)
    pourer.start()
    sock.settimeout(30)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            data = sock.recv(65536)
            if not data:
                break
            body += data
        answer = head + b"\r\n\r\n" + body
    finally:
        at = sent[0]
        done.set()
        sock.close()
        pourer.join(timeout=30)
    return answer, at


def test_a_300_mb_form_is_refused_while_the_client_is_still_sending(abused):
    server, _, spool = abused
    form = "Content-Type: application/x-www-form-urlencoded\r\n"
    answer, sent = send_body(server.url, "/login", form, 300_000_000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 30_000_000  # answered from the Content-Length, long before the body was in
    assert not list(spool.iterdir())


def test_an_anonymous_upload_is_refused_before_it_is_read_and_never_spooled(abused):
    server, _, spool = abused
    multipart = "Content-Type: multipart/form-data; boundary=b\r\n"
    answer, sent = send_body(server.url, "/api/articles", multipart, 300_000_000)
    assert answer.startswith(b"HTTP/1.1 413") and b"Sign in as an editor" in answer, answer[:400]
    assert sent < 30_000_000
    chunked, _ = send_body(server.url, "/login", multipart, 5_000_000, chunked=True)  # no length to check first
    assert chunked.startswith(b"HTTP/1.1 413"), chunked[:200]
    assert not list(spool.iterdir())


def test_a_chunked_body_is_cut_at_the_limit_as_it_streams(abused):
    server, token, spool = abused
    head = f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
    answer, sent = send_body(server.url, "/api/articles", head, 200_000_000, chunked=True)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert sent < 30_000_000
    assert not list(spool.iterdir())
    with urllib.request.urlopen(f"{server.url}/api/articles", timeout=30) as listing:  # nothing was added
        assert [a["slug"] for a in json.loads(listing.read())] == [SEED_SLUG]


def test_small_forms_and_changes_have_small_limits(abused):
    server, token, _ = abused
    form = "Content-Type: application/x-www-form-urlencoded\r\n"
    answer, _ = send_body(server.url, "/login", form, SIGN_IN_BODY + 1)
    assert answer.startswith(b"HTTP/1.1 413")
    head = f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
    answer, _ = send_body(server.url, f"{API}/mentions", head, SMALL_BODY + 1)
    assert answer.startswith(b"HTTP/1.1 413")


def _raise_open_files(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"this machine allows {hard} open files; the test needs {wanted}")
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def test_normal_requests_are_answered_while_2000_clients_send_their_bodies_slowly(abused):
    """2,000 sockets each trickling a sign-in body (under its limit) hold a greenlet each, not the site;
    each is cut off (408) once its time is up, and every normal request meanwhile gets its page."""
    server, _, _ = abused
    _raise_open_files(4096)
    host, port = server.url.removeprefix("http://").split(":")
    slow = []
    for _ in range(2000):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 10000\r\n\r\nname=")  # fmt: skip
        sock.setblocking(False)
        slow.append(sock)
    answered: list[bytes] = []
    try:
        statuses = []
        for _ in range(20):
            for sock in slow:  # a byte each: never silent long enough for the idle limit alone
                with contextlib.suppress(OSError):
                    sock.send(b"a")
            with urllib.request.urlopen(f"{server.url}/", timeout=20) as page:
                statuses.append(page.status)
        assert statuses == [200] * 20
        deadline = time.monotonic() + 60
        pending = list(slow)
        while pending and time.monotonic() < deadline:  # each slow body is cut off in its turn
            still = []
            for sock in pending:
                try:
                    data = sock.recv(200)
                    answered.append(data)
                except BlockingIOError:
                    still.append(sock)
                except OSError:
                    answered.append(b"")
            pending = still
            if pending:
                time.sleep(0.2)  # polling non-blocking sockets; the condition is checked every turn
        assert not pending, f"{len(pending)} slow clients still held after 60 s"
        timed_out = [a for a in answered if a.startswith(b"HTTP/1.1 408")]
        assert len(timed_out) > 1900, {a[:20] for a in answered}
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/articles"), ("PATCH", f"{API}/places/osh"), ("DELETE", f"{API}/places/osh"), ("POST", f"{API}/mentions")],
)
def test_deeply_nested_json_is_a_400_with_a_message(abused, method, path):
    server, token, _ = abused
    body = b"[" * 30_000 + b"]" * 30_000  # deeper than Python's recursion, under the 64 KB of a change
    request = urllib.request.Request(
        server.url + path, data=body, method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "If-Match": "*"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert "nested too deeply" in json.loads(refused.value.read())["message"]


def test_json_nested_within_python_limits_but_beyond_newsmaps_is_refused_too(workdir):
    client = app_for(workdir).test_client()
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    token = add_token(conn, "alice", "t")
    conn.close()
    body = {"title": "t", "text": "Troops in Bishkek.", "publisher": "p"}
    nested: object = body
    for _ in range(40):
        nested = [nested]
    answer = client.post("/api/articles", json={"title": "t", "text": "x", "extra": nested}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and "nested too deeply" in answer.get_json()["message"]


def test_coordinates_must_be_finite_numbers(workdir):
    client = app_for(workdir).test_client()
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    token = add_token(conn, "alice", "t")
    conn.close()
    headers = {"Authorization": f"Bearer {token}"}
    for query in ("lat=nan&lon=inf", "lat=1e999&lon=0", "lat=91&lon=0", "lat=north&lon=0"):
        answer = client.get(f"/api/gazetteer?q=Osh&{query}", headers=headers)
        assert answer.status_code == 400 and "must be a number" in answer.get_json()["message"], query
    assert client.get("/api/gazetteer?q=Osh&lat=40.5&lon=72.8", headers=headers).status_code == 200


@pytest.mark.parametrize("published", ["2026-13-45", "2019-02-29", "2019-00", "0000", "2019-3-1", "20190301"])
def test_impossible_dates_are_refused_everywhere(workdir, published, tmp_path):
    client = app_for(workdir).test_client()
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    token = add_token(conn, "alice", "t")
    conn.close()
    body = {"title": "Dated", "text": "Troops arrived in Bishkek.", "published": published}
    answer = client.post("/api/articles", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400, answer.get_json()
    assert published in answer.get_json()["message"] or "YYYY" in answer.get_json()["message"]
    assert [a["slug"] for a in client.get("/api/articles").get_json()] == [SEED_SLUG]
    from newsmap.article import ArticleError, read_metadata

    meta = tmp_path / "a.json"
    meta.write_text(json.dumps({"published": published}), encoding="utf-8")
    with pytest.raises(ArticleError):
        read_metadata(meta)


@pytest.mark.parametrize("published", ["2019", "2019-03", "2020-02-29", ""])
def test_real_dates_of_each_precision_are_kept(workdir, published):
    client = app_for(workdir).test_client()
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    token = add_token(conn, "alice", "t")
    conn.close()
    body = {"title": f"Dated {published}", "text": f"Troops arrived in Bishkek on a day of {published or 'spring'}.", "published": published}
    answer = client.post("/api/articles", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.get_json()
    article = client.get("/api" + answer.headers["Location"]).get_json()
    assert article["published"] == published


def test_the_limits_are_set_for_the_running_app(workdir):
    """Flask's default config holds MAX_CONTENT_LENGTH as None: the app must set it, not setdefault it."""
    assert app_for(workdir, MAX_ARTICLE_KB=100).config["MAX_CONTENT_LENGTH"] == article_body_limit(100)
