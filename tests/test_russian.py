"""Russian articles (issue 22): places found, offsets exact, lemmas, adjectives and facilities, mixed scripts.

The articles in tests/fixtures/ru/ were written for these tests (news about the region's military
facilities, as the Russian press writes it); each has its gold places in its .json (an English name,
the point its Wikipedia page gives, a tolerance in km), the lemmas some inflected spans must get, the
adjectives and the curated facilities it names. The real gazetteer and the real pymorphy2 dictionary run:
nothing is mocked, and the gold says where places are, never what newsmap answered.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsmap.article import article_from_text
from newsmap.geoparser import geoparse_article
from newsmap.geoparser.gazetteer import haversine_km

FIXTURES = Path(__file__).parent / "fixtures" / "ru"
ARTICLES = sorted(path.stem for path in FIXTURES.glob("*.json"))
MIN_FOUND = 13 / 16  # the bar: at least 13 of 16 gold places within tolerance


def gold_of(slug: str) -> dict:
    return json.loads((FIXTURES / f"{slug}.json").read_text(encoding="utf-8"))


def text_of(slug: str) -> str:
    return (FIXTURES / f"{slug}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parsed(gazetteer) -> dict[str, tuple[list[dict], list[dict]]]:
    """Every fixture geoparsed once, its language detected from its text (none is given)."""
    return {slug: geoparse_article(article_from_text(slug, text_of(slug)), gazetteer, None) for slug in ARTICLES}


def matched(gold: list[dict], locations: list[dict]) -> dict[str, dict]:
    """Gold name -> the row that finds it: within its tolerance, each row used once, nearest pairs first."""
    pairs = sorted(
        (haversine_km(g["lat"], g["lon"], row["lat"], row["lon"]), index, number)
        for index, g in enumerate(gold)
        for number, row in enumerate(locations)
        if haversine_km(g["lat"], g["lon"], row["lat"], row["lon"]) <= g["tolerance"]
    )
    found: dict[str, dict] = {}
    used: set[int] = set()
    for _, index, number in pairs:
        if gold[index]["name"] not in found and number not in used:
            found[gold[index]["name"]] = locations[number]
            used.add(number)
    return found


@pytest.mark.parametrize("slug", ARTICLES)
def test_gold_places_are_found_within_tolerance(parsed, slug):
    gold = gold_of(slug)["gold"]
    found = matched(gold, parsed[slug][0])
    missed = [g["name"] for g in gold if g["name"] not in found]
    assert len(gold) >= 16
    assert len(found) >= MIN_FOUND * len(gold), f"{len(found)} of {len(gold)} found; missed {missed}"


@pytest.mark.parametrize("slug", ARTICLES)
def test_offsets_are_exact_and_sentences_hold_them(parsed, slug):
    text = text_of(slug)
    _, mentions = parsed[slug]
    assert mentions
    for row in mentions:
        assert text[row["start"] : row["end"]] == row["text"]
        assert row["sentence_start"] <= row["start"] < row["end"] <= row["sentence_end"]


@pytest.mark.parametrize("slug", ARTICLES)
def test_inflected_names_resolve_to_their_lemma(parsed, slug):
    """«в Киргизии» is Киргизия: the place's article_name is the nominative, in the article's spelling."""
    locations, mentions = parsed[slug]
    by_id = {row["id"]: row for row in locations}
    for surface, lemma in gold_of(slug)["lemmas"].items():
        rows = [by_id[m["place_id"]] for m in mentions if m["text"] == surface]
        assert rows, f"{surface!r} is no mention"
        assert rows[0]["article_name"] == lemma, (surface, rows[0]["article_name"])


@pytest.mark.parametrize("slug", ARTICLES)
def test_adjectives_are_mentions_of_their_country(parsed, slug):
    locations, mentions = parsed[slug]
    by_id = {row["id"]: row for row in locations}
    for surface, country in gold_of(slug)["adjectives"].items():
        rows = [m for m in mentions if m["text"] == surface]
        assert rows, f"{surface!r} is no mention"
        assert rows[0]["role"] == "adjective"
        place = by_id[rows[0]["place_id"]]
        assert (place["kind"], place["country"]) == ("country", country)


@pytest.mark.parametrize("slug", ARTICLES)
def test_facility_phrases_are_placed_at_the_curated_facility(parsed, slug):
    locations, mentions = parsed[slug]
    by_name = {row["name"]: row for row in locations}
    for name in gold_of(slug)["facilities"]:
        assert name in by_name, f"{name} not placed; rows: {sorted(by_name)}"
        assert by_name[name]["precision"] in ("facility", "settlement")
        roles = {m["role"] for m in mentions if m["place_id"] == by_name[name]["id"]}
        assert "facility" in roles


def test_names_are_english_and_article_names_russian(parsed):
    """`name` joins downloads across languages: the gazetteer's English (Latin) name; `article_name` is the
    article's own Cyrillic spelling."""
    for slug in ARTICLES:
        for row in parsed[slug][0]:
            assert not any("\u0400" <= ch <= "\u04ff" for ch in row["name"]), row["name"]


def russian(gazetteer, text: str) -> tuple[dict[str, dict], list[dict]]:
    locations, mentions = geoparse_article(article_from_text("t", text + "\n", language="ru"), gazetteer, None)
    return {row["id"]: row for row in locations}, mentions


def row_of(rows: dict[str, dict], mentions: list[dict], text: str) -> dict:
    return rows[next(m["place_id"] for m in mentions if m["text"] == text)]


def test_region_type_words_name_the_region(gazetteer):
    rows, mentions = russian(gazetteer, "Учения прошли в Ошской области и в Чуйской области, а затем на Иссык-Куле.")
    assert row_of(rows, mentions, "Ошской области")["name"] == "Osh"
    assert row_of(rows, mentions, "Ошской области")["precision"] == "region"
    assert row_of(rows, mentions, "Чуйской области")["precision"] == "region"
    assert row_of(rows, mentions, "Иссык-Куле")["kind"] == "lake"


def test_transliteration_variants_are_one_place(gazetteer):
    rows, mentions = russian(
        gazetteer, "Киргизия, или Кыргызстан, граничит с Китаем. Город Майли-Сай теперь зовут Майлуу-Суу."
    )
    assert row_of(rows, mentions, "Киргизия")["id"] == row_of(rows, mentions, "Кыргызстан")["id"]
    assert row_of(rows, mentions, "Майли-Сай")["id"] == row_of(rows, mentions, "Майлуу-Суу")["id"]


def test_people_are_not_places(gazetteer):
    """A first name and surname, or a surname the dictionary knows, is a person, not a town of that name."""
    _, mentions = russian(gazetteer, "Министр обороны Сергей Шойгу и генерал Иванов прилетели в Бишкек.")
    assert {m["text"] for m in mentions} == {"Бишкек"}


def test_latin_place_names_in_a_russian_text(gazetteer):
    rows, mentions = russian(
        gazetteer,
        "Американские военные из Fort Bragg прибыли в Бишкек. Решение приняли в Washington, сообщает Пентагон.",
    )
    assert row_of(rows, mentions, "Fort Bragg")["country"] == "US"
    assert row_of(rows, mentions, "Washington")["country"] == "US"
    assert row_of(rows, mentions, "Бишкек")["name"] == "Bishkek"
    assert row_of(rows, mentions, "Американские")["kind"] == "country"


def test_an_english_article_quoting_a_russian_phrase(gazetteer):
    """The article is English, so the English pipeline reads it; the Russian name it quotes is the gazetteer's
    Russian name of the same place (as written: English does not decline it)."""
    text = (
        "Kyrgyz officials call it simply «авиабаза Кант»: the Kant air base, east of Bishkek, hosts Russian "
        "jets. Russia also runs a test base on Lake Issyk-Kul.\n"
    )
    locations, mentions = geoparse_article(article_from_text("t", text), gazetteer, None)
    rows = {row["id"]: row for row in locations}
    assert {"Kant Air Base", "Bishkek", "Russia", "Issyk-Kul"} <= {row["name"] for row in locations}
    quoted = [rows[m["place_id"]] for m in mentions if m["text"] == "Кант"]
    assert [(row["name"], row["country"]) for row in quoted] == [("Kant", "KG")]


def test_a_kyrgyz_text_has_no_rows(gazetteer):
    """Kyrgyz (its letters ө, ү, ң) is not parsed as Russian: no rows rather than rows misread."""
    text = (
        "Кыргызстандын Чүй облусундагы Кант шаарында орус аскердик авиабазасы жайгашкан. Өкмөт бул "
        "маселени Бишкекте талкуулады жана жаңы келишимге кол коюлду.\n"
    )
    assert geoparse_article(article_from_text("t", text), gazetteer, None) == ([], [])


def test_russian_adjectives_are_adjectives_to_the_dictionary():
    """Every form of lexicon/ru_adjectives.csv is read by pymorphy2 as an adjective whose lemma is itself, so
    its inflected forms find it; every place it names is a country code or an English place adjective."""
    from newsmap.geoparser.lexicon import HERE, load
    from newsmap.geoparser.ru.morph import parses

    lexicon = load()
    lines = (HERE / "ru_adjectives.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert len(rows) > 200
    for row in rows:
        for form in (row["word"], row["word"][:-2] + "ой", row["word"][:-2] + "их"):  # «российской», «российских»
            readings = [(p.tag.POS, p.normal_form) for p in parses(form)]
            assert ("ADJF", row["word"]) in readings, (form, readings[:3])
        assert row["place"] in lexicon.place_adjectives or lexicon.adjective_for(row["place"]), row


def test_english_use_never_imports_the_russian_morphology(tmp_path):
    """An English article geoparsed in a fresh process loads neither pymorphy2 nor natasha."""
    code = (
        "import sys; from newsmap.article import article_from_text; from newsmap.geoparser import geoparse_article;"
        "from newsmap.geoparser.gazetteer import Gazetteer;"
        "geoparse_article(article_from_text('t', 'Troops arrived in Bishkek.\\n'), Gazetteer.open(), None);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pymorphy2', 'natasha', 'slovnet')))"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_stored_language_decides(gazetteer):
    """The article's language, when given, overrides the detector: a language the geoparser does not read
    has no rows, whatever its text looks like."""
    text = "Российские военные прибыли в Бишкек.\n"
    assert geoparse_article(article_from_text("t", text, language="uk"), gazetteer, None) == ([], [])
    locations, _ = geoparse_article(article_from_text("t", text, language="ru"), gazetteer, None)
    assert {row["name"] for row in locations} == {"Russia", "Bishkek"}


def test_invisible_characters_keep_offsets_in_russian(gazetteer):
    """A zero-width space inside a Russian name («Ош\u200bе») is ignored for matching; offsets stay the original's."""
    text = "Учения прошли в Ош\u200bе и в Киргизии.\n"
    locations, mentions = geoparse_article(article_from_text("t", text, language="ru"), gazetteer, None)
    assert {row["name"] for row in locations} == {"Osh", "Kyrgyzstan"}
    for row in mentions:
        assert text[row["start"] : row["end"]] == row["text"]
    assert "Ош\u200bе" in {row["text"] for row in mentions}


def test_facility_phrases_follow_the_english_placement_rules(gazetteer):
    """Issue 16's rules, on Russian phrasings: a unit number names its curated base wherever the text is; a
    phrase with no curated site near its place is a row of its own at the place, with an English name and
    its owner; the place inside the phrase is a mention of its own."""
    rows, mentions = russian(
        gazetteer,
        "Россия может открыть военную базу в Оше. Российский полигон близ Балыкчы закрыт. "
        "999-я авиабаза получила вертолёты.",
    )
    base = row_of(rows, mentions, "военную базу в Оше")
    assert (base["name"], base["precision"]) == ("Russian military base in Osh", "settlement")
    assert base["source"].startswith("site not published: placed at Osh")
    assert row_of(rows, mentions, "Оше")["name"] == "Osh"
    assert row_of(rows, mentions, "полигон близ Балыкчы")["name"] == "Russian testing ground near Balykchy"
    assert row_of(rows, mentions, "999-я авиабаза")["name"] == "Kant Air Base"
    assert {m["role"] for m in mentions if m["text"] in ("военную базу в Оше", "999-я авиабаза")} == {"facility"}


def test_peoples_nouns_are_mentions_of_their_country(gazetteer):
    """«россияне», «киргизы»: the people of a country, role adjective as "Russians" is in English; every noun of
    lexicon/ru_demonyms.csv is found in its plural."""
    from newsmap.geoparser.lexicon import HERE
    from newsmap.geoparser.ru.morph import parses

    rows, mentions = russian(gazetteer, "Россияне и американцы обсудили границу, которую киргизы и таджики делят.")
    assert [(m["text"], m["role"], rows[m["place_id"]]["country"]) for m in mentions] == [
        ("Россияне", "adjective", "RU"),
        ("американцы", "adjective", "US"),
        ("киргизы", "adjective", "KG"),
        ("таджики", "adjective", "TJ"),
    ]
    lines = (HERE / "ru_demonyms.csv").read_text(encoding="utf-8").splitlines()
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        plural = next(p for p in parses(row["word"]) if p.tag.POS == "NOUN").inflect({"plur", "nomn"})
        assert plural is not None and row["word"] in {p.normal_form for p in parses(plural.word)}, row


def test_every_russian_name_belongs_to_a_place_and_cites_a_source(gazetteer):
    """data/ru/names.csv: each row's key is a curated row or a place of the index, each row cites where it was
    read, and the gazetteer finds the place by that name."""
    from newsmap.geoparser.gazetteer.curated import RU_NAMES

    lines = RU_NAMES.read_text(encoding="utf-8").splitlines()
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        assert row["source"].strip(), row
        assert gazetteer.by_key(row["key"]) is not None, row
        assert row["key"] in {p.key for p in gazetteer.lookup(row["name"])}, row
