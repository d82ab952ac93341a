"""A facility at the facility (issue 20): the classes of phrase the geoparser must place, on made-up sentences.

The facilities here have no curated row and no alias that matches the phrase (a test that needs a
curated row writes its own, under a name no phrase uses), so what passes them is the rule, not the list.
"""

from __future__ import annotations

import pytest

from newsmap.article import article_from_text
from newsmap.geoparser import geoparse_article
from newsmap.geoparser.gazetteer import BUNDLED_CURATED, CURATED_COLUMNS, DEFAULT_CURATED, Gazetteer, haversine_km


def parse(gazetteer, text: str):
    locations, mentions = geoparse_article(article_from_text("t", text + "\n"), gazetteer, None)
    return {row["id"]: row for row in locations}, mentions


def place_of(rows, mentions, text: str) -> dict:
    """The row of the place the mention written `text` refers to."""
    return rows[next(m["place_id"] for m in mentions if m["text"] == text)]


# --------------------------------------------------------------------------- named by owner or unit number


@pytest.fixture(scope="module")
def with_installation(tmp_path_factory):
    """The gazetteer plus one installation of our own: unit 77, run by France, near Dakar; no alias."""
    path = tmp_path_factory.mktemp("curated") / "installations.csv"
    row = (
        "test-77th-support-base,77th Overseas Support Base,,military base,facility,14.7417,-17.4903,SN,,,FR,"
        'in operation,"A made-up row for the tests: no page, no alias"'
    )
    path.write_text(",".join(CURATED_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    return Gazetteer.open(DEFAULT_CURATED, bundled=(*BUNDLED_CURATED, path))


@pytest.mark.parametrize(
    "text",
    [
        "France's 77th base will close next year, officials in Senegal said.",  # owner and unit, no place
        "The French base in Dakar will close next year.",  # owner, and the town it is in
        "The 77th base in Dakar will close next year.",  # unit, and the town
    ],
)
def test_a_base_named_by_its_owner_or_unit_is_the_curated_one(with_installation, text):
    rows, mentions = parse(with_installation, text)
    base = next(row for row in rows.values() if row["key"] == "curated:test-77th-support-base")
    assert base["precision"] == "facility" and base["category"] == "French military facility"
    assert any(m["role"] == "facility" and m["place_id"] == base["id"] for m in mentions)


def test_an_owner_picks_its_own_base_and_never_another_owners(with_installation):
    rows, _ = parse(with_installation, "China's base in Dakar opened in 2020.")  # not the French one
    assert not any(row["key"] == "curated:test-77th-support-base" for row in rows.values())
    base = next(row for row in rows.values() if row["kind"] == "military base")
    assert base["category"] == "Chinese military facility" and base["key"].startswith("facility:SN/")


def test_an_owners_base_with_no_curated_row_is_its_own_row_at_the_town(gazetteer):
    rows, mentions = parse(gazetteer, "Pakistan's listening post in Gwadar was expanded last year.")
    post, town = place_of(rows, mentions, "listening post in Gwadar"), place_of(rows, mentions, "Gwadar")
    assert post["kind"] == "listening post" and post["category"] == "Pakistani military facility"
    assert post["precision"] == "settlement" and (post["lat"], post["lon"]) == (town["lat"], town["lon"])
    assert post["source"].startswith("site not published: placed at Gwadar")
    # Its own identity: another id and key than the town it is placed at.
    assert post["id"] != town["id"] and post["key"] == "facility:PK/pakistani-listening-post-in-gwadar"
    assert town["key"].startswith("geonames:")


def test_a_later_phrase_of_the_same_owner_is_the_same_facility(gazetteer):
    text = "Pakistan's listening post in Gwadar was expanded. The Pakistani listening post now has a radar."
    _, mentions = parse(gazetteer, text)
    posts = {m["place_id"] for m in mentions if m["role"] == "facility"}
    assert len(posts) == 1 and len([m for m in mentions if m["role"] == "facility"]) == 2


def test_a_facility_anchored_only_by_a_country_is_its_own_row_at_the_country(gazetteer):
    rows, mentions = parse(gazetteer, "India's listening post in Tajikistan was expanded.")
    post, country = place_of(rows, mentions, "listening post in Tajikistan"), rows["tajikistan"]
    assert post["precision"] == "country" and post["id"] != country["id"] and post["key"] != country["key"]
    assert "no town named" in post["source"] and "centre of Tajikistan" in post["source"]
    assert post["category"] == "Indian military facility"


@pytest.mark.parametrize("text", ["Russia's central bank cut its base rate.", "The club's fan base in Leeds grew."])
def test_a_bare_base_is_a_facility_only_after_an_owner_and_at_the_end_of_a_phrase(gazetteer, text):
    _, mentions = parse(gazetteer, text)
    assert not any(m["role"] == "facility" for m in mentions)


# --------------------------------------------------------------------------- named by what it does, near a town


@pytest.mark.parametrize(
    ("text", "phrase", "town"),
    [
        ("A radar station near the town of Mirny was upgraded.", "radar station near the town of Mirny", "Mirny"),
        (
            "An early-warning site outside Olenegorsk went silent.",
            "early-warning site outside Olenegorsk",
            "Olenegorsk",
        ),
        ("A missile site 30 km north of Kozelsk was expanded.", "missile site 30 km north of Kozelsk", "Kozelsk"),
        ("Engineers built a tracking station in the town of Maspalomas.", None, "Maspalomas"),
    ],
)
def test_a_facility_named_by_what_it_does_is_placed_at_its_town(gazetteer, text, phrase, town):
    if not gazetteer.lookup(town):
        pytest.skip(f"no {town} in this gazetteer")
    rows, mentions = parse(gazetteer, text)
    facility = next((m for m in mentions if m["role"] == "facility"), None)
    assert facility is not None and (phrase is None or facility["text"] == phrase)
    row, anchor = rows[facility["place_id"]], place_of(rows, mentions, town)
    assert haversine_km(row["lat"], row["lon"], anchor["lat"], anchor["lon"]) < 50
    assert row["id"] != anchor["id"]
    if row["key"].startswith("facility:"):  # no known site: at the town, and it says so
        assert row["precision"] == "settlement" and f"placed at {anchor['name']}" in row["source"]


# --------------------------------------------------------------------------- an airfield named after a town


@pytest.mark.parametrize(
    ("text", "field", "wrong"),
    [
        # Two towns called Altenstadt: the larger in Hesse, the one with the airfield in Bavaria, 300 km apart.
        ("German helicopters are based at the Altenstadt airfield.", "airport:ETHA", (50.29, 8.94)),
        ("Helicopters flew from the airfield in Altenstadt, Germany.", "airport:ETHA", (50.29, 8.94)),
        # Hatzor Ashdod has the air base; H̱atsor HaGlilit, in Galilee, is larger.
        ("Israeli jets took off from the air base at Hatzor.", "airport:LLHS", (32.98, 35.54)),
    ],
)
def test_an_airfield_named_after_a_town_picks_the_town_with_the_field(gazetteer, text, field, wrong):
    rows, _ = parse(gazetteer, text)
    base = next(row for row in rows.values() if row["kind"] == "air base")
    assert base["key"] == field and base["precision"] == "facility"
    town = next(row for row in rows.values() if row["kind"] in ("town", "city"))
    assert haversine_km(town["lat"], town["lon"], *wrong) > 100
    assert haversine_km(town["lat"], town["lon"], base["lat"], base["lon"]) < 15


def test_an_unnamed_airfield_far_from_the_town_is_not_the_towns(gazetteer):
    # The nearest airport to Falmouth, Massachusetts, is another town's: the phrase stays at Falmouth, and says so.
    rows, mentions = parse(gazetteer, "Officials visited the airport in Falmouth, Massachusetts.")
    airport = place_of(rows, mentions, "airport in Falmouth")
    assert airport["precision"] == "settlement" and airport["source"].startswith("site not published")


# --------------------------------------------------------------------------- features named like towns abroad


@pytest.mark.parametrize(
    ("text", "abroad"),
    [
        ("Yachts rounded Cape Horn on their way to Chile.", {"CA"}),  # a town called Cape Horn in Canada
        ("Floods swelled the Sava river in Croatia.", {"IT", "IR", "MG"}),  # towns and a region called Sava
        ("Tourists from Zurich swam in Lake Zurich.", {"US"}),  # a town called Lake Zurich in Illinois
    ],
)
def test_a_feature_is_never_a_town_of_its_name_abroad(gazetteer, text, abroad):
    rows, _ = parse(gazetteer, text)
    assert not any(row["country"] in abroad for row in rows.values()), rows


def test_a_feature_the_gazetteer_knows_is_the_feature_with_its_whole_name(gazetteer):
    rows, mentions = parse(gazetteer, "Farmers along the Orange river in South Africa need rain.")
    river = place_of(rows, mentions, "Orange river")
    assert (river["kind"], river["precision"]) == ("river", "region")


def test_a_feature_it_lacks_sits_at_its_namesake_town_in_the_articles_country(gazetteer):
    rows, mentions = parse(gazetteer, "Yazidis fled to Mount Sinjar, in the north of Iraq.")
    mountain = place_of(rows, mentions, "Mount Sinjar")
    assert (mountain["kind"], mountain["precision"], mountain["country"]) == ("mountain", "settlement", "IQ")
    assert "placed at its namesake" in mountain["source"] and mountain["key"] == "feature:IQ/mount-sinjar"
    # Without the article's country, a namesake town is no evidence: nothing is placed.
    rows, _ = parse(gazetteer, "Yazidis fled to Mount Sinjar.")
    assert rows == {}


# --------------------------------------------------------------------------- towns and the regions named after them


def test_a_town_that_names_its_region_is_the_town(gazetteer):
    rows, _ = parse(gazetteer, "Protests were reported in Naryn and in Talas.")
    assert {(row["name"], row["precision"]) for row in rows.values()} == {
        ("Naryn", "settlement"),
        ("Talas", "settlement"),
    }
    rows, _ = parse(gazetteer, "Snow closed roads across the Naryn region.")
    assert [(row["name"], row["precision"]) for row in rows.values()] == [("Naryn", "region")]


def test_a_city_is_a_settlement_whatever_list_it_comes_from(gazetteer):
    # ISO 3166-2 lists some cities as subdivisions ("Bender", a city of Moldova): a city, at its town.
    rows = gazetteer.db.execute("SELECT name, precision FROM places WHERE kind = 'city'").fetchall()
    assert rows and all(precision == "settlement" for _, precision in rows)
    bender = [p for p in gazetteer.lookup("Bender") if p.country == "MD"]
    assert bender and all(p.precision == "settlement" for p in bender)


# --------------------------------------------------------------------------- de facto states and disputed territories


@pytest.mark.parametrize(
    ("name", "country"),
    [
        ("Transnistria", "MD"),
        ("Abkhazia", "GE"),
        ("South Ossetia", "GE"),
        ("Northern Cyprus", "CY"),
        ("Somaliland", "SO"),
        ("Nagorno-Karabakh", "AZ"),
        ("Kosovo", "XK"),
        ("Donetsk People's Republic", "UA"),
    ],
)
def test_de_facto_states_are_places_of_their_own(gazetteer, name, country):
    rows, mentions = parse(gazetteer, f"Observers travelled to {name} last week.")
    row = place_of(rows, mentions, name)
    assert row["country"] == country and row["key"].startswith("curated:")
    assert row["kind"] in ("de facto state", "partially recognised state", "disputed territory")
    assert row["precision"] in ("region", "country") and row["source"]
    # Never the recognised state's own marker: "Northern Cyprus" is not Cyprus.
    assert not any(r["key"] == f"country:{country}" for r in rows.values())
