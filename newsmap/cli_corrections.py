"""`newsmap corrections ...`: an article's corrections, listed, or exported for its seed; and
the seed's corrections file itself.

`export` writes `<seeds>/<slug>.corrections.csv`, which `newsmap build` imports (by uid, once)
into any database it builds from that seeds folder: corrections made in one library travel with
the seeds to a fresh one. `list` shows an article's history as a table. Errors end the command
with exit status 1 and one line on stderr.

The file's format (`corrections_file`, `encode_corrections`, `read_corrections`) lives in
`newsmap.corrections`, so that the build reads exactly what this command writes.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from newsmap.atomic import atomic_write_bytes
from newsmap.cli import _DB, _fail, _settings
from newsmap.corrections import correction_records, corrections_file, encode_corrections
from newsmap.store import Store, StoreError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # never sent to a terminal: a note could hold escape codes
_WIDTHS = {"target": 28, "change": 48, "note": 40, "state": 40}


# --------------------------------------------------------------------------- the commands


_SEEDS = click.option(
    "--seeds", "seeds_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder of <slug>.txt articles, where the file is written (default: $NEWSMAP_SEEDS_DIR or ./seeds).",
)  # fmt: skip


@contextlib.contextmanager
def _article_store(db_path: Path | None, slug: str) -> Iterator[Store]:
    """The existing database, holding article `slug`; anything else ends the command."""
    path = db_path or _settings().db
    try:
        store = Store.open(path, create=False)
    except StoreError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{path}: cannot open ({error.strerror})")
    try:
        if store.info(slug) is None:
            _fail(f"no article {slug!r} in the library ({path})")
        yield store
    finally:
        store.close()


@click.group("corrections")
def corrections_group() -> None:
    """Editors' corrections of an article: list them, or export them beside its seed."""


@corrections_group.command("export")
@click.argument("slug")
@_SEEDS
@_DB
def corrections_export(slug: str, seeds_dir: Path | None, db_path: Path | None) -> None:
    """Write SLUG's corrections to <seeds>/SLUG.corrections.csv, which `newsmap build` imports."""
    folder = seeds_dir or _settings().seeds_dir
    with _article_store(db_path, slug) as store:
        info = store.info(slug)
        corrections = store.corrections(slug)
        data = encode_corrections(corrections, store.skipped(slug))
    if not folder.is_dir():
        _fail(f"{folder}: no such seeds folder")
    target = corrections_file(folder, slug)
    try:
        atomic_write_bytes(target, data)
    except OSError as error:
        _fail(f"{target}: cannot write ({error.strerror})")
    click.echo(f"wrote {len(corrections)} correction{'s' if len(corrections) != 1 else ''} of {slug} to {target}")
    if info is not None and info.source != "seed":
        click.echo(
            f"note: {slug} was added from the {info.source}, not from a seed: "
            f"`newsmap build` imports the file only beside a seed {slug}.txt",
            err=True,
        )


@corrections_group.command("list")
@click.argument("slug")
@_DB
def corrections_list(slug: str, db_path: Path | None) -> None:
    """Show SLUG's corrections, oldest first: seq, when, editor, target, field, old → new, note, state."""
    with _article_store(db_path, slug) as store:
        records = correction_records(store.corrections(slug), store.skipped(slug))
    if not records:
        click.echo(f"no corrections of {slug}", err=True)
        return
    for line in table(records):
        click.echo(line)


def table(records: list[dict[str, Any]]) -> list[str]:
    """The records (`correction_records`) as aligned text lines, a header first; long cells are cut."""
    rows = [
        {
            "seq": f"#{record['seq']}",
            "when": str(record["at"])[:16].replace("T", " "),
            "editor": record["editor"] or "-",
            "target": record["target"],
            "field": record["field"],
            "change": f"{_value(record['old'])} → {_value(record['new'])}",
            "note": record["note"] or "-",
            "state": record["state"],
        }
        for record in records
    ]
    header = {name: name if name != "change" else "old → new" for name in rows[0]}
    cells = [{name: _cell(value, _WIDTHS.get(name, 24)) for name, value in row.items()} for row in [header, *rows]]
    widths = {name: max(len(row[name]) for row in cells) for name in header}
    return ["  ".join(row[name].ljust(widths[name]) for name in header).rstrip() for row in cells]


def _value(text: str) -> str:
    """A JSON cell as it reads best: text without its quotes, null as -, objects compact."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cell(text: str, width: int) -> str:
    text = " ".join(_CONTROL.sub(" ", str(text)).split())
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    corrections_group(prog_name="newsmap corrections")
