"""Recognition in Russian: the names a Russian news text gives places, as the English recogniser's mentions.

A name is a run of capitalised words, looked up in the gazetteer by the nominatives its words may have
(`morph`), longest first, so «Иссык-Кульской области» is the region before «Иссык-Куль» is the lake; a
region- or feature-type word written in lower case after the run joins it («Ошской области», «Каспийское
море»). What the gazetteer lacks in Cyrillic is tried in English forms: a feature after its noun («озера
Балхаш»: Lake Balkhash), a feature or region named by an adjective («Керченского пролива»: Kerch Strait,
«Наманганской области»: Namangan Region), and last a geographic word by its transliteration («Мургаб»).
Each mention keeps the exact span («в Оше»: «Оше») and its lemma in the article's spelling («Ош»), which is
its `article_name` and makes one sense of all its cases. The candidates come with the mention (`fixed`):
the gazetteer was asked by the lemma, not by the inflected text.

What is weeded out, by what the dictionary says of the words (pymorphy2's OpenCorpora tags), not by a
list of names:

- **people**: a run with a first name or a patronymic («Сергей Шойгу»), or a word the dictionary reads
  mostly as a surname («Шойгу»), unless the article puts that word on the ground somewhere («в Канте») or
  a place noun stands before it («город Кант», «авиабаза Кант»);
- **sentence openers**: a capitalised first word that the dictionary reads first as a common word
  («Военная», «По»), a capitalised preposition or conjunction («В Идлибе»), and a lone adjective
  («Центрального военного округа»);
- **acronyms**: only those that name a country or region («США», «ГБАО»), never an organisation's («ОДКБ»);
  a longer word in capitals is a dateline's name («БИШКЕК,»).

Adjectives of places («российский», «киргизских») and peoples' nouns («россияне») are mentions of role
`adjective`, by their lemma in `lexicon/ru_adjectives.csv` and `ru_demonyms.csv`, unless they describe a
language («на русском языке») or start a name («Индийском океане»). The locative preposition before a name
(«в», «близ», and the one before a list: «в Гродно и Бресте») is the resolver's English cue; a region noun
before it («провинции Латакия») makes it the region. Latin-script runs in a
Russian text ("Fort Bragg") are looked up as the English recogniser looks up names. Facility phrases are
`ru.facilities`'.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import ClassVar

from anyascii import anyascii

from newsmap.article import Article, Sentence
from newsmap.geoparser.gazetteer import Gazetteer, Place
from newsmap.geoparser.lexicon import Lexicon
from newsmap.geoparser.mentions import Mention, Recognition, is_prominent
from newsmap.geoparser.recognition import Recognizer
from newsmap.geoparser.ru.facilities import RussianFacilityFinder
from newsmap.geoparser.ru.morph import (
    is_adjective,
    is_common,
    is_function_word,
    is_geographic,
    is_person,
    lemma,
    opens_as_common,
    parses,
    phrase_nominative,
    word_nominatives,
)
from newsmap.geoparser.ru.words import (
    FEATURE_NOUNS,
    LOCATIVE,
    PLACE_NOUNS,
    REGION_BEFORE,
    REGION_NOUNS,
    RussianWords,
    Word,
    english_preposition,
    joined,
    load,
    words_of,
)

MAX_NAME_WORDS = 4  # the most capitalised words of one name looked up
# Region and feature types written after a name in lower case: «Ошская область», «Каспийское море».
REGION_TYPES = frozenset(
    [
        "область",
        "район",
        "край",
        "республика",
        "округ",
        "провинция",
        "штат",
        "губерния",
        "море",
        "озеро",
        "залив",
        "океан",
        "пролив",
        "бухта",
        "коридор",
        "хребет",
        "полуостров",
        "пустыня",
        "долина",
        "водохранилище",
    ]
)
# The suffixes that make an adjective of a place's name: «керченский» (Керчь), «ваханский» (Вахан).
_ADJECTIVE_SUFFIX = re.compile(r"(?:енский|инский|ийский|ский|цкий|ий|ый|ой)$")
_COORDINATED = re.compile(r",?[ \u00a0]+(?:и|или|а\s+также)[ \u00a0]+|,[ \u00a0]+")  # «в Гродно и Бресте»
_OPENING = re.compile(r"[\s«\"„“(—–-]*$")  # what may stand between a sentence's start and its first word


@dataclass
class _Found:
    """A name found in a sentence before the people's names are weighed."""

    mention: Mention
    words: list[Word]
    person: bool = False  # a word the dictionary reads as a surname: kept only if the article places it
    after_place_noun: bool = False


@dataclass
class _Scan:
    found: list[_Found] = field(default_factory=list)
    adjectives: list[tuple[int, int, str]] = field(default_factory=list)
    adjective_mentions: list[Mention] = field(default_factory=list)
    located: set[str] = field(default_factory=set)  # lemmas the article puts after a locative preposition
    cue: tuple[int, str] = (-1, "")  # where the last name with a locative cue ended, and that cue


class RussianRecognizer:
    """Finds mentions in a Russian article; stateless apart from the gazetteer and word lists."""

    _shared: ClassVar[dict[int, RussianRecognizer]] = {}

    def __init__(self, gazetteer: Gazetteer, english: Recognizer | None = None) -> None:
        self.gazetteer = gazetteer
        self.english = english or Recognizer(gazetteer)  # adjectives' places, Latin names, the English lists
        self.lexicon: Lexicon = self.english.lexicon
        self.words: RussianWords = load()
        self.facilities = RussianFacilityFinder(self.words, self.lexicon, gazetteer)

    @classmethod
    def shared(cls, gazetteer: Gazetteer) -> RussianRecognizer:
        """One recogniser per gazetteer, so the word lists and the adjectives' places are read once."""
        found = cls._shared.get(id(gazetteer))
        if found is None or found.gazetteer is not gazetteer:
            found = cls._shared[id(gazetteer)] = cls(gazetteer)
        return found

    def recognize(self, article: Article) -> Recognition:
        text = article.text
        scan = _Scan()
        sentences = [words_of(text, sentence) for sentence in article.sentences]
        for sentence, words in zip(article.sentences, sentences, strict=True):
            self._scan_sentence(text, sentence, words, scan)
        mentions = [f.mention for f in scan.found if self._kept(f, scan.located)] + scan.adjective_mentions
        mentions.sort(key=lambda m: (m.start, -m.end))
        mentions += self.facilities.find(text, article, sentences, mentions)
        mentions.sort(key=lambda m: (m.start, -m.end))
        return Recognition(mentions, sorted(scan.adjectives))

    @staticmethod
    def _kept(found: _Found, located: set[str]) -> bool:
        """A surname-like name counts only where a place noun names it so, or the article places it."""
        return not found.person or found.after_place_noun or found.mention.lemma.lower() in located

    def _scan_sentence(self, text: str, sentence: Sentence, words: list[Word], scan: _Scan) -> None:
        """One sentence's names, longest first, and its adjectives."""
        i = 0
        while i < len(words):
            word = words[i]
            if not word.capitalized or word.text[0].isdigit() or is_function_word(word.text):
                self._adjective(text, sentence, words, i, scan)
                i += 1
            elif word.latin:
                i = self._latin_run(text, sentence, words, i, scan)
            else:
                i = self._cyrillic_run(text, sentence, words, i, scan)

    def _cyrillic_run(self, text: str, sentence: Sentence, words: list[Word], i: int, scan: _Scan) -> int:
        """The name starting at words[i], if any; the index of the next word to read."""
        end = i + 1
        while end < len(words) and end - i < MAX_NAME_WORDS and words[end].capitalized and not words[end].latin:
            if not joined(text, words[end - 1], words[end]):
                break
            end += 1
        run = words[i:end]
        if any(_first_name(w.text) for w in run) and len(run) > 1:
            return end  # «Сергей Шойгу», «Владимир Владимирович Путин»: a person
        opener = _OPENING.fullmatch(text, sentence.start, run[0].start) is not None
        typed = self._typed(text, words, end)
        for n in range(len(run), 0, -1):
            for size in (n + typed, n) if typed and n == len(run) else (n,):
                if size == 1 and (
                    self._adjective(text, sentence, words, i, scan)
                    or (opener and opens_as_common(run[0].text))
                    or is_adjective(run[0].text)
                ):
                    return i + 1  # «Российская ...», «Военная база ...», «Центрального военного округа»
                found = self._feature(text, words, i, size) or self._lookup(words[i : i + size])
                if found is not None:
                    form, places = found
                    scan.found.append(self._found(text, sentence, words, i, size, form, places, scan))
                    return i + size
        return i + 1

    @staticmethod
    def _typed(text: str, words: list[Word], end: int) -> int:
        """How many lower-case words after a run make it a region's name: its type, after at most one adjective
        («Ошской области», «Горно-Бадахшанской автономной области»); 0 when none."""
        for size in (1, 2):
            last = end + size - 1
            if last >= len(words) or not joined(text, words[last - 1], words[last]) or words[last].capitalized:
                return 0
            if lemma(words[last].text) in REGION_TYPES:
                return size
            if not is_adjective(words[last].text):
                return 0
        return 0

    def _feature(self, text: str, words: list[Word], i: int, size: int) -> tuple[str, list[Place]] | None:
        """A name after a feature noun («озера Балхаш», «реки Пяндж») is the feature, not the town of that name:
        looked up in its English forms ("Lake Balkhash", "Pyandzh River"), the name in Latin letters."""
        if i == 0 or not joined(text, words[i - 1], words[i]):
            return None
        templates = FEATURE_NOUNS.get(lemma(words[i - 1].text))
        if templates is None:
            return None
        texts = [w.text for w in words[i : i + size]]
        forms = [text[words[i].start : words[i + size - 1].end]] if size > 1 else list(word_nominatives(texts[0]))
        for form in forms:
            latin = anyascii(form).replace("'", "")
            for template in templates:
                places = [p for p in self.gazetteer.lookup(template.format(latin)) if p.precision != "settlement"]
                if places:
                    return form, places
        return None

    def _lookup(self, words: list[Word]) -> tuple[str, list[Place]] | None:
        """(the nominative that names a place, its places) for these words, or None."""
        texts = [w.text for w in words]
        if len(texts) == 1 and texts[0].isupper():
            # A word of four letters or more in capitals is first a dateline's or a headline's name («БИШКЕК,
            # 14 марта»); an acronym names a country or region («США», «ГБАО»), never an organisation («ОДКБ»).
            named = self._lookup([Word(words[0].start, words[0].end, texts[0].capitalize())])
            if named is not None and len(texts[0]) >= 4:
                return named
            places = [p for p in self.gazetteer.lookup(texts[0]) if p.precision in ("country", "region")]
            return (texts[0], places) if places else None
        if len(texts) == 1:
            forms = list(word_nominatives(texts[0]))
        else:
            forms = [f for f in (phrase_nominative(texts), " ".join(texts)) if f]
        found = [(form, places) for form in dict.fromkeys(forms) if (places := self.gazetteer.lookup(form))]
        if not found:
            return self._adjective_feature(texts) or self._transliterated(texts, forms)
        # Of the forms naming the same place first, the one most like its name («Самара», not the guess «Самар»).
        first = next((f for f in found if f[1][0].primary), found[0])
        same = [f for f in found if f[1][0].key == first[1][0].key]
        return max(same, key=lambda f: _likeness(f[0], f[1][0].name))

    def _transliterated(self, texts: list[str], forms: list[str]) -> tuple[str, list[Place]] | None:
        """A name the gazetteer lacks in Cyrillic and the dictionary does not know («Мургаб»), by its Latin
        transliteration (anyascii: "Murgab", one of GeoNames' Latin names of Murghob). Only a single word
        the dictionary knows as a geographic name or does not know at all, and not a person's: a guess, so
        only alternate names are taken, which the resolver places only by a preposition or the article's
        countries."""
        if len(texts) != 1 or not is_geographic(texts[0]) or is_person(texts[0]):
            return None
        for form in forms[:2]:
            places = [p for p in self.gazetteer.lookup(anyascii(form).replace("'", "")) if not p.primary]
            if places:
                return form, places
        return None

    def _adjective_feature(self, texts: list[str]) -> tuple[str, list[Place]] | None:
        """An adjective and a feature noun («Керченского пролива», «Ваханского коридора»): the feature named
        after the place the adjective comes from, in its English form ("Kerch Strait"), the place found by
        the adjective's stem («керченский» -> «Керчь»: Kerch) or, failing that, the stem in Latin letters."""
        noun = lemma(texts[-1])
        templates = FEATURE_NOUNS.get(noun) or REGION_NOUNS.get(noun) if len(texts) == 2 else None
        if templates is None or not is_adjective(texts[0]):
            return None
        stem = _ADJECTIVE_SUFFIX.sub("", lemma(texts[0]))
        names = [p.name for form in (stem, stem + "ь", stem + "а", stem + "я") for p in self.gazetteer.lookup(form)[:1]]
        names += [anyascii(stem).replace("'", "").title()]
        for name in dict.fromkeys(names):
            for template in templates:
                places = [p for p in self.gazetteer.lookup(template.format(name)) if p.precision != "settlement"]
                if places:
                    return phrase_nominative(texts) or " ".join(texts), places
        return None

    def _found(
        self,
        text: str,
        sentence: Sentence,
        words: list[Word],
        i: int,
        size: int,
        form: str,
        places: list[Place],
        scan: _Scan,
    ) -> _Found:
        """The mention a looked-up name makes, with what the rules weigh of it."""
        start, end = words[i].start, words[i + size - 1].end
        cue = LOCATIVE.search(text, max(sentence.start, start - 40), start)
        cue_before = f" {english_preposition(cue.group('prep'))} " if cue else ""
        if not cue and scan.cue[0] >= sentence.start and _COORDINATED.fullmatch(text, scan.cue[0], start):
            cue_before = scan.cue[1]  # «в Кундузе и Бадахшане»: the preposition governs both
        if cue_before:
            scan.located.add(form.lower())
            scan.cue = (end, cue_before)
        before = lemma(words[i - 1].text) if i > 0 and joined(text, words[i - 1], words[i]) else ""
        name = form
        # «провинции Латакия», but not «Навоийской области Узбекистана» (the noun is the adjective's; a country).
        of_adjective = i >= 2 and joined(text, words[i - 2], words[i - 1]) and is_adjective(words[i - 2].text)
        country = any(p.kind == "country" for p in places)
        if before in REGION_BEFORE and not words[i - 1].capitalized and not of_adjective and not country:
            name, cue_before = f"{before} {form}", " province of "  # «провинции Латакия»: the province
            places = self._with_regions(places)
        facility = all(p.precision == "facility" or (p.curated and self._facility_kind(p)) for p in places)
        mention = Mention(
            start, end, text[start:end], sentence.index,
            role="facility" if facility else "toponym",
            kind=self.lexicon.family(places[0].kind) if facility else "",
            candidates=places, fixed=True, lemma=name,
            weak=size == 1 and is_common(words[i].text) and not any(is_prominent(p) for p in places),
            cue_before=cue_before,
        )  # fmt: skip
        person = size == 1 and is_person(words[i].text) and not any(is_prominent(p) for p in places)
        return _Found(mention, words[i : i + size], person=person, after_place_noun=before in PLACE_NOUNS)

    def _with_regions(self, places: list[Place]) -> list[Place]:
        """The candidates with the regions of their English names in their countries («провинции Латакия»: the
        Russian name is the city's in the gazetteer, "Latakia" also the governorate's)."""
        if any(p.precision == "region" for p in places):
            return places
        regions = {
            r.key: r
            for p in places[:3]
            for r in self.gazetteer.lookup(p.name)
            if r.precision == "region" and r.country == p.country
        }
        return [*regions.values(), *places]

    def _facility_kind(self, place: Place) -> bool:
        return self.lexicon.family(place.kind) in self.lexicon.facility_kinds

    def _adjective(self, text: str, sentence: Sentence, words: list[Word], i: int, scan: _Scan) -> bool:
        """An adjective of a place at words[i] («российской», «киргизских»): a mention of role adjective."""
        word = words[i]
        if word.text[:3].lower() not in self.words.prefixes:
            return False
        found, entry = self._entry(word.text)
        if entry is None:
            return False
        following = lemma(words[i + 1].text) if i + 1 < len(words) else ""
        if following == "язык" or (following in REGION_TYPES and word.capitalized):
            return False  # «на киргизском языке»: a language; «Индийском океане», «Японское море»: a name
        english = self.lexicon.adjective_for(entry) if len(entry) == 2 and entry.isupper() else entry
        place = self.english.adjective_place(english) if english else None
        if place is None:
            return False
        scan.adjectives.append((word.start, word.end, self.lexicon.demonyms.get(english, "")))
        scan.adjective_mentions.append(
            Mention(word.start, word.end, word.text, sentence.index, role="adjective", candidates=[place],
                    fixed=True, lemma=found)
        )  # fmt: skip
        return True

    def _entry(self, word: str) -> tuple[str, str | None]:
        """(lemma, place) of a word read as an adjective of the list («антигуанской»: pymorphy2 guesses a noun
        first, but reads it as an adjective too) or as a people's noun («россияне»); ("", None) otherwise."""
        for reading in parses(word):
            if reading.tag.POS == "ADJF" and reading.normal_form in self.words.adjectives:
                return reading.normal_form, self.words.adjectives[reading.normal_form]
        for reading in parses(word):
            if reading.tag.POS == "NOUN" and reading.normal_form in self.words.demonyms:
                return reading.normal_form, self.words.demonyms[reading.normal_form]
        return "", None

    def _latin_run(self, text: str, sentence: Sentence, words: list[Word], i: int, scan: _Scan) -> int:
        """A Latin-script name in a Russian text ("Fort Bragg", "Washington"), looked up as English names are."""
        end = i + 1
        while end < len(words) and words[end].latin and end - i < 6 and joined(text, words[end - 1], words[end]):
            if not (words[end].capitalized or words[end].text in self.lexicon.connectors):
                break
            end += 1
        for n in range(end - i, 0, -1):
            last = words[i + n - 1]
            if not last.capitalized:
                continue
            surface = text[words[i].start : last.end]
            if n == 1 and surface in self.lexicon.stopwords:
                continue
            places = self.gazetteer.lookup(surface)
            if places:
                common = surface.lower() in self.lexicon.common_words
                cue = LOCATIVE.search(text, max(sentence.start, words[i].start - 40), words[i].start)
                mention = Mention(words[i].start, last.end, surface, sentence.index, candidates=places,
                                  weak=n == 1 and (common or not any(is_prominent(p) for p in places)),
                                  cue_before=f" {english_preposition(cue.group('prep'))} " if cue else "")  # fmt: skip
                scan.found.append(_Found(mention, words[i : i + n]))
                return i + n
        return end


def _first_name(word: str) -> bool:
    """A first name or a patronymic by the dictionary's most likely reading («Сергей», «Кужугетович»)."""
    found = parses(word)
    return bool(found) and bool({"Name", "Patr"} & found[0].tag.grammemes) and "Geox" not in found[0].tag


def _likeness(form: str, name: str) -> float:
    """How like a Cyrillic form is to a place's (Latin) name, in Latin letters."""
    return difflib.SequenceMatcher(None, anyascii(form).lower(), name.lower()).ratio()
