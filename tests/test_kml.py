"""KML that looks like the map in Google Earth: a style per marker family in the map's colours,
a folder per category in legend order, a folder per article in the whole-library stream.

Everything runs on real builds of the fixture articles, read back through `Store`, and on an
article made here whose text carries markup: Google Earth renders a description as HTML, so
that markup must reach it as characters to show, not tags to run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsmap.article import article_from_text
from newsmap.dataset import KML_STYLES, iter_kml, kml_colour, to_kml
from newsmap.schema import FAMILIES, category_family
from newsmap.serve.pages import category_index, legend
from newsmap.store import Store

from .conftest import ROOT, SEED_SLUG, app_for, build_library
from .payloads import PAYLOADS, write_payload_site

KML_NS = "http://www.opengis.net/kml/2.2"
NS = {"k": KML_NS}
ARTICLES = (SEED_SLUG, "tajikistan-border-2021", "caspian-ports-2023")


@pytest.fixture(scope="module")
def places(built: Path) -> list[dict]:
    """The first article's places as the site reads them (the build makes all four families of it)."""
    store = Store.open(built / "data" / "newsmap.db", create=False)
    try:
        return store.places(SEED_SLUG)
    finally:
        store.close()


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A database of the three fixture articles, built once: what `/data/locations.kml` streams."""
    return build_library(tmp_path_factory.mktemp("kml-library"), ARTICLES)


def library_kml(db: Path) -> bytes:
    store = Store.open(db, create=False)
    try:
        return b"".join(iter_kml(store.iter_places()))
    finally:
        store.close()


def parse(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{{{KML_NS}}}kml", "KML 2.2's namespace"
    return root


def folders(parent: ET.Element) -> list[ET.Element]:
    return parent.findall("k:Folder", NS)


def name(element: ET.Element) -> str:
    return element.find("k:name", NS).text or ""


def css_colours() -> dict[str, str]:
    """The marker colours the map draws with, read from the stylesheet."""
    css = (ROOT / "static" / "mapcore.css").read_text(encoding="utf-8")
    return {family: re.search(rf"--{family}:\s*(#[0-9a-fA-F]{{6}})", css).group(1) for family in FAMILIES}


def test_kml_colour_is_alpha_blue_green_red():
    assert kml_colour("#b3261e") == "ff1e26b3"
    assert kml_colour("#1F5FA8") == "ffa85f1f"


def test_a_style_per_family_in_the_maps_colours(places):
    document = parse(to_kml(places, title=SEED_SLUG)).find("k:Document", NS)
    styles = document.findall("k:Style", NS)
    assert [s.get("id") for s in styles] == [f"family-{family}" for family in FAMILIES]
    colours = css_colours()
    for style, family in zip(styles, FAMILIES, strict=True):
        assert KML_STYLES[family][0] == colours[family], f"{family} drifted from static/mapcore.css"
        icon = style.find("k:IconStyle", NS)
        assert icon.find("k:color", NS).text == kml_colour(colours[family])
        assert re.fullmatch(
            r"http://maps\.google\.com/mapfiles/kml/shapes/[a-z_-]+\.png", icon.find("k:Icon/k:href", NS).text
        )
        assert style.find("k:LabelStyle/k:scale", NS) is not None
    # the map's shapes: military a diamond, proposed a square, meeting and other places circles
    assert [KML_STYLES[f][1] for f in FAMILIES] == [
        "open-diamond.png", "placemark_square.png", "placemark_circle.png", "placemark_circle.png",
    ]  # fmt: skip


def test_an_article_has_a_folder_per_category_in_legend_order(places):
    document = parse(to_kml(places, title=SEED_SLUG)).find("k:Document", NS)
    assert name(document) == SEED_SLUG
    labels = [name(folder) for folder in folders(document)]
    assert labels == [
        "Russian military facility", "proposed or discussed base", "meeting place", "other mentioned place",
    ]  # fmt: skip
    page_legend = [entry["label"] for entry in legend(places, category_index([p["category"] for p in places]))]
    assert labels == page_legend, "Google Earth's sidebar lists the categories as the page's legend does"
    assert document.findall("k:Placemark", NS) == [], "every placemark is inside its category's folder"


def test_each_placemark_is_in_its_categorys_folder_with_its_familys_style(places):
    document = parse(to_kml(places, title=SEED_SLUG)).find("k:Document", NS)
    style_ids = {style.get("id") for style in document.findall("k:Style", NS)}
    seen = []
    for folder in folders(document):
        label = name(folder)
        expected = [p for p in places if p["category"] == label]  # in the article's order
        marks = folder.findall("k:Placemark", NS)
        assert [m.get("id") for m in marks] == [f"p-{p['article']}.{p['id']}" for p in expected]
        for mark in marks:
            url = mark.find("k:styleUrl", NS).text
            assert url == f"#family-{category_family(label)}" and url[1:] in style_ids
            category = mark.find("k:ExtendedData/k:Data[@name='category']/k:value", NS).text
            assert category == label
        seen += [m.get("id") for m in marks]
    assert sorted(seen) == sorted(f"p-{p['article']}.{p['id']}" for p in places)


def test_each_operators_military_facilities_get_their_own_folder(places):
    """ "Chinese military facility" and "Russian military facility" are two legend entries, both military."""
    relabelled = [{**p, "category": "Chinese military facility"} if p["id"] == "kant-air-base" else p for p in places]
    document = parse(to_kml(relabelled)).find("k:Document", NS)
    by_name = {name(folder): folder for folder in folders(document)}
    assert list(by_name)[:2] == ["Chinese military facility", "Russian military facility"]
    chinese = by_name["Chinese military facility"].findall("k:Placemark", NS)
    assert [m.find("k:name", NS).text for m in chinese] == ["Kant Air Base"]
    assert chinese[0].find("k:styleUrl", NS).text == "#family-military"


def test_an_article_without_places_is_still_a_valid_document():
    document = parse(to_kml([], title="empty")).find("k:Document", NS)
    assert len(document.findall("k:Style", NS)) == len(FAMILIES) and folders(document) == []


def test_the_library_stream_has_a_folder_per_article_holding_its_category_folders(library):
    data = library_kml(library)
    document = parse(data).find("k:Document", NS)
    assert [s.get("id") for s in document.findall("k:Style", NS)] == [f"family-{family}" for family in FAMILIES]
    articles = folders(document)
    assert [name(folder) for folder in articles] == sorted(ARTICLES)  # the order Store.iter_places reads
    store = Store.open(library, create=False)
    try:
        for article in articles:
            alone = parse(to_kml(store.places(name(article)))).find("k:Document", NS)
            # the same category folders, placemarks and styles as the article's own download
            assert [ET.tostring(f) for f in folders(article)] == [ET.tostring(f) for f in folders(alone)]
    finally:
        store.close()
    tajik = next(folder for folder in articles if name(folder) == "tajikistan-border-2021")
    assert [name(f) for f in folders(tajik)] == [
        "Russian military facility",
        "Tajik military facility",  # the airfield in Ayni: Ayni Air Base, run by Tajikistan's air force
        "other mentioned place",
    ]
    store = Store.open(library, create=False)
    try:  # every place of every article, once
        assert len(document.findall(".//k:Placemark", NS)) == sum(len(store.places(a)) for a in ARTICLES)
    finally:
        store.close()


def test_the_library_stream_holds_one_article_at_a_time(library):
    """A chunk per article, sent once its rows are read and before the next article's are (but the
    one row that shows the article ended): memory holds one article however big the library is."""
    store = Store.open(library, create=False)
    pulled: list[str] = []

    def rows():
        for row in store.iter_places():
            pulled.append(row["article"])
            yield row

    try:
        sizes = [len(store.places(slug)) for slug in sorted(ARTICLES)]
        chunks = iter_kml(rows())
        assert next(chunks).startswith(b"<?xml") and pulled == []
        for number, slug in enumerate(sorted(ARTICLES)):
            chunk = next(chunks)
            assert chunk.startswith(f"\n<Folder><name>{slug}</name>".encode())
            lookahead = 1 if number < len(ARTICLES) - 1 else 0
            assert len(pulled) == sum(sizes[: number + 1]) + lookahead
        assert next(chunks).endswith(b"</kml>\n")
    finally:
        store.close()


def test_kml_bytes_are_the_same_on_every_run(places, library):
    assert to_kml(places, title=SEED_SLUG) == to_kml([dict(p) for p in places], title=SEED_SLUG)
    assert library_kml(library) == library_kml(library)


def test_payloads_stay_text(tmp_path):
    """Every text the KML holds (names, categories as folder names, quotes, columns) is escaped."""
    _, data, rows = write_payload_site(tmp_path)
    store = Store.open(data / "newsmap.db", create=False)
    try:
        places = store.places("payloads")
        streamed = b"".join(iter_kml(store.iter_places(), title=PAYLOADS[0]))
    finally:
        store.close()
    for raw in (to_kml(places, title=PAYLOADS[0]), streamed):
        document = parse(raw).find("k:Document", NS)
        assert name(document) == PAYLOADS[0]
        marks = document.findall(".//k:Placemark", NS)
        assert [m.find("k:name", NS).text for m in marks][: len(PAYLOADS)] == list(PAYLOADS)
        folder_names = {name(f) for f in document.iter(f"{{{KML_NS}}}Folder")}
        assert PAYLOADS[0] in folder_names  # the payload category is a folder name, as text
        assert b"<script>" not in raw and b"<img" not in raw
    assert len(rows) == len(places)


def test_characters_xml_forbids_are_replaced_not_written(places):
    hostile = [{**places[0], "name": "Kant\x00\x1b\ud800\uffff"}]
    mark = parse(to_kml(hostile, title="t\x07")).find(".//k:Placemark", NS)
    assert mark.find("k:name", NS).text == "Kant\ufffd\ufffd\ufffd\ufffd"


MARKUP = "<img src=x onerror=alert(1)>"
MARKED_UP = f"The depot at Osh {MARKUP} &amp; <b>bold</b> & ]]> <!-- c --> &lt;script&gt; was named here."


class _Html(HTMLParser):
    """What an HTML renderer (Google Earth's balloon) makes of a string: its elements and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.markup: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.markup.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.markup.append(f"</{tag}>")

    def handle_comment(self, data: str) -> None:
        self.markup.append("<!---->")

    def handle_decl(self, decl: str) -> None:
        self.markup.append("<!>")

    def handle_pi(self, data: str) -> None:
        self.markup.append("<?>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def as_html(value: str) -> tuple[list[str], str]:
    parser = _Html()
    parser.feed(value)
    parser.close()
    return parser.markup, "".join(parser.text)


@pytest.fixture()
def marked_up(tmp_path: Path) -> tuple[Path, dict]:
    """A library (in tmp_path/data) of one article whose text, and so its place's quote, holds markup."""
    text = f"Markup in the news\n\n{MARKED_UP}\n"
    article = article_from_text("marked-up", text)
    sentence = article.sentences[1]
    start = text.index("Osh")
    place = {
        "id": "osh-depot", "name": "Osh depot", "article_name": "Osh", "kind": "depot", "category": "other mentioned place",
        "status": "", "lat": 40.5, "lon": 72.8, "precision": "settlement", "quote": article.sentence_text(sentence),
        "mentions": 1, "source": "test", "article": "marked-up", "country": "KG", "context": MARKUP,
    }  # fmt: skip
    mention = {
        "place_id": "osh-depot", "article": "marked-up", "role": "toponym", "sentence": sentence.index,
        "sentence_start": sentence.start, "sentence_end": sentence.end, "start": start, "end": start + 3, "text": "Osh",
    }  # fmt: skip
    store = Store.open(tmp_path / "data" / "newsmap.db")
    try:
        store.put_article(article, [place], [mention])
        row = store.places("marked-up")[0]
    finally:
        store.close()
    assert MARKUP in row["quote"] and "&amp;" in row["quote"] and "]]>" in row["quote"]
    return tmp_path, row


def test_a_description_is_text_even_to_an_html_renderer(marked_up):
    """Parsed as XML, then as HTML (what Google Earth does), a description is the quote's characters:
    no element, comment or entity of the article's survives as markup."""
    root, row = marked_up
    store = Store.open(root / "data" / "newsmap.db", create=False)
    try:
        streamed = b"".join(iter_kml(store.iter_places()))
    finally:
        store.close()
    client = app_for(root).test_client()
    served = [client.get(url).data for url in ("/articles/marked-up/locations.kml", "/data/locations.kml")]
    for raw in (to_kml([row], title="marked-up"), streamed, *served):
        marks = parse(raw).findall(".//k:Placemark", NS)
        assert len(marks) == 1
        description = marks[0].find("k:description", NS).text
        markup, text = as_html(description)
        assert markup == [] and text == row["quote"], description
        # the data columns stay the article's exact characters, for GIS tools (not shown in the balloon)
        assert marks[0].find("k:ExtendedData/k:Data[@name='quote']/k:value", NS).text == row["quote"]
        assert marks[0].find("k:ExtendedData/k:Data[@name='context']/k:value", NS).text == MARKUP


def test_the_balloon_shows_the_description_alone(marked_up):
    """Google Earth's default balloon would paste the name and the data columns into its HTML as
    they are; every family's style sets a balloon of the (HTML-escaped) description only."""
    _, row = marked_up
    document = parse(to_kml([{**row, "name": MARKUP}])).find("k:Document", NS)
    for style in document.findall("k:Style", NS):
        assert style.find("k:BalloonStyle/k:text", NS).text == "$[description]", style.get("id")
    mark = document.find(".//k:Placemark", NS)
    assert mark.find("k:name", NS).text == MARKUP  # a label, which Google Earth shows as plain text
    assert mark.find("k:styleUrl", NS).text[1:] in {s.get("id") for s in document.findall("k:Style", NS)}
