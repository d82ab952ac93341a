"""Articles as published: the text, its metadata, and its sentences with character offsets.

Offsets always index the text exactly as it was read from disk (after UTF-8 decoding), so a
quote cut out with them is verbatim and can be checked against the seed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from newsmap.dates import DateError, check_published
from newsmap.language import is_code
from newsmap.slugs import slugify
from newsmap.textfile import read_utf8


class ArticleError(ValueError):
    """A seed that cannot be used; the message is one line meant for the user."""


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    paragraph: int


@dataclass(frozen=True)
class Article:
    slug: str
    text: str
    title: str
    publisher: str = ""
    published: str = ""
    url: str = ""
    sentences: tuple[Sentence, ...] = field(default=(), repr=False)
    language: str = ""  # ISO 639-1 ("en", "ru"): the metadata's, else detected when the article is stored

    def sentence_text(self, sentence: Sentence) -> str:
        return self.text[sentence.start : sentence.end]

    def sentence_at(self, offset: int) -> Sentence:
        """The sentence holding a character offset (mentions never straddle two)."""
        for sentence in self.sentences:
            if sentence.start <= offset < sentence.end:
                return sentence
        raise ValueError(f"offset {offset} is outside every sentence of {self.slug}")

    def paragraphs(self) -> list[list[Sentence]]:
        grouped: dict[int, list[Sentence]] = {}
        for sentence in self.sentences:
            grouped.setdefault(sentence.paragraph, []).append(sentence)
        return [grouped[key] for key in sorted(grouped)]


# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "mt",
        "ft",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "rev",
        "hon",
        "jr",
        "sr",
        "inc",
        "corp",
        "co",
        "ltd",
        "llc",
        "dept",
        "univ",
        "no",
        "vol",
        "fig",
        "vs",
        "etc",
        "approx",
        "est",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "ave",
        "blvd",
        "rd",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "a.m",
        "p.m",
    ]
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|\n")
_OPENING = re.compile(r"\s*[\"'“‘«(\[]*[\d\w]", re.UNICODE)
_LAST_WORD = re.compile(r"([\w.]+)$")
_LOOK_BACK = 40


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Split on sentence punctuation followed by space, and on line breaks.

    News text puts titles, datelines and paragraphs on lines of their own, so a line break
    always ends a sentence; a period after a known abbreviation or a single initial does not.
    """
    sentences: list[Sentence] = []
    paragraph_starts = [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
    paragraph = 0
    cursor = 0
    cuts: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        if match.group() != "\n" and not _ends_sentence(text, match.start(), match.end()):
            continue
        cuts.append(match.end())
    cuts.append(len(text))
    for cut in cuts:
        start, end = _strip(text, cursor, cut)
        cursor = cut
        if start >= end:
            continue
        while paragraph + 1 < len(paragraph_starts) and paragraph_starts[paragraph + 1] <= start:
            paragraph += 1
        sentences.append(Sentence(len(sentences), start, end, paragraph))
    return tuple(sentences)


def _ends_sentence(text: str, punct_start: int, punct_end: int) -> bool:
    if not _OPENING.match(text, punct_end):
        return False
    if text[punct_start] != ".":
        return True
    # Only the last few characters matter (abbreviations are short): looking at the whole text
    # before every period made splitting quadratic in the article's length.
    word = _LAST_WORD.search(text, max(0, punct_start - _LOOK_BACK), punct_start)
    if word is None:
        return True
    token = word.group(1).lower()
    if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
        return False
    # "U.S." style: letters separated by periods.
    return not re.fullmatch(r"(?:\w\.)+\w", token)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def read_text(path: Path, max_bytes: int | None = None) -> str:
    """Read a seed's text, refusing what cannot be an article with a one-line reason."""
    return read_utf8(
        path, error=ArticleError, missing="no such seed file", empty="the seed is empty", max_bytes=max_bytes,
        limit_name="NEWSMAP_MAX_ARTICLE_KB",
    )  # fmt: skip


def article_slug(path: Path) -> str:
    """The article's slug from its file name, in the URL-safe alphabet: never ".", "..", "?", "#" or "%"."""
    return slugify(path.stem, fallback="article")


def article_from_text(slug: str, text: str, title: str = "", **meta: str) -> Article:
    first_line = text.strip().splitlines()[0].strip() if text.strip() else slug
    return Article(slug=slug, text=text, title=title or first_line, sentences=split_sentences(text), **meta)


META_FIELDS = ("title", "publisher", "published", "url", "language")


def read_metadata(meta_path: Path) -> dict[str, str]:
    """`<slug>.json`: an object whose known fields are text (a date as "2019-03" or "2019-03-14", a language
    as its ISO 639-1 code)."""
    try:
        loaded = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArticleError(f"{meta_path}: invalid metadata JSON ({error})") from None
    except OSError as error:
        raise ArticleError(f"{meta_path}: cannot read ({error.strerror})") from None
    if not isinstance(loaded, dict):
        raise ArticleError(f"{meta_path}: metadata must be a JSON object")
    meta: dict[str, str] = {}
    for key in META_FIELDS:
        value = loaded.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            kind = {dict: "an object", list: "a list", bool: "true/false"}.get(type(value), "a number")
            raise ArticleError(f"{meta_path}: metadata field {key!r} must be text, not {kind}")
        meta[key] = " ".join(value.split())  # one line: a title is shown in a heading
    try:
        check_published(meta.get("published", ""))
    except DateError as error:
        raise ArticleError(f"{meta_path}: {error}") from None
    if meta.get("language") and not is_code(meta["language"]):
        raise ArticleError(f"{meta_path}: language must be an ISO 639-1 code such as \"ru\", not {meta['language']!r}")
    return meta


def load_article(path: Path, max_bytes: int | None = None) -> Article:
    """Load `<slug>.txt` and, when present, its metadata `<slug>.json` beside it."""
    text = read_text(path, max_bytes)
    meta_path = path.with_suffix(".json")
    meta = read_metadata(meta_path) if meta_path.exists() else {}
    return article_from_text(
        article_slug(path),
        text,
        title=meta.get("title", ""),
        publisher=meta.get("publisher", ""),
        published=meta.get("published", ""),
        url=meta.get("url", ""),
        language=meta.get("language", ""),
    )


def find_articles(seeds_dir: Path) -> list[Path]:
    """The seeds to build, in a stable order; an empty or missing folder is an error."""
    if not seeds_dir.is_dir():
        raise ArticleError(f"{seeds_dir}: no such seeds folder")
    paths = sorted(seeds_dir.glob("*.txt"))
    if not paths:
        raise ArticleError(f"{seeds_dir}: no .txt articles in the seeds folder")
    return paths


QUOTE_LIMIT = 400  # characters: a sentence longer than this is quoted around its mention
ELLIPSIS = "…"


def quote_window(
    article: Article, sentence: Sentence, focus_start: int, focus_end: int, limit: int = QUOTE_LIMIT
) -> str:
    """The sentence holding a mention, verbatim, or for a long one about `limit` characters around
    the mention, cut on word boundaries with "…" where it was cut.

    Without the cut one long sentence naming thousands of places was copied once per place:
    the dataset grew with the square of the sentence.
    """
    start, end = sentence.start, sentence.end
    if end - start <= limit:
        return article.text[start:end]
    room = max(0, limit - (focus_end - focus_start))
    left = max(start, focus_start - room // 2)
    right = max(focus_end, min(end, left + limit))
    left = min(focus_start, max(start, right - limit))  # near the sentence's end: take more before
    text = article.text
    if left > start:
        space = text.find(" ", left, focus_start)
        left = space + 1 if space != -1 else left
    if right < end:
        space = text.rfind(" ", focus_end, right)
        right = space if space != -1 else right
    core = text[left:right].strip()
    return (ELLIPSIS if left > start else "") + core + (ELLIPSIS if right < end else "")
