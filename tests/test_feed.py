"""The library's Atom feed: RFC 4287's required elements, entries in the order given, absolute or
relative links, ids that never change, payloads as text, the same bytes for the same library.

Runs on real builds of the fixture articles, read back through `Store.listing` as the route will.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from newsmap.serve.feed import ATOM_NS, atom_feed
from newsmap.store import ArticleInfo, Store

from .conftest import SEED_SLUG, build_library
from .payloads import write_payload_site

NS = {"a": ATOM_NS}
ARTICLES = (SEED_SLUG, "tajikistan-border-2021", "caspian-ports-2023")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)")
SITE = "https://maps.example.org/newsmap/"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A database of the three fixture articles (published 2019, 2021 and 2023), built once."""
    return build_library(tmp_path_factory.mktemp("feed-library"), ARTICLES)


def read(db: Path) -> tuple[list[ArticleInfo], str, dict[str, int]]:
    """What the route passes: the listing, the library's last write, places per article."""
    store = Store.open(db, create=False)
    try:
        articles = store.listing("", limit=50)
        return articles, store.meta("updated_at") or "", {a.slug: len(store.places(a.slug)) for a in articles}
    finally:
        store.close()


def feed_of(db: Path, site_url: str = "", **options) -> bytes:
    articles, updated, counts = read(db)
    return atom_feed(articles, site_url=site_url, updated=updated, counts=counts, **options)


def parse(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{{{ATOM_NS}}}feed", "Atom 1.0's namespace"
    return root


def one(parent: ET.Element, path: str) -> ET.Element:
    found = parent.findall(path, NS)
    assert len(found) == 1, f"exactly one {path}"
    return found[0]


def links(parent: ET.Element) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in parent.findall("a:link", NS)}


def test_the_feed_has_what_rfc_4287_requires(library):
    articles, updated, _ = read(library)
    feed = parse(feed_of(library, SITE))
    for path in ("a:id", "a:title", "a:updated", "a:generator"):
        assert one(feed, path).text
    assert one(feed, "a:updated").text == updated and RFC3339.fullmatch(updated)
    assert links(feed) == {"self": SITE + "feed.atom", "alternate": SITE}
    assert one(feed, "a:link[@rel='self']").get("type") == "application/atom+xml"
    entries = feed.findall("a:entry", NS)
    assert len(entries) == len(articles) == 3
    for entry in entries:
        for path in ("a:id", "a:title", "a:updated", "a:published", "a:author/a:name", "a:summary"):
            assert one(entry, path).text
        assert RFC3339.fullmatch(one(entry, "a:updated").text) and RFC3339.fullmatch(one(entry, "a:published").text)
        assert one(entry, "a:link[@rel='alternate']").get("type") == "text/html"


def test_entries_are_the_listing_in_its_order_newest_first(library):
    articles, _, _ = read(library)
    entries = parse(feed_of(library, SITE)).findall("a:entry", NS)
    assert [a.slug for a in articles] == ["caspian-ports-2023", "tajikistan-border-2021", SEED_SLUG]
    assert [one(e, "a:title").text for e in entries] == [a.title for a in articles]
    assert [one(e, "a:updated").text for e in entries] == [a.updated_at for a in articles]
    assert [one(e, "a:published").text for e in entries] == [a.added_at for a in articles]
    reversed_feed = parse(atom_feed(articles[::-1], site_url=SITE, updated=read(library)[1]))
    assert [one(e, "a:title").text for e in reversed_feed.findall("a:entry", NS)] == [a.title for a in articles[::-1]]


def test_summary_author_and_the_original_from_the_articles_metadata(built):
    entry = one(parse(feed_of(built / "data" / "newsmap.db")), "a:entry")
    assert one(entry, "a:summary").text == "18 places, published March 2019 by Vestnik Kavkaza"
    assert one(entry, "a:author/a:name").text == "Vestnik Kavkaza"
    articles, updated, _ = read(built / "data" / "newsmap.db")
    bare = dataclasses.replace(articles[0], publisher="", published="", url="https://example.com/story?id=1")
    entry = one(parse(atom_feed([bare], site_url="", updated=updated, counts={SEED_SLUG: 1})), "a:entry")
    assert one(entry, "a:summary").text == "1 place"
    assert one(entry, "a:author/a:name").text == "newsmap"
    assert links(entry)["related"] == "https://example.com/story?id=1"
    no_counts = one(parse(atom_feed(articles, site_url="", updated=updated)), "a:entry")
    assert one(no_counts, "a:summary").text == "Published March 2019 by Vestnik Kavkaza"


def test_with_a_site_url_links_and_ids_are_absolute(library):
    feed = parse(feed_of(library, SITE))
    assert one(feed, "a:id").text == SITE + "feed.atom"
    for entry, article in zip(feed.findall("a:entry", NS), read(library)[0], strict=True):
        page = f"{SITE}articles/{article.slug}"
        assert links(entry)["alternate"] == page and one(entry, "a:id").text == page
    no_slash = parse(feed_of(library, SITE.rstrip("/"), feed_path="/atom.xml"))
    assert links(no_slash)["self"] == SITE + "atom.xml"


def test_without_a_site_url_links_are_relative_and_ids_are_tag_uris(library):
    feed = parse(feed_of(library))
    assert links(feed) == {"self": "/feed.atom", "alternate": "/"}
    assert one(feed, "a:id").text == "tag:newsmap,2026:feed"
    for entry, article in zip(feed.findall("a:entry", NS), read(library)[0], strict=True):
        assert links(entry)["alternate"] == f"/articles/{article.slug}"
        assert one(entry, "a:id").text == f"tag:newsmap,{article.added_at[:10]}:articles/{article.slug}"


def test_entry_ids_survive_an_edit_of_the_article(library, tmp_path):
    db = tmp_path / "newsmap.db"
    shutil.copy(library, db)
    before = parse(feed_of(db))
    store = Store.open(db, create=False)
    try:
        store.put_article(store.article(SEED_SLUG), store.places(SEED_SLUG), store.mentions(SEED_SLUG))
    finally:
        store.close()
    after = parse(feed_of(db))
    assert [one(e, "a:id").text for e in after.findall("a:entry", NS)] == [
        one(e, "a:id").text for e in before.findall("a:entry", NS)
    ]
    assert one(after, "a:updated").text > one(before, "a:updated").text
    edited = [e for e in after.findall("a:entry", NS) if one(e, "a:id").text.endswith(SEED_SLUG)]
    untouched = [e for e in before.findall("a:entry", NS) if one(e, "a:id").text.endswith(SEED_SLUG)]
    assert one(edited[0], "a:updated").text > one(untouched[0], "a:updated").text


def test_payload_titles_and_publishers_stay_text(tmp_path):
    _, data, _ = write_payload_site(tmp_path)
    raw = feed_of(data / "newsmap.db", SITE, title='<script>alert("feed")</script>')
    feed = parse(raw)
    assert one(feed, "a:title").text == '<script>alert("feed")</script>'
    entry = one(feed, "a:entry")
    assert one(entry, "a:title").text == 'Payloads <script>alert("xss-title")</script>'
    assert one(entry, "a:author/a:name").text == "<i>pub</i>"
    assert b"<script>" not in raw and b"<i>" not in raw


def test_characters_xml_forbids_are_dropped(built):
    articles, updated, _ = read(built / "data" / "newsmap.db")
    hostile = dataclasses.replace(articles[0], title="Kant\x00\x1b\ud800\uffff base", publisher="\x0b")
    entry = one(parse(atom_feed([hostile], site_url="", updated=updated)), "a:entry")
    assert one(entry, "a:title").text == "Kant base"
    assert one(entry, "a:author/a:name").text == "newsmap"


def test_the_same_library_gives_the_same_bytes(library):
    assert feed_of(library, SITE) == feed_of(library, SITE)
    assert feed_of(library) == feed_of(library)


def test_bad_arguments_are_refused_before_writing(built):
    articles, updated, _ = read(built / "data" / "newsmap.db")
    for site_url in ("maps.example.org", "ftp://example.org", "https://example.org/?x=1", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="site_url"):
            atom_feed(articles, site_url=site_url, updated=updated)
    with pytest.raises(ValueError, match="updated"):
        atom_feed(articles, site_url="", updated="yesterday")
    with pytest.raises(ValueError, match="feed_path"):
        atom_feed(articles, site_url="", updated=updated, feed_path="feed.atom")


def test_an_empty_library_is_a_valid_feed():
    feed = parse(atom_feed([], site_url="", updated="2026-01-02T03:04:05+00:00"))
    assert feed.findall("a:entry", NS) == [] and one(feed, "a:author/a:name").text == "newsmap"


def test_a_feed_reader_reads_it(library):
    """feedparser, what many readers are built on: well-formed Atom 1.0, links resolved, dates read."""
    feedparser = pytest.importorskip("feedparser")
    articles, _, _ = read(library)
    parsed = feedparser.parse(feed_of(library, SITE))
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.feed.title == "newsmap" and parsed.feed.generator == "newsmap"
    assert [e.title for e in parsed.entries] == [a.title for a in articles]
    assert [e.link for e in parsed.entries] == [f"{SITE}articles/{a.slug}" for a in articles]
    assert all(e.updated_parsed and e.published_parsed and e.author for e in parsed.entries)
    headers = {"content-location": "https://example.org/feed.atom"}  # where the reader fetched it
    relative = feedparser.parse(feed_of(library), response_headers=headers)
    assert [e.link for e in relative.entries] == [f"https://example.org/articles/{a.slug}" for a in articles]
