"""Several articles: ids scoped to their article, pages at /articles/<slug>, the library at `/`.

Adding a second and a third article must not change anything of the first: not its ids, not its
deep links, not its page's places and mentions.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from newsmap.dataset import read_table
from newsmap.library.pipeline import build
from newsmap.store import Store

from .conftest import SEED_SLUG, app_for, copy_article

SECOND, THIRD = "tajikistan-border-2021", "caspian-ports-2023"


def links(html: str) -> dict[str, list[str]]:
    """What a reader can reach on a page: its places and the places its mentions link to."""
    return {
        "places": re.findall(r'<li id="place-([a-z0-9-]+)"', html),
        "mentions": re.findall(r'<a class="mention role-[a-z]+" href="#([a-z0-9-]+)"', html),
    }


def rows_of(root: Path, table: str, slug: str) -> list[dict[str, str]]:
    return [row for row in read_table(root / "data" / table) if row["article"] == slug]


@pytest.fixture()
def three(workdir: Path) -> Path:
    """The first article's workdir with two more articles added and the data rebuilt."""
    for slug in (SECOND, THIRD):
        copy_article(slug, workdir / "seeds")
    build(workdir / "seeds", workdir / "data", echo=lambda _: None)
    return workdir


def test_more_articles_change_nothing_of_the_first(workdir, tmp_path):
    before = tmp_path / "before"
    shutil.copytree(workdir, before)
    first_page = app_for(before).test_client().get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    for slug in (SECOND, THIRD):
        copy_article(slug, workdir / "seeds")
    build(workdir / "seeds", workdir / "data", echo=lambda _: None)

    for table in ("locations.csv", "mentions.csv"):
        assert rows_of(workdir, table, SEED_SLUG) == rows_of(before, table, SEED_SLUG), table
    page = app_for(workdir).test_client().get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    assert links(page) == links(first_page) and links(page)["places"]
    # The same bytes but for the links to the places the other articles name too ("Also in 2 other articles").
    also = re.compile(r'\n *<a class="place-also" href="/places/[^"]+">.*?</a>|"also": \{[^}]*\}, ')
    assert len(also.findall(page)) > 0 and also.sub("", page) == first_page


def test_ids_are_unique_within_an_article_and_shared_names_keep_plain_ids(three):
    rows = read_table(three / "data" / "locations.csv")
    keys = [(row["article"], row["id"]) for row in rows]
    assert len(keys) == len(set(keys))
    assert not any("--" in row["id"] for row in rows)
    russia = {row["article"] for row in rows if row["id"] == "russia"}
    assert russia == {SEED_SLUG, SECOND, THIRD}  # one "russia" per article, no suffix


def test_each_article_has_its_page_downloads_and_api(three):
    client = app_for(three).test_client()
    second = client.get(f"/articles/{SECOND}").get_data(as_text=True)
    assert "Russia to reinforce its base in Tajikistan" in second and 'id="place-dushanbe"' in second
    assert 'id="place-kant-air-base"' not in second
    assert f'<link rel="canonical" href="/articles/{SECOND}">' in second
    assert f'href="/articles/{SECOND}/locations.csv"' in second
    places = client.get(f"/api/articles/{THIRD}/places").get_json()
    assert {p["article"] for p in places} == {THIRD} and "aktau" in {p["id"] for p in places}
    detail = client.get(f"/api/articles/{THIRD}").get_json()
    assert detail["title"].startswith("Kazakhstan and Russia") and detail["places"] == places
    one = client.get(f"/api/articles/{THIRD}/places/aktau").get_json()
    assert one["name"] == "Aktau" and all(m["article"] == THIRD for m in one["mentions"])
    missing = client.get(f"/api/articles/{THIRD}/places/kant-air-base")
    assert missing.status_code == 404 and "kant-air-base" in missing.get_json()["message"]
    assert client.get("/articles/nope").status_code == 404
    assert client.get("/api/articles/nope/places").status_code == 404
    library = client.get("/api/articles").get_json()
    assert [a["slug"] for a in library] == sorted([SEED_SLUG, SECOND, THIRD])
    assert all(a["page"] == f"/articles/{a['slug']}" and a["places"] > 0 for a in library)
    assert len(client.get("/api/places").get_json()) == len(read_table(three / "data" / "locations.csv"))


@pytest.mark.parametrize("name", ["locations.csv", "mentions.csv", "locations.geojson", "locations.kml"])
def test_per_article_downloads_are_named_after_the_article(three, name):
    client = app_for(three).test_client()
    response = client.get(f"/articles/{SECOND}/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SECOND}-{name}"'
    body = response.get_data(as_text=True)
    assert "Dushanbe" in body and "Kant" not in body


def test_csv_for_excel_has_a_byte_order_mark(three):
    client = app_for(three).test_client()
    plain = client.get(f"/articles/{SEED_SLUG}/locations.csv").data
    excel = client.get(f"/articles/{SEED_SLUG}/locations.csv?bom=1").data
    assert excel == b"\xef\xbb\xbf" + plain and not plain.startswith(b"\xef\xbb\xbf")


def test_the_library_lists_articles_newest_first_and_searches_titles_and_places(three):
    client = app_for(three).test_client()
    html = client.get("/").get_data(as_text=True)
    order = re.findall(r'<h3><a href="/articles/([a-z0-9-]+)">', html)
    assert order == [THIRD, SECOND, SEED_SLUG]  # published 2023, 2021, 2019
    assert "3 articles" in html and 'class="library-map"' in html
    found = client.get("/?q=Dushanbe").get_data(as_text=True)  # a place name
    assert re.findall(r'<h3><a href="/articles/([a-z0-9-]+)">', found) == [SECOND]
    found = client.get("/?q=Caspian").get_data(as_text=True)  # a word of a title
    assert re.findall(r'<h3><a href="/articles/([a-z0-9-]+)">', found) == [THIRD]
    found = client.get("/?q=dushan").get_data(as_text=True)  # the start of a word, any case
    assert re.findall(r'<h3><a href="/articles/([a-z0-9-]+)">', found) == [SECOND]
    found = client.get("/?q=Ayni").get_data(as_text=True)  # accents ignored: the gazetteer writes "Ayní"
    assert SECOND in found
    nothing = client.get("/?q=%25_%5C").get_data(as_text=True)  # no word at all: nothing found
    assert "No article names" in nothing


def test_the_library_pages_through_many_articles(three):
    app = app_for(three)
    app.extensions["newsmap"].config.__dict__["page_size"] = 2  # a frozen dataclass: a test-only shortcut
    client = app.test_client()
    first = client.get("/").get_data(as_text=True)
    second = client.get("/?page=2").get_data(as_text=True)
    assert len(re.findall("<h3>", first)) == 2 and len(re.findall("<h3>", second)) == 1
    assert 'rel="next" href="/?page=2"' in first and 'rel="prev" href="/?page=1"' in second
    assert client.get("/?page=99").get_data(as_text=True) == second  # past the end: the last page


def test_articles_leads_to_the_library(three):
    client = app_for(three).test_client()
    answer = client.get("/articles")
    assert answer.status_code == 308 and answer.headers["Location"] == "/"


def test_home_can_be_one_article_instead_of_the_library(three):
    named = app_for(three, HOME_ARTICLE=SEED_SLUG).test_client()
    assert named.get("/").data == named.get(f"/articles/{SEED_SLUG}").data
    unknown = app_for(three, HOME_ARTICLE="no-such-article").test_client()
    assert "<h1>Story maps</h1>" in unknown.get("/").get_data(as_text=True)


def test_old_place_links_find_the_earliest_article_that_has_the_place(three):
    """`/api/places/<id>` (and so `/#<id>`, which the library resolves through it) predate the library."""
    client = app_for(three).test_client()
    assert client.get("/api/places/kant-air-base").get_json()["article"] == SEED_SLUG  # only the first has it
    assert client.get("/api/places/aktau").get_json()["article"] == THIRD  # only the third has it
    assert client.get("/api/places/russia").get_json()["article"] == SEED_SLUG  # all do: the earliest added
    assert client.get("/api/places/atlantis").status_code == 404
    assert '"oldLinks": "/api/places/"' in client.get("/").get_data(as_text=True)


def test_whole_library_downloads_stream_and_revalidate_by_revision(three):
    import xml.etree.ElementTree as ET

    client = app_for(three).test_client()
    csv_answer = client.get("/data/locations.csv")
    assert (
        csv_answer.is_streamed and csv_answer.headers["Content-Disposition"] == 'attachment; filename="locations.csv"'
    )
    assert csv_answer.data == (three / "data" / "locations.csv").read_bytes().replace(b"\n=", b"\n'=")  # as exported
    etag = csv_answer.headers["ETag"]
    assert client.get("/data/locations.csv", headers={"If-None-Match": etag}).status_code == 304
    geojson = client.get("/data/locations.geojson").get_json(force=True)
    ids = [feature["id"] for feature in geojson["features"]]
    assert len(ids) == len(set(ids)) == len(read_table(three / "data" / "locations.csv"))
    kml = ET.fromstring(client.get("/data/locations.kml").data)
    marks = [m.get("id") for m in kml.iter("{http://www.opengis.net/kml/2.2}Placemark")]
    assert len(marks) == len(set(marks)) == len(ids) and all(re.fullmatch(r"p-[a-z0-9.-]+", m) for m in marks)
    from newsmap.store import Store

    store = Store.open(three / "data" / "newsmap.db")
    store.delete_article(SECOND)
    store.close()
    after = client.get("/data/locations.csv", headers={"If-None-Match": etag})
    assert after.status_code == 200 and b"dushanbe" not in after.data


def test_a_big_library_download_is_streamed_not_built(three, monkeypatch):
    """Up to SMALL_DOWNLOAD bytes a whole-library file is built once and cached; past it, streamed."""
    from newsmap.serve import site as site_module

    client = app_for(three).test_client()
    small = client.get("/data/locations.csv")
    assert small.headers["Content-Length"] == str(len(small.data))  # built whole
    monkeypatch.setattr(site_module, "SMALL_DOWNLOAD", 1_000)
    client = app_for(three).test_client()
    big = client.get("/data/mentions.csv")
    assert "Content-Length" not in big.headers  # streamed
    assert big.data == (three / "data" / "mentions.csv").read_bytes()
    assert client.get("/data/mentions.csv", headers={"If-None-Match": big.headers["ETag"]}).status_code == 304


def test_the_atom_feed_lists_new_articles_first_and_is_linked_from_the_library(three):
    import xml.etree.ElementTree as ET

    client = app_for(three).test_client()
    assert '<link rel="alternate" type="application/atom+xml" href="/feed.atom"' in client.get("/").text
    answer = client.get("/feed.atom", base_url="https://maps.example.org")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/atom+xml")
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(answer.data)
    entries = feed.findall(f"{atom}entry")
    store = Store.open(three / "data" / "newsmap.db")
    listed = [item.slug for item in store.listing("", limit=50)]
    store.close()
    assert [e.find(f"{atom}link").get("href").rsplit("/", 1)[1] for e in entries] == listed
    assert entries[0].find(f"{atom}id").text.startswith("https://maps.example.org/articles/")
    again = client.get("/feed.atom", base_url="https://maps.example.org", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
