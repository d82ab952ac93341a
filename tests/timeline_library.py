"""Made-up articles for the library's time filter (no pytest here), written into a seeds folder and
built with the real pipeline (`newsmap build`).

Their dates cover every precision: a month (December 2018), a year (2019), a day (28 March 2019), a
month inside that year (June 2019), a day of the next year, a later year, and one article without a
date. Bishkek is named by three of them, so the library map shows it once, counted three times.
"""

from __future__ import annotations

import json
from pathlib import Path

from newsmap.library.pipeline import build

# slug -> (published, title, text)
ARTICLES: dict[str, tuple[str, str, str]] = {
    "bishkek-winter": ("2018-12", "Snow closes the roads around Bishkek",
                       "Heavy snow closed the roads around Bishkek, Kyrgyzstan, on Monday, officials said."),
    "osh-bazaar": ("2019", "The bazaar of Osh in the year of its anniversary",
                   "Traders in Osh, Kyrgyzstan, marked the anniversary of the bazaar; many came from Bishkek."),
    "tashkent-talks": ("2019-03-28", "Ministers meet in Tashkent",
                       "Officials from Uzbekistan and Kyrgyzstan met in Tashkent on Thursday to talk about water."),
    "almaty-summit": ("2019-06", "A summit in Almaty",
                      "Leaders met in Almaty, Kazakhstan, in June to talk about trade and the railway."),
    "dushanbe-floods": ("2020-01-15", "Floods near Dushanbe",
                        "Floods closed the road between Dushanbe and Khujand in Tajikistan on Wednesday."),
    "aktau-port": ("2021", "A new quay at Aktau",
                   "The port of Aktau in Kazakhstan opened a new quay; ships sail on to Bishkek's partners in Baku."),
    "naryn-undated": ("", "A market day in Naryn",
                      "Farmers brought their sheep to the market in Naryn, Kyrgyzstan."),
}


def write_articles(seeds: Path, articles: dict[str, tuple[str, str, str]] = ARTICLES) -> None:
    """`<slug>.txt` (title line, then the text) and `<slug>.json` (its metadata) for each article."""
    seeds.mkdir(parents=True, exist_ok=True)
    for slug, (published, title, text) in articles.items():
        (seeds / f"{slug}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        meta = {"title": title, "publisher": "Test Wire", **({"published": published} if published else {})}
        (seeds / f"{slug}.json").write_text(json.dumps(meta), encoding="utf-8")


def build_timeline_library(root: Path) -> Path:
    """`root/seeds` with the articles above, built into `root/data/newsmap.db`; the database's path."""
    write_articles(root / "seeds")
    db = root / "data" / "newsmap.db"
    build(root / "seeds", root / "data", db_path=db, echo=lambda _: None)
    return db
