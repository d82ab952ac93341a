"""Every route through Flask's test client: status, type, headers, and payload against the CSV."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xstatic.pkg.leaflet as leaflet

from newsmap.dataset import LOCATION_FIELDS, MENTION_FIELDS, read_table
from newsmap.store import Store

from .conftest import SEED_SLUG

PAGE = f"/articles/{SEED_SLUG}"  # the first article's page


def test_page_has_the_article_the_map_and_every_place(client, rows, workdir):
    response = client.get(PAGE)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Status of Russian Kant Air Base in Kyrgyzstan to be changed</h1>" in html
    assert "Vestnik Kavkaza" in html and "March 2019" in html
    assert 'class="folium-map"' in html and "window.newsmapRegistry" in html
    for row in rows:
        assert f'id="place-{row["id"]}"' in html
        assert re.search(f'<a class="mention role-[a-z]+" href="#{row["id"]}" data-place="{row["id"]}"[ >]', html), row[
            "id"
        ]
    mentions = read_table(workdir / "data" / "mentions.csv")
    # Every mention is a link, but in the headline the text repeats (hidden: the page's h1 says it).
    headline = {int(n) for block in re.findall(r'<p class="title-paragraph">(.*?)</p>', html, re.S)
                for n in re.findall(r'id="sentence-(\d+)"', block)}  # fmt: skip
    assert headline == {0, 1}
    linked = {(m["start"], m["end"]) for m in mentions if int(m["sentence"]) not in headline}
    assert html.count('<a class="mention') >= len(linked)
    assert "user-scalable=no" not in html and "maximum-scale" not in html


def test_page_assets_are_all_served_by_the_app(client):
    html = client.get(PAGE).get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources)
    for src in sources:
        assert client.get(src).status_code == 200, src
    assert client.get("/vendor/leaflet/leaflet.js").data == (Path(leaflet.BASE_DIR) / "leaflet.js").read_bytes()
    for cdn in ("jquery", "bootstrap", "font-awesome", "fontawesome", "cdn.jsdelivr", "cdnjs", "unpkg"):
        assert cdn not in html.lower()


def test_page_is_built_once_and_revalidates(client, app, workdir):
    first = client.get(PAGE)
    site = app.extensions["newsmap"]
    built = site.article(SEED_SLUG)
    again = client.get(PAGE)
    assert site.article(SEED_SLUG) is built and again.data == first.data
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(PAGE, headers={"If-Modified-Since": modified}).status_code == 304
    # A write to the article (here: its places without the last one) is served at once, rebuilt.
    store = Store.open(workdir / "data" / "newsmap.db")
    article, places, mentions = store.article(SEED_SLUG), store.places(SEED_SLUG), store.mentions(SEED_SLUG)
    gone = places[-1]["id"]
    store.put_article(article, places[:-1], [m for m in mentions if m["place_id"] != gone])
    changed = client.get(PAGE, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and f'id="place-{gone}"' not in changed.get_data(as_text=True)
    assert site.article(SEED_SLUG) is not built


def test_page_is_gzipped_when_asked(client):
    plain = client.get(PAGE)
    zipped = client.get(PAGE, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert len(zipped.data) < len(plain.data) / 3
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert (
        client.get(PAGE, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}).status_code
        == 304
    )


def test_security_headers_and_csp_hash_the_inline_script(client):
    response = client.get(PAGE)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "https://tile.openstreetmap.org" in csp
    hashes = re.findall(r"'sha256-([^']+)'", csp)
    inline = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S)
    import base64
    import hashlib

    assert [base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in inline] == hashes
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_locations_csv_download(client, rows):
    response = client.get("/data/locations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="locations.csv"'
    downloaded = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert downloaded == rows
    assert tuple(downloaded[0]) == LOCATION_FIELDS


def test_mentions_csv_download(client, workdir):
    response = client.get("/data/mentions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    downloaded = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert downloaded == read_table(workdir / "data" / "mentions.csv") and tuple(downloaded[0]) == MENTION_FIELDS


def test_geojson_is_an_rfc7946_feature_collection(client, rows):
    response = client.get(f"{PAGE}/locations.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    collection = response.get_json(force=True)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == len(rows)
    for feature, row in zip(collection["features"], rows, strict=True):
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == [float(row["lon"]), float(row["lat"])]
        assert set(feature["properties"]) == set(LOCATION_FIELDS)
        assert feature["properties"]["quote"] == row["quote"]


def test_kml(client, rows):
    response = client.get("/data/locations.kml")
    assert response.status_code == 200 and response.mimetype == "application/vnd.google-earth.kml+xml"
    root = ET.fromstring(response.data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = {mark.get("id"): mark for mark in root.findall(".//k:Placemark", ns)}  # in folders by article, category
    assert len(marks) == len(rows)
    for row in rows:
        mark = marks[f"p-{row['article']}.{row['id']}"]
        assert mark.find("k:name", ns).text == row["name"]
        assert mark.find("k:description", ns).text == row["quote"]
        assert mark.find(".//k:coordinates", ns).text == f"{row['lon']},{row['lat']}"


def test_api_places_and_one_place(client, rows):
    listing = client.get("/api/places")
    assert listing.status_code == 200 and listing.mimetype == "application/json"
    places = listing.get_json()
    assert [p["id"] for p in places] == [r["id"] for r in rows]
    assert places[0]["lat"] == float(rows[0]["lat"]) and places[0]["mentions"] == int(rows[0]["mentions"])
    one = client.get("/api/places/kant-air-base").get_json()
    assert one["name"] == "Kant Air Base" and one["article"] == SEED_SLUG and len(one["mentions"]) == 5
    assert {m["text"] for m in one["mentions"]} == {"Kant Air Base", "air base in Kant", "airfield in Kant"}


def test_unknown_place_is_a_json_404(client):
    response = client.get("/api/places/atlantis")
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json() == {"error": "Not Found", "status": 404, "message": "No place with id 'atlantis'."}


def test_unknown_page_is_an_html_404_and_wrong_method_a_405(client):
    response = client.get("/no/such/page")
    assert (
        response.status_code == 404
        and response.mimetype == "text/html"
        and "404 Not Found" in response.get_data(as_text=True)
    )
    assert client.post("/").status_code == 405
    assert client.delete("/api/places").status_code == 405


def test_healthz(client, rows):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert response.get_json()["places"] == len(rows)


def test_offline_basemap_names_the_region(client):
    basemap = json.loads(client.get(f"{PAGE}/basemap.geojson").data)
    countries = {f["properties"]["name"] for f in basemap["features"] if f["properties"].get("layer") == "country"}
    assert {"Kyrgyzstan", "Kazakhstan", "Uzbekistan", "Tajikistan"} <= countries
    assert {"land", "lake", "river", "town"} <= {f["properties"].get("layer") for f in basemap["features"]}


@pytest.mark.parametrize(
    ("header", "gzipped"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0", False),
        ("identity", False),
        ("*", True),
        ("", False),
        ("*, gzip;q=0", False),  # an explicit refusal wins over the wildcard (RFC 9110)
        ("*;q=0, gzip", True),
        ("GZIP;Q=0.5", True),
        ("gzip;q=0.000", False),
    ],
)
def test_gzip_only_when_the_client_takes_it(client, header, gzipped):
    response = client.get(f"{PAGE}/locations.geojson", headers={"Accept-Encoding": header})
    assert (response.headers.get("Content-Encoding") == "gzip") is gzipped
    assert json.loads(gzip.decompress(response.data) if gzipped else response.data)["type"] == "FeatureCollection"


def test_the_articles_own_spelling_is_shown_first_and_the_gazetteers_beside_it(client):
    html = client.get(PAGE).get_data(as_text=True)
    assert '<span class="place-name">Chaldybar</span></a> <span class="gazetteer-name"' in html
    assert "(Chaldovar)</span>" in html
    assert '<span class="place-name">Bishkek</span></a>\n' in html  # not the dateline's "BISHKEK"
    data = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    shown = {place["id"]: place["shown"] for place in data["places"]}
    assert shown["kant-air-base"] == "Kant Air Base" and shown["issyk-kul-naval-test-base"].startswith(
        "Issyk-Kul naval"
    )
