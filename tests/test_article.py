"""Articles: sentences with exact offsets, metadata, and refusals of unusable seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmap.article import ArticleError, find_articles, load_article, split_sentences


def test_seed_metadata_and_text_are_kept_as_published(seed):
    assert seed.title == "Status of Russian Kant Air Base in Kyrgyzstan to be changed"
    assert seed.publisher == "Vestnik Kavkaza"
    assert seed.published == "2019-03"
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_3397316926af0525.txt"
    if shared.exists():  # the read-only original sits beside the project here and in CI
        assert shared.read_text(encoding="utf-8") == seed.text


def test_sentences_cover_the_text_with_exact_offsets(seed):
    assert len(seed.sentences) > 40
    for sentence in seed.sentences:
        text = seed.sentence_text(sentence)
        assert text == text.strip() and text
    starts = [s.start for s in seed.sentences]
    assert starts == sorted(starts)
    assert seed.sentence_text(seed.sentences[7]) == "The largest is the air base in Kant."


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Mr. Smith flew to St. Louis on Jan. 5 with J. R. Doe. Then he left for the U.S. capital.\nNew line."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == [
        "Mr. Smith flew to St. Louis on Jan. 5 with J. R. Doe.",
        "Then he left for the U.S. capital.",
        "New line.",
    ]


def test_paragraphs_group_sentences(seed):
    paragraphs = seed.paragraphs()
    assert seed.sentence_text(paragraphs[0][0]) == seed.title
    assert len(paragraphs) == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"  \n\n ", "empty"), (b"caf\xe9 au lait", "not UTF-8"), (b"a\x00b", "NUL")],
)
def test_unusable_seed_is_refused_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_seed_and_empty_folder(tmp_path):
    with pytest.raises(ArticleError, match="no such seed"):
        load_article(tmp_path / "nope.txt")
    with pytest.raises(ArticleError, match=r"no \.txt articles"):
        find_articles(tmp_path)
    with pytest.raises(ArticleError, match="no such seeds folder"):
        find_articles(tmp_path / "missing")
