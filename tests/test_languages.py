"""Articles in several languages, the app's side (issue 22): the language stored, shown and honoured
on every way in, and the library searched in Russian.

The real app on a real SQLite file in a temporary folder. What the geoparser finds in a Russian
text is its own tests' business (tests/test_russian.py): here a stand-in geoparse records what it
was asked, so these tests do not depend on how well Russian is recognised.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from newsmap.accounts import add_token, add_user
from newsmap.article import article_from_text
from newsmap.store import MIGRATIONS, SCHEMA_VERSION, Store, connect

from .conftest import ROOT, SEED_SLUG
from .test_auth import PASSWORD, csrf_token
from .test_language import KYRGYZ, RUSSIAN

NOTICE = "This article is in Kyrgyz: places are found in English and Russian texts."
RUSSIAN_TITLE = "Российская авиабаза в Киргизии"


class StandIn:
    """A geoparse function as the app is given one: records each request, answers with no places."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(dict(request))
        article = article_from_text("", request["text"], title=request.get("title", ""))
        sentences = [[s.index, s.start, s.end, s.paragraph] for s in article.sentences]
        slug = re.sub(r"[^a-z0-9]+", "-", article.title.lower()).strip("-") or "article"
        return {"ok": True, "slug": slug, "title": article.title, "sentences": sentences, "locations": [], "mentions": []}


@pytest.fixture()
def stand_in() -> StandIn:
    return StandIn()


@pytest.fixture()
def client(workdir: Path, stand_in: StandIn):
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", PASSWORD)
    token = add_token(conn, "alice", "tests")
    conn.close()
    app = create_app({"TESTING": True, "DB": str(workdir / "data" / "newsmap.db"), "HTTPS": False}, geoparse=stand_in)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def post(client, **body: Any):
    return client.post("/api/articles", json=body)


# --------------------------------------------------------------------------- stored and honoured


def test_the_api_detects_the_language_and_the_geoparser_is_told(client, stand_in):
    answer = post(client, title="Базa", text=RUSSIAN)
    assert answer.status_code == 201 and answer.get_json()["language"] == "ru" and "notice" not in answer.get_json()
    assert stand_in.requests[-1]["language"] == "ru"
    detail = client.get(f"/api/articles/{answer.get_json()['slug']}").get_json()
    assert (detail["language"], detail["language_name"], detail["notice"]) == ("ru", "Russian", "")
    listed = {a["slug"]: a["language"] for a in client.get("/api/articles").get_json()}
    assert listed == {SEED_SLUG: "en", answer.get_json()["slug"]: "ru"}


def test_the_api_language_field_overrides_the_detector(client, stand_in):
    answer = post(client, title="Read as English", text=RUSSIAN, language="EN")
    assert answer.status_code == 201 and answer.get_json()["language"] == "en"
    assert stand_in.requests[-1]["language"] == "en"


@pytest.mark.parametrize(
    ("language", "message"),
    [("russian", "ISO 639-1"), ("ru-RU", "ISO 639-1"), (7, "'language' must be text"), (["ru"], "must be text")],
)
def test_a_bad_language_is_refused_with_a_clear_400(client, stand_in, language, message):
    answer = post(client, title="x", text=RUSSIAN, language=language)
    assert answer.status_code == 400 and message in answer.get_json()["message"]
    assert stand_in.requests == [] and [a["slug"] for a in client.get("/api/articles").get_json()] == [SEED_SLUG]


def test_another_language_is_stored_with_a_notice_and_never_geoparsed(client, stand_in):
    answer = post(client, title="Кыргызча макала", text=KYRGYZ)
    body = answer.get_json()
    assert answer.status_code == 201 and body["places"] == [] and stand_in.requests == []
    assert (body["language"], body["notice"]) == ("ky", NOTICE)
    detail = client.get(f"/api/articles/{body['slug']}").get_json()
    assert (detail["language"], detail["notice"], detail["places"]) == ("ky", NOTICE, [])
    page = client.get(body["url"]).get_data(as_text=True)
    assert NOTICE in page and "No places were found" not in page
    assert '<h1 lang="ky">' in page and 'lang="ky">' in page.split('id="article"', 1)[1]
    assert NOTICE in client.get("/").get_data(as_text=True)  # the library's list says so too
    # The language given overrides: the same kind of text, said to be Russian, is geoparsed as Russian.
    again = post(client, title="As Russian", text=KYRGYZ + " Ош.", language="ru")
    assert again.status_code == 201 and stand_in.requests[-1]["language"] == "ru"


def test_the_web_form_offers_and_honours_a_language(client, stand_in):
    form = client.get("/new").get_data(as_text=True)
    assert '<select id="language" name="language">' in form
    assert '<option value="" selected>Detect automatically</option>' in form
    assert '<option value="ru">Russian</option>' in form and '<option value="ky">Kyrgyz</option>' in form
    fields = {"csrf_token": csrf_token(client, "/new"), "title": "Форма", "text": RUSSIAN, "language": "ky"}
    answer = client.post("/new", data=fields)
    assert answer.status_code == 303 and stand_in.requests == []
    assert NOTICE in client.get(answer.headers["Location"]).get_data(as_text=True)
    fields = {**fields, "text": RUSSIAN + " Снова.", "language": "klingon"}
    refused = client.post("/new", data=fields)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "ISO 639-1" in text and "klingon" in text


def test_the_page_marks_the_articles_own_words_with_its_language(client, stand_in, workdir):
    slug = post(client, title=RUSSIAN_TITLE, text=RUSSIAN).get_json()["slug"]
    page = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert page.startswith("<!doctype html>\n<html lang=\"en\">") or '<html lang="en">' in page  # the chrome
    assert f'<h1 lang="ru">{RUSSIAN_TITLE}</h1>' in page
    article = page.split('id="article"', 1)[1]
    assert '<h2 id="article-heading">The article</h2>' in article and '<p lang="ru">' in article
    assert '<span class="language">Russian</span>' in page  # the byline
    english = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    assert ' lang="ru"' not in english and 'class="language"' not in english
    feed = client.get("/feed.atom").get_data(as_text=True)
    assert f'<title xml:lang="ru">{RUSSIAN_TITLE}</title>' in feed and "<summary>In Russian</summary>" in feed


def test_the_command_line_takes_a_language(workdir, tmp_path):
    (tmp_path / "ru.txt").write_text(RUSSIAN, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    db = str(workdir / "data" / "newsmap.db")

    def newsmap(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newsmap", *args, "--db", db], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    refused = newsmap("add", "ru.txt", "--language", "Russian")
    assert refused.returncode != 0 and "--language" in refused.stderr and "ISO 639-1" in refused.stderr
    added = newsmap("add", "ru.txt", "--language", "ky")  # never geoparsed: no child process is started
    assert added.returncode == 0 and "(0 places)" in added.stdout and NOTICE in added.stderr
    store = Store.open(Path(db))
    [info] = [i for i in store.infos() if i.source == "cli"]
    assert info.language == "ky" and store.places(info.slug) == []


def test_the_seeds_build_takes_the_metadata_language(tmp_path):
    from newsmap.library.pipeline import build

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "kyrgyz.txt").write_text(KYRGYZ, encoding="utf-8")
    (seeds / "said-kyrgyz.txt").write_text(RUSSIAN, encoding="utf-8")
    (seeds / "said-kyrgyz.json").write_text(json.dumps({"language": "ky"}), encoding="utf-8")
    lines: list[str] = []
    build(seeds, tmp_path / "data", db_path=tmp_path / "data" / "newsmap.db", echo=lines.append)
    store = Store.open(tmp_path / "data" / "newsmap.db")
    assert {i.slug: i.language for i in store.infos()} == {"kyrgyz": "ky", "said-kyrgyz": "ky"}
    assert store.places() == [] and any("not geoparsed: Kyrgyz" in line for line in lines)


def test_the_geoparser_child_receives_the_language(monkeypatch):
    """The child's side of the pipe: the language the app decided reaches the geoparser's article."""
    from newsmap.geoparser import child

    seen: list[str] = []
    monkeypatch.setattr(child, "geoparse_within_limits", lambda article, *_: (seen.append(article.language), ([], []))[1])
    answer = child.geoparse_request({"text": "Ох\u200bрана. " + RUSSIAN, "language": "ru", "limits": {}}, None)
    assert answer["ok"] and seen == ["ru"]


def test_the_batch_command_takes_and_says_the_language(monkeypatch):
    from newsmap.library import batch

    lines = [
        json.dumps({"id": 1, "text": KYRGYZ}),
        json.dumps({"id": 2, "text": RUSSIAN, "language": "ky"}),
    ]
    records = batch.read_articles("\n".join(lines).encode(), "in.jsonl")
    assert records == [(1, KYRGYZ, ""), (2, RUSSIAN, "ky")]
    with pytest.raises(batch.InputError, match=r"in\.jsonl:1: language must be an ISO 639-1 code"):
        batch.read_articles(json.dumps({"id": 1, "text": "x", "language": "Kyrgyz"}).encode(), "in.jsonl")
    with pytest.raises(batch.InputError, match=r'in\.jsonl:1: "language" must be text, not a number'):
        batch.read_articles(json.dumps({"id": 1, "text": "x", "language": 1}).encode(), "in.jsonl")
    monkeypatch.setattr(batch, "_gazetteer", lambda *_: None)
    out = batch.geoparse_partition(records, "", "", (10**6, 1000, 1000))  # neither reaches the geoparser
    assert out == [
        {"id": 1, "language": "ky", "toponyms": [], "notice": NOTICE},
        {"id": 2, "language": "ky", "toponyms": [], "notice": NOTICE},
    ]


# --------------------------------------------------------------------------- search in Russian


def russian_library(workdir: Path) -> Store:
    """The seed's library plus a Russian article naming Osh as «в Оше» (its place row copied from the
    seed's, the way the geoparser writes one), and one whose title has «ё»."""
    store = Store.open(workdir / "data" / "newsmap.db")
    row = {**store.places(SEED_SLUG)[0], "article": "ru-osh", "name": "Osh", "article_name": "Оше", "key": "geonames:1527534"}
    text = "Российские военные прибыли в Оше. Учения прошли в Киргизии."
    article = article_from_text("ru-osh", text, title=RUSSIAN_TITLE, language="ru")
    store.put_article(article, [row], [])
    store.put_article(article_from_text("ru-yolka", "Ёлка в Бишкеке.", title="Ёлка у здания ПОСОЛЬСТВА"), [], [])
    return store


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Ош", ["ru-osh"]),  # the place, written «в Оше» in the article
        ("ОШ", ["ru-osh"]),  # Cyrillic case ignored
        ("Киргизия", ["ru-osh"]),  # the title's «в Киргизии»
        ("киргизии", ["ru-osh"]),
        ("российский", ["ru-osh"]),  # «Российская»
        ("авиабазы", ["ru-osh"]),
        ("Osh", [SEED_SLUG, "ru-osh"]),  # the gazetteer's English name (the seed names Osh too)
        ("елка", ["ru-yolka"]),  # ё written е
        ("ёлки", ["ru-yolka"]),
        ("посольство", ["ru-yolka"]),
        ("Киргизия Ош", ["ru-osh"]),  # every word must match
        ("Киргизия ёлка", []),
        ("Кант", []),
    ],
)
def test_search_matches_cyrillic_words_and_their_inflections(workdir, query, found):
    store = russian_library(workdir)
    assert [info.slug for info in store.listing(query)] == found
    assert store.count(query) == len(found)


def test_the_library_page_searches_in_russian(workdir):
    russian_library(workdir).close()
    client = create_app({"TESTING": True, "DB": str(workdir / "data" / "newsmap.db")}).test_client()
    page = client.get("/?q=Ош").get_data(as_text=True)
    assert f'<a href="/articles/ru-osh" lang="ru">{RUSSIAN_TITLE}</a>' in page and "Russian ·" in page


def test_a_russian_search_plan_uses_the_index(workdir):
    """Flat cost as the library grows: the lemmas are matched through FTS5, never by a scan of articles."""
    from newsmap.store import article_filter

    store = russian_library(workdir)
    clauses, args = article_filter("Киргизия")
    plan = " ".join(row[3] for row in store.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT slug FROM articles a WHERE {' AND '.join(clauses)}", args))  # fmt: skip
    assert "VIRTUAL TABLE INDEX" in plan and "SCAN a" not in plan, plan


# --------------------------------------------------------------------------- an older database


def test_a_database_of_schema_7_gains_languages_and_russian_search(tmp_path):
    """Step 8 on a database written before languages: each article's language detected from its text,
    and the search index made again with the lemmas of its titles and place names."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:7]:
        for statement in [step] if isinstance(step, str) else step:
            (conn.executescript if isinstance(step, str) else conn.execute)(statement)
    for slug, title, text in (
        ("en", "Troops in Osh", "Troops arrived in Osh."),
        ("ru", RUSSIAN_TITLE, "Военные прибыли в Оше."),
        ("ky", "Кыргызча", KYRGYZ),
    ):
        conn.execute(
            "INSERT INTO articles (slug, title, text, sentences, content_hash, added_at, updated_at, version) "
            "VALUES (?, ?, ?, '[[0, 10, 0]]', ?, '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00', 1)",
            (slug, title, text, slug),
        )
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    store = Store.open(path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {i.slug: i.language for i in store.infos()} == {"en": "en", "ru": "ru", "ky": "ky"}
    assert store.article("ru").language == "ru"
    assert [i.slug for i in store.listing("Киргизия")] == ["ru"] and [i.slug for i in store.listing("Osh")] == ["en"]


def test_an_old_database_is_upgraded_by_the_app(workdir):
    """The built library, set back to schema 7 (no language column, the old search table), opens in the
    app: the seed is English and its page and search work as before."""
    path = workdir / "data" / "newsmap.db"
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE search")
    conn.execute(
        "CREATE VIRTUAL TABLE search USING fts5 (slug UNINDEXED, title, places, tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO search (slug, title, places) SELECT slug, title, '' FROM articles")
    conn.execute("ALTER TABLE articles DROP COLUMN language")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    client = create_app({"TESTING": True, "DB": str(path)}).test_client()
    assert client.get(f"/api/articles/{SEED_SLUG}").get_json()["language"] == "en"
    assert [a["slug"] for a in client.get("/api/articles").get_json()] == [SEED_SLUG]
    assert "Kant" in client.get("/?q=kant").get_data(as_text=True)


def test_the_static_export_carries_the_language(client, workdir, tmp_path):
    from newsmap.serve import vendor_files
    from newsmap.serve.export import export_site
    from newsmap.settings import bundled

    slug = post(client, title=RUSSIAN_TITLE, text=RUSSIAN).get_json()["slug"]
    kyrgyz = post(client, title="Кыргызча макала", text=KYRGYZ).get_json()["slug"]
    app = create_app({"TESTING": True, "DB": str(workdir / "data" / "newsmap.db")})
    out = tmp_path / "site"
    export_site(workdir / "data" / "newsmap.db", out, app.jinja_env, bundled("static"), vendor_files(), tiles="offline")
    page = (out / f"articles/{slug}/index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and f'<h1 lang="ru">{RUSSIAN_TITLE}</h1>' in page and '<p lang="ru">' in page
    assert NOTICE in (out / f"articles/{kyrgyz}/index.html").read_text(encoding="utf-8")
    listed = {a["slug"]: a["language"] for a in json.loads((out / "articles.json").read_text(encoding="utf-8"))}
    assert listed == {SEED_SLUG: "en", slug: "ru", kyrgyz: "ky"}
    assert f'lang="ru">{RUSSIAN_TITLE}</a>' in (out / "index.html").read_text(encoding="utf-8")


def test_a_russian_article_added_through_the_api_gets_places(workdir):
    """End to end through the real geoparser child: the language crosses the pipe and the Russian
    recogniser runs (how well it does is tests/test_russian.py's business: here, at least one place)."""
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", PASSWORD)
    token = add_token(conn, "alice", "tests")
    conn.close()
    client = create_app({"TESTING": True, "DB": str(workdir / "data" / "newsmap.db")}).test_client()
    answer = client.post("/api/articles", json={"title": RUSSIAN_TITLE, "text": RUSSIAN},
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    body = answer.get_json()
    assert answer.status_code == 201 and body["language"] == "ru", body
    assert len(body["places"]) >= 1, body


def test_a_russian_pages_places_are_named_in_the_nominative(workdir, gazetteer):
    """«в Оше», «Южной Осетии» are cases of the names: the list and the map call the places «Ош» and
    «Южная Осетия» (the geoparser's `article_name`), the gazetteer's English name beside them."""
    from newsmap.geoparser import geoparse_article

    text = "Учения прошли в Оше и в Южной Осетии. В Оше было тихо.\n"
    article = article_from_text("ru-cases", text, title="Учения", language="ru")
    locations, mentions = geoparse_article(article, gazetteer, None)
    assert {m["text"] for m in mentions} >= {"Оше", "Южной Осетии"}
    store = Store.open(workdir / "data" / "newsmap.db")
    store.put_article(article, locations, mentions)
    store.close()
    client = create_app({"TESTING": True, "DB": str(workdir / "data" / "newsmap.db")}).test_client()
    page = client.get("/articles/ru-cases").get_data(as_text=True)
    listed = re.findall(r'class="place-name"[^>]*>([^<]+)<', page)
    assert "Ош" in listed and "Южная Осетия" in listed and "Оше" not in listed, listed
    data = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert {p["shown"] for p in data["places"]} >= {"Ош", "Южная Осетия"}


def test_a_place_page_marks_each_articles_words_with_its_language(workdir):
    russian_library(workdir).close()
    client = create_app({"TESTING": True, "DB": str(workdir / "data" / "newsmap.db")}).test_client()
    page = client.get("/places/geonames-1527534").get_data(as_text=True)
    assert f'lang="ru">{RUSSIAN_TITLE}</a>' in page
    entries = client.get("/api/places/geonames-1527534").get_json()["entries"]
    assert {e["article"]: e["language"] for e in entries}["ru-osh"] == "ru"


def test_a_popup_quotes_the_russian_sentence_with_its_language(browser, built, tmp_path, gazetteer):
    """In a browser: a Russian article's popup quotes its sentence as Russian (`lang="ru"`), the
    popup's own words staying English."""
    import shutil

    from newsmap.geoparser import geoparse_article

    from .conftest import LiveServer, Watched, site_env

    shutil.copytree(built, tmp_path / "site")
    store = Store.open(tmp_path / "site" / "data" / "newsmap.db")
    article = article_from_text("ru-article", RUSSIAN, title=RUSSIAN_TITLE, language="ru")
    store.put_article(article, *geoparse_article(article, gazetteer, None))
    store.close()
    with LiveServer(site_env(tmp_path / "site")) as server:
        watched = Watched(browser, server.url)
        try:
            page = watched.page
            page.goto(f"{server.url}/articles/ru-article")
            page.wait_for_selector(".nm-marker:not(.nm-gathered)")
            page.locator("a.mention").first.click()
            page.wait_for_selector(".leaflet-popup .nm-popup blockquote", timeout=5000)
            assert page.get_attribute(".leaflet-popup .nm-popup blockquote", "lang") == "ru"
            assert page.evaluate("document.documentElement.lang") == "en"
            assert watched.errors == []
        finally:
            watched.close()


def test_the_lemmatiser_is_loaded_only_for_cyrillic(tmp_path):
    """An English library is written and searched without pymorphy2; a Russian query loads it."""
    script = f"""
import json, sys
from newsmap.article import article_from_text
from newsmap.store import Store
store = Store.open(__import__("pathlib").Path({str(tmp_path / "x.db")!r}))
store.put_article(article_from_text("a", "Troops arrived in Osh.", title="Troops in Osh"), [], [])
found = [i.slug for i in store.listing("osh")]
before = "pymorphy2" in sys.modules
russian = [i.slug for i in store.listing("Ош")]
print(json.dumps([found, before, russian, "pymorphy2" in sys.modules]))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [["a"], False, [], True]
