"""Russian facility phrases: «999-я авиабаза», «авиабаза Кант», «аэродром в Канте», «испытательная база на
Иссык-Куле», «станция «Окно» близ города Нурек», found in the text and handed to the English placer.

The phrases are those of `lexicon/ru_facility_kinds.csv`, matched by the lemmas of their words, so every
case and number is found («военной базы», «полигоне»); each means an English phrase of
`lexicon/facility_kinds.csv`, so its family, and how it is placed (`facilities.FacilityPlacer`, issue 16),
are the English ones. Around the phrase, as in English:

- **where**: a locative preposition and a name after it («в Канте», «близ города Нурек», «на Иссык-Куле»),
  or a name in apposition («авиабаза Кант», «полигон Сары-Шаган»), a name in quotes between them skipped
  («станция «Окно» близ Нурека»);
- **whose**: a country's adjective just before it («российская авиабаза»), or a country's name just after it
  («военная база России в Таджикистане»);
- **which**: a unit number before it («201-я военная база», «999-я авиабаза»), read as the English ordinal.

A bare «база», «объект» or «станция» is a facility only after an owner or a unit number, as a bare "base"
is in English; a phrase with neither a place, an owner nor a number is no mention.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from newsmap.article import Article
from newsmap.geoparser.gazetteer import Gazetteer
from newsmap.geoparser.lexicon import Lexicon
from newsmap.geoparser.mentions import Mention
from newsmap.geoparser.ru.morph import lemma, parses, phrase_nominative
from newsmap.geoparser.ru.words import LOCATIVE, RussianWords, Word, english_preposition

MAX_PHRASE_WORDS = 3
# A unit number just before the phrase, with up to two words between: «201-я военная база», «102-й российской».
_UNIT = re.compile(r"(?<![\w-])(?P<number>\d{1,4})-[а-яё]{1,3}(?:[ \u00a0]+[а-яё-]+){0,2}[ \u00a0]+$", re.IGNORECASE)
_APPOSITION = re.compile(r"[ \u00a0]+«?")  # «авиабаза Кант», «комплекс «Окно»»
# A country, then a verb of running a facility, then the phrase: «Россия сохранит военные базы в Сирии»,
# «Китай построил базу в Джибути» (the Russian of the English OPERATES).
_OPERATES = re.compile(
    r"^[ \u00a0]+(?:[а-яё-]+[ \u00a0]+){0,3}?(?:держ|сохран|име|использ|арендо|размест|размещ|постро|стро|откр|содерж|"
    r"модернизир|расшир|созда|эксплуатир|контролир)[а-яё]*[ \u00a0]+(?:[а-яё-]+[ \u00a0]+){0,2}$",
    re.IGNORECASE,
)
_NAME_AFTER = re.compile(r"[ \u00a0]+(?:«(?P<quoted>[^»]{1,40})»|(?P<word>[А-ЯЁ][\w-]*))")
_QUOTED_NAME = re.compile(r"[ \u00a0]+«")
_QUOTED = re.compile(r"(?:[ \u00a0]*«[^»]{1,60}»)?")


@dataclass(frozen=True)
class _Phrase:
    start: int
    end: int
    kind: str  # the English phrase it means: "air base", "radar station"
    alone: bool
    words: tuple[str, ...]  # as written: «испытательная», «база»


def ordinal(number: str) -> str:
    """The English ordinal of a Russian unit number: "999" -> "999th", "201" -> "201st", "102" -> "102nd"."""
    value = int(number)
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


class RussianFacilityFinder:
    """The facility phrases of a Russian article (see the module's docstring), from the word lists alone."""

    def __init__(self, words: RussianWords, lexicon: Lexicon, gazetteer: Gazetteer) -> None:
        self.words = words
        self.lexicon = lexicon
        self.gazetteer = gazetteer

    def _proper_name(self, text: str, sentence: int, phrase: _Phrase, nominative: str) -> Mention | None:
        """«аэродрома Айни», «авиабаза «Манас»»: the phrase and the name after it, when the gazetteer holds the
        whole as a facility's name (data/ru/names.csv), is that facility, as "Ayni Air Base" is in English."""
        name = _NAME_AFTER.match(text, phrase.end)
        if name is None:
            return None
        written = name.group("quoted") or name.group("word")
        places = [p for p in self.gazetteer.lookup(f"{nominative} {written}") if p.precision == "facility"]
        if not places:
            return None
        end = name.end()
        return Mention(
            phrase.start, end, text[phrase.start : end], sentence, role="facility",
            kind=self.lexicon.family(places[0].kind), candidates=places, fixed=True,
            lemma=f"{nominative}{text[phrase.end : end]}",
        )  # fmt: skip

    def find(self, text: str, article: Article, sentences: list[list[Word]], mentions: list[Mention]) -> list[Mention]:
        """The facility mentions, given the article's words by sentence and its other mentions in text order.

        A name in apposition («авиабаза Кант») is part of the facility's name, as "Kant" is of "Kant Air
        Base": it locates the phrase but is taken out of `mentions` (the resolver still places it).
        """
        starts = [m.start for m in mentions]
        found: list[Mention] = []
        named: set[int] = set()
        for sentence, words in zip(article.sentences, sentences, strict=True):
            for phrase in self._phrases(words):
                mention = self._mention(text, sentence.index, sentence.start, phrase, mentions, starts)
                if mention is None:
                    continue
                found.append(mention)
                if mention.anchors and not mention.gloss.endswith(" ") and mention.anchors[0].role == "toponym":
                    named.add(id(mention.anchors[0]))
                quoted = _QUOTED_NAME.match(text, phrase.end)
                if quoted is not None and (inside := _mention_at(mentions, starts, quoted.end())) is not None:
                    named.add(id(inside))  # «станция «Волга»»: the station's name, not the river
                if not mention.phrase:  # «аэродром Эребуни»: the name inside the facility's name is no place
                    inside = bisect.bisect_left(starts, mention.start), bisect.bisect_left(starts, mention.end)
                    named.update(id(m) for m in mentions[inside[0] : inside[1]] if m.end <= mention.end)
        mentions[:] = [m for m in mentions if id(m) not in named]
        return found

    def _phrases(self, words: list[Word]) -> list[_Phrase]:
        """The longest facility phrases among a sentence's words, left to right."""
        phrases: list[_Phrase] = []
        i = 0
        while i < len(words):
            best = None
            if words[i].text[:3].lower() in self.words.prefixes:
                for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                    key = tuple(lemma(w.text) for w in words[i : i + n])
                    if key in self.words.facilities:
                        kind, alone = self.words.facilities[key]
                        texts = tuple(w.text for w in words[i : i + n])
                        best = _Phrase(words[i].start, words[i + n - 1].end, kind, alone, texts)
                        i += n
                        break
            if best is None:
                i += 1
            else:
                phrases.append(best)
        return phrases

    def _mention(
        self, text: str, sentence: int, sentence_start: int, phrase: _Phrase, mentions: list[Mention], starts: list[int]
    ) -> Mention | None:
        """The facility mention a phrase makes, or None when nothing says where, whose or which it is."""
        nominative = phrase_nominative(list(phrase.words)) or text[phrase.start : phrase.end]
        named = self._proper_name(text, sentence, phrase, nominative)
        if named is not None:
            return named
        window_start = max(sentence_start, phrase.start - 60)
        unit = _UNIT.search(text, window_start, phrase.start)
        operator = self._owner_before(text, window_start, phrase.start) or _subject_owner(
            text, sentence_start, phrase.start, mentions, starts
        )
        at = phrase.end
        country = _mention_at(mentions, starts, _skip_space(text, at))
        if country is not None and any(p.kind == "country" for p in country.candidates):
            operator = operator or next(p.country for p in country.candidates if p.kind == "country")
            at = country.end  # «военная база России в Таджикистане»
        anchor, preposition = self._where(text, at, mentions, starts)
        if anchor is not None and any(p.kind == "country" for p in anchor.candidates) and not preposition:
            anchor = None  # «база России»: an owner, not a place
        if not phrase.alone and not (operator or unit):
            return None  # «база» alone: only «российская база», «201-я база»
        if anchor is None and not (operator or unit):
            return None
        start = unit.start("number") if unit else phrase.start
        end = anchor.end if anchor is not None else phrase.end
        if text[start:end].count("«") > text[start:end].count("»") and text.startswith("»", end):
            end += 1  # «авиабаза «Манас»»: the quote closed
        kind = phrase.kind if phrase.kind not in ("base", "facility") else "military base"
        gloss = f"{kind} {english_preposition(preposition)} " if preposition else kind
        # Its name in the nominative, the rest as written: «аэродроме в Канте» -> «аэродром в Канте».
        name = _nominative_unit(text[start : phrase.start], nominative) + nominative + text[phrase.end : end]
        return Mention(
            start, end, text[start:end], sentence, role="facility", kind=self.lexicon.family(phrase.kind),
            anchors=[anchor] if anchor is not None else [], operator=operator,
            unit=ordinal(unit.group("number")) if unit else "", phrase=True, gloss=gloss, lemma=name,
        )  # fmt: skip

    def _owner_before(self, text: str, start: int, end: int) -> str:
        """The country whose adjective stands among the three words before the phrase, in its noun group
        («российская авиабаза», «102-й российской военной базы»; not «армянского Минобороны, на аэродроме»)."""
        group = re.split(r"[,.;:!?()«»—–]", text[start:end])[-1]
        for word in reversed(re.findall(r"[а-яёА-ЯЁ-]+", group)[-3:]):
            entry = self.words.adjectives.get(lemma(word))
            if entry and len(entry) == 2 and entry.isupper():
                return entry
        return ""

    def _where(self, text: str, at: int, mentions: list[Mention], starts: list[int]) -> tuple[Mention | None, str]:
        """The name that says where the phrase is, and the preposition before it ("" for an apposition)."""
        apposition = _APPOSITION.match(text, at)
        named = _mention_at(mentions, starts, apposition.end()) if apposition else None
        quoted = apposition is not None and apposition.group().endswith("«")
        if named is not None and (named.role == "facility" or (named.role == "toponym" and not quoted)):
            return named, ""  # «авиабаза Кант», «комплекс «Окно»»; «станция «Волга»» is a name, not the river
        after = _QUOTED.match(text, at).end()  # «станция «Окно» близ Нурека»: the quoted name skipped
        for reach in range(after + 1, min(len(text), after + 60)):
            if text[reach - 1] in ".;!?,":
                break
            if text[reach - 1] in " \u00a0" and (named := _mention_at(mentions, starts, reach)) is not None:
                cue = LOCATIVE.search(text, after, reach)  # the preposition right after the phrase, as in English
                if cue is not None and cue.start() <= after + 1 and named.role == "toponym":
                    return named, cue.group("prep")
                break
        return None, ""


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \u00a0":
        at += 1
    return at


def _mention_at(mentions: list[Mention], starts: list[int], at: int) -> Mention | None:
    """The place mention that starts at `at`, if any (the longest: mentions are in text order)."""
    index = bisect.bisect_left(starts, at)
    return (
        mentions[index]
        if index < len(mentions) and starts[index] == at and mentions[index].role != "adjective"
        else None
    )


def _nominative_unit(before: str, nominative: str) -> str:
    """The words before a phrase's noun with a unit number in the nominative: «999-ю » -> «999-я »
    (the ending of the noun's gender: «-я», «-й», «-е»)."""
    match = re.match(r"(\d{1,4})-[а-яё]{1,3}", before)
    if match is None:
        return before
    reading = next((p for w in reversed(nominative.split()) for p in parses(w)[:1] if p.tag.POS == "NOUN"), None)
    ending = {"femn": "я", "neut": "е"}.get(reading.tag.gender if reading is not None else "", "й")
    return f"{match.group(1)}-{ending}" + before[match.end() :]


def _subject_owner(text: str, sentence_start: int, at: int, mentions: list[Mention], starts: list[int]) -> str:
    """The country the sentence names as running the facility: in the nominative (its text is its lemma),
    then a verb of running it, then the phrase («Россия сохранит военные базы»)."""
    first = bisect.bisect_left(starts, max(sentence_start, at - 80))
    for mention in reversed(mentions[first : bisect.bisect_left(starts, at)]):
        if mention.end > at or mention.text != mention.lemma:
            continue
        country = next((p.country for p in mention.candidates if p.kind == "country"), "")
        if country and _OPERATES.match(text[mention.end : at]):
            return country
    return ""
