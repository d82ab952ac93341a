"""Rewrite the README's tables that code defines: the configuration (newsmap.settings.SETTINGS)
and the data dictionary (newsmap.schema). Tests check that the README matches; run this after
adding a setting or a column: `python tools/sync_readme.py`."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmap.schema import LOCATION_COLUMNS, MENTION_COLUMNS  # noqa: E402
from newsmap.settings import SETTINGS  # noqa: E402


def replace_table(text: str, after: str, header: str, rows: list[str]) -> str:
    """The first table with `header` after the line `after`, replaced by `rows`."""
    start = text.index(header, text.index(after))
    end = text.index("\n\n", start)
    return text[:start] + "\n".join([header, "|---|---|---|", *rows]) + text[end:]


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    text = replace_table(
        text, "## Configuration", "| Variable | Default | Meaning |",
        [f"| `{s.env}` | {f'`{s.default}`' if s.default else ''} | {s.meaning} |" for s in SETTINGS],
    )  # fmt: skip
    for heading, columns in (("### `locations.csv`", LOCATION_COLUMNS), ("### `mentions.csv`", MENTION_COLUMNS)):
        rows = [f"| `{c.name}` | {c.type} | {c.description} |" for c in columns]
        text = replace_table(text, heading, "| column | type | meaning |", rows)
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
