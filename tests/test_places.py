"""A place across the library (`/places/<key>`): the status rules, the store's queries, the pages, the
JSON twin, the downloads, pagination, links from article pages, the static export and the Datasette view."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from newsmap.geoparser.status import text_status
from newsmap.placequeries import key_candidates, other_counts, page_entries
from newsmap.schema import key_slug
from newsmap.serve.placelinks import ALSO_CAP, also_label
from newsmap.store import Store

from .conftest import app_for
from .places_library import KANT, KANT_SLUG, PUBLISHER, build_places_library

PAGE = f"/places/{KANT_SLUG}"
API = f"/api/places/{KANT_SLUG}"


# --------------------------------------------------------------------------- the status rules


def status(sentence: str, name: str, kind: str = "air base") -> str:
    at = sentence.index(name)
    return text_status(sentence, [(0, len(sentence), at, at + len(name))], kind)


@pytest.mark.parametrize(
    ("sentence", "name", "expected"),
    [
        ("Russia will open a drone base at Kant in 2025.", "Kant", "planned"),
        ("Russia would host drones at the air base in Kant.", "air base in Kant", "planned"),
        ("The base in Kant is being built.", "base in Kant", "planned"),
        ("The base at Kant was handed over to Kyrgyzstan in 2020.", "base at Kant", "handed over"),
        ("Russia plans to hand over the base in Kant to Kyrgyzstan.", "base in Kant", "handover planned"),
        ("Russia has no plans to close the base at Kant.", "base at Kant", "in operation"),
        ("Russia never closed the base in Kant.", "base in Kant", "in operation"),
        ("The base in Kant will not be handed over.", "base in Kant", "in operation"),
        ("Russia has no plans to open a base in Osh.", "base in Osh", ""),
        ("There is no base in Kant.", "base in Kant", ""),
        ("Officials deny that Russian troops remain at Kant Air Base.", "Kant Air Base", "presence denied"),
        ("The Russian air base in Kant was closed in 2005.", "air base in Kant", "closed"),
        ("US troops left the base in Manas in 2014.", "base in Manas", "closed"),
        ("Russia withdrew from the base in Manas in 2014.", "base in Manas", "closed"),
        ("The former Soviet base in Kant is a museum.", "base in Kant", "closed"),
        ("The base in Kant is no longer used.", "base in Kant", "closed"),
        ("The air base in Kant will be closed next year.", "air base in Kant", "closure planned"),
        ("Russia could leave the base in Kant.", "base in Kant", "closure discussed"),
        ("Moscow proposed a second base in Osh.", "base in Osh", "under discussion"),
        ("The airfield in Ayni could host Russian helicopters again.", "airfield in Ayni", "under discussion"),
        ("Russian aircraft are based at the air base in Kant.", "air base in Kant", "in operation"),
        ("In 2012 Russia extended the lease on the air base in Kant.", "air base in Kant", "in operation"),
        (
            "Russia will send new drones to the 201st military base in Dushanbe.",
            "military base in Dushanbe",
            "in operation",
        ),
        ("The largest is the air base in Kant.", "air base in Kant", "in operation"),
        ("The air base in Kant was mentioned in 1999.", "air base in Kant", ""),
        # A cue belongs to its own clause, a relative clause about something else is set aside.
        ("The base at Kant, which has operated since 2003, was closed in 2020.", "base at Kant", "closed"),
        ("Russia will open a base at Osh, but the base at Kant was closed.", "base at Osh", "planned"),
        ("Russia will open a base at Osh, but the base at Kant was closed.", "base at Kant", "closed"),
        ("Russia will open a base at Osh and close the base at Kant.", "base at Kant", "closure planned"),
    ],
)
def test_the_status_is_what_the_sentence_says_with_its_tense_and_negation(sentence, name, expected):
    assert status(sentence, name) == expected


def test_a_town_is_not_in_operation_for_being_named_and_an_article_takes_its_most_telling_status():
    assert status("Bishkek is the capital.", "Bishkek", "city") == ""
    text = "The base in Kant is busy. The base in Kant will be closed next year."
    first, second = text.index("base in Kant"), text.rindex("base in Kant")
    spans = [(0, 25, first, first + 12), (26, len(text), second, second + 12)]
    assert text_status(text, spans, "air base") == "closure planned"
    assert text_status(text, [], "air base") == ""


# --------------------------------------------------------------------------- the library


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("places")
    build_places_library(root)
    return root


@pytest.fixture()
def client(library):
    return app_for(library).test_client()


def test_each_place_of_an_article_carries_its_page_and_json_twin(client):
    article = client.get("/api/articles/kant-lease-2012").get_json()
    kant = next(p for p in article["places"] if p["id"] == "kant-air-base")
    assert kant["key"] == KANT and kant["place_url"] == PAGE and kant["place_api"] == API
    assert client.get("/api/articles/kant-lease-2012/places").get_json() == article["places"]
    # an old `/#<id>` link's JSON (a place id, not a key) still finds its article's place
    old = client.get("/api/places/kant-air-base").get_json()
    assert old["id"] == "kant-air-base" and old["article"]


def test_the_json_twin_lists_the_articles_oldest_first_with_statuses_quotes_and_the_timeline(client):
    answer = client.get(API)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    place = answer.get_json()
    assert place["key"] == KANT and place["place"]["name"] == "Kant Air Base"
    assert (place["articles"], place["undated"], place["first"], place["last"]) == (4, 1, "2012-09-20", "2023-05")
    entries = place["entries"]
    assert [e["article"] for e in entries] == [
        "kant-lease-2012", "kant-handover-2019", "kant-drones-2023", "kant-denial-undated",
    ]  # fmt: skip
    assert [e["status"] for e in entries] == ["in operation", "handover planned", "handed over", "presence denied"]
    quote = entries[1]["quotes"][-1]
    assert "will be handed over" in quote["text"]
    assert [quote["text"][a:b] for a, b in quote["marks"]] == ["air base in Kant"]
    assert entries[1]["page"] == "/articles/kant-handover-2019#kant-air-base"
    changes = [(dot["published"], dot["change"]) for dot in place["timeline"]]
    assert changes == [
        ("2012-09-20", ""),
        ("2019-03-28", "in operation → handover planned"),
        ("2023-05", "handover planned → handed over"),
    ]  # the undated article is listed, not on the timeline
    assert (place["page"], place["pages"], place["next"], place["previous"]) == (1, 1, None, None)
    assert place["downloads"]["CSV"] == f"{PAGE}/mentions.csv"


def test_the_page_escapes_what_the_articles_say_and_revalidates(client):
    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Kant Air Base</h1>" in html
    assert PUBLISHER not in html and "Test Wire &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert html.index("kant-lease-2012#") < html.index("kant-handover-2019#") < html.index("kant-drones-2023#")
    assert html.index("kant-drones-2023#") < html.index("Without a date") < html.index("kant-denial-undated#")
    assert "<mark>air base in Kant</mark> will be handed over" in html
    assert "changed: in operation → handover planned" in html
    assert "script-src 'self' ;" in page.headers["Content-Security-Policy"]  # no inline script
    assert client.get(PAGE, headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
    assert client.get(PAGE, headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"


@pytest.mark.parametrize("path", ["/places/curated-nowhere", "/places/nope", "/places/curated-nowhere/mentions.csv"])
def test_an_unknown_key_is_a_404_that_says_so(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and "No article in the library names a place" in answer.get_data(as_text=True)
    missing = client.get("/api/places/curated-nowhere")
    assert missing.status_code == 404 and missing.get_json()["status"] == 404


def test_the_downloads_hold_every_mention_of_the_place_across_the_library(client, library):
    store = Store.open(library / "data" / "newsmap.db")
    mentions = [m for m in store.mentions() if (m["article"], m["place_id"]) in {
        (p["article"], p["id"]) for p in store.places() if p["key"] == KANT}]  # fmt: skip
    store.close()
    table = client.get(f"{PAGE}/mentions.csv")
    assert table.headers["Content-Disposition"] == f'attachment; filename="{KANT_SLUG}-mentions.csv"'
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    assert len(rows) == len(mentions) and rows[0]["article"] == "kant-lease-2012" and rows[-1]["published"] == ""
    assert all(row["text"] in row["quote"] for row in rows)  # each mention with its sentence
    assert rows[0]["publisher"] == PUBLISHER  # data, not markup: kept exactly (formula-safe only)
    features = json.loads(client.get(f"{PAGE}/mentions.geojson").data)["features"]
    assert len(features) == len(mentions) and features[0]["geometry"]["coordinates"] == [74.84639, 42.85306]
    kml = ET.fromstring(client.get(f"{PAGE}/mentions.kml").data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(kml.findall(".//k:Placemark", ns)) == len(mentions)
    assert kml.find(".//k:TimeStamp/k:when", ns).text == "2012-09-20"
    assert "&lt;" not in (kml.find(".//k:Placemark/k:name", ns).text or "")
    listed = json.loads(client.get(f"{PAGE}/mentions.json").data)
    assert [row["text"] for row in listed] == [row["text"] for row in rows]


def test_an_article_page_links_the_places_other_articles_name(client):
    html = client.get("/articles/kant-lease-2012").get_data(as_text=True)
    assert f'<a class="place-also" href="{PAGE}">Also in 3 other articles' in html
    data = json.loads(re.search(r'id="newsmap-data"[^>]*>(.*?)</script>', html, re.S)[1])
    also = {p["id"]: p.get("also") for p in data["places"]}
    assert also["kant-air-base"] == {"label": "Also in 3 other articles", "url": PAGE}
    assert also["moscow"] is None  # no other article names Moscow: nothing added to the page
    assert (
        also_label(1) == "Also in 1 other article" and also_label(ALSO_CAP + 1) == f"Also in {ALSO_CAP}+ other articles"
    )


def test_a_new_article_naming_the_place_reaches_its_page_and_the_other_article_pages(client, library, tmp_path):
    before = client.get(API).get_json()["articles"]
    store = Store.open(library / "data" / "newsmap.db")
    try:
        article = store.article("kant-drones-2023")
        copy = dataclasses.replace(article, slug="kant-copy-2024", published="2024-01")
        places = [{**p, "article": copy.slug} for p in store.places(article.slug)]
        store.put_article(copy, places, [{**m, "article": copy.slug} for m in store.mentions(article.slug)])
        assert client.get(API).get_json()["articles"] == before + 1
        assert "Also in 4 other articles" in client.get("/articles/kant-lease-2012").get_data(as_text=True)
    finally:
        store.delete_article("kant-copy-2024")
        store.close()


# --------------------------------------------------------------------------- scale


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """120 dated copies of one report (the place page's unit is 50) and the four made-up articles."""
    root = tmp_path_factory.mktemp("many")
    db = build_places_library(root)
    store = Store.open(db)
    article = store.article("kant-handover-2019")
    places, mentions = store.places(article.slug), store.mentions(article.slug)
    for n in range(120):
        slug = f"copy-{n:03d}"
        copy = dataclasses.replace(article, slug=slug, published=f"{2000 + n // 12}-{n % 12 + 1:02d}")
        store.put_article(copy, [{**p, "article": slug} for p in places], [{**m, "article": slug} for m in mentions])
    store.close()
    return root


def test_a_place_named_by_many_articles_is_paginated_fifty_a_page(many):
    client = app_for(many).test_client()
    first = client.get(API).get_json()
    assert (first["articles"], first["pages"], len(first["entries"])) == (124, 3, 50)
    assert first["next"] == f"{API}?page=2" and first["entries"][0]["published"] == "2000-01"
    last = client.get(f"{API}?page=3").get_json()
    assert len(last["entries"]) == 24 and last["entries"][-1]["article"] == "kant-denial-undated"
    assert last["status_before"]["status"] == "handover planned"
    published = [e["published"] for page in (1, 2, 3) for e in client.get(f"{API}?page={page}").get_json()["entries"]]
    dated = [p for p in published if p]
    assert dated == sorted(dated) and published[-1] == ""
    # the page's first change is measured against the status stated before the page
    assert [dot["change"] for dot in last["timeline"] if dot["change"]] == [
        "handover planned → in operation", "in operation → handover planned", "handover planned → handed over",
    ]  # fmt: skip
    html = client.get(f"{PAGE}?page=2").get_data(as_text=True)
    assert f'href="{PAGE}?page=3"' in html and f'href="{PAGE}"' in html and "Page 2 of 3" in html
    past = client.get(f"{PAGE}?page=99")
    assert past.status_code == 302 and past.headers["Location"] == f"{PAGE}?page=3"


def test_a_page_is_read_from_the_index_whatever_the_number_of_articles(many):
    store = Store.open(many / "data" / "newsmap.db")
    try:
        plan = " ".join(
            row[3] for row in store.conn.execute(
                "EXPLAIN QUERY PLAN SELECT article, id FROM places WHERE key = ? ORDER BY published_from IS NULL, "
                "published_from, added_at, article, id LIMIT 50 OFFSET 50", (KANT,))
        )  # fmt: skip
        assert "COVERING INDEX places_timeline" in plan and "TEMP B-TREE" not in plan
        assert len(page_entries(store.conn, KANT, 2)) == 50
        counts = other_counts(store.conn, [KANT, "geonames:524901"], "kant-lease-2012", cap=100)
        assert counts == {KANT: 101}  # capped: "100+"; Moscow only in this article
    finally:
        store.close()


def test_the_timeline_columns_follow_an_article_s_date_and_datasette_sees_the_view(library):
    store = Store.open(library / "data" / "newsmap.db")
    try:
        store.conn.execute("UPDATE articles SET published = '2011' WHERE slug = 'kant-drones-2023'")
        row = store.conn.execute("SELECT published_from FROM places WHERE article = 'kant-drones-2023' LIMIT 1")
        assert row.fetchone()[0] == "2011-01-01"
        rows = store.conn.execute("SELECT article, status FROM place_timeline WHERE key = ?", (KANT,)).fetchall()
        assert [r[0] for r in rows][:2] == ["kant-drones-2023", "kant-lease-2012"]
    finally:
        store.conn.execute("UPDATE articles SET published = '2023-05' WHERE slug = 'kant-drones-2023'")
        store.close()


def test_a_key_s_url_reads_back_to_the_key():
    for key in ("curated:kant-air-base", "geonames:1527534", "country:KG", "hand:some-article/new-place"):
        assert key_candidates(key_slug(key))[0] == key
    assert key_candidates("hand-a--b") == ["hand:a/b", "hand:a--b"]  # an id may hold "--": both are tried
    assert key_candidates("nothing") == [] and key_candidates("-x") == []


# --------------------------------------------------------------------------- the static export


def test_the_export_writes_the_pages_of_the_places_two_articles_name(library, tmp_path):
    from newsmap.serve import vendor_files
    from newsmap.serve.export import export_site
    from newsmap.settings import bundled

    app = app_for(library)
    out = tmp_path / "site"
    export_site(library / "data" / "newsmap.db", out, app.jinja_env, bundled("static"), vendor_files())
    folder = out / "places" / KANT_SLUG
    assert {p.name for p in folder.iterdir()} >= {"index.html", "place.json", "mentions.csv", "mentions.kml",
                                                  "mentions.geojson", "mentions.json"}  # fmt: skip
    assert not (out / "places" / "geonames-524901").exists()  # Moscow: one article, no page
    html = (folder / "index.html").read_text(encoding="utf-8")
    for link in re.findall(r'(?:href|src)="([^"#]+)', html):
        if "://" not in link:
            assert (folder / link).resolve().exists(), link
    article = (out / "articles" / "kant-lease-2012" / "index.html").read_text(encoding="utf-8")
    assert f'href="../../places/{KANT_SLUG}/index.html"' in article
    assert json.loads((folder / "place.json").read_text(encoding="utf-8"))["articles"] == 4
