"""Made-up articles that follow one facility over time, for the place-page tests (no pytest here).

Three dated reports of the Kant air base, each saying something else of it (in operation in 2012, to
be handed over in 2019, handed over by 2023), and one without a date whose text denies any presence:
written into a seeds folder and built with the real pipeline (`newsmap build`).
"""

from __future__ import annotations

import json
from pathlib import Path

from newsmap.library.pipeline import build

KANT = "curated:kant-air-base"
KANT_SLUG = "curated-kant-air-base"
ARTICLES = {
    "kant-lease-2012": (
        "2012-09-20",
        "Russia extends its lease on the Kant air base",
        "BISHKEK, 20 September. Russian aircraft are based at the air base in Kant, and Moscow signed an "
        "agreement on Thursday to extend the lease for fifteen years, officials in Bishkek said.",
    ),
    "kant-handover-2019": (
        "2019-03-28",
        "Kyrgyzstan to take over the Kant air base",
        "BISHKEK, 28 March. The air base in Kant will be handed over to Kyrgyzstan next year, the two "
        "presidents agreed during talks in Bishkek.",
    ),
    "kant-drones-2023": (
        "2023-05",
        "New drones at Kant after the handover",
        "BISHKEK, 2 May. The air base in Kant was handed over to Kyrgyzstan in 2020, and Kyrgyz drones now "
        "fly from its runway, the defence ministry said.",
    ),
    "kant-denial-undated": (
        "",
        "A denial from Bishkek",
        "Officials deny that Russian troops remain at Kant Air Base.",
    ),
}
PUBLISHER = 'Test Wire <img src=x onerror="alert(1)">'  # untrusted text: shown as text everywhere


def write_articles(seeds: Path, articles: dict[str, tuple[str, str, str]] = ARTICLES) -> None:
    """`<slug>.txt` (title line, then the text) and `<slug>.json` (its metadata) for each article."""
    seeds.mkdir(parents=True, exist_ok=True)
    for slug, (published, title, text) in articles.items():
        (seeds / f"{slug}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        meta = {"title": title, "publisher": PUBLISHER, **({"published": published} if published else {})}
        (seeds / f"{slug}.json").write_text(json.dumps(meta), encoding="utf-8")


def build_places_library(root: Path) -> Path:
    """`root/seeds` with the articles above, built into `root/data/newsmap.db`; the database's path."""
    write_articles(root / "seeds")
    db = root / "data" / "newsmap.db"
    build(root / "seeds", root / "data", db_path=db, echo=lambda _: None)
    return db
