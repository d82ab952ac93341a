"""Property tests (hypothesis): any text, any bytes, no crash, and offsets that always hold."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmap.article import article_from_text, split_sentences
from newsmap.dataset import (
    LOCATION_FIELDS,
    DatasetError,
    check_locations,
    encode_csv,
    read_csv,
    read_table,
)
from newsmap.geoparser import geoparse_article

PIECES = st.sampled_from(
    ["Kant", "Osh", "Bishkek", "Mailuu-Suu", "Kyrgyzstan", "Russia’s", "air base in ", "the town of ", "-", "–", " ",
     "  ", ". ", ".\n", "\n\n", "Mr. ", "St. Louis", "(", ")", "“", "”", "'s", "U.S.", "Moscow, Idaho", "railway", "Air Base",
     "Dmitry Orlov", "President ", "Ysyk-Köl", "é", "\u00a0", "\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\x00", "\r\n"]
)  # fmt: skip
TEXTS = st.one_of(st.text(), st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=40).map("".join))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=TEXTS)
def test_sentences_partition_any_text(text):
    previous_end = 0
    for sentence in split_sentences(text):
        assert previous_end <= sentence.start < sentence.end <= len(text)
        assert text[sentence.start : sentence.end].strip() == text[sentence.start : sentence.end]
        previous_end = sentence.end


@FUZZ
@given(text=TEXTS)
def test_recognizer_never_crashes_and_offsets_hold(gazetteer, text):
    if not text.strip():
        return
    article = article_from_text("fuzz", text)
    locations, mentions = geoparse_article(article, gazetteer, None)
    ids = {row["id"] for row in locations}
    for mention in mentions:
        assert (
            0 <= mention["sentence_start"] <= mention["start"] < mention["end"] <= mention["sentence_end"] <= len(text)
        )
        assert text[mention["start"] : mention["end"]] == mention["text"]
        assert mention["place_id"] in ids
    for row in locations:
        assert row["quote"] in text and -90 <= row["lat"] <= 90 and -180 <= row["lon"] <= 180


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8"))))
def test_csv_reader_and_validator_take_any_bytes(tmp_path_factory, content):
    path = Path(tmp_path_factory.mktemp("fuzz")) / "locations.csv"
    path.write_bytes(content)
    try:
        fields, rows = read_csv(path)
    except DatasetError as error:
        assert "\n" not in str(error)
        return
    problems = check_locations(rows, fields, {"a": "text"})
    for problem in problems:
        assert 0 <= problem.row <= len(rows) and problem.message


CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@FUZZ
@given(cells=st.lists(st.fixed_dictionaries({field: CELL for field in LOCATION_FIELDS}), max_size=5))
def test_csv_round_trip_keeps_every_cell(tmp_path_factory, cells):
    path = Path(tmp_path_factory.mktemp("round")) / "locations.csv"
    path.write_bytes(encode_csv(cells, LOCATION_FIELDS))
    assert read_table(path) == cells


@FUZZ
@given(name=st.text(alphabet=string.printable, max_size=20))
def test_formula_safe_cells_never_start_a_formula(name):
    row = dict.fromkeys(LOCATION_FIELDS, name) | {"lat": 1.0, "lon": -2.0, "mentions": 1}
    text = encode_csv([row], LOCATION_FIELDS, formula_safe=True).decode()
    import csv
    import io

    (parsed,) = list(csv.DictReader(io.StringIO(text, newline="")))
    for field in LOCATION_FIELDS:
        if field not in ("lat", "lon", "mentions"):
            assert not parsed[field].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert parsed["lon"] == "-2.00000"
