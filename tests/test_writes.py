"""Adding and deleting articles: the API, the page's form, bad input, the database's schema upgrade,
and 20 articles added at once through the production server while readers keep reading."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from newsmap.accounts import add_token, add_user
from newsmap.store import MIGRATIONS, SCHEMA_VERSION, Store, connect

from .conftest import SEED_SLUG, LiveServer, app_for, site_env

TEXT = "Officials met in Tashkent, Uzbekistan, on Monday. Later they flew to Almaty in Kazakhstan.\n"


@pytest.fixture()
def token(workdir: Path) -> str:
    """An editor with an API token, in the workdir's database."""
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "editor", "correct horse battery")
    secret = add_token(conn, "editor", "tests")
    conn.close()
    return secret


@pytest.fixture()
def api(workdir: Path, token: str):
    client = app_for(workdir).test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, **kwargs):
        return client.open(path, method=method, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)

    call.client = client  # type: ignore[attr-defined]
    return call


def test_create_list_fetch_and_delete_an_article(api):
    created = api("POST", "/api/articles", json={"title": "Talks in Tashkent", "text": TEXT, "published": "2024-05"})
    assert created.status_code == 201 and created.headers["Location"] == "/articles/talks-in-tashkent"
    body = created.get_json()
    assert body["slug"] == "talks-in-tashkent" and {"tashkent", "uzbekistan", "almaty"} <= {
        p["id"] for p in body["places"]
    }
    listed = api("GET", "/api/articles").get_json()
    assert {a["slug"] for a in listed} == {SEED_SLUG, "talks-in-tashkent"}
    one = api("GET", "/api/articles/talks-in-tashkent").get_json()
    assert one["title"] == "Talks in Tashkent" and one["published"] == "2024-05" and one["places"] == body["places"]
    page = api.client.get("/articles/talks-in-tashkent")
    assert page.status_code == 200 and "Tashkent" in page.get_data(as_text=True)
    assert "Talks in Tashkent" in api.client.get("/").get_data(as_text=True)  # the library lists it at once

    assert api("DELETE", "/api/articles/talks-in-tashkent").status_code == 204
    assert api.client.get("/articles/talks-in-tashkent").status_code == 404
    assert {row["article"] for row in api("GET", "/api/places").get_json()} == {SEED_SLUG}
    assert api("DELETE", "/api/articles/talks-in-tashkent").status_code == 404


def test_the_editor_is_recorded_and_the_added_text_is_verbatim(api, workdir):
    api("POST", "/api/articles", json={"title": "Crlf", "text": TEXT.replace("\n", "\r\n")})
    store = Store.open(workdir / "data" / "newsmap.db")
    info = store.info("crlf")
    assert info.added_by == "editor" and info.source == "api"
    article = store.article("crlf")
    for mention in store.mentions("crlf"):
        assert article.text[mention["start"] : mention["end"]] == mention["text"]


def test_writes_need_an_editor(workdir, token):
    client = app_for(workdir).test_client()
    missing = client.post("/api/articles", json={"title": "x", "text": TEXT})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post("/api/articles", json={"title": "x", "text": TEXT}, headers={"Authorization": "Bearer nm_nope"})
    assert wrong.status_code == 401
    assert client.delete(f"/api/articles/{SEED_SLUG}").status_code == 401
    assert client.get(f"/articles/{SEED_SLUG}").status_code == 200  # nothing was deleted


def test_with_no_editor_the_write_routes_say_how_to_make_one(workdir):
    client = app_for(workdir).test_client()
    answer = client.post("/api/articles", json={"title": "x", "text": TEXT})
    assert answer.status_code == 403 and "newsmap user add NAME" in answer.get_json()["message"]
    page = client.get("/new")
    assert page.status_code == 403 and "newsmap user add NAME" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"title": "x", "text": ""}, 400, "the text is empty"),
        ({"title": "x", "text": "   \n\t "}, 400, "the text is empty"),
        ({"title": "x", "text": "a\x00b Bishkek"}, 400, "NUL"),
        ({"title": "x", "text": "Bishkek. " * 300}, 413, "NEWSMAP_MAX_ARTICLE_KB"),
        ({"title": "x", "fetch": "ftp://example.org/a.txt"}, 400, "only http:// and https://"),
        ({"title": "x", "fetch": "http://127.0.0.1:9/"}, 400, "private or local address"),
        ({"title": 7, "text": TEXT}, 400, "'title' must be text"),
        ({"title": "x", "text": TEXT, "url": "javascript:alert(1)"}, 400, "must start with http:// or https://"),
        ({"title": "x", "text": TEXT, "published": "last week"}, 400, "YYYY-MM-DD"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(workdir, token, body, status, message):
    client = app_for(workdir, MAX_ARTICLE_KB=1).test_client()
    answer = client.post("/api/articles", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == status and message in answer.get_json()["message"], answer.get_json()
    assert [a["slug"] for a in client.get("/api/articles").get_json()] == [SEED_SLUG]


def test_a_body_that_is_not_an_object_is_refused(api):
    answer = api("POST", "/api/articles", data="[1, 2]", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "JSON object" in answer.get_json()["message"]


def test_a_duplicate_links_to_the_existing_article(api):
    first = api("POST", "/api/articles", json={"title": "One", "text": TEXT})
    again = api("POST", "/api/articles", json={"title": "Two", "text": "  " + TEXT.replace(" ", "  ")})
    assert first.status_code == 201 and again.status_code == 409
    assert again.headers["Location"] == "/articles/one" and again.get_json()["slug"] == "one"
    assert len(api("GET", "/api/articles").get_json()) == 2


def test_an_article_without_places_is_kept_with_a_notice(api):
    answer = api("POST", "/api/articles", json={"title": "Nowhere", "text": "Nothing happened to anyone today.\n"})
    assert answer.status_code == 201 and answer.get_json()["places"] == []
    assert "No places were found in this article." in api.client.get("/articles/nowhere").get_data(as_text=True)
    assert "No places were found in this article." in api.client.get("/").get_data(as_text=True)


def test_same_titles_get_their_own_slugs(api):
    first = api("POST", "/api/articles", json={"title": "Same", "text": TEXT})
    second = api("POST", "/api/articles", json={"title": "Same", "text": "Troops arrived in Osh, Kyrgyzstan.\n"})
    assert (first.get_json()["slug"], second.get_json()["slug"]) == ("same", "same-2")


def test_an_html_upload_through_the_api_takes_the_pages_text_and_title(api):
    html = (
        b"<html><head><title>Port news</title><meta property='og:site_name' content='Caspian Daily'></head>"
        b"<body><nav>Home | About</nav><article><h1>Port news</h1><p>The port of Aktau in Kazakhstan will grow, "
        b"officials in Astana said on Monday.</p><p>Ships from Baku arrive daily.</p></article></body></html>"
    )
    answer = api("POST", "/api/articles", data={"file": (__import__("io").BytesIO(html), "port.html")})
    assert answer.status_code == 201, answer.get_json()
    assert {"aktau", "astana", "baku"} <= {p["id"] for p in answer.get_json()["places"]}
    detail = api("GET", f"/api/articles/{answer.get_json()['slug']}").get_json()
    assert detail["title"] == "Port news" and "Home | About" not in json.dumps(detail)


class Page(http.server.BaseHTTPRequestHandler):
    """A news page served on loopback (no web site can be reached from here)."""

    def do_GET(self) -> None:
        body = (
            b"<html><head><title>Border talks</title><meta name='date' content='2025-02-03'></head><body><article>"
            b"<p>Delegations met in Dushanbe, Tajikistan, to discuss the border with Afghanistan.</p>"
            b"<p>The next round will be held in Bishkek.</p></article></body></html>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_url_import_fetches_the_page(workdir, token):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/news"
        client = app_for(workdir, ALLOW_PRIVATE_URLS=True).test_client()  # loopback is private: allowed for the test
        answer = client.post("/api/articles", json={"fetch": url}, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 201, answer.get_json()
        detail = client.get(f"/api/articles/{answer.get_json()['slug']}").get_json()
        assert detail["title"] == "Border talks" and detail["url"] == url and detail["published"] == "2025-02-03"
        assert {"dushanbe", "bishkek"} <= {p["id"] for p in detail["places"]}
        refused = (
            app_for(workdir)
            .test_client()
            .post("/api/articles", json={"fetch": url}, headers={"Authorization": f"Bearer {token}"})
        )
        assert refused.status_code == 400 and "private or local address" in refused.get_json()["message"]
    finally:
        server.shutdown()


def test_writes_are_rate_limited(workdir, token):
    client = app_for(workdir, WRITE_LIMIT="2 per hour").test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answers = [
        client.post(
            "/api/articles", json={"title": f"t{n}", "text": f"Troops arrived in Osh on day {n}.\n"}, headers=headers
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].headers.get("Retry-After")


def test_a_database_of_the_first_schema_opens_and_upgrades(tmp_path):
    """A database written by newsmap's first schema (articles, places, mentions; no editors)."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute(
        "INSERT INTO articles (slug, title, text, sentences, content_hash, added_at, updated_at, version) "
        "VALUES ('old', 'Old', 'Troops in Osh.', '[[0, 14, 0]]', 'h', '2024-01-01T00:00:00+00:00', "
        "'2024-01-01T00:00:00+00:00', 1)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = Store.open(path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.article("old").title == "Old"
    assert [item.slug for item in store.listing("old")] == ["old"]  # the search index was filled for it
    add_user(store.conn, "editor", "correct horse battery")  # the upgrade's table works
    assert [tuple(row) for row in store.conn.execute("SELECT name FROM users")] == [("editor",)]


def test_twenty_articles_added_at_once_while_readers_read(built, tmp_path):
    """Through the production server (gunicorn, 2 workers): no lost article, no error, only 200/304 for readers."""
    import shutil

    shutil.copytree(built, tmp_path / "site")
    conn = connect(tmp_path / "site" / "data" / "newsmap.db")
    add_user(conn, "editor", "correct horse battery")
    secret = add_token(conn, "editor", "load")
    conn.close()
    env = {**site_env(tmp_path / "site"), "NEWSMAP_WRITE_LIMIT": "1000 per hour"}
    towns = ["Osh", "Bishkek", "Tashkent", "Almaty", "Dushanbe", "Astana", "Baku", "Tbilisi", "Yerevan", "Ashgabat"]
    texts = [f"Report {n}: officials met in {towns[n % 10]} and later in {towns[(n + 3) % 10]}.\n" for n in range(20)]
    server = LiveServer(env, gunicorn=True)
    try:

        def add(text: str) -> int:
            request = urllib.request.Request(
                f"{server.url}/api/articles", data=json.dumps({"title": text[:12], "text": text}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}, method="POST",
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status

        reading = threading.Event()
        statuses: list[int] = []

        def read() -> None:
            while not reading.is_set():
                for path in ("/", f"/articles/{SEED_SLUG}", "/api/articles"):
                    try:
                        with urllib.request.urlopen(server.url + path, timeout=30) as answer:
                            statuses.append(answer.status)
                    except urllib.error.HTTPError as error:
                        statuses.append(error.code)

        readers = [threading.Thread(target=read) for _ in range(3)]
        for reader in readers:
            reader.start()
        with ThreadPoolExecutor(max_workers=10) as pool:
            added = list(pool.map(add, texts))
        reading.set()
        for reader in readers:
            reader.join(timeout=60)
        assert added == [201] * 20
        assert statuses and set(statuses) <= {200, 304}, sorted(set(statuses))
        with urllib.request.urlopen(f"{server.url}/api/articles", timeout=30) as answer:
            library = json.loads(answer.read())
        assert len(library) == 21 and all(item["places"] >= 1 for item in library)
        for item in library:
            with urllib.request.urlopen(f"{server.url}{item['page']}", timeout=30) as page:
                assert page.status == 200
    finally:
        server.stop()


def test_the_command_line_adds_files_and_removes_articles(workdir, tmp_path):
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    (tmp_path / "a.txt").write_text("Troops arrived in Osh and Bishkek.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Port story\n\nShips from *Baku* reach Aktau.\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    db = str(workdir / "data" / "newsmap.db")

    def newsmap(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newsmap", *args, "--db", db], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    added = newsmap("add", "a.txt", "b.md", "missing.txt", "--by", "cli-user")
    assert added.returncode == 1 and "missing.txt: cannot read (No such file or directory)" in added.stderr
    assert "a.txt: added as /articles/troops-arrived-in-osh-and-bishkek (2 places)" in added.stdout
    assert "b.md: added as /articles/port-story (2 places)" in added.stdout
    again = newsmap("add", "a.txt")
    assert (
        again.returncode == 0
        and "is already in the library as /articles/troops-arrived-in-osh-and-bishkek" in again.stdout
    )
    store = Store.open(Path(db))
    assert store.info("port-story").added_by == "cli-user" and store.info("port-story").source == "cli"
    store.close()
    removed = newsmap("remove", "port-story", "nothing")
    assert removed.returncode == 1 and "removed port-story" in removed.stdout and "'nothing'" in removed.stderr
    assert Store.open(Path(db)).info("port-story") is None
