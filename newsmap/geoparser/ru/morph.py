"""Russian morphology for the recogniser: pymorphy2 with its OpenCorpora dictionary, loaded on first use.

Russian inflects names: «в Киргизии», «в Оше», «Иссык-Кульской области». The gazetteer holds the
nominative (the lemma), so a name is looked up by the nominatives its words may have, tried in the
order pymorphy2 rates them (geographic readings, tagged `Geox`, first). pymorphy2 guesses unknown words
from their endings («Оше» -> «Ош» or «Оша»), and the gazetteer decides which of the guesses is a place.

Everything is cached per word: a news article repeats its words, and the dictionary lookups are the
recogniser's main cost.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from newsmap.lemmas import analyzer  # one pymorphy2 per process, shared with the search's lemmas

PERSON_TAGS = frozenset({"Name", "Surn", "Patr"})
NAME_TAGS = PERSON_TAGS | {"Geox", "Orgn", "Trad"}
_PART = re.compile(r"[-‐ ]")
_CASE_ENDING = re.compile(r"(?:ом|ем|ём|ой|ей|ою|у|ю|а|я|е|и|ы)$")


@functools.lru_cache(maxsize=1 << 16)
def parses(word: str) -> tuple[Any, ...]:
    """pymorphy2's readings of a word, most likely first."""
    return tuple(analyzer().parse(word))


@functools.lru_cache(maxsize=1 << 16)
def lemma(word: str) -> str:
    """The lower-case lemma of the word's most likely reading («российской» -> «российский»)."""
    found = parses(word)
    return found[0].normal_form if found else word.lower()


@functools.lru_cache(maxsize=1 << 16)
def is_person(word: str) -> bool:
    """A first name, patronymic or surname, never a place: most of the word's readings (by pymorphy2's
    rating) are a person's and none is geographic («Шойгу», «Иванов»; not «Кант», half a common noun)."""
    found = parses(word)
    if any("Geox" in p.tag for p in found):
        return False
    person = sum(p.score for p in found if PERSON_TAGS & p.tag.grammemes)
    thing = sum(p.score for p in found if "inan" in p.tag and not PERSON_TAGS & p.tag.grammemes)
    return person >= 0.6 and thing < 0.3


@functools.lru_cache(maxsize=1 << 16)
def opens_as_common(word: str) -> bool:
    """A sentence's first word that is most likely a common one («По», «Военная», «Окно»): capitalised by
    its position. A name's reading in second place («По» is also a surname) does not make it a name."""
    found = parses(word)
    return bool(found) and analyzer().word_is_known(word.lower()) and not NAME_TAGS & found[0].tag.grammemes


@functools.lru_cache(maxsize=1 << 16)
def is_common(word: str) -> bool:
    """A word the dictionary knows only as a common word (no name reading): capitalised only because it
    starts a sentence («Военная», «Окно»)."""
    lower = word.lower()
    if not analyzer().word_is_known(lower):
        return False
    return not any(NAME_TAGS & p.tag.grammemes for p in parses(word))


def _cased(form: str, model: str) -> str:
    """`form` with the capitals of `model`, part by part («иссык-кульская область», «Иссык-Кульской области»
    -> «Иссык-Кульская область»)."""
    parts, models = _PART.split(form), _PART.split(model)
    if len(parts) != len(models):
        return form[:1].upper() + form[1:] if model[:1].isupper() else form
    seps = _PART.findall(form)
    out = []
    for index, (part, like) in enumerate(zip(parts, models, strict=True)):
        out.append(part[:1].upper() + part[1:] if like[:1].isupper() else part)
        if index < len(seps):
            out.append(seps[index])
    return "".join(out)


@functools.lru_cache(maxsize=1 << 16)
def word_nominatives(word: str) -> tuple[str, ...]:
    """The nominatives a capitalised word may have, most likely first, in its own capitals; the word itself
    last (an indeclinable name: «Душанбе», «Гюмри»).

    Hyphenated names decline their last part («Иссык-Куле») or their first («Кургане-Тюбе»): both are tried.
    """
    ranked = sorted(parses(word), key=lambda p: ("Geox" not in p.tag, -p.score))
    forms = [p.normal_form for p in ranked]
    if "-" in word:
        head, _, tail = word.rpartition("-")
        forms += [f"{head.lower()}-{form}" for form in dict.fromkeys(p.normal_form for p in parses(tail))]
        first, _, rest = word.partition("-")
        forms += [f"{form}-{rest.lower()}" for form in dict.fromkeys(p.normal_form for p in parses(first))]
    forms.append(word.lower())
    # A name the dictionary does not know may be guessed another gender («Кулобу» -> «Кулоба»): its stem too.
    stem = _CASE_ENDING.sub("", word.lower())
    if stem != word.lower() and len(stem) >= 3 and not analyzer().word_is_known(word.lower()):
        forms += [stem, stem + "ь"]
    return tuple(dict.fromkeys(_cased(form, word) for form in forms))


def _noun_reading(word: str) -> Any | None:
    """The word's reading as a noun, if its most likely reading is one and it cannot be an adjective
    (pymorphy2 guesses «Хатлонской» a noun first, but an adjective too: the head is «области»)."""
    found = parses(word)
    if not found or found[0].tag.POS != "NOUN" or any(p.tag.POS in ("ADJF", "PRTF") for p in found):
        return None
    return found[0]


@functools.lru_cache(maxsize=1 << 16)
def is_geographic(word: str) -> bool:
    """The dictionary knows the word as a geographic name («Мургаб»), or does not know it at all."""
    return not analyzer().word_is_known(word.lower()) or any("Geox" in p.tag for p in parses(word))


@functools.lru_cache(maxsize=1 << 16)
def is_function_word(word: str) -> bool:
    """A preposition, conjunction, particle or pronoun («В», «По», «Но», «Он»): capitalised only at a sentence's
    start, and never part of a name (so «В Идлибе» is no two-word name)."""
    found = parses(word)
    return bool(found) and found[0].tag.POS in ("PREP", "CONJ", "PRCL", "NPRO", "INTJ")


@functools.lru_cache(maxsize=1 << 16)
def is_adjective(word: str) -> bool:
    """Most likely an adjective («Центрального», «Нагорном», «Севастопольскую»): alone, a modifier, not a name."""
    found = parses(word)
    return bool(found) and found[0].tag.POS in ("ADJF", "PRTF")


def phrase_nominative(words: list[str]) -> str:
    """A name of several words in the nominative, adjectives agreeing with their noun
    («Иссык-Кульской области» -> «Иссык-Кульская область», «Республики Таджикистан» -> «Республика
    Таджикистан», «Соединённых Штатов Америки» -> «Соединённые Штаты Америки»); "" when it has no noun.

    The first noun is the head: the adjectives before it agree with it, the words after it (a genitive,
    an apposition) stay as written.
    """
    head_at, head = next(((i, r) for i, w in enumerate(words) if (r := _noun_reading(w)) is not None), (-1, None))
    if head is None:
        return ""
    plural = "plur" in head.tag
    nominative = head.inflect({"nomn", "plur"} if plural else {"nomn"})
    out = [nominative.word if nominative else head.normal_form]
    wanted = {"nomn", "plur"} if plural else {"nomn", head.tag.gender or "masc"}
    adjectives = []
    for word in words[:head_at]:
        reading = next((p for p in parses(word) if p.tag.POS in ("ADJF", "PRTF")), None)
        inflected = reading.inflect(wanted) if reading is not None else None
        if inflected is None:
            return ""
        adjectives.append(inflected.word)
    forms = [*adjectives, *out, *(w.lower() for w in words[head_at + 1 :])]
    return " ".join(_cased(form, word) for form, word in zip(forms, words, strict=True))
