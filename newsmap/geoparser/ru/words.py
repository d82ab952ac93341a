"""The Russian word lists (`lexicon/ru_adjectives.csv`, `lexicon/ru_facility_kinds.csv`), read once, and the
patterns of the words around a Russian name: what Russian says where English says "in", "near", "the town of".
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass

from newsmap.article import Sentence
from newsmap.geoparser.lexicon import HERE
from newsmap.geoparser.ru.morph import lemma

# A word: letters with inner hyphens («Иссык-Куль»), or a number with its ordinal ending («999-я», «201-й»).
WORD = re.compile(r"[^\W\d_]+(?:[-‐][^\W\d_]+)*|\d+(?:-[а-яё]{1,3})?")
# Before a name, the prepositions that put it on the ground («в Оше», «близ Нурека», «на Иссык-Куле»), and
# «город», «посёлок», ... between them («близ города Нурек»). Given to the resolver as its English cue.
_SETTLEMENT = r"(?:город[а-я]*|посёл[а-я]*|посел[а-я]*|сел[оае]|деревн[а-я]*|аул[а-я]*|кишлак[а-я]*|озер[оае])"
LOCATIVE = re.compile(
    rf"(?<![\w-])(?P<prep>в|во|на|близ|около|возле|вблизи|у|под|из|недалеко\s+от|рядом\s+с|неподал[её]ку\s+от|"
    rf"в\s+районе|в\s+окрестностях|в\s+\d+\s+(?:км|километрах)\s+от|"
    rf"к\s+(?:северо-|юго-)?(?:северу|югу|востоку|западу)\s+от)"
    rf"\s+(?:{_SETTLEMENT}\s+)?$",
    re.IGNORECASE,
)
# Region nouns before a name («провинции Латакия», «штата Техас»): the name is the region, as "the province
# of" says in English; given to the resolver as that cue, and made part of the place's lemma, so the city
# named alike stays another place («города Латакия»).
REGION_BEFORE = frozenset({"провинция", "область", "штат", "округ", "район", "регион", "край", "губерния", "мухафаза"})
# The English a preposition stands for, in the cue the resolver reads and in a facility's English name.
NEAR_WORDS = (
    "близ",
    "около",
    "возле",
    "вблизи",
    "у",
    "под",
    "недалеко",
    "рядом",
    "неподалеку",
    "неподалёку",
    "в районе",
)
# Nouns after which a capitalised word is a place, whatever else it could be («город Кант», «авиабаза Кант»).
PLACE_NOUNS = frozenset(
    [
        "город",
        "посёлок",
        "поселок",
        "село",
        "деревня",
        "аул",
        "кишлак",
        "область",
        "район",
        "край",
        "республика",
        "столица",
        "озеро",
        "река",
        "авиабаза",
        "аэродром",
        "база",
        "полигон",
        "станция",
        "гарнизон",
        "порт",
        "аэропорт",
        "космодром",
    ]
)


# Nouns of physical features before a name («озера Балхаш», «реки Пяндж»), and how English names the feature:
# the name in Latin letters (anyascii) in these forms is looked up among the gazetteer's features.
FEATURE_NOUNS: dict[str, tuple[str, ...]] = {
    "озеро": ("Lake {}", "{} Lake"),
    "река": ("{} River", "River {}", "{}"),
    "море": ("{} Sea",),
    "гора": ("Mount {}", "{}"),
    "горы": ("{} Mountains", "{}"),
    "хребет": ("{} Range", "{} Mountains", "{}"),
    "пролив": ("Strait of {}", "{} Strait"),
    "залив": ("Gulf of {}", "{} Bay"),
    "пустыня": ("{} Desert",),
    "долина": ("{} Valley",),
    "перевал": ("{} Pass",),
    "водохранилище": ("{} Reservoir",),
    "коридор": ("{} Corridor",),
    "бухта": ("{} Bay",),
    "полуостров": ("{} Peninsula",),
}


# Region nouns after an adjective, and the English forms of the region's name («Наманганская область»:
# "Namangan Region"), for the regions the gazetteer lacks in Cyrillic.
REGION_NOUNS: dict[str, tuple[str, ...]] = {
    "область": ("{} Region", "{} Oblast", "{} Province"),
    "район": ("{} District", "{} Rayon"),
    "край": ("{} Krai", "{} Territory"),
    "провинция": ("{} Province",),
}


def english_preposition(prep: str) -> str:
    """ "in", "near" or "from": what the Russian preposition says, for the resolver's English cues."""
    word = " ".join(prep.lower().split())
    if word == "из":
        return "from"
    return "near" if word.startswith(NEAR_WORDS) else "in"


@dataclass(frozen=True)
class RussianWords:
    """The Russian word lists: adjectives by lemma, facility phrases by the lemmas of their words."""

    adjectives: dict[str, str]  # "российский" -> "RU", "европейский" -> "European"
    demonyms: dict[str, str]  # "россиянин" -> "RU": the people of a country
    facilities: dict[tuple[str, ...], tuple[str, bool]]  # ("военный", "база") -> ("military base", alone)
    facility_words: frozenset[str]  # every lemma of a facility phrase: the words worth lemmatising
    prefixes: frozenset[str]  # the first three letters of those and of the adjectives: a cheap filter


def _rows(name: str) -> list[dict[str, str]]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


@functools.cache
def load() -> RussianWords:
    """The word lists, their phrases lemmatised once (pymorphy2's readings of the nominative)."""
    adjectives = {row["word"]: row["place"] for row in _rows("ru_adjectives.csv")}
    demonyms = {row["word"]: row["place"] for row in _rows("ru_demonyms.csv")}
    facilities = {
        tuple(lemma(w) for w in row["phrase"].split()): (row["kind"], row["alone"] == "yes")
        for row in _rows("ru_facility_kinds.csv")
    }
    words = frozenset(w for phrase in facilities for w in phrase)
    prefixes = frozenset(w[:3] for w in [*words, *adjectives, *demonyms])
    return RussianWords(adjectives, demonyms, facilities, words, prefixes)


_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Word:
    """A word of the text with its offsets."""

    start: int
    end: int
    text: str

    @property
    def capitalized(self) -> bool:
        return self.text[:1].isupper()

    @property
    def latin(self) -> bool:
        return _LATIN.match(self.text) is not None


def words_of(text: str, sentence: Sentence) -> list[Word]:
    """The words of one sentence, in order."""
    return [Word(m.start(), m.end(), m.group()) for m in WORD.finditer(text, sentence.start, sentence.end)]


def joined(text: str, left: Word, right: Word) -> bool:
    """Whether two words stand in one name: one space between them."""
    return text[left.end : right.start] in (" ", "\u00a0")
