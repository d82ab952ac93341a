"""Geoparsing beside the server: adds run in a child process with a time budget (NEWSMAP_GEOPARSE_TIMEOUT).

On the real production server: a place-dense article is added through the API while readers keep
getting pages; an add that outlasts its budget fails with a message, changes nothing and leaves
no child running; the CLI keeps the same budget.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newsmap.accounts import add_token, add_user
from newsmap.geoparse_pool import GeoparseError, GeoparsePool
from newsmap.store import connect

from .conftest import ROOT, SEED_SLUG, LiveServer, site_env

pytestmark = pytest.mark.processes
PLACE_DENSE = ("Bishkek Osh Kant Moscow " * 20000)[:480000]  # one sentence of 80,000 place names


def library_with_editor(built: Path, root: Path) -> str:
    shutil.copytree(built, root)
    conn = connect(root / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    token = add_token(conn, "alice", "pool")
    conn.close()
    return token


def post_article(server: LiveServer, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.url}/api/articles", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def slugs(server: LiveServer) -> list[str]:
    with urllib.request.urlopen(f"{server.url}/api/articles", timeout=30) as answer:
        return [article["slug"] for article in json.loads(answer.read())]


def geoparse_children(server: LiveServer) -> list[int]:
    """Processes of the server's group running the geoparser child."""
    found = []
    for pid in server.pids():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"newsmap.geoparser.child" in command:
            found.append(pid)
    return found


def test_a_place_dense_article_is_added_while_readers_keep_reading(built, tmp_path):
    token = library_with_editor(built, tmp_path / "site")
    env = {**site_env(tmp_path / "site"), "NEWSMAP_MAX_PLACES": "100000", "NEWSMAP_MAX_MENTIONS": "100000"}
    server = LiveServer(env, gunicorn=True)
    try:
        outcome: list[tuple[int, dict]] = []
        adding = threading.Thread(target=lambda: outcome.append(post_article(server, token, {"title": "Dense", "text": PLACE_DENSE})))
        adding.start()
        pages = 0
        while adding.is_alive():  # readers are answered all the while the article is geoparsed
            with urllib.request.urlopen(f"{server.url}/articles/{SEED_SLUG}", timeout=10) as page:
                assert page.status == 200
            pages += 1
        adding.join()
        status, body = outcome[0]
        assert status == 201, body
        assert {place["id"] for place in body["places"]} >= {"moscow"}  # the names as the geoparser reads them
        assert pages >= 1 and "dense" in slugs(server)
    finally:
        server.stop()


def test_an_add_past_its_time_budget_fails_changes_nothing_and_leaves_no_child(built, tmp_path):
    token = library_with_editor(built, tmp_path / "site")
    server = LiveServer({**site_env(tmp_path / "site"), "NEWSMAP_GEOPARSE_TIMEOUT": "0.3"}, gunicorn=True)
    try:
        text = " ".join(f"Officials from Bishkek met envoys in Osh on day {n}." for n in range(6000))
        status, body = post_article(server, token, {"title": "Too slow", "text": text})
        assert status == 422 and "NEWSMAP_GEOPARSE_TIMEOUT (0.3 s)" in body["message"] and "nothing was added" in body["message"]
        assert slugs(server) == [SEED_SLUG]
        assert geoparse_children(server) == []  # the child that ran out of time was killed
    finally:
        server.stop()


def test_the_cli_add_keeps_the_same_budget(built, tmp_path):
    shutil.copytree(built, tmp_path / "site")
    article = tmp_path / "slow.txt"
    article.write_text(" ".join(f"Officials from Bishkek met envoys in Osh on day {n}." for n in range(6000)), encoding="utf-8")
    env = {**site_env(tmp_path / "site"), "NEWSMAP_GEOPARSE_TIMEOUT": "0.3"}
    done = subprocess.run(
        [sys.executable, "-m", "newsmap", "add", str(article)], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "NEWSMAP_GEOPARSE_TIMEOUT" in done.stderr, done.stderr
    conn = connect(tmp_path / "site" / "data" / "newsmap.db")
    assert [row[0] for row in conn.execute("SELECT slug FROM articles")] == [SEED_SLUG]
    conn.close()


def test_a_pool_answers_in_order_and_survives_a_child_that_dies(tmp_path):
    """The pool's own contract, with a stand-in child (a tiny script) in place of the geoparser."""
    script = tmp_path / "echo.py"
    script.write_text(
        "import json, os, sys\n"
        "for line in sys.stdin:\n"
        "    request = json.loads(line)\n"
        "    if request.get('die'):\n"
        "        os._exit(3)\n"
        "    print(json.dumps({'echo': request['n'], 'pid': os.getpid()}), flush=True)\n",
        encoding="utf-8",
    )
    pool = GeoparsePool((sys.executable, str(script)), timeout=30)
    try:
        first = pool.run({"n": 1})
        assert first["echo"] == 1 and pool.run({"n": 2}) == {"echo": 2, "pid": first["pid"]}  # kept warm
        with pytest.raises(GeoparseError) as failed:
            pool.run({"die": True})
        assert failed.value.status == 500
        assert pool.run({"n": 3})["echo"] == 3  # a new child took its place
    finally:
        pool.close()
