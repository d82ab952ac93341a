"""The recogniser and resolver on the seed, on variants, and on an article it has never seen."""

from __future__ import annotations

import re

import pytest

from newsmap.article import article_from_text, load_article
from newsmap.build.pipeline import geoparse_article

from .conftest import FIXTURES


def spans(text: str, pattern: str) -> set[tuple[int, int]]:
    return {m.span() for m in re.finditer(pattern, text)}


@pytest.fixture(scope="module")
def seed_rows(seed, gazetteer):
    return geoparse_article(seed, gazetteer, None)


def test_every_place_of_the_seed_is_found_with_exact_offsets(seed, seed_rows):
    text = seed.text
    expected = {
        "kant-air-base": spans(text, r"Kant Air Base|air base in Kant|airfield in Kant"),
        "kant": spans(text, r"(?<=in )Kant\b"),
        "issyk-kul-naval-test-base": spans(text, r"naval base in Issyk-Kul"),
        "issyk-kul": spans(text, r"Issyk-Kul"),
        "mailuu-suu-seismic-station": spans(text, r"seismological center in the town of Mailuu-Suu"),
        "mailuu-suu": spans(text, r"Mailuu-Suu"),
        "chaldovar-communications-centre": spans(text, r"communications center in the village of Chaldybar"),
        "chaldovar": spans(text, r"Chaldybar"),
        "bishkek": spans(text, r"\bBishkek\b"),
        "osh": spans(text, r"\bOsh\b"),
        "sochi": spans(text, r"\bSochi\b"),
        "moscow": spans(text, r"\bMoscow\b"),
        "kyrgyzstan": spans(text, r"\bKyrgyzstan\b|Kyrgyz Republic"),
        "russia": spans(text, r"\bRussia\b(?!n)|Russian Federation"),
        "uzbekistan": spans(text, r"\bUzbekistan\b"),
        "china": spans(text, r"\bChina\b"),
        "ussr": spans(text, r"\bUSSR\b"),
        "china-kyrgyzstan-uzbekistan-railway": spans(text, r"Uzbekistan-China-Kyrgyzstan railway"),
    }
    locations, mentions = seed_rows
    found: dict[str, set[tuple[int, int]]] = {}
    for row in mentions:
        found.setdefault(row["place_id"], set()).add((row["start"], row["end"]))
        assert text[row["start"] : row["end"]] == row["text"]
    assert found == expected
    assert {row["id"] for row in locations} == set(expected)
    for row in locations:
        assert row["mentions"] == len(expected[row["id"]])


def test_adjectives_people_and_organisations_are_not_places(seed_rows):
    _, mentions = seed_rows
    texts = {row["text"] for row in mentions}
    for word in (
        "Russian",
        "Kyrgyz",
        "Soviet",
        "Orlov",
        "Vladimir",
        "Putin",
        "Sydykov",
        "Republic",
        "East-West",
        "Vestnik Kavkaza",
    ):
        assert word not in texts
    # A place in brackets after an organisation says where the organisation is: a mention.
    bracketed = [row for row in mentions if row["text"] == "Bishkek" and row["sentence"] == 31]
    assert len(bracketed) == 1


def test_a_place_inside_an_organisation_name_is_not_a_mention(gazetteer):
    article = article_from_text("t", "She studied at Moscow State University and works at the Bishkek City Council.\n")
    _, mentions = geoparse_article(article, gazetteer, None)
    assert mentions == []


def test_facilities_are_at_the_facility_not_the_town(seed_rows):
    rows = {row["id"]: row for row in seed_rows[0]}
    base, town = rows["kant-air-base"], rows["kant"]
    assert base["precision"] == "facility" and town["precision"] == "settlement"
    assert 3 < abs(base["lat"] - town["lat"]) * 111 < 6  # the air base lies a few km south of the town
    assert base["lat"] < town["lat"]
    naval, lake = rows["issyk-kul-naval-test-base"], rows["issyk-kul"]
    assert naval["precision"] == "facility" and (naval["lat"], naval["lon"]) != (lake["lat"], lake["lon"])
    # The seismic station's site is not published: it sits at its town, and says so.
    station = rows["mailuu-suu-seismic-station"]
    assert station["precision"] == "settlement"
    assert (station["lat"], station["lon"]) == (rows["mailuu-suu"]["lat"], rows["mailuu-suu"]["lon"])
    assert "placed at the town" in station["source"]


def test_categories_statuses_and_quotes(seed, seed_rows):
    rows = {row["id"]: row for row in seed_rows[0]}
    for facility in (
        "kant-air-base",
        "issyk-kul-naval-test-base",
        "mailuu-suu-seismic-station",
        "chaldovar-communications-centre",
    ):
        assert rows[facility]["category"] == "Russian military facility"
    assert rows["osh"]["category"] == "proposed or discussed base"
    assert rows["bishkek"]["category"] == "meeting place" and rows["bishkek"]["status"] == "talks planned"
    assert rows["sochi"]["category"] == "meeting place" and rows["sochi"]["status"] == "talks held"
    assert rows["moscow"]["category"] == "other mentioned place"
    assert rows["china-kyrgyzstan-uzbekistan-railway"]["kind"] == "railway"
    assert rows["kant-air-base"]["quote"] == "The largest is the air base in Kant."
    assert rows["kant"]["context"] == "21 km E of Bishkek"
    for row in rows.values():
        assert row["quote"] in seed.text
        assert row["source"]


@pytest.mark.parametrize(
    ("text", "place_id", "variants"),
    [
        ("Workers in Mailuu-Suu, also written Mayluu-Suu or Maili-Sai, remember the mines.\n", "mailuu-suu", 3),
        ("Farmers near Chaldovar (Chaldybar in Kyrgyz) grow wheat.\n", "chaldovar", 2),
        ("Tourists swim in Issyk-Kul; locals call the lake Ysyk-Köl.\n", "issyk-kul", 2),
    ],
)
def test_spelling_variants_resolve_to_one_place(gazetteer, text, place_id, variants):
    locations, mentions = geoparse_article(article_from_text("t", text), gazetteer, None)
    assert [row["id"] for row in locations] == [place_id]
    assert len({row["text"] for row in mentions}) == variants


def _country_of(gazetteer, text: str, name: str) -> str:
    locations, _ = geoparse_article(article_from_text("t", text), gazetteer, None)
    return next(row["country"] for row in locations if row["article_name"] == name)


def test_kant_is_the_kyrgyz_town_in_a_kyrgyz_context(gazetteer):
    assert _country_of(gazetteer, "Troops arrived in Kant, east of Bishkek, in Kyrgyzstan.\n", "Kant") == "KG"
    # With no context, population alone picks the larger Kānt in India: context is what decides.
    assert _country_of(gazetteer, "Troops arrived in Kant.\n", "Kant") == "IN"


def test_osh_is_not_auch_in_france(gazetteer):
    assert _country_of(gazetteer, "Protests were reported in Osh on Monday.\n", "Osh") == "KG"
    assert _country_of(gazetteer, "Officials from France and Kyrgyzstan met in Osh.\n", "Osh") == "KG"


def test_moscow_is_russia_unless_qualified(gazetteer):
    assert _country_of(gazetteer, "Moscow said the talks went well.\n", "Moscow") == "RU"
    locations, _ = geoparse_article(
        article_from_text("t", "The fair opened in Moscow, Idaho, on Friday.\n"), gazetteer, None
    )
    moscow = next(row for row in locations if row["name"] == "Moscow")
    assert moscow["country"] == "US" and moscow["lon"] < -100


def test_second_article_proves_nothing_is_seed_specific(gazetteer):
    article = load_article(FIXTURES / "tajikistan-border-2021.txt")
    locations, mentions = geoparse_article(article, gazetteer, None)
    rows = {row["id"]: row for row in locations}
    for place in (
        "dushanbe",
        "bokhtar",
        "panj",
        "tashkent",
        "kunduz",
        "khorugh",
        "norak",
        "tajikistan",
        "afghanistan",
        "uzbekistan",
        "russia",
    ):
        assert place in rows, place
    assert all(row["country"] in ("TJ", "UZ", "AF", "RU", "") for row in locations)
    # "formerly known as Qurghonteppa": an old name of the same city.
    assert {m["text"] for m in mentions if m["place_id"] == "bokhtar"} == {"Bokhtar", "Qurghonteppa"}
    # A facility the curated gazetteer does not know sits at its town, and the row says so.
    base = rows["dushanbe-military-base"]
    assert base["precision"] == "settlement" and base["category"] == "military facility"
    assert (base["lat"], base["lon"]) == (rows["dushanbe"]["lat"], rows["dushanbe"]["lon"])
    # "the Panj river" is a river, and "Khujand Polytechnic Institute" an organisation.
    assert [m["text"] for m in mentions if m["place_id"] == "panj"] == ["Panj"]
    assert "khujand" not in rows


def _places(gazetteer, text: str) -> list[tuple[str, str]]:
    locations, mentions = geoparse_article(article_from_text("t", text), gazetteer, None)
    names = {row["id"]: row["name"] for row in locations}
    return [(m["text"], names[m["place_id"]]) for m in mentions]


def test_abbreviations_count_only_as_written(gazetteer):
    found = _places(gazetteer, "The U.S. and the UK met in Louisville, Ky. on Monday.\n")
    assert found == [
        ("U.S.", "United States"),
        ("UK", "United Kingdom"),
        ("Louisville", "Louisville"),
        ("Ky.", "Kentucky"),
    ]
    assert _places(gazetteer, "Us against them, he said.\n") == []
    assert ("Ky.", "Kentucky") not in _places(gazetteer, "Ky. is short for Kentucky.\n")  # not after "Town, "


def test_people_named_like_places(gazetteer):
    found = _places(gazetteer, "Christopher Steele and Jordan Dyer met in Paris.\n")
    assert found == [("Paris", "Paris")]
    # A title ends a person's name: the town before it stays a town, here and later.
    found = _places(gazetteer, "Fargo Mayor Dennis Walaker spoke on Monday. Floods hit Fargo again.\n")
    assert found == [("Fargo", "Fargo"), ("Fargo", "Fargo")]


def test_streets_counties_rivers_and_acronyms_are_not_towns(gazetteer):
    text = "Police closed Wichita Drive in Butler County near the Neches River. NATO said nothing.\n"
    assert _places(gazetteer, text) == []
