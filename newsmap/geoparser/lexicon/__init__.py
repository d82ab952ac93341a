"""Word lists the recogniser reads: generic English knowledge, nothing about one article.

Each file says in its header why it exists; `tools/build_lexicon.py` regenerates the two that
come from other sources (common words from wordfreq, demonyms from countryinfo). The CSV files
have a header row instead, except place_adjectives.csv (adjectives of continents, regions and a
former country), whose "#" lines say where its forms come from.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _words(name: str) -> frozenset[str]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class Lexicon:
    common_words: frozenset[str]  # lower case
    stopwords: frozenset[str]  # capitalised words that are never a place on their own
    titles: frozenset[str]  # words before a person's name
    org_heads: frozenset[str]  # words that end an organisation's name
    connectors: frozenset[str]  # lower-case words inside multi-word names
    demonyms: dict[str, str]  # "Kyrgyz" -> "KG" ("" when no single country)
    facility_kinds: dict[str, tuple[str, bool]]  # "airfield" -> ("air base", military)
    owned_kinds: frozenset[str]  # "base": a facility only after an owner or a unit number ("Russia's base")
    route_kinds: dict[str, str]  # "railroad" -> "railway"
    given_names: frozenset[str]  # "Christopher": the word after it is a surname
    designators: frozenset[str]  # lower case: "county", "street", "river" after a name
    abbreviations: dict[str, tuple[str, str, bool]]  # "Ky." -> ("Kentucky", "US state", only after a comma)
    place_adjectives: dict[str, tuple[str, str]]  # "European" -> ("Europe", "continent"): not a country's
    # "cape" -> (kinds of feature it names, the first its own; where it stands: "before" the name, "after"
    # it, or "of" before it)
    feature_words: dict[str, tuple[tuple[str, ...], frozenset[str]]]

    def adjective_for(self, country: str) -> str:
        """The shortest adjective for a country: RU -> "Russian", KG -> "Kyrgyz"."""
        words = sorted((w for w, c in self.demonyms.items() if c == country), key=lambda w: (len(w), w))
        return words[0] if words else ""

    def adjective(self, word: str) -> str | None:
        """The word's demonym entry as written, plurals too ("Russians" -> "Russian"), or None."""
        if word in self.demonyms or word in self.place_adjectives:
            return word
        stem = word[:-1] if word.endswith("s") else ""
        if stem in self.demonyms or stem in self.place_adjectives:
            return stem
        return None

    def family(self, kind: str) -> str:
        """The facility family of a kind as written or curated ("naval test base" -> "naval base")."""
        entry = self.facility_kinds.get(kind.lower())
        return entry[0] if entry else self.route_kinds.get(kind.lower(), kind.lower())


@cache
def load() -> Lexicon:
    with open(HERE / "demonyms.csv", encoding="utf-8", newline="") as handle:
        demonyms = {row["word"]: row["country"] for row in csv.DictReader(handle)}
    with open(HERE / "facility_kinds.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    facilities = {row["phrase"]: (row["kind"], row["military"] == "yes") for row in rows}
    owned = frozenset(row["phrase"] for row in rows if row["alone"] == "no")
    with open(HERE / "route_kinds.csv", encoding="utf-8", newline="") as handle:
        routes = {row["word"]: row["kind"] for row in csv.DictReader(handle)}
    with open(HERE / "abbreviations.csv", encoding="utf-8", newline="") as handle:
        abbreviations = {
            row["surface"]: (row["name"], row["kind"], row["after_comma"] == "yes") for row in csv.DictReader(handle)
        }
    with open(HERE / "place_adjectives.csv", encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        place_adjectives = {row["word"]: (row["name"], row["kind"]) for row in csv.DictReader(lines)}
    with open(HERE / "feature_words.csv", encoding="utf-8", newline="") as handle:
        feature_words = {
            row["word"]: (tuple(row["kinds"].split(";")), frozenset(row["where"].split(";")))
            for row in csv.DictReader(handle)
        }
    return Lexicon(
        common_words=_words("common_words.txt"),
        stopwords=_words("stopwords.txt"),
        titles=_words("titles.txt"),
        org_heads=_words("org_heads.txt"),
        connectors=_words("connectors.txt"),
        demonyms=demonyms,
        facility_kinds=facilities,
        owned_kinds=owned,
        route_kinds=routes,
        given_names=_words("given_names.txt"),
        designators=_words("designators.txt"),
        abbreviations=abbreviations,
        place_adjectives=place_adjectives,
        feature_words=feature_words,
    )
