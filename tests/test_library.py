"""Several articles: ids scoped to their article, pages at /articles/<slug>, a deliberate home page.

Adding a second and a third article must not change anything of the first: not its ids, not its
deep links, not its page's places and mentions.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app import create_app
from newsmap.build.pipeline import build
from newsmap.dataset import read_table

from .conftest import SEED_SLUG, copy_article

SECOND, THIRD = "tajikistan-border-2021", "caspian-ports-2023"


def client_for(root: Path, **config: str):
    settings = {"TESTING": True, "DATA_DIR": str(root / "data"), "SEEDS_DIR": str(root / "seeds"), **config}
    return create_app(settings).test_client()


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
    first_page = client_for(before).get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    for slug in (SECOND, THIRD):
        copy_article(slug, workdir / "seeds")
    build(workdir / "seeds", workdir / "data", echo=lambda _: None)

    for table in ("locations.csv", "mentions.csv"):
        assert rows_of(workdir, table, SEED_SLUG) == rows_of(before, table, SEED_SLUG), table
    page = client_for(workdir).get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    assert links(page) == links(first_page) and links(page)["places"]
    assert f'href="/articles/{SECOND}"' in page and f'href="/articles/{THIRD}"' in page


def test_ids_are_unique_within_an_article_and_shared_names_keep_plain_ids(three):
    rows = read_table(three / "data" / "locations.csv")
    keys = [(row["article"], row["id"]) for row in rows]
    assert len(keys) == len(set(keys))
    assert not any("--" in row["id"] for row in rows)
    russia = {row["article"] for row in rows if row["id"] == "russia"}
    assert russia == {SEED_SLUG, SECOND, THIRD}  # one "russia" per article, no suffix


def test_each_article_has_its_page_and_api(three):
    client = client_for(three)
    second = client.get(f"/articles/{SECOND}").get_data(as_text=True)
    assert "Russia to reinforce its base in Tajikistan" in second and 'id="place-dushanbe"' in second
    assert 'id="place-kant-air-base"' not in second
    assert f'<link rel="canonical" href="/articles/{SECOND}">' in second
    places = client.get(f"/api/articles/{THIRD}/places").get_json()
    assert {p["article"] for p in places} == {THIRD} and "aktau" in {p["id"] for p in places}
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


def test_home_is_the_newest_article_or_the_one_named(three):
    newest = client_for(three)
    assert newest.get("/").data == newest.get(f"/articles/{THIRD}").data  # published 2023-05
    named = client_for(three, HOME_ARTICLE=SEED_SLUG)
    assert named.get("/").data == named.get(f"/articles/{SEED_SLUG}").data
    unknown = client_for(three, HOME_ARTICLE="no-such-article")
    assert unknown.get("/").data == unknown.get(f"/articles/{THIRD}").data


def test_old_place_links_still_find_the_first_article(three):
    """`/api/places/<id>` (and so `/#<id>`, which the page resolves through it) predate article pages."""
    client = client_for(three)
    kant = client.get("/api/places/kant-air-base").get_json()
    assert kant["article"] == SEED_SLUG  # only the first article has it
    assert client.get("/api/places/aktau").get_json()["article"] == THIRD  # the home article's own place
    assert client.get("/api/places/russia").get_json()["article"] == THIRD  # home first, when it has the id
    html = client.get("/").get_data(as_text=True)
    assert '"oldLinks": "/api/places/"' in html
