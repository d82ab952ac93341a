"""Untrusted text stays text everywhere; downloads are formula-safe; bad input never crashes."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from newsmap.dataset import validate
from newsmap.schema import LOCATION_FIELDS
from newsmap.store import Store

from .conftest import SEED_SLUG, LiveServer, app_for, site_env
from .payloads import FORMULAS, PAYLOADS, SLUG, write_payload_site


@pytest.fixture()
def payload_site(tmp_path):
    seeds, data, rows = write_payload_site(tmp_path)
    return seeds, data, rows


@pytest.fixture()
def payload_client(payload_site):
    _seeds, data, _ = payload_site
    return app_for(data.parent).test_client()


def test_payload_dataset_is_valid_and_served(payload_site, payload_client):
    seeds, data, _ = payload_site
    assert validate(data, {p.stem: p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")}) == []
    assert payload_client.get("/").status_code == 200 and payload_client.get(f"/articles/{SLUG}").status_code == 200


def test_library_page_never_carries_a_live_payload(payload_client):
    page = payload_client.get("/").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", page) == [  # basemap.js and the rest are fetched from these attributes
        '<script type="application/json" id="newsmap-data" data-basemap-script="/static/basemap.js"'
        ' data-tiles-script="/static/maptiles.js">',  # no date in the library: no time slider
        '<script src="/vendor/leaflet/leaflet.js">',
        '<script src="/static/library.js">',
    ]
    assert "xss-title" in page and '<script>alert("xss-title")' not in page
    data = re.search(r'<script type="application/json" id="newsmap-data"[^>]*>(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and "places" not in json.loads(data)  # the map's places come as JSON, drawn as text
    places = payload_client.get("/api/library/map").get_json()["places"]
    assert PAYLOADS[1] in {place["name"] for place in places}


def test_page_html_never_carries_a_live_payload(payload_client):
    page = payload_client.get(f"/articles/{SLUG}").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == [  # basemap.js, phone.js, details.js are not tags: newsmap.js fetches them when needed
        '<script type="application/json" id="newsmap-data" data-basemap-script="/static/basemap.js"'
        ' data-phone-script="/static/phone.js" data-details-script="/static/details.js"'
        f' data-details="/api/articles/{SLUG}">',
        '<script src="/vendor/leaflet/leaflet.js">',
        "<script>",
        '<script src="/static/newsmap.js">',
    ]
    assert "xss-" in page  # the payloads are there, as text
    for payload in PAYLOADS:
        assert payload not in page, payload  # never verbatim: escaped in HTML and in the JSON block
    assert "<img src=x" not in page and "&lt;img src=x onerror" in page
    data = re.search(r'<script type="application/json" id="newsmap-data"[^>]*>(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and json.loads(data)["places"][1]["name"] == PAYLOADS[1]


def test_exports_stay_well_formed_with_payloads(payload_client, payload_site):
    _, _, rows = payload_site
    names = [row["name"] for row in rows]
    api = payload_client.get("/api/places").get_json()
    assert [p["name"] for p in api] == names
    one = payload_client.get("/api/places/payload-4").get_json()
    assert one["source"] == PAYLOADS[4] and one["mentions"][0]["text"] == PAYLOADS[4]
    geo = json.loads(payload_client.get("/data/locations.geojson").data)
    assert [f["properties"]["name"] for f in geo["features"]] == names
    kml = ET.fromstring(payload_client.get("/data/locations.kml").data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    kml_names = [n.text for n in kml.findall(".//k:Placemark/k:name", ns)]
    assert kml_names[: len(PAYLOADS)] == list(PAYLOADS)
    assert "<script>" not in payload_client.get("/data/locations.kml").get_data(as_text=True)


def test_csv_downloads_neutralise_formulas_but_not_numbers(payload_client, payload_site):
    _, _, rows = payload_site
    downloaded = list(
        csv.DictReader(io.StringIO(payload_client.get("/data/locations.csv").get_data(as_text=True), newline=""))
    )
    for row, original in zip(downloaded[len(PAYLOADS) :], rows[len(PAYLOADS) :], strict=True):
        assert row["name"] == "'" + original["name"]
        for column in ("kind", "status", "source", "context"):
            assert row[column] == "'" + original[column]
        assert row["lat"] == f"{original['lat']:.5f}" and row["lon"].startswith("-")
    mentions = list(
        csv.DictReader(io.StringIO(payload_client.get("/data/mentions.csv").get_data(as_text=True), newline=""))
    )
    assert any(m["text"] == "'" + FORMULAS[0] for m in mentions)
    for row in downloaded:
        for column in LOCATION_FIELDS:
            assert not row[column].startswith(("=", "+", "@", "\t", "\r")), (column, row[column])
            if column not in ("lat", "lon"):
                assert not row[column].startswith("-")


def test_headers_on_every_kind_of_response(client):
    for path in ("/", "/data/locations.csv", "/api/places", "/no/such/page", "/api/places/nope", "/static/newsmap.js"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp and "unsafe-inline" not in csp, path


# --------------------------------------------------------------------------- bad data


def break_database(db: Path, case: str) -> None:
    if case == "missing":
        for path in db.parent.glob(db.name + "*"):
            path.unlink()
    elif case == "not a database":
        for path in db.parent.glob(db.name + "*"):
            path.unlink()
        db.write_bytes(b"this is not SQLite, " * 1000)
    elif case == "newer schema":
        store = Store.open(db)
        store.conn.execute("PRAGMA user_version = 99")
        store.close()


CASES = {
    "missing": "no database yet (run `newsmap build` to make it)",
    "not a database": "not a usable newsmap database",
    "newer schema": "newer than this newsmap's",
}


@pytest.mark.parametrize("case", CASES)
def test_an_unusable_database_gives_a_clear_error_never_a_traceback_or_a_path(workdir, case, caplog):
    db = workdir / "data" / "newsmap.db"
    break_database(db, case)
    client = app_for(workdir).test_client()
    for path in ("/", f"/articles/{SEED_SLUG}", "/api/places", "/healthz"):
        response = client.get(path)
        body = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 503, (case, path)
        assert CASES[case] in body, (case, body[:300])
        assert "Traceback" not in body and 'File "' not in body
        assert str(workdir) not in body and "/tmp" not in body  # no server path reaches a reader
    assert client.get("/").mimetype == "text/html" and client.get("/api/places").mimetype == "application/json"
    assert any(CASES[case] in r.getMessage() for r in caplog.records)


def test_a_rebuilt_database_is_served_without_a_restart(workdir):
    client = app_for(workdir).test_client()
    break_database(workdir / "data" / "newsmap.db", "missing")
    assert client.get("/").status_code == 503
    from newsmap.library.pipeline import build

    build(workdir / "seeds", workdir / "data", echo=lambda _: None)
    assert client.get("/").status_code == 200 and client.get(f"/articles/{SEED_SLUG}").status_code == 200


def test_validate_names_rows_in_a_50_mb_file(workdir):
    path = workdir / "data" / "locations.csv"
    line = path.read_bytes().splitlines()[1] + b"\n"
    with open(path, "ab") as handle:
        handle.write(line * (50_000_000 // len(line)))
    problems = validate(workdir / "data", None)
    assert problems and all(p.row > 18 and "repeats row 1" in p.message for p in problems[:3])


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "path",
    [
        "/data/../app.py", "/data/..%2fapp.py", "/data/%2e%2e/app.py", "/data/%2e%2e%2fapp.py", "/data/..%5capp.py",
        "/data/%252e%252e%252fapp.py", "/data/....//app.py", "/static/../app.py", "/static/..%2f..%2fapp.py",
        "/vendor/leaflet/../../../../etc/passwd", "/vendor/%2e%2e/%2e%2e/app.py", "/data/locations.csv/../../app.py",
        "/api/places/..%2f..%2fapp.py", "/static/%2e%2e%2fapp.py",
    ],
)  # fmt: skip
def test_path_traversal_never_reaches_a_file_outside(client, path):
    response = client.get(path)
    body = response.get_data()
    assert response.status_code in (404, 308), path
    assert b"create_app" not in body and b"root:" not in body


def test_unknown_paths_ids_methods_and_huge_queries(client):
    assert client.get("/api/places/x" * 50).status_code == 404
    api = client.get("/api/nothing")
    assert api.status_code == 404 and api.mimetype == "application/json"
    page = client.get("/nothing")
    assert page.status_code == 404 and page.mimetype == "text/html"
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/api/places").status_code == 405
        assert getattr(client, method)("/data/locations.csv").status_code == 405
    huge = client.get("/?" + "q=" + "x" * 10_000)
    assert huge.status_code == 414 and "query string is longer" in huge.get_data(as_text=True)
    assert client.get("/api/places?" + "x" * 5000).mimetype == "application/json"


def test_huge_request_line_is_refused_by_gunicorn(built):
    """The production server refuses absurd request lines itself (gunicorn's limit_request_line)."""
    import socket

    from .conftest import site_env

    server = LiveServer(site_env(built), gunicorn=True)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /?" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = sock.recv(200)
        assert reply.split(b" ")[1] in (b"414", b"400", b"431"), reply[:80]
    finally:
        server.stop()


# --------------------------------------------------------------------------- in the browser


@pytest.mark.browser
def test_no_payload_runs_in_the_browser_and_all_show_as_text(browser, payload_site):
    from .conftest import Watched

    _seeds, data, rows = payload_site
    server = LiveServer(site_env(data.parent))
    try:
        watched = Watched(browser, server.url)
        page = watched.page
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(server.url + f"/articles/{SLUG}")
        page.wait_for_selector(".nm-marker:not(.nm-gathered)")
        assert page.inner_text("h1") == 'Payloads <script>alert("xss-title")</script>'

        def texts(selector: str) -> list[str]:
            return page.locator(selector).evaluate_all("nodes => nodes.map(n => n.textContent)")

        def html_text(value: str) -> str:  # what an HTML parser makes of text: CR becomes LF
            return value.replace("\r\n", "\n").replace("\r", "\n")

        def shown(row: dict) -> str:  # the article's spelling (its mention), shown first
            return " ".join(row["article_name"].split())

        assert texts(".place-name") == [shown(row) for row in rows]
        assert texts(".gazetteer-name") == [
            f"({html_text(r['name'])})" for r in rows if shown(r) != html_text(r["name"])
        ]
        mentions = texts("a.mention")
        for payload in PAYLOADS:
            assert payload in mentions
        assert PAYLOADS[0] in texts(".legend")[0]
        for row in rows:
            page.click(f'.place-link[data-place="{row["id"]}"]')
            page.wait_for_function(
                "name => document.querySelector('.leaflet-popup .nm-popup h2')?.textContent === name", arg=shown(row)
            )
            page.wait_for_function(  # the source comes with the article's JSON, fetched on the first move
                "text => document.querySelector('.leaflet-popup .nm-source')?.textContent === text",
                arg=f"Source: {row['source']}",
            )
            assert row["status"] in texts(".leaflet-popup .nm-meta")[0]
            page.hover(f'.nm-marker[data-place="{row["id"]}"]', force=True)
            page.wait_for_selector(".leaflet-tooltip")
            assert texts(".leaflet-tooltip") == [shown(row)]
        page.goto(server.url + f"/articles/{SLUG}#" + "%E0%A4%A")  # a malformed escape in a hand-made link
        page.wait_for_load_state("networkidle")
        assert watched.errors == []  # no alert() dialog, no page error, no console error
        assert not [url for url in requested if url.rstrip("/").endswith("/x")]
        watched.close()
    finally:
        server.stop()
