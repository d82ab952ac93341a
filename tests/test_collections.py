"""Collections: made, shown, downloaded, embedded, reordered and deleted, through the real app (Flask's
test client) and the production server (gunicorn), with bad input refused and nothing changed.

The library is five made-up articles (tests/stories.py) built by the real pipeline. The browser side
(the map, the time control, axe, screenshots) is tests/test_collections_browser.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from newsmap.accounts import add_token, add_user
from newsmap.collections import ARTICLES_LIMIT, story_order
from newsmap.serve.export import export_site
from newsmap.store import Store, connect

from .conftest import LiveServer, app_for, site_env
from .payloads import FORMULAS, PAYLOADS, SLUG, write_payload_site
from .stories import BY_DATE, EDITOR, PASSWORD, StoryLibrary, story_library

STORY = ["kant-air-base", "talks-in-tashkent", "dushanbe-border", "ferry-to-baku"]  # the collection's order
KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def stories(tmp_path_factory) -> StoryLibrary:
    return story_library(tmp_path_factory.mktemp("stories"))


@pytest.fixture()
def library(stories: StoryLibrary, tmp_path: Path) -> StoryLibrary:
    """A private copy of the built library, to write to."""
    shutil.copytree(stories.root / "data", tmp_path / "data")
    return StoryLibrary(tmp_path, stories.token)


@pytest.fixture()
def api(library: StoryLibrary):
    client = app_for(library.root).test_client()

    def call(method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {library.token}", **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)

    call.client = client  # type: ignore[attr-defined]
    return call


def create(api, articles: list[str] = STORY, title: str = "Russia in Central Asia", **more) -> str:
    answer = api("POST", "/api/collections", json={"title": title, "articles": articles, **more})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["slug"]


def rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def order_of(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --------------------------------------------------------------------------- the cycle


def test_a_collection_is_created_shown_reordered_and_deleted(api, library):
    answer = api("POST", "/api/collections", json={"title": "  Russia in\nCentral Asia ", "articles": STORY,
                                                    "description": "Bases, talks and ports.\nFive years."})  # fmt: skip
    assert answer.status_code == 201 and answer.headers["Location"] == "/collections/russia-in-central-asia"
    made = answer.get_json()
    assert made["title"] == "Russia in Central Asia" and made["articles"] == STORY and made["created_by"] == EDITOR
    assert answer.headers["ETag"]

    page = api.client.get("/collections/russia-in-central-asia")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["ETag"] and "Bases, talks and ports." in html
    titles = re.findall(r'<h3><a href="/articles/([^"]+)">', html)
    assert titles == STORY  # listed in the collection's order
    data = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', html, re.S)[1])
    assert [data["articles"][i]["slug"] for i in data["steps"]] == [s for s in BY_DATE if s in STORY]  # by date
    assert {p["family"] for p in data["places"]} >= {"military", "meeting", "other"}
    assert 'type="range"' in html and "Step through the story by date" in html
    assert "sha256" not in page.headers["Content-Security-Policy"]  # no inline script: the data is a JSON block

    listed = api.client.get("/api/collections").get_json()
    assert [(c["slug"], c["articles"]) for c in listed] == [("russia-in-central-asia", 4)]
    assert '<a href="/collections">1 collection</a>' in api.client.get("/").get_data(as_text=True)  # found from the library
    assert "Russia in Central Asia" in api.client.get("/collections").get_data(as_text=True)

    current = api.client.get("/api/collections/russia-in-central-asia")
    reordered = list(reversed(STORY[1:]))
    moved = api("PATCH", "/api/collections/russia-in-central-asia", json={"articles": reordered},
                headers={"If-Match": current.headers["ETag"]})  # fmt: skip
    assert moved.status_code == 200 and moved.get_json()["articles"] == reordered
    assert moved.headers["ETag"] != current.headers["ETag"]
    csv_rows = rows(api.client.get("/collections/russia-in-central-asia/locations.csv").data)
    assert order_of([r["article"] for r in csv_rows]) == reordered
    html = api.client.get("/collections/russia-in-central-asia").get_data(as_text=True)
    assert re.findall(r'<h3><a href="/articles/([^"]+)">', html) == reordered

    tag = api.client.get("/api/collections/russia-in-central-asia").headers["ETag"]
    gone = api("DELETE", "/api/collections/russia-in-central-asia", headers={"If-Match": tag})
    assert gone.status_code == 204
    assert api.client.get("/collections/russia-in-central-asia").status_code == 404
    assert api.client.get("/api/collections/russia-in-central-asia").status_code == 404
    assert api.client.get("/api/collections").get_json() == []
    assert 'href="/collections"' not in api.client.get("/").get_data(as_text=True)  # no link to an empty list
    assert len(api.client.get("/api/articles").get_json()) == 5  # the articles stay


def test_the_downloads_hold_every_article_in_order_and_parse(api, library):
    store = Store.open(library.db)  # a quote a spreadsheet would run as a formula
    store.conn.execute("UPDATE places SET quote = '=1+1' WHERE article = 'kant-air-base' AND position = 0")
    first = store.places("kant-air-base")[0]["id"]
    store.close()
    slug = create(api, title="=cmd|' /C calc'!A0")
    base = f"/collections/{slug}"
    located = api.client.get(f"{base}/locations.csv")
    assert located.headers["Content-Disposition"] == f'attachment; filename="{slug}-locations.csv"'
    places = rows(located.data)
    assert order_of([r["article"] for r in places]) == STORY
    assert next(r["quote"] for r in places if (r["article"], r["id"]) == ("kant-air-base", first)) == "'=1+1"
    excel = api.client.get(f"{base}/locations.csv?bom=1")
    assert excel.data.startswith(b"\xef\xbb\xbf") and rows(excel.data) == places
    assert slug in excel.headers["Content-Disposition"] and "excel" in excel.headers["Content-Disposition"]
    mentions = rows(api.client.get(f"{base}/mentions.csv").data)
    assert order_of([m["article"] for m in mentions]) == STORY
    geojson = json.loads(api.client.get(f"{base}/locations.geojson").data)
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == len(places)
    assert geojson["features"][0]["id"] == f"{places[0]['article']}#{places[0]['id']}"
    kml = ET.fromstring(api.client.get(f"{base}/locations.kml").data)
    assert kml.find(f"{KML}Document/{KML}name").text == "=cmd|' /C calc'!A0"  # KML is no spreadsheet
    assert [f.find(f"{KML}name").text for f in kml.findall(f"{KML}Document/{KML}Folder")] == STORY
    whole = json.loads(api.client.get(f"{base}/collection.json").data)
    assert [a["slug"] for a in whole["articles"]] == STORY
    assert sum(len(a["places"]) for a in whole["articles"]) == len(places)
    assert "=cmd" not in located.headers["Content-Disposition"]  # files are named after the slug, not the title


def test_pages_and_downloads_are_cached_and_revalidate(api, library):
    slug = create(api)
    for path in (f"/collections/{slug}", f"/collections/{slug}/locations.csv", f"/api/collections/{slug}"):
        first = api.client.get(path, headers={"Accept-Encoding": "gzip"})
        assert first.headers.get("Content-Encoding") == "gzip" or len(first.data) < 600
        again = api.client.get(path, headers={"If-None-Match": first.headers["ETag"], "Accept-Encoding": "gzip"})
        assert again.status_code == 304, path
    page = api.client.get(f"/collections/{slug}").headers["ETag"]
    api("POST", "/api/articles", json={"title": "Elsewhere", "text": "Officials met in Riga, Latvia, on Monday.\n"})
    assert api.client.get(f"/collections/{slug}").headers["ETag"] == page  # another article's write: same page
    assert api("DELETE", "/api/articles/dushanbe-border").status_code == 204
    after = api.client.get(f"/collections/{slug}")
    assert after.headers["ETag"] != page and "dushanbe-border" not in after.get_data(as_text=True)
    assert api.client.get(f"/api/collections/{slug}").get_json()["articles"] == [
        s for s in STORY if s != "dushanbe-border"
    ]


def test_payloads_stay_text_and_downloads_stay_formula_safe(tmp_path):
    """An article whose every field is a script or formula payload, in a collection titled with one."""
    _seeds, data, _rows = write_payload_site(tmp_path)
    conn = connect(data / "newsmap.db")
    add_user(conn, EDITOR, PASSWORD)
    token = add_token(conn, EDITOR)
    conn.close()
    client = app_for(tmp_path).test_client()
    title, description = PAYLOADS[4], PAYLOADS[1] + "\n" + FORMULAS[0]
    made = client.post("/api/collections", json={"title": title, "description": description, "articles": [SLUG]},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    base = made.headers["Location"]
    for path in (base, f"{base}/embed", "/collections"):
        page = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script[^>]*>", page)
        assert [tag for tag in scripts if "newsmap-data" not in tag] == (
            [] if path == "/collections" else
            ['<script src="/vendor/leaflet/leaflet.js">', '<script src="/static/mapcore.js">',
             '<script src="/static/collection.js">']
        ), path  # fmt: skip
        assert not [p for p in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[4]) if p in page], path  # never as markup
    page = client.get(base).get_data(as_text=True)
    data_block = re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', page, re.S)[1]
    assert "<" not in data_block and json.loads(data_block)["places"][0]["shown"]
    located = rows(client.get(f"{base}/locations.csv").data)
    assert {r["name"] for r in located} >= {"'" + f for f in FORMULAS if f[0] in "=+-@\t\r"}
    ET.fromstring(client.get(f"{base}/locations.kml").data)  # well-formed, whatever the names hold
    assert feedparser.parse(client.get(f"{base}/feed.atom").data).feed.title == title


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"title": "", "articles": STORY}, 422, "title is empty"),
        ({"title": " \n\t ", "articles": STORY}, 422, "title is empty"),
        ({"title": "x" * 201, "articles": STORY}, 422, "at most 200"),
        ({"title": "a\x00b", "articles": STORY}, 422, "control character"),
        ({"title": 7, "articles": STORY}, 400, "title must be text"),
        ({"articles": STORY}, 422, "title is missing"),
        ({"title": "x"}, 422, "list of articles is missing"),
        ({"title": "x", "articles": ["kant-air-base", "no-such-article"]}, 422, "No article 'no-such-article'"),
        (
            {"title": "x", "articles": ["kant-air-base", "osh-market", "kant-air-base"]},
            422,
            "'kant-air-base' is in the list twice",
        ),
        ({"title": "x", "articles": "kant-air-base"}, 400, "articles must be a list"),
        ({"title": "x", "articles": [1, 2]}, 400, "articles must be a list"),
        ({"title": "x", "articles": ["kant-air-base"] * 501}, 422, f"at most {ARTICLES_LIMIT}"),
        ({"title": "x", "articles": [], "description": "d" * 2001}, 422, "at most 2000"),
        ({"title": "x", "articles": [], "colour": "red"}, 400, "Unknown field 'colour'"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(api, body, status, message):
    answer = api("POST", "/api/collections", json=body)
    assert answer.status_code == status and message in answer.get_json()["message"], answer.get_json()
    assert api.client.get("/api/collections").get_json() == []


def test_a_body_that_is_not_an_object_or_not_json_is_refused(api):
    for data in ("[1, 2]", "{not json", '"text"'):
        answer = api("POST", "/api/collections", data=data, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.get_json()["message"], data
    assert api.client.get("/api/collections").get_json() == []


def test_changes_need_if_match_and_a_stale_one_is_a_conflict(api):
    slug = create(api)
    path = f"/api/collections/{slug}"
    stale = api.client.get(path).headers["ETag"]
    blind = api("PATCH", path, json={"title": "Renamed"})
    assert blind.status_code == 428 and "If-Match" in blind.get_json()["message"]
    assert api("DELETE", path).status_code == 428
    assert api("PATCH", path, json={"title": "Renamed"}, headers={"If-Match": stale}).status_code == 200
    conflict = api("PATCH", path, json={"articles": STORY[:1]}, headers={"If-Match": stale})
    assert conflict.status_code == 409 and conflict.get_json()["current"]["title"] == "Renamed"
    assert api("DELETE", path, headers={"If-Match": stale}).status_code == 409
    assert api.client.get(path).get_json()["articles"] == STORY  # neither stale write changed it
    fresh = api.client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"]  # its gzip's tag counts too
    assert api("PATCH", path, json={"description": "now"}, headers={"If-Match": fresh}).status_code == 200
    assert api("PATCH", path, json={}, headers={"If-Match": "*"}).status_code == 400  # nothing to change
    unknown = api("PATCH", path, json={"articles": ["nope"]}, headers={"If-Match": "*"})
    assert unknown.status_code == 422 and "No article 'nope'" in unknown.get_json()["message"]
    assert (
        api("PATCH", "/api/collections/nothing-here", json={"title": "x"}, headers={"If-Match": "*"}).status_code == 404
    )
    assert api("DELETE", "/api/collections/nothing-here", headers={"If-Match": "*"}).status_code == 404


def test_writes_need_an_editor(library):
    client = app_for(library.root).test_client()
    body = {"title": "x", "articles": STORY}
    assert client.post("/api/collections", json=body).status_code == 401
    wrong = client.post("/api/collections", json=body, headers={"Authorization": "Bearer nm_nope"})
    assert wrong.status_code == 401
    assert client.get("/collections/new").status_code == 302  # readers are sent to sign in
    assert client.get("/api/collections").get_json() == []


def test_slugs_are_unique_and_never_the_forms_url(api):
    assert create(api, title="New") == "new-2"
    assert create(api, title="Russia!") == "russia"
    assert create(api, title="Russia?") == "russia-2"
    assert create(api, title="Москва " * 20).startswith("moskva-moskva")
    assert story_order([]) == []


# --------------------------------------------------------------------------- the forms


def csrf(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


def test_the_forms_make_change_and_delete_a_collection(library):
    client = app_for(library.root).test_client()
    client.post("/login", data={"name": EDITOR, "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    token = csrf(client, "/collections/new")
    refused = client.post("/collections/new", data={"csrf_token": token, "title": "", "articles": "kant-air-base"})
    assert refused.status_code == 422 and "title is empty" in refused.get_data(as_text=True)
    lines = "https://maps.example.org/articles/talks-in-tashkent#tashkent\n\n  kant-air-base \n"
    made = client.post("/collections/new", data={"csrf_token": token, "title": "Two", "articles": lines})
    assert made.status_code == 303 and made.headers["Location"] == "/collections/two"
    assert client.get("/api/collections/two").get_json()["articles"] == ["talks-in-tashkent", "kant-air-base"]

    form = client.get("/collections/two/edit").get_data(as_text=True)
    etag = re.search(r'name="etag" value="([^"]+)"', form)[1]
    fields = {"csrf_token": token, "etag": etag, "title": "Two", "articles": "kant-air-base\ntalks-in-tashkent"}
    assert client.post("/collections/two/edit", data=fields).status_code == 303
    assert client.get("/api/collections/two").get_json()["articles"] == ["kant-air-base", "talks-in-tashkent"]
    stale = client.post("/collections/two/edit", data={**fields, "articles": "osh-market"})
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    no_csrf = client.post("/collections/two/delete", data={"etag": etag})
    assert no_csrf.status_code == 400
    fresh = re.search(r'name="etag" value="([^"]+)"', client.get("/collections/two/edit").get_data(as_text=True))[1]
    assert client.post("/collections/two/delete", data={"csrf_token": token, "etag": fresh}).status_code == 303
    assert client.get("/collections/two").status_code == 404


# --------------------------------------------------------------------------- embed, oEmbed, feed


def test_embed_oembed_and_feed(api):
    slug = create(api)
    embed = api.client.get(f"/collections/{slug}/embed")
    assert embed.status_code == 200 and "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "Open the full story" in embed.get_data(as_text=True)
    assert api.client.get(f"/collections/{slug}").headers["X-Frame-Options"] == "DENY"
    for url in (f"/collections/{slug}", f"http://localhost/collections/{slug}/embed"):
        answer = api.client.get("/oembed", query_string={"url": url, "maxwidth": "500"})
        body = answer.get_json()
        assert answer.status_code == 200 and body["type"] == "rich" and body["title"] == "Russia in Central Asia"
        assert f'src="http://localhost/collections/{slug}/embed"' in body["html"] and body["width"] == 500
    assert api.client.get("/oembed", query_string={"url": "/collections/nothing"}).status_code == 404
    assert (
        api.client.get("/oembed", query_string={"url": "https://elsewhere.example/collections/" + slug}).status_code
        == 404
    )

    feed = feedparser.parse(api.client.get(f"/collections/{slug}/feed.atom").data)
    assert not feed.bozo and feed.feed.title == "Russia in Central Asia"
    assert [e.link for e in feed.entries] == [f"http://localhost/articles/{s}" for s in STORY]
    assert feed.feed.link == f"http://localhost/collections/{slug}"
    assert api.client.get("/collections/nothing/feed.atom").status_code == 404
    assert api.client.get("/collections/nothing/embed").status_code == 404
    assert api.client.get("/collections/nothing/locations.csv").get_json()["status"] == 404


# --------------------------------------------------------------------------- the static export


def test_the_export_writes_collections_with_their_downloads(api, library, tmp_path):
    slug = create(api)
    app = app_for(library.root)
    out = tmp_path / "site"
    from newsmap.serve import vendor_files
    from newsmap.settings import bundled

    export_site(library.db, out, app.jinja_env, bundled("static"), vendor_files(), base_url="https://maps.example.org/")
    folder = out / "collections" / slug
    for name in ("index.html", "locations.csv", "locations-excel.csv", "mentions.csv", "locations.geojson",
                 "locations.kml", "collection.json", "embed/index.html", "feed.atom"):  # fmt: skip
        assert (folder / name).is_file(), name
    page = (folder / "index.html").read_text(encoding="utf-8")
    for link in re.findall(r'(?:href|src|data-embed|data-basemap-script)="([^"#]+)', page):
        if not link.startswith("https://"):
            assert (folder / link).resolve().is_file(), link
    data = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', page, re.S)[1])
    assert data["articleLink"] == "../../articles/{slug}/index.html" and data["basemap"]["url"] == "../../basemap"
    assert (out / "articles" / "kant-air-base" / "index.html").is_file()
    assert "Russia in Central Asia" in (out / "collections" / "index.html").read_text(encoding="utf-8")
    assert '<a href="collections/index.html">1 collection</a>' in (out / "index.html").read_text(encoding="utf-8")
    assert order_of([r["article"] for r in rows((folder / "locations.csv").read_bytes())]) == STORY
    assert "https://maps.example.org/articles/kant-air-base" in (folder / "feed.atom").read_text(encoding="utf-8")

    some = tmp_path / "some"
    export_site(library.db, some, app.jinja_env, bundled("static"), vendor_files(), slugs=["kant-air-base"])
    held = json.loads((some / "collections" / slug / "collection.json").read_text(encoding="utf-8"))
    assert [a["slug"] for a in held["articles"]] == ["kant-air-base"]  # only the exported articles
    assert not (some / "collections" / slug / "feed.atom").exists()  # no base URL, no feed, no link to one
    assert "feed.atom" not in (some / "collections" / slug / "index.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the production server


def request(server: LiveServer, method: str, path: str, body: dict | None = None, **headers: str):
    data = json.dumps(body).encode() if body is not None else None
    ask = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    if data is not None:
        ask.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(ask, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.processes
def test_the_cycle_through_the_production_server(library):
    auth = {"Authorization": f"Bearer {library.token}"}
    with LiveServer(site_env(library.root), gunicorn=True) as server:
        status, headers, body = request(
            server, "POST", "/api/collections", {"title": "Live", "articles": STORY}, **auth
        )
        assert status == 201 and headers["Location"] == "/collections/live"
        status, _, page = request(server, "GET", "/collections/live")
        assert status == 200 and b"Step through the story by date" in page
        for _ in range(4):  # both workers answer with the same bytes and the same ETag
            status, headers, _ = request(server, "GET", "/api/collections/live")
        tag = headers["ETag"]
        status, _, body = request(server, "PATCH", "/api/collections/live", {"articles": STORY[::-1]}, **auth)
        assert status == 428
        status, _, body = request(server, "PATCH", "/api/collections/live", {"articles": STORY[::-1]},
                                  **auth, **{"If-Match": tag})  # fmt: skip
        assert status == 200 and json.loads(body)["articles"] == STORY[::-1]
        for _ in range(4):  # every worker serves the new order at its next request
            _, _, csv_body = request(server, "GET", "/collections/live/locations.csv")
            assert order_of([r["article"] for r in rows(csv_body)]) == STORY[::-1]
        status, _, body = request(server, "PATCH", "/api/collections/live", {"title": "x"}, **auth, **{"If-Match": tag})
        assert status == 409
        status, headers, _ = request(server, "GET", "/api/collections/live")
        status, _, _ = request(server, "DELETE", "/api/collections/live", **auth, **{"If-Match": headers["ETag"]})
        assert status == 204
        assert request(server, "GET", "/collections/live")[0] == 404
    store = Store.open(library.db)
    try:
        assert store.conn.execute("SELECT count(*) FROM collection_articles").fetchone()[0] == 0
    finally:
        store.close()
