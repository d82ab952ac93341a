"""The rules that judge a name found in the text, one function each, asked in the order of `RULES`.

Each rule looks at one found name (`Name`) and returns a `Verdict`: None (no objection: the next
rule decides), `Drop` (not a mention, and why), or the `Mention` to make of it, which ends the
judging too. `Recognizer.judge` asks them in order; a name no rule objects to becomes a
`place_mention`. What each rule does, and why, is its docstring; `recognition` says what they
weed out together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from newsmap.geoparser.cues import (
    AMPERSAND_AFTER,
    AMPERSAND_BEFORE,
    CLOSED,
    HYPHEN_AFTER,
    HYPHEN_BEFORE,
    IN_PLACE,
    LANGUAGE_BEFORE,
    LOCATIVE,
    PRODUCT_YEAR,
    SUFFIXES,
    WORD_AFTER,
)
from newsmap.geoparser.mentions import ArticleWords, Drop, Mention, Name, Verdict
from newsmap.geoparser.tokens import joined

if TYPE_CHECKING:
    from newsmap.geoparser.recognition import Recognizer
# Each rule looks at one found name and returns a Verdict; `Recognizer.judge` asks them in the
# order of RULES, and a name no rule objects to becomes a `place_mention`.


def adjective_of_place(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Russian", "Kyrgyz", "Europeans": an adjective (or its plural) names its country or region.

    It is a mention of role "adjective": linked, exported and counted, so a country the article
    names only through its adjective is one of its places. The word list says which place, so
    no other rule applies. A language is no adjective: "(Chaldybar in Kyrgyz)", "speaks Russian".
    """
    if not name.adjective:
        return None
    after = name.text[name.last.end : name.last.end + 20]
    if LANGUAGE_BEFORE.search(name.cue) and (CLOSED.match(after) or not IN_PLACE.search(name.cue)):
        return Drop("a language")  # "(Chaldybar in Kyrgyz)", "she speaks Russian"
    return Mention(
        name.first.start,
        name.last.end,
        name.surface,
        name.sentence,
        role="adjective",
        candidates=name.places,
        fixed=True,
        cue_before=name.cue,
    )


def is_abbreviation_match(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """An abbreviation as written ("U.S.", "Louisville, Ky.") is a mention, and no other rule applies.

    The word list already says which place it is (case and periods matched), so the tests for
    people, acronyms and common words that guard ordinary names would only lose it.
    """
    if not name.abbreviation:
        return None
    first = name.first
    surface = name.text[first.start : name.end]
    return Mention(
        first.start,
        name.end,
        surface,
        name.sentence,
        candidates=name.places,
        cue_before=name.cue,
        cue_after=name.text[name.end : name.end + 40],
        fixed=True,
    )


def drop_stopword_or_title(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A lone stop word or title ("May", "Republic", "General") is never a place by itself in the news.

    GeoNames has places by those names, and by many other such words.
    """
    if name.single and (name.first.text in r.lexicon.stopwords or name.first.text in r.lexicon.titles):
        return Drop("a stop word or title")
    return None


def drop_known_person(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A lone word the article uses as a person's name ("according to Orlov") is that person.

    Unless the place is prominent or a place preposition puts it on the ground ("in Fargo").
    """
    if name.single and name.first.text in words.people and not (name.strong or IN_PLACE.search(name.cue)):
        return Drop("a person named earlier or later in the article")
    return None


NAMESAKE_KINDS = frozenset({"river", "lake", "mountain", "cape", "bay", "reservoir"})


def name_in_a_feature(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Cape Horn", "Lake Geneva", "the Strait of Kerch", "the Irtysh river": a place's name inside a feature's.

    The feature is what the text names, never a town or region of that name as such. The whole
    phrase is one mention: of a feature of that kind by the name (the curated rows), if the
    gazetteer has one; else of the feature placed at its namesake town (a cape, a mountain, a lake
    or a river named after a town lies near it; islands and straits are not named so), which only a
    town in the article's own countries can be
    (`local`: "Mount Sinjar" in an article about Iraq; never "Cape Horn" placed at a Horn in
    Austria); else the name is left out. The words come from `lexicon/feature_words.csv` ("Cape X",
    "X river", "Gulf of X").
    """
    found = _feature_phrase(r, name)
    if found is None:
        return None
    kinds, start, end = found
    named = [*name.places, *r.gazetteer.lookup(name.text[start:end])]  # "the Orange river": "Orange River"
    features = list({p.key: p for p in named if p.precision == "region" and p.kind in kinds}.values())
    # A river, lake, mountain or cape is often named after the town beside it; islands, seas and
    # straits are not ("the Virgin Islands" are not at a town called Virgin).
    towns = [p for p in name.places if p.precision == "settlement"] if kinds[0] in NAMESAKE_KINDS else []
    if not (features or towns):
        return Drop("part of a feature's name, not the place")
    return Mention(
        start,
        end,
        name.text[start:end],
        name.sentence,
        candidates=features or towns,
        fixed=True,
        local=not features,
        feature="" if features else kinds[0],
        cue_before=name.text[max(0, start - 40) : start],
        cue_after=name.text[end : end + 40],
    )


def _feature_phrase(r: Recognizer, name: Name) -> tuple[tuple[str, ...], int, int] | None:
    """(the feature kinds the words around the name give, where the phrase starts and ends), or None."""
    features, tokens, text = r.lexicon.feature_words, name.tokens, name.text
    if name.i > 0:
        word = tokens[name.i - 1]
        entry = features.get(word.text.lower())
        if entry and "before" in entry[1] and word.capitalized and joined(text, word, name.first):
            return entry[0], word.start, name.last.end  # "Cape Horn", "Lake Baikal"
        if word.text == "of" and name.i > 1:
            head = tokens[name.i - 2]
            entry = features.get(head.text.lower())
            spaced = text[head.end : word.start] == " " and text[word.end : name.first.start] == " "
            if entry and "of" in entry[1] and head.capitalized and spaced:
                return entry[0], head.start, name.last.end  # "the Strait of Kerch"
    after = WORD_AFTER.match(text, name.last.end)
    entry = features.get(after.group(1).lower()) if after and not name.last.possessive else None
    if entry and "after" in entry[1]:
        return entry[0], name.first.start, after.end(1)  # "the Irtysh river", "Kerch Strait"
    return None


def drop_designated_thing(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Butler County", "Wichita Drive", "the Panj river": a designator makes the name another thing.

    GeoNames' towns cannot place a county, a street or a river, so the name is left out, unless
    a curated entry holds it.
    """
    after = WORD_AFTER.match(name.text, name.last.end)
    if after and after.group(1).lower() in r.lexicon.designators and not any(p.curated for p in name.places):
        return Drop(f"a {after.group(1).lower()}, not the town")
    return None


def named_facility(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Kant Air Base": a place name before a capitalised facility kind is part of the facility's name.

    The text makes one mention, of the facility, located by the place name inside it.
    """
    if name.right_end == name.after:
        return None
    facility = r.facility_after.match(name.text, name.last.end)
    if not facility or not facility.group("kind")[0].isupper():
        return None
    first, end = name.first, facility.end("kind")
    anchor = Mention(first.start, name.last.end, name.surface, name.sentence, candidates=name.places)
    return Mention(
        first.start,
        end,
        name.text[first.start : end],
        name.sentence,
        role="facility",
        kind=r.lexicon.family(facility.group("kind")),
        anchors=[anchor],
    )


def place_in_organisation(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Moscow State University", "Bishkek City Council": the place an organisation is named after.

    A place name followed by capitalised words that end in an organisation word is part of that
    organisation's name. It is a mention of role "organisation": the organisation is at (or of)
    that place, which gives the article context too. A word that would be a place only by
    accident of the gazetteer ("Supreme Court", "Sam Houston University", "Sarah Bush Lincoln
    Hospital": a common word, a first name, a person's name) is no mention at all.
    """
    if name.runs.reach(name.after, name.right_end, r._no_org_head) == name.right_end:
        return None  # no organisation word among the capitalised words after the name
    first = name.first
    left = name.tokens[name.i - 1] if name.left_start < name.i else None
    plain = name.known or name.strong
    big = any(p.population >= 100_000 for p in name.places)
    if name.single and (
        (first.text.lower() in r.lexicon.common_words and not (plain or big))
        or first.text in r.lexicon.org_heads
        or (not plain and (first.text in r.lexicon.given_names or first.text in words.people))
    ):
        return Drop("part of an organisation's name")
    neighbour = left.text if left else ""
    person = neighbour in words.people or neighbour in r.lexicon.given_names
    if left and not plain and (person or (r.is_name_word(left) and not r.gazetteer.is_name(neighbour))):
        return Drop("part of an organisation named after a person")
    return Mention(
        first.start,
        name.last.end,
        name.surface,
        name.sentence,
        role="organisation",
        candidates=name.places,
        weak=name.single and not name.strong,
        cue_before=name.cue,
        cue_after=name.text[name.last.end : name.last.end + 40],
    )


def drop_company_or_product(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Stevens & Wilkinson", "Wal-Mart", "a 1995 Honda Accord": a firm's or a product's name, not a place.

    A name joined by "&" to another capitalised word names a firm; one joined by a hyphen to a
    word that is no place ("Wal-Mart", "Mubarak-Gore"), or to another hamlet, is a compound; a name
    after "a 1995" is a make of car. Prominent places keep their sense ("Tijuana & San Diego").
    """
    if name.strong:
        return None
    text, first, last = name.text, name.first, name.last
    before, after = text[max(0, first.start - 30) : first.start], text[last.end : last.end + 30]
    if AMPERSAND_BEFORE.search(before) or AMPERSAND_AFTER.match(after):
        return Drop("part of a firm's name")
    if PRODUCT_YEAR.search(before):
        return Drop("a product (a make of car) after its year")
    partner = HYPHEN_BEFORE.search(before) or HYPHEN_AFTER.match(after)
    if name.single and partner and len(partner.group("word")) > 1:
        word = partner.group("word")
        places = [p for p in r.gazetteer.lookup(word) if p.primary or p.curated]  # "Wal" is only an alternate name
        hamlets = all(p.population < 5_000 and p.primary and not p.curated for p in places) and all(
            p.population < 5_000 and not p.curated for p in name.places if p.primary
        )
        if r.lexicon.adjective(word) is None and (not places or hamlets):
            return Drop("part of a compound word")
    return None


def drop_person_right(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Jordan Dyer", "Christopher Steele": a place name before a surname is a person's (or a brand's) name.

    The next word counts as a surname when it could be a name and is no place name itself, or
    when the place name is a first name. The words are learnt as a person's, for lone uses later.
    """
    start, end = name.after, name.right_end  # the words joined on the right: tokens[start:end]
    if start == end:
        return None
    first, head = name.first, name.tokens[start]
    if head.text.isupper() and len(head.text) > 1:
        return None  # "Oxford GP", "Moscow CSTO": an acronym is no surname
    # A first name before a last word ("George Bush", "Keith Taylor Jr") makes a person even when
    # the surname is a common word; before a longer run ("Georgia National Guard") it takes a name.
    last = end - start == 1 or (end - start == 2 and name.tokens[start + 1].text in SUFFIXES)
    surname = r.could_be_surname(head) if last else r.is_name_word(head)
    given = name.single and first.text in r.lexicon.given_names and surname
    if given or (r.is_name_word(head) and not r.gazetteer.is_name(head.text)):
        if r.could_be_surname(first):  # the person's name: the first word, then the run after the name
            words.learn(name.runs, name.i, name.i + 1)
            words.learn(name.runs, start, name.runs.reach(start, end, r.could_be_surname))
        return Drop("part of a person's name")
    return None


def drop_person_left(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """ "Governor Jackson", "Christopher Steele", "Dmitry Orlov": a place name after a title is a person.

    So is a place name after a first name, or after another capitalised word that could be a
    name and is no place name. The words are learnt as a person's, for lone uses later.
    """
    start = name.left_start  # the words joined on the left: tokens[start : name.i]
    if start == name.i:
        return None
    neighbour = name.tokens[name.i - 1]
    given = neighbour.text in r.lexicon.given_names and neighbour.text not in r.lexicon.stopwords
    if (
        neighbour.text in r.lexicon.titles
        or given
        or (r.is_name_word(neighbour) and not r.gazetteer.is_name(neighbour.text))
    ):
        if r.could_be_surname(name.first):  # the person's name: the first word, then the run before it
            words.learn(name.runs, name.runs.reach_back(name.i - 1, start, r.could_be_surname), name.i + 1)
        return Drop("part of a person's name")
    return None


def drop_common_word(r: Recognizer, name: Name, words: ArticleWords) -> Verdict:
    """A common English word ("Normal was quiet", "Reading the report") counts only when it is plainly the place.

    That is: a country, state, continent or curated place; or a city of 100,000 or more, or one
    after a place preposition ("to Normal") or put on the ground elsewhere in the article ("in
    Normal."; one sense per article), in an article that never writes the word in lower case
    ("reading").
    """
    first = name.first
    lower = first.text.lower()
    if not name.single or first.text.isupper() or lower not in r.lexicon.common_words or name.known:
        return None
    big = any(p.population >= 100_000 for p in name.places)
    if lower in words.lower or not (big or LOCATIVE.search(name.cue) or name.surface in words.located):
        return Drop("a common word")
    return None


Rule: TypeAlias = Callable[["Recognizer", Name, ArticleWords], Verdict]
RULES: tuple[Rule, ...] = (
    adjective_of_place,
    is_abbreviation_match,
    drop_stopword_or_title,
    drop_known_person,
    name_in_a_feature,
    drop_designated_thing,
    named_facility,
    place_in_organisation,
    drop_company_or_product,
    drop_person_right,
    drop_person_left,
    drop_common_word,
)


def place_mention(r: Recognizer, name: Name) -> Mention:
    """The mention of a name no rule objected to; a name only facilities bear makes a facility mention.

    A lone word that names no prominent place is weak: the resolver wants context for it.
    """
    # Only facilities bear the name: airfields, and curated installations (some placed at their town).
    facility = all(p.precision == "facility" or (p.curated and _is_facility_kind(r, p.kind)) for p in name.places)
    # "Cape Horn", "Lake Placid": a feature's name that the gazetteer knows only as towns is a town only
    # where the article is ("local"); a town so called abroad is not meant.
    local = all(p.precision == "settlement" for p in name.places) and _feature_form(r, name)
    return Mention(
        name.first.start,
        name.last.end,
        name.surface,
        name.sentence,
        role="facility" if facility else "toponym",
        kind=r.lexicon.family(name.places[0].kind) if facility else "",
        candidates=name.places,
        weak=name.single and not name.strong,
        local=local,
        cue_before=name.cue,
        cue_after=name.text[name.last.end : name.last.end + 40],
    )


def _feature_form(r: Recognizer, name: Name) -> bool:
    """A name that begins or ends as a feature's does: "Cape Horn", "Lake Placid", "Grand Island"."""
    if name.single:
        return False
    first, last = (
        r.lexicon.feature_words.get(name.first.text.lower()),
        r.lexicon.feature_words.get(name.last.text.lower()),
    )
    return bool((first and "before" in first[1]) or (last and "after" in last[1]))


def _is_facility_kind(r: Recognizer, kind: str) -> bool:
    """ "military base", "naval test base": a kind the facility word list knows (a town's is not)."""
    return r.lexicon.family(kind) in r.lexicon.facility_kinds
