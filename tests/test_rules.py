"""The recogniser's rules one by one, each called directly on a name found in a small text; and the
resolver, which returns its decisions and leaves the mentions it is given as they were."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from newsmap.article import article_from_text
from newsmap.geoparser import geoparse
from newsmap.geoparser.mentions import ArticleWords, Drop, Mention, Name
from newsmap.geoparser.recognition import Recognizer
from newsmap.geoparser.resolution import Resolved, Resolver
from newsmap.geoparser.rules import (
    RULES,
    adjective_of_place,
    drop_common_word,
    drop_company_or_product,
    drop_designated_thing,
    drop_known_person,
    drop_person_left,
    drop_person_right,
    drop_stopword_or_title,
    is_abbreviation_match,
    named_facility,
    place_in_organisation,
    place_mention,
)
from newsmap.geoparser.tokens import Runs, Token, joined, tokenize
from newsmap.geoparser.weights import WEIGHTS, WEIGHTS_FILE, Weights


@pytest.fixture(scope="module")
def recognizer(gazetteer) -> Recognizer:
    return Recognizer(gazetteer)


def found(recognizer: Recognizer, text: str, word: str, occurrence: int = 0) -> tuple[Name, ArticleWords]:
    """The `occurrence`-th name `word` the scan found in `text`, and what the article says about its words."""
    scan = recognizer.scan(article_from_text("t", text + "\n"))
    names = [name for name in scan.names if name.surface == word]
    assert len(names) > occurrence, f"the scan found no {word!r} #{occurrence} in {text!r}"
    return names[occurrence], scan.words


def verdict(recognizer: Recognizer, rule, text: str, word: str, occurrence: int = 0):
    name, words = found(recognizer, text, word, occurrence)
    return rule(recognizer, name, words)


def test_the_rules_run_in_a_fixed_order():
    assert [rule.__name__ for rule in RULES] == [
        "adjective_of_place",
        "is_abbreviation_match",
        "drop_stopword_or_title",
        "drop_known_person",
        "name_in_a_feature",
        "drop_designated_thing",
        "named_facility",
        "place_in_organisation",
        "drop_company_or_product",
        "drop_person_right",
        "drop_person_left",
        "drop_common_word",
    ]
    for rule in RULES:
        assert rule.__doc__, f"{rule.__name__} says why"


def test_adjective_of_place(recognizer):
    mention = verdict(recognizer, adjective_of_place, "The Russian base is old.", "Russian")
    assert isinstance(mention, Mention)
    assert (mention.text, mention.role, mention.fixed) == ("Russian", "adjective", True)
    assert [(p.kind, p.country) for p in mention.candidates] == [("country", "RU")]
    plural = verdict(recognizer, adjective_of_place, "Thousands of Europeans marched.", "Europeans")
    assert [(p.name, p.kind) for p in plural.candidates] == [("Europe", "continent")]
    two_words = verdict(recognizer, adjective_of_place, "A North Korean ship sank.", "North Korean")
    assert [p.country for p in two_words.candidates] == ["KP"]
    assert verdict(recognizer, adjective_of_place, "Moscow said no.", "Moscow") is None


@pytest.mark.parametrize(
    "text", ["Farmers near Chaldovar (Chaldybar in Kyrgyz) grow wheat.", "She speaks Russian at home."]
)
def test_a_language_is_no_adjective_of_a_place(recognizer, text):
    word = "Kyrgyz" if "Kyrgyz" in text else "Russian"
    assert isinstance(verdict(recognizer, adjective_of_place, text, word), Drop)


def test_a_country_whose_adjective_is_its_name_is_named_not_described(recognizer):
    # "Djibouti" is both the country and its adjective: the word names the place.
    name, words = found(recognizer, "China opened a base in Djibouti.", "Djibouti")
    assert not name.adjective
    mention = recognizer.judge(name, words)
    assert mention is not None and mention.role == "toponym"
    assert any(p.kind == "country" and p.country == "DJ" for p in mention.candidates)


def test_is_abbreviation_match(recognizer):
    mention = verdict(recognizer, is_abbreviation_match, "He lives in Louisville, Ky. now.", "Ky")
    assert isinstance(mention, Mention)
    assert (mention.text, mention.fixed, mention.role) == ("Ky.", True, "toponym")
    assert [p.kind for p in mention.candidates] == ["US state"]
    assert verdict(recognizer, is_abbreviation_match, "He lives in Louisville, Ky. now.", "Louisville") is None


@pytest.mark.parametrize(
    ("text", "word", "dropped"),
    [
        ("The Republic voted.", "Republic", True),
        ("Mr Putin met May in Sochi.", "May", True),
        ("They met in Bishkek.", "Bishkek", False),
    ],
)
def test_drop_stopword_or_title(recognizer, text, word, dropped):
    assert isinstance(verdict(recognizer, drop_stopword_or_title, text, word), Drop) is dropped


def test_drop_known_person(recognizer):
    text = "Dmitry Orlov spoke. According to Orlov, it was late. He grew up in Orlov."
    assert isinstance(verdict(recognizer, drop_known_person, text, "Orlov", 1), Drop)
    assert verdict(recognizer, drop_known_person, text, "Orlov", 2) is None  # "in Orlov": on the ground
    assert verdict(recognizer, drop_known_person, "Orlov is far from here.", "Orlov") is None


@pytest.mark.parametrize(
    "text",
    [
        "Police said Welch went out. Welch, 48, died later.",  # an age in apposition
        "Welch said the truck was stolen.",  # a verb of speaking
        "Prosecutors charged a teen with killing Welch. According to Welch, it was late.",
        "Welch and his mother left in a pickup truck.",
    ],
)
def test_people_are_learnt_from_what_only_people_do(recognizer, text):
    # Welch is a town in West Virginia; nothing but the text's phrasing says it is a person here.
    assert isinstance(verdict(recognizer, drop_known_person, text, "Welch"), Drop)


def test_places_that_speak_for_governments_are_not_people(recognizer):
    # "Moscow said" is metonymy: a prominent place is never learnt as a person; nor is a town after "of".
    assert verdict(recognizer, drop_known_person, "Moscow said the talks went well.", "Moscow") is None
    text = "A spokesman for the city of Sevierville said the pool was closed."
    assert verdict(recognizer, drop_known_person, text, "Sevierville") is None


@pytest.mark.parametrize(
    ("text", "word", "dropped"),
    [
        ("Police closed Wichita Drive.", "Wichita", True),
        ("They swam in the Panj river.", "Panj", True),
        ("Butler is a small town.", "Butler", False),
        ("They swam in Issyk-Kul lake.", "Issyk-Kul", False),  # the curated entry is the lake
    ],
)
def test_drop_designated_thing(recognizer, text, word, dropped):
    assert isinstance(verdict(recognizer, drop_designated_thing, text, word), Drop) is dropped


def test_named_facility(recognizer):
    mention = verdict(recognizer, named_facility, "Troops left Osh Air Base.", "Osh")
    assert isinstance(mention, Mention)
    assert (mention.text, mention.role, mention.kind) == ("Osh Air Base", "facility", "air base")
    assert [a.text for a in mention.anchors] == ["Osh"]
    assert verdict(recognizer, named_facility, "The Osh air base is old.", "Osh") is None  # a phrase, not a name
    assert verdict(recognizer, named_facility, "Osh is busy.", "Osh") is None


def test_place_in_organisation(recognizer):
    text = "She studied at Moscow State University and works at the Bishkek City Council."
    for word in ("Moscow", "Bishkek"):
        mention = verdict(recognizer, place_in_organisation, text, word)
        assert isinstance(mention, Mention)
        assert (mention.text, mention.role) == (word, "organisation")
    assert verdict(recognizer, place_in_organisation, "Moscow said no.", "Moscow") is None
    # A place only by accident of the gazetteer: a common word, a person's name.
    assert isinstance(verdict(recognizer, place_in_organisation, "He sued in Superior Court.", "Superior"), Drop)
    text = "He fled Sarah Bush Lincoln Hospital on foot."
    assert isinstance(verdict(recognizer, place_in_organisation, text, "Lincoln"), Drop)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("The city owes Stevens & Wilkinson money.", "Stevens"),
        ("Police went to a Wal-Mart store.", "Mart"),
        ("He was driving a 1995 Honda Accord.", "Honda"),
    ],
)
def test_drop_company_or_product(recognizer, text, word):
    assert isinstance(verdict(recognizer, drop_company_or_product, text, word), Drop)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Tijuana & San Diego", "Tijuana"),  # prominent places keep their sense
        ("Floods hit Fargo-Moorhead on Friday.", "Moorhead"),  # two towns
        ("Flights on the Washington-Moscow route resumed.", "Moscow"),
    ],
)
def test_places_joined_to_places_are_no_company(recognizer, text, word):
    assert verdict(recognizer, drop_company_or_product, text + "\n", word) is None


def test_drop_person_right(recognizer):
    name, words = found(recognizer, "Jordan Dyer spoke.", "Jordan")
    assert isinstance(drop_person_right(recognizer, name, words), Drop)
    assert "Dyer" in words.people  # learnt, for a lone "Dyer" later
    assert isinstance(verdict(recognizer, drop_person_right, "The Moscow Kremlin said no.", "Moscow"), Drop)
    # A title ends the run: "Fargo Mayor Dennis Walaker" is Fargo's mayor, and Fargo is a place.
    assert verdict(recognizer, drop_person_right, "Fargo Mayor Dennis Walaker spoke.", "Fargo") is None


def test_a_first_name_makes_a_person_even_with_a_common_surname(recognizer):
    name, words = found(recognizer, "The administration of George Bush ended.", "George")
    assert isinstance(drop_person_right(recognizer, name, words), Drop)
    assert "Bush" in words.people  # a lone "Bush" later is the person too
    # Before a longer run of common words, a first name that is a place stays one.
    assert verdict(recognizer, drop_person_right, "The Georgia National Guard left.", "Georgia") is None
    assert verdict(recognizer, drop_person_right, "Oxford GP Dr Tia MacGregor spoke.", "Oxford") is None


@pytest.mark.parametrize(
    ("text", "word", "dropped"),
    [
        ("Governor Jackson spoke.", "Jackson", True),
        ("Dmitry Orlov spoke.", "Orlov", True),
        ("Hillary Clinton spoke.", "Clinton", True),
        ("In Osh, it rained.", "Osh", False),
        ("They flew from Moscow to Bishkek.", "Bishkek", False),
    ],
)
def test_drop_person_left(recognizer, text, word, dropped):
    assert isinstance(verdict(recognizer, drop_person_left, text, word), Drop) is dropped


@pytest.mark.parametrize(
    ("text", "word", "dropped"),
    [
        ("Normal was quiet.", "Normal", True),  # a town of 54,000, and no preposition
        ("They drove to Normal.", "Normal", False),  # "to Normal": the place
        ("They drove to Normal, as is normal.", "Normal", True),  # the article writes "normal"
        ("Reading the report, she left.", "Reading", False),  # a city of 300,000
        ("Reading the report, she kept reading.", "Reading", True),
        ("They met in Kyrgyzstan.", "Kyrgyzstan", False),
    ],
)
def test_drop_common_word(recognizer, text, word, dropped):
    assert isinstance(verdict(recognizer, drop_common_word, text, word), Drop) is dropped


def test_a_name_no_rule_objects_to_is_a_place_mention(recognizer):
    name, words = found(recognizer, "They drove to Normal.", "Normal")
    assert all(rule(recognizer, name, words) is None for rule in RULES)
    mention = place_mention(recognizer, name)
    assert (mention.text, mention.role, mention.weak) == ("Normal", "toponym", True)
    assert mention.candidates == name.places
    assert recognizer.judge(name, words) == mention


def test_a_name_only_facilities_bear_makes_a_facility_mention(recognizer):
    name, words = found(recognizer, "Troops left Kant Air Base.", "Kant Air Base")
    mention = recognizer.judge(name, words)
    assert mention is not None
    assert (mention.role, mention.kind, mention.anchors) == ("facility", "air base", [])


def test_judge_stops_at_the_first_verdict(recognizer):
    name, words = found(recognizer, "Governor Jackson spoke.", "Jackson")
    assert recognizer.judge(name, words) is None


# --------------------------------------------------------------------------- a sentence's runs


def _walk(text: str, tokens: list[Token], i: int, step: int) -> int:
    """How many capitalised words are joined to tokens[i] going left (-1) or right (+1), word by word."""
    count, j = 0, i + step
    while 0 <= j < len(tokens):
        left, right = (tokens[j], tokens[j - step]) if step < 0 else (tokens[j - step], tokens[j])
        if not tokens[j].capitalized or not joined(text, left, right):
            break
        count, j = count + 1, j + step
    return count


@pytest.mark.parametrize(
    "text",
    [
        "Officials of Moscow State University's office in St. Louis met Gov. Jackson.",
        "Fargo Mayor Dennis Walaker and Bosnia-Herzegovina's envoy flew to the Gulf of Mexico.",
        "Bishkek Osh Kant Moscow Bishkek Osh Kant Moscow",
        "a b C D e F",
        "Kant",
        "",
    ],
)
def test_runs_find_each_words_capitalised_neighbours_as_a_walk_would(text):
    tokens = tokenize(text, 0, len(text))
    runs = Runs(text, tokens)
    for i in range(len(tokens)):
        assert runs.start[i] == i - _walk(text, tokens, i, -1), (text, i)
        assert runs.end[i] == i + 1 + _walk(text, tokens, i, +1), (text, i)


def test_runs_reach_stops_at_the_first_word_a_test_refuses():
    text = "Fargo Mayor Dennis Walaker Jr"
    runs = Runs(text, tokenize(text, 0, len(text)))
    not_mayor = lambda token: token.text != "Mayor"  # noqa: E731
    assert runs.reach(0, 5, not_mayor) == 1 and runs.reach(2, 5, not_mayor) == 5 and runs.reach(2, 4, not_mayor) == 4
    assert runs.reach(3, 3, not_mayor) == 3  # an empty span
    assert runs.reach_back(4, 0, not_mayor) == 2 and runs.reach_back(0, 0, not_mayor) == 0
    assert runs.reach_back(1, 0, not_mayor) == 2  # tokens[1] itself is refused: nothing
    assert runs.reach_back(-1, 0, not_mayor) == 0  # before the first word: nothing


def test_learning_overlapping_runs_adds_each_word_once():
    class Counting(set):
        added = 0

        def add(self, word: object) -> None:
            Counting.added += 1
            super().add(word)

    text = "Aa Bb Cc Dd Ee Ff"
    runs = Runs(text, tokenize(text, 0, len(text)))
    words = ArticleWords(people=Counting())
    for start, stop in [(2, 5), (0, 6), (1, 4), (3, 6), (0, 6)]:
        words.learn(runs, start, stop)
    assert words.people == {"Aa", "Bb", "Cc", "Dd", "Ee", "Ff"} and Counting.added == 6
    other = ArticleWords()  # what one article learnt says nothing about another's words
    other.learn(runs, 1, 3)
    assert other.people == {"Bb", "Cc"}


# --------------------------------------------------------------------------- the resolver


def test_resolve_returns_decisions_and_leaves_the_mentions_alone(gazetteer, seed):
    recognition = Recognizer(gazetteer).recognize(seed)
    before = copy.deepcopy(recognition)
    candidate_lists = [m.candidates for m in recognition.mentions]
    resolved = Resolver(gazetteer).resolve(recognition)
    assert recognition == before  # every field of every mention, anchors and candidates included
    assert [m.candidates for m in recognition.mentions] == candidate_lists
    assert all(m.candidates is c for m, c in zip(recognition.mentions, candidate_lists, strict=True))
    assert "place" not in {f.name for f in dataclasses.fields(Mention)}
    assert resolved and all(isinstance(r, Resolved) for r in resolved)
    ids = {id(m) for m in recognition.mentions}
    assert all(id(r.mention) in ids for r in resolved)  # the very mentions it was given
    assert [(r.mention.start, -r.mention.end) for r in resolved] == sorted(
        (r.mention.start, -r.mention.end) for r in resolved
    )
    by_text = {r.mention.text: r.place.key for r in resolved}
    assert by_text["Kant Air Base"] == "curated:kant-air-base"
    assert Resolver(gazetteer).resolve(recognition) == resolved  # nothing left over from the first run


def test_geoparse_returns_the_decisions_and_the_recognition(gazetteer):
    article = article_from_text("t", "Troops flew from Bishkek to Osh, Kyrgyzstan.\n")
    resolved, recognition = geoparse(article, gazetteer)
    assert [(r.mention.text, r.place.country) for r in resolved] == [
        ("Bishkek", "KG"),
        ("Osh", "KG"),
        ("Kyrgyzstan", "KG"),
    ]
    assert [r.mention for r in resolved] == recognition.mentions


def test_the_resolvers_weights_are_data_it_is_given(gazetteer):
    """weights.json holds every weight and nothing else, and the resolver weighs with the set it is handed."""
    assert Weights.from_file(WEIGHTS_FILE) == WEIGHTS
    values = dataclasses.asdict(WEIGHTS)
    with pytest.raises(ValueError, match=r"missing \['world_city_bonus'\], unknown none"):
        Weights.from_dict({key: value for key, value in values.items() if key != "world_city_bonus"})
    with pytest.raises(ValueError, match=r"missing none, unknown \['surprise'\]"):
        Weights.from_dict({**values, "surprise": 1.0})
    recognition = Recognizer(gazetteer).recognize(article_from_text("t", "Officials met in London on Monday.\n"))
    assert Resolver(gazetteer).resolve(recognition)[0].place.country == "GB"
    tiny = dataclasses.replace(WEIGHTS, world_city_bonus=-100.0)  # a world city now counts for nothing
    assert Resolver(gazetteer, weights=tiny).resolve(recognition)[0].place.country != "GB"
