"""Regenerate the word lists in newsmap/geoparser/lexicon/ (run by hand; not part of the build).

- common_words.txt: the 5,000 most frequent English words (wordfreq's `top_n_list`), used to
  tell a capitalised common word ("March", "Reading") from a place name. Needs `pip install
  wordfreq` (its data: CC BY-SA 4.0, https://github.com/rspeer/wordfreq).
- demonyms.csv: country adjectives from countryinfo's `demonym` field, plus the hand-kept
  additions in demonyms_extra.csv. An adjective names no place, but it tells the resolver
  which countries an article is about.
- given_names.txt: the commonest first names of the US Census Bureau's 1990 name lists (public
  domain; shipped by `pip install names`). "Christopher Steele" and "Jordan Dyer" are people.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

LEXICON = Path(__file__).resolve().parent.parent / "newsmap" / "geoparser" / "lexicon"


def common_words() -> None:
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", 6000) if re.fullmatch(r"[a-z]+", w)][:5000]
    (LEXICON / "common_words.txt").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")


def demonyms() -> None:
    import countryinfo

    data_dir = Path(countryinfo.__file__).parent / "data"
    rows: dict[str, str] = {}
    for path in sorted(data_dir.glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        iso = (info.get("ISO") or {}).get("alpha2")
        for word in re.split(r"[,/]| and ", info.get("demonym") or ""):
            word = word.strip()
            if iso and word and word not in rows:
                rows[word] = iso
    with open(LEXICON / "demonyms_extra.csv", encoding="utf-8", newline="") as extra:
        for row in csv.DictReader(extra):
            rows[row["word"]] = row["country"]
    with open(LEXICON / "demonyms.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["word", "country"])
        writer.writerows(sorted(rows.items()))


def given_names(male: int = 800, female: int = 1200) -> None:
    import names

    folder = Path(names.__file__).parent
    chosen: set[str] = set()
    for file, count in (("dist.male.first", male), ("dist.female.first", female)):
        lines = (folder / file).read_text(encoding="ascii").splitlines()[:count]
        chosen.update(line.split()[0].capitalize() for line in lines if line.strip())
    header = "# First names (US Census Bureau 1990, public domain): a place name next to one is a person.\n"
    (LEXICON / "given_names.txt").write_text(header + "\n".join(sorted(chosen)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    common_words()
    demonyms()
    given_names()
