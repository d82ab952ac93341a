"""Made-up articles for the collections' tests, written here and built by the real pipeline.

Five short reports (not real ones) on Central Asia, published on different days, months and
years (one with no date at all), so that a collection's time control has something to step
through; `story_library` builds them into a folder as `newsmap build` does, with an editor and
an API token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from newsmap.accounts import add_token, add_user
from newsmap.library.pipeline import build
from newsmap.store import connect

PASSWORD = "correct horse battery"
EDITOR = "editor"

# slug -> (metadata, text); in no particular order, so that no test takes the order for granted
ARTICLES: dict[str, tuple[dict[str, str], str]] = {
    "ferry-to-baku": (
        {"title": "A new ferry links Aktau to Baku", "publisher": "Test Wire", "published": "2021"},
        "A new ferry links Aktau to Baku. The ferry sails from Aktau in Kazakhstan across the Caspian Sea "
        "to Baku in Azerbaijan twice a week, officials in Astana said.\n",
    ),
    "talks-in-tashkent": (
        {"title": "Ministers meet in Tashkent", "publisher": "Test Wire", "published": "2019-04-02"},
        "Ministers meet in Tashkent. Officials from Uzbekistan and Kyrgyzstan met in Tashkent on Tuesday "
        "to talk about water from the Syr Darya. Talks are expected in Bishkek next month.\n",
    ),
    "kant-air-base": (
        {"title": "More aircraft for Kant air base", "publisher": "Test Wire", "published": "2020-06"},
        "More aircraft for Kant air base. Russia will send more aircraft to its air base in Kant, east of "
        "Bishkek in Kyrgyzstan, the defence ministry in Moscow said.\n",
    ),
    "dushanbe-border": (
        {"title": "Troops gather near the Afghan border", "publisher": "Test Wire", "published": "2022-11-15"},
        "Troops gather near the Afghan border. Soldiers from the Russian base in Dushanbe, Tajikistan, "
        "held exercises near Panj, on the border with Afghanistan.\n",
    ),
    "osh-market": (
        {"title": "The bazaar of Osh reopens", "publisher": "Test Wire"},
        "The bazaar of Osh reopens. Traders in Osh, Kyrgyzstan, opened their stalls again on Monday; "
        "some came from Andijan in Uzbekistan.\n",
    ),
}
BY_DATE = ["talks-in-tashkent", "kant-air-base", "ferry-to-baku", "dushanbe-border", "osh-market"]


@dataclass(frozen=True)
class StoryLibrary:
    root: Path  # seeds/ and data/ (data/newsmap.db), as `newsmap build` makes them
    token: str  # the editor's API token

    @property
    def db(self) -> Path:
        return self.root / "data" / "newsmap.db"


def write_seeds(seeds: Path) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for slug, (meta, text) in ARTICLES.items():
        (seeds / f"{slug}.txt").write_text(text, encoding="utf-8")
        (seeds / f"{slug}.json").write_text(json.dumps(meta), encoding="utf-8")


def story_library(root: Path) -> StoryLibrary:
    """The five articles built into `root` (the real pipeline), with an editor and its API token."""
    write_seeds(root / "seeds")
    build(root / "seeds", root / "data", db_path=root / "data" / "newsmap.db", echo=lambda _: None)
    conn = connect(root / "data" / "newsmap.db")
    try:
        add_user(conn, EDITOR, PASSWORD)
        token = add_token(conn, EDITOR, "tests")
    finally:
        conn.close()
    return StoryLibrary(root, token)
