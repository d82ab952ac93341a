"""Several articles: ids scoped to their article, pages at /articles/<slug>, the library at `/`.

Adding a second and a third article must not change anything of the first: not its ids, not its
deep links, not its page's places and mentions.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from newsmap.dataset import read_table
from newsmap.library.pipeline import build
from newsmap.store import Store

from .conftest import SEED_SLUG, app_for, copy_article
from .timeline_library import build_timeline_library

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


# --------------------------------------------------------------------------- the library over time


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> Path:
    """Made-up articles dated to the year, the month and the day, and one undated (tests/timeline_library.py)."""
    root = tmp_path_factory.mktemp("timeline")
    build_timeline_library(root)
    return root


def articles_of(rows: list[dict]) -> set[str]:
    return {row["article"] for row in rows}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("to=2019", {"bishkek-winter", "osh-bazaar", "tashkent-talks", "almaty-summit"}),  # all of 2019
        ("from=2019&to=2019", {"osh-bazaar", "tashkent-talks", "almaty-summit"}),
        ("from=2019-06&to=2019-06", {"osh-bazaar", "almaty-summit"}),  # "2019" covers June too
        ("from=2019-03-28&to=2019-03-28", {"osh-bazaar", "tashkent-talks"}),
        ("from=2019-03-29&to=2019-05-31", {"osh-bazaar"}),
        ("from=2018-12-31&to=2019-01-01", {"bishkek-winter", "osh-bazaar"}),  # a month's last day, a year's first
        ("from=2020", {"dushanbe-floods", "aktau-port"}),
        ("from=2020-01-16&to=2020-12", set()),
    ],
)
def test_places_filtered_by_date_keep_every_article_that_covers_a_day_in_range(timeline, query, expected):
    """Both ends inclusive at their own precision; a partial date belongs to every day it covers; the
    undated article is left out, and the answer says how many were."""
    client = app_for(timeline).test_client()
    answer = client.get(f"/api/places?{query}")
    assert answer.status_code == 200 and articles_of(answer.get_json()) == expected
    assert answer.headers["Newsmap-Undated-Articles"] == "1"
    assert client.get(f"/api/places?{query}", headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    everything = client.get("/api/places")
    assert "naryn-undated" in articles_of(everything.get_json()) and everything.headers["ETag"] != answer.headers["ETag"]


def listed(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/articles/([a-z0-9-]+)">', html)


def test_the_library_page_lists_the_articles_in_range_and_says_what_it_left_out(timeline):
    app = app_for(timeline)
    client = app.test_client()
    html = client.get("/?from=2019&to=2019").get_data(as_text=True)
    assert listed(html) == ["almaty-summit", "tashkent-talks", "osh-bazaar"]  # newest first: 2019-06, -03-28, 2019
    assert "3 articles published in 2019</h2>" in html and "<title>Published in 2019 · Library · newsmap</title>" in html
    assert "1 article without a date is left out." in html and '<a href="/">Show all dates</a>' in html
    assert '"params": {"from": "2019", "to": "2019"}' in html and '"words": "in 2019"' in html
    # the time slider, drawn where the address says: months from January 2018, by month (four years)
    assert 'data-first="2018"' in html and 'step="1"' in html and 'value="12" aria-valuetext="2019"' in html
    assert 'min="0" max="47" step="1" value="23" aria-valuetext="2019"' in html
    both = client.get("/?q=Bishkek&from=2019-03").get_data(as_text=True)  # a search within a range
    assert listed(both) == ["aktau-port", "osh-bazaar"] and "about “Bishkek” published since March 2019" in both
    assert '<input type="hidden" name="from" value="2019-03">' in both  # searching again keeps the range
    assert "No article was published on 5 May 2022." in client.get("/?from=2022-05-05&to=2022-05-05").text
    everything = client.get("/").get_data(as_text=True)
    assert len(listed(everything)) == 7 and "without a date" not in everything  # no filter: the undated too
    app.extensions["newsmap"].config.__dict__["page_size"] = 2  # a frozen dataclass: a test-only shortcut
    first = client.get("/?to=2019-12").get_data(as_text=True)
    assert 'rel="next" href="/?to=2019-12&amp;page=2"' in first  # the pages keep the range
    assert listed(client.get("/?to=2019-12&page=2").text) == ["osh-bazaar", "bishkek-winter"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("from=2019-13", "from: '2019-13' is not a date: the month must be 01 to 12"),
        ("to=2019-02-30", "to: '2019-02-30' is not a date: February 2019 has no day 30"),
        ("from=19", "from must be a date written YYYY-MM-DD, YYYY-MM or YYYY, not '19'"),
        ("to=2019-3", "to must be a date written YYYY-MM-DD, YYYY-MM or YYYY, not '2019-3'"),
        ("from=2020&to=2019", "from (2020) is after to (2019): no day is in that range"),
        ("from=2019-06-02&to=2019-06-01", "from (2019-06-02) is after to (2019-06-01)"),
    ],
)
def test_a_bad_date_is_a_400_that_says_which_and_why(timeline, query, says):
    client = app_for(timeline).test_client()
    for path in ("/api/places", "/api/library/map"):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 400 and says in answer.get_json()["message"], path
    page = client.get(f"/?{query}")
    assert page.status_code == 400 and page.mimetype == "text/html" and says in html.unescape(page.text)
    assert client.get("/?from=2019-06&to=2019").status_code == 200  # June 2019 is before the end of 2019


def test_the_library_map_has_each_place_of_the_range_once_with_its_newest_article(timeline):
    client = app_for(timeline).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "Bishkek" not in page.split('id="newsmap-data"', 1)[1]  # not inlined: fetched after the page is drawn
    assert '"map": "/api/library/map"' in page
    answer = client.get("/api/library/map")
    whole = answer.get_json()
    keys = [place["key"] for place in whole["places"]]
    assert len(keys) == len(set(keys)) == 14 and whole["articles"] == 7 and whole["undated"] == 0
    bishkek = next(place for place in whole["places"] if place["name"] == "Bishkek")
    assert (bishkek["articles"], bishkek["article"], bishkek["id"]) == (3, "aktau-port", "bishkek")  # newest: 2021
    assert bishkek["family"] == "other" and bishkek["title"] == "A new quay at Aktau"
    assert client.get("/api/library/map", headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    until = client.get("/api/library/map?to=2019").get_json()
    assert (until["articles"], until["undated"], until["days"]) == (4, 1, ["", "2019-12-31"])
    bishkek = next(place for place in until["places"] if place["name"] == "Bishkek")
    assert (bishkek["articles"], bishkek["article"]) == (2, "osh-bazaar")  # 2019 is newer than December 2018
    assert "Naryn" not in {place["name"] for place in until["places"]}
    assert client.get("/api/library/map?from=2030").get_json()["places"] == []


def map_leaves(client, path: str = "/api/library/map", query: str = "") -> tuple[list[dict], int]:
    """Every place a reader reaches by zooming in to every count, and the most counts one answer held."""
    answer = client.get(path + query)
    assert answer.status_code == 200, path
    document = answer.get_json()
    found, widest = list(document.get("places", [])), len(document.get("cells", []))
    for cell in document.get("cells", []):
        south, west, north, east = cell["bounds"]
        assert south <= cell["lat"] <= north and west <= cell["lon"] <= east and cell["count"] > 1
        inside, wide = map_leaves(client, f"/api/library/map/{cell['tile']}", query)
        assert len(inside) == cell["count"] and all(south <= p["lat"] <= north for p in inside)
        found, widest = found + inside, max(widest, wide)
    return found, widest


def test_past_its_limit_the_map_gathers_places_in_tiles_that_zoom_in_to_them(timeline):
    """With a limit of 3 places an answer (the server's is a few thousand), counts of tiles, each of which
    answers in turn: every place is reached, once, and no answer holds more than 3 places or 64 counts."""
    whole = app_for(timeline).test_client().get("/api/library/map").get_json()["places"]
    client = app_for(timeline, LIBRARY_MAP_LIMIT=3).test_client()
    root = client.get("/api/library/map").get_json()
    assert root["cells"] and root["articles"] == 7 and root["tile"] == "0/0/0"
    found, widest = map_leaves(client)
    assert sorted(found, key=lambda p: p["key"]) == sorted(whole, key=lambda p: p["key"]) and widest <= 64
    ranged, _ = map_leaves(client, query="?to=2019")
    assert {p["name"] for p in ranged} >= {"Bishkek", "Osh", "Tashkent", "Almaty"} and "Naryn" not in str(ranged)
    for bad in ("/api/library/map/3/8/0", "/api/library/map/25/0/0", "/api/library/map/1/-1/0"):
        assert client.get(bad).status_code == 404, bad


def test_the_export_maps_every_place_of_the_library_and_its_tiles(timeline, tmp_path):
    """A static export has no server to filter by date (no slider), but its library map shows every place,
    from `library/map.json` (and, past the limit, the tiles it gathers them in, each a file)."""
    from newsmap.serve import vendor_files
    from newsmap.serve.export import export_site
    from newsmap.serve.librarymap import export_map
    from newsmap.serve.site import Config, Site
    from newsmap.settings import bundled

    db = timeline / "data" / "newsmap.db"
    app = app_for(timeline)
    export_site(db, tmp_path / "site", app.jinja_env, bundled("static"), vendor_files())
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '"map": "library/map.json"' in index and 'class="nm-time"' not in index
    whole = json.loads((tmp_path / "site" / "library" / "map.json").read_bytes())
    assert len(whole["places"]) == 14 and whole["detail"]  # with the basemap's detail cells it holds
    site = Site(Config(db=db, tiles="offline", tiles_attribution="", exported=True, map_limit=3), app.jinja_env,
                bundled("static"), vendor_files())  # fmt: skip
    files: dict[str, bytes] = {}
    export_map(site, files.__setitem__)
    site.reset()
    tiles = {name for name in files if name.startswith("library/map/")}
    assert "library/map.json" in files and tiles
    reached = [p["key"] for body in files.values() for p in json.loads(body).get("places", [])]
    assert sorted(reached) == sorted(p["key"] for p in whole["places"])  # every place once, in some tile
    for body in files.values():
        assert {f"library/map/{cell['tile']}.json" for cell in json.loads(body).get("cells", [])} <= tiles


def test_over_more_than_four_years_the_slider_steps_by_year(three):
    """2019 to 2023: each handle on a year, "to" at a year's end; a month asked for puts it on its year."""
    html = app_for(three).test_client().get("/?from=2021-09&to=2021-09").get_data(as_text=True)
    assert 'data-first="2019"' in html
    assert 'min="0" max="48" step="12" value="24" aria-valuetext="September 2021"' in html
    assert 'min="11" max="59" step="12" value="35" aria-valuetext="September 2021"' in html
    assert listed(html) == [SECOND]
