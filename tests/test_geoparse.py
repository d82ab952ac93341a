"""The recogniser and resolver on the seed, on variants, and on an article it has never seen."""

from __future__ import annotations

import re

import pytest

from newsmap.article import article_from_text, load_article
from newsmap.geoparser import geoparse_article

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
        # Adjectives are mentions of their country: "Kyrgyz", "Russian", "Soviet".
        "kyrgyzstan": spans(text, r"\bKyrgyzstan\b|\bKyrgyz\b(?! Republic)|Kyrgyz Republic"),
        "russia": spans(text, r"\bRussia\b(?!n)|\bRussian\b(?! Federation)|Russian Federation"),
        "uzbekistan": spans(text, r"\bUzbekistan\b"),
        "china": spans(text, r"\bChina\b"),
        "ussr": spans(text, r"\bUSSR\b|\bSoviet\b"),
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


def test_adjectives_are_mentions_of_their_country(seed_rows):
    locations, mentions = seed_rows
    roles = {(row["text"], row["place_id"], row["role"]) for row in mentions if row["role"] == "adjective"}
    assert roles == {
        ("Russian", "russia", "adjective"),
        ("Kyrgyz", "kyrgyzstan", "adjective"),
        ("Soviet", "ussr", "adjective"),
    }
    rows = {row["id"]: row for row in locations}
    # The place is still spelt, and quoted, as the article names it.
    assert rows["russia"]["article_name"] == "Russia" and "Russian" not in rows["russia"]["quote"]
    assert rows["ussr"]["article_name"] == "USSR"


def test_a_country_named_only_by_its_adjective_is_a_place_of_the_article(gazetteer):
    locations, mentions = geoparse_article(
        article_from_text("t", "Kazakh troops crossed into Kyrgyzstan.\n"), gazetteer, None
    )
    rows = {row["id"]: row for row in locations}
    assert rows["kazakhstan"]["country"] == "KZ" and rows["kazakhstan"]["article_name"] == "Kazakh"
    assert [(m["text"], m["role"]) for m in mentions] == [("Kazakh", "adjective"), ("Kyrgyzstan", "toponym")]


def test_people_and_organisations_are_not_places(seed_rows):
    _, mentions = seed_rows
    texts = {row["text"] for row in mentions}
    for word in (
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


def test_a_place_inside_an_organisation_name_is_a_mention_of_role_organisation(gazetteer):
    article = article_from_text("t", "She studied at Moscow State University and works at the Bishkek City Council.\n")
    locations, mentions = geoparse_article(article, gazetteer, None)
    assert [(m["text"], m["role"]) for m in mentions] == [("Moscow", "organisation"), ("Bishkek", "organisation")]
    assert {row["country"] for row in locations} == {"RU", "KG"}


def test_an_organisation_gives_its_place_as_context(gazetteer):
    # "Paris City Council" says the article is about France: the lone "Orleans" is the French city.
    text = "The Paris City Council met on Monday. Delegates came from Orleans.\n"
    assert _country_of(gazetteer, text, "Orleans") == "FR"


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
    # The base phrase is the base: its curated row when the gazetteer has one (with its operator),
    # else a row at its town that says so (see test_a_named_facility_the_gazetteer_lacks_sits_at_its_place).
    phrase = next(m for m in mentions if m["text"] == "201st military base in Dushanbe")  # its unit number too
    base = rows[phrase["place_id"]]
    assert base["category"].endswith("military facility") and base["kind"] == "military base"
    assert abs(base["lat"] - rows["dushanbe"]["lat"]) < 0.3 and abs(base["lon"] - rows["dushanbe"]["lon"]) < 0.3
    if base["precision"] == "settlement" and "placed at" in base["source"]:
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
    # A county the gazetteer knows is found whole, as the county; never the town of its name.
    county = [("Butler County", "Butler County")] if gazetteer.lookup("Butler County") else []
    assert _places(gazetteer, text) == county


# --------------------------------------------------------------------------- issue 10: names, senses, regions, statuses


def test_a_country_whose_name_is_its_adjective_is_found(gazetteer):
    found = _places(gazetteer, "China opened its first overseas base in Djibouti in 2017.\n")
    assert ("Djibouti", "Djibouti") in found


@pytest.mark.parametrize(
    ("text", "name", "place"),
    [
        ("Loggers in British Columbia went on strike.\n", "British Columbia", "British Columbia"),
        ("Oil spilled into the Gulf of Mexico on Friday.\n", "Gulf of Mexico", "Gulf of Mexico"),
        ("Tankers crossed the Strait of Hormuz at dawn.\n", "Strait of Hormuz", "Strait of Hormuz"),
    ],
)
def test_multi_word_names_win_over_their_parts(gazetteer, text, name, place):
    if not gazetteer.lookup(name):
        pytest.skip(f"the gazetteer has no {name!r} (regions and physical features come with the new index)")
    assert _places(gazetteer, text) == [(name, place)]


def test_a_strait_is_a_region_not_a_town(gazetteer):
    if not gazetteer.lookup("Strait of Hormuz"):
        pytest.skip("the gazetteer has no physical features")
    locations, _ = geoparse_article(article_from_text("t", "Iran threatened the Strait of Hormuz.\n"), gazetteer, None)
    strait = next(row for row in locations if row["name"] == "Strait of Hormuz")
    assert (strait["kind"], strait["precision"]) == ("strait", "region")


def test_a_first_level_region_named_alone_is_the_region(gazetteer):
    if not any(p.kind == "constituent country" for p in gazetteer.lookup("England")):
        pytest.skip("the gazetteer has no first-level regions")
    locations, _ = geoparse_article(article_from_text("t", "Protesters marched across England.\n"), gazetteer, None)
    assert [(row["name"], row["country"], row["precision"]) for row in locations] == [("England", "GB", "region")]


def test_one_sense_per_name_per_article(gazetteer):
    text = "The fair opened in Moscow, Idaho, on Friday. Visitors came to Moscow from far away.\n"
    locations, mentions = geoparse_article(article_from_text("t", text), gazetteer, None)
    moscow = [m["place_id"] for m in mentions if m["text"] == "Moscow"]
    assert len(moscow) == 2 and len(set(moscow)) == 1
    assert next(row for row in locations if row["id"] == moscow[0])["country"] == "US"


def test_a_name_put_on_the_ground_once_is_a_place_throughout(gazetteer):
    # "Normal" alone is a common word; "in Normal" makes it the town, and the later "Normal" follows.
    found = _places(gazetteer, "They arrived in Normal on Friday. Normal was quiet.\n")
    assert found == [("Normal", "Normal"), ("Normal", "Normal")]


def test_washington_dc_is_the_city(gazetteer):
    locations, _ = geoparse_article(
        article_from_text("t", "She flew to Washington, D.C., on Monday.\n"), gazetteer, None
    )
    assert {(row["name"], row["precision"]) for row in locations} == {("Washington", "settlement")}


def test_a_town_used_as_a_town_is_not_the_country_of_its_name(gazetteer):
    # "a Palestine man" is a town's resident; the county beside it says which Palestine.
    text = "A 36-year-old Palestine man was arrested at an Anderson County residence. He lives in Palestine.\n"
    assert _country_of(gazetteer, text, "Palestine") == "US"


def test_a_name_does_not_vote_for_itself(gazetteer):
    # Said five times, "Palestine" still may not make its own country the article's context.
    text = "Palestine police said a Palestine man was held. Palestine, Texas, is quiet. Palestine residents agree.\n"
    assert _country_of(gazetteer, text, "Palestine") == "US"


def test_an_air_base_is_placed_at_its_field(gazetteer):
    finder = getattr(gazetteer, "facilities_near", None)
    if finder is None or not finder(34.946, 69.265, "air base", 10.0):
        pytest.skip("the gazetteer has no airfields (airportsdata): Bagram's field is not known")
    for text in ("Troops left Bagram Air Base.\n", "Troops flew to the air base near Bagram.\n"):
        locations, _ = geoparse_article(article_from_text("t", text), gazetteer, None)
        base = next(row for row in locations if row["kind"] == "air base")
        assert base["precision"] == "facility", text
        assert abs(base["lat"] - 34.946) < 0.1 and abs(base["lon"] - 69.265) < 0.1, text


def test_a_named_facility_the_gazetteer_lacks_sits_at_its_place(gazetteer):
    locations, mentions = geoparse_article(
        article_from_text("t", "Troops left Osh Air Base in Kyrgyzstan.\n"), gazetteer, None
    )
    base = next(row for row in locations if row["kind"] == "air base")
    assert (base["precision"], base["country"]) == ("settlement", "KG")
    assert [m["text"] for m in mentions if m["place_id"] == base["id"]] == ["Osh Air Base"]


def test_a_facility_phrase_chooses_the_town_with_that_facility(gazetteer):
    # Alone, "Kant" is the larger Kānt in India; an air base stands only near the Kyrgyz one.
    assert _country_of(gazetteer, "The air base in Kant will be closed next year.\n", "Kant") == "KG"


def _row(gazetteer, text: str, kind: str | None = None, place_id: str | None = None) -> dict:
    locations, _ = geoparse_article(article_from_text("t", text + "\n"), gazetteer, None)
    return next(row for row in locations if row["id"] == place_id or row["kind"] == kind)


@pytest.mark.parametrize(
    ("text", "place_id", "status"),
    [
        # The bug: a "will" or "next" anywhere in the sentence made held talks planned.
        ("Talks were held in Geneva on Monday; the next round will be in Vienna.", "geneva", "talks held"),
        ("Talks in Astana ended without agreement, and the next round is planned.", "astana", "talks held"),
        ("Talks are expected in Vienna next week.", "vienna", "talks planned"),
        ("The two leaders will meet in Sochi.", "sochi", "talks planned"),
        ("Putin said during the talks with Jeenbekov in Sochi in February.", "sochi", "talks held"),
    ],
)
def test_talk_status_follows_the_tense_of_its_own_clause(gazetteer, text, place_id, status):
    row = _row(gazetteer, text, place_id=place_id)
    assert (row["category"], row["status"]) == ("meeting place", status)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Officials deny that Russian troops remain at Kant Air Base.", "presence denied"),
        ("The Russian air base in Kant was closed in 2005.", "closed"),
        ("The air base in Kant will be closed next year.", "closure planned"),
        ("The Russian air base in Kant is busy.", "in operation"),
    ],
)
def test_facility_status_reads_negation_and_closing(gazetteer, text, status):
    row = _row(gazetteer, text, kind="air base")
    assert row["status"] == status


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("China opened its first overseas base in Djibouti in 2017.", "Chinese military facility"),
        ("Russia's military base in Dushanbe is its largest abroad.", "Russian military facility"),
        ("The military base in Dushanbe, run by Russia, is its largest abroad.", "Russian military facility"),
    ],
)
def test_the_operator_comes_from_the_text(gazetteer, text, category):
    locations, _ = geoparse_article(article_from_text("t", text + "\n"), gazetteer, None)
    facilities = [row for row in locations if row["category"].endswith("military facility")]
    assert [row["category"] for row in facilities] == [category]
    if "China" in text:  # the owner picks its own base among Djibouti's: the Chinese support base, not Camp Lemonnier
        assert facilities[0]["key"] == "curated:pla-support-base-djibouti"
