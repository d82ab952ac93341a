"""Slugs transliterate every script instead of dropping its letters, and are never empty."""

from __future__ import annotations

import pytest

from newsmap.slugs import slugify, unique_slugs


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Łódź", "lodz"),  # Latin with diacritics
        ("Tromsø", "tromso"),
        ("Ysyk-Köl", "ysyk-kol"),
        ("São Tomé and Príncipe", "sao-tome-and-principe"),
        ("Москва", "moskva"),  # Cyrillic
        ("Бишкек", "bishkek"),
        ("Αθήνα", "athina"),  # Greek
        ("القاهرة", "lqhrh"),  # Arabic: its consonants (short vowels are not written, so none are invented)
        ("دمشق", "dmshq"),
        ("北京", "beijing"),  # CJK
        ("東京", "dongjing"),  # kanji read as Mandarin: still letters, still stable
        ("Kant Air Base", "kant-air-base"),
        ("  --Mailuu--Suu--  ", "mailuu-suu"),
    ],
)
def test_names_in_every_script_keep_their_letters(name, slug):
    assert slugify(name) == slug


def test_an_all_symbol_name_still_gets_a_non_empty_unique_id():
    assert slugify("★ ☆ ✦") == "place" and slugify("") == "place"
    ids = unique_slugs([("a", "★"), ("b", "☆"), ("c", "Osh"), ("d", "OSH")])
    assert ids == {"a": "place", "b": "place-2", "c": "osh", "d": "osh-2"}
    assert all(ids.values()) and len(set(ids.values())) == len(ids)


def test_earlier_keys_keep_their_slug_when_names_are_added():
    first = unique_slugs([("a", "Kant"), ("b", "Osh")])
    more = unique_slugs([("a", "Kant"), ("b", "Osh"), ("c", "Kant")])
    assert {k: more[k] for k in first} == first and more["c"] == "kant-2"
