"""Russian words to their dictionary forms, for searching the library in Russian.

Russian inflects its place names: an article writes «в Оше», «в Киргизии», «Иссык-Кульской
области», and a reader searches for «Ош», «Киргизия». A full-text index of the words as written
finds neither, so the store also indexes the lemmas of the Cyrillic words of titles and place
names (`search.lemmas`) and `store.article_filter` looks a query's Cyrillic words up there by
their lemmas. The lemmatiser is pymorphy2 with its OpenCorpora dictionary (the one the Russian recogniser uses,
so search and recognition agree on a lemma); it is loaded on first use, only when a text or a
query holds a Cyrillic letter, so an English library, and every page read, never loads it.

Every parse's normal form counts (a word such as «Оше» is «Ош» or «Оша»: both are indexed), and
«ё» is written «е» on both sides (Russian print mostly omits its dots; FTS5's unicode61 folds the
case of Cyrillic letters but keeps «ё» apart). The index holds the surface word folded so too,
so a query written with «е» finds a title with «ё».
"""

from __future__ import annotations

import functools
import inspect
import re
from collections import namedtuple
from typing import Any

CYRILLIC = re.compile(r"[\u0400-\u052f]")
WORD = re.compile(r"\w+(?:-\w+)*")  # a hyphenated name («Иссык-Куль») is one word to the lemmatiser


def has_cyrillic(text: str) -> bool:
    return CYRILLIC.search(text) is not None


def fold(word: str) -> str:
    """Lower case, «ё» as «е»: how both the index and a query write a Russian word."""
    return word.lower().replace("ё", "е")


@functools.cache
def analyzer() -> Any:
    """pymorphy2's MorphAnalyzer, loaded once per process (about 15 MB, 0.1 s), for the search's
    lemmas and the Russian recogniser (newsmap/geoparser/ru/morph.py) alike.

    pymorphy2 0.9 calls `inspect.getargspec`, which Python 3.11 removed: it is given back, built
    on `getfullargspec`, before the analyzer is made. The dictionary is found by its package's path
    (pymorphy2 would otherwise look it up through pkg_resources' entry points)."""
    if not hasattr(inspect, "getargspec"):
        spec = namedtuple("ArgSpec", "args varargs keywords defaults")

        def getargspec(func: Any) -> Any:
            full = inspect.getfullargspec(func)
            return spec(full.args, full.varargs, full.varkw, full.defaults)

        inspect.getargspec = getargspec  # type: ignore[attr-defined]
    import pymorphy2
    import pymorphy2_dicts_ru

    return pymorphy2.MorphAnalyzer(path=pymorphy2_dicts_ru.get_path())


@functools.lru_cache(maxsize=50_000)
def word_lemmas(word: str) -> tuple[str, ...]:
    """The folded normal forms of a Cyrillic word, every parse's, most likely first (no duplicates)."""
    forms = [fold(parse.normal_form) for parse in analyzer().parse(word)]
    return tuple(dict.fromkeys(forms))


def terms(word: str) -> tuple[str, ...]:
    """The index terms a (possibly hyphenated) Cyrillic word stands for: the word itself folded, and
    its lemmas; each a single FTS token (a hyphenated lemma is split as the tokenizer splits it)."""
    found = [fold(word), *word_lemmas(word)]
    if "-" in word:  # «Иссык-Кульской»: the lemma of the whole, and of each part
        found += [lemma for part in word.split("-") for lemma in word_lemmas(part)]
    return tuple(dict.fromkeys(piece for term in found for piece in term.split("-") if piece))


def index_text(text: str) -> str:
    """What `search.lemmas` holds for a title and place names: the terms of each Cyrillic word,
    space-separated ("" when the text has no Cyrillic: nothing is loaded for it)."""
    if not has_cyrillic(text):
        return ""
    words = dict.fromkeys(word for word in WORD.findall(text) if has_cyrillic(word))
    return " ".join(dict.fromkeys(term for word in words for term in terms(word)))


def query_alternatives(word: str) -> tuple[str, ...]:
    """What a query's Cyrillic word may match in `search.lemmas`: its lemmas, folded (the word as
    written is matched in the title and places columns, and folded here, by the caller)."""
    return tuple(dict.fromkeys(piece for lemma in word_lemmas(word) for piece in lemma.split("-") if piece))
