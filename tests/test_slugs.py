"""Slugs transliterate every script instead of dropping its letters, and are never empty."""

from __future__ import annotations

import pytest

from newsmap.slugs import SLUG_LIMIT, shorten, slugify, unique_slugs


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


TITLE = "Russia to reinforce its base in Tajikistan as tension grows on the border to Afghanistan"


def test_a_long_slug_is_cut_where_a_word_ends():
    slug = shorten(slugify(TITLE), SLUG_LIMIT)
    assert slug == "russia-to-reinforce-its-base-in-tajikistan-as-tension-grows"
    assert len(slug) <= SLUG_LIMIT and slugify(TITLE).startswith(slug + "-")
    assert shorten("on-the-border", 13) == "on-the-border" and shorten("on-the-border", 12) == "on-the"
    assert shorten("on-the-border", 6) == "on-the"  # a hyphen right after the limit: the word before fits
    assert shorten("supercalifragilistic", 5) == "super"  # one word longer than the limit: no end to cut at


def test_a_new_articles_slug_ends_at_a_word_and_keeps_its_number_within_the_limit(tmp_path):
    from newsmap.store import Store

    store = Store.open(tmp_path / "library.db")
    try:
        first = store.free_slug(TITLE)
        assert first == "russia-to-reinforce-its-base-in-tajikistan-as-tension-grows"
        store.conn.execute(
            "INSERT INTO articles (slug, title, text, sentences, content_hash, added_at, updated_at, version) "
            "VALUES (?, ?, '', '[]', '', '', '', 1)",
            (first, TITLE),
        )
        second = store.free_slug(TITLE)
        assert second == "russia-to-reinforce-its-base-in-tajikistan-as-tension-2" and len(second) <= SLUG_LIMIT
        assert store.free_slug("Talks in Tashkent") == "talks-in-tashkent"
    finally:
        store.close()
