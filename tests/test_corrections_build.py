"""Corrections and the build: they survive rebuilds (a changed gazetteer included), the ones that
no longer apply are reported and kept, and `newsmap corrections export` ships them beside the
seed so that a fresh database built from the seeds shows the same corrected rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsmap.article import find_articles
from newsmap.cli import main
from newsmap.corrections import CORRECTION_FIELDS, Correction, corrections_file, mention_target
from newsmap.geoparser.gazetteer import DEFAULT_CURATED
from newsmap.library.pipeline import BuildSummary, build
from newsmap.store import Store

from .conftest import SEED_SLUG, copy_article
from .payloads import FORMULAS, PAYLOADS

Rows = list[dict[str, Any]]
FILE = f"{SEED_SLUG}.corrections.csv"


def run_build(root: Path, data: str = "data", **options: Any) -> tuple[list[str], BuildSummary]:
    lines: list[str] = []
    summary = build(root / "seeds", root / data, db_path=root / data / "newsmap.db", echo=lines.append, **options)
    return lines, summary


def opened(root: Path, data: str = "data") -> Store:
    return Store.open(root / data / "newsmap.db", create=False)


def plan_of(*corrections: Correction):
    def plan(article, places: Rows, mentions: Rows) -> list[Correction]:
        return list(corrections)

    return plan


def place(rows: Rows, place_id: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["id"] == place_id), None)


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A folder with the first article as its only seed, built once."""
    copy_article(SEED_SLUG, tmp_path / "seeds")
    run_build(tmp_path)
    return tmp_path


def correct_some(root: Path) -> list[Correction]:
    """Three changes by two editors, one with every payload in its notes, and one undone."""
    store = opened(root)
    try:
        article = store.article(SEED_SLUG)
        start = article.text.index("southern capital")
        store.correct(SEED_SLUG, plan_of(Correction("place:osh", "name", "Osh city", "Osh", note=PAYLOADS[0])),
                      editor="alice")  # fmt: skip
        store.correct(SEED_SLUG, plan_of(
            Correction("place:ussr", "status", "gone", "dissolved 1991", note=" | ".join(PAYLOADS[1:])),
            Correction(mention_target(start, start + 16), "added", {"place": "osh"}, note=FORMULAS[0]),
        ), editor="bob")  # fmt: skip
        [kant] = store.correct(SEED_SLUG, plan_of(Correction("place:kant", "kind", "garrison town", "town")),
                               editor="alice").corrections  # fmt: skip
        store.correct(SEED_SLUG, plan_of(Correction("place:kant", "kind", "town", "garrison town", reverts=kant.seq)),
                      editor="alice")  # fmt: skip
        return store.corrections(SEED_SLUG)
    finally:
        store.close()


def test_the_seeds_corrections_file_is_not_an_article(root: Path):
    corrections_file(root / "seeds", SEED_SLUG).write_text(",".join(CORRECTION_FIELDS) + "\n", encoding="utf-8")
    assert [p.name for p in find_articles(root / "seeds")] == [f"{SEED_SLUG}.txt"]
    lines, summary = run_build(root)
    assert lines[0] == f"{SEED_SLUG}: unchanged" and not summary.warnings and not summary.skipped


def test_corrections_survive_a_rebuild_with_another_gazetteer(root: Path, tmp_path: Path):
    corrections = correct_some(root)
    curated = tmp_path / "gazetteer.csv"  # the curated file without its USSR row: the article's "USSR" is no place
    curated.write_text(
        "".join(line for line in DEFAULT_CURATED.read_text(encoding="utf-8").splitlines(keepends=True)
                if not line.startswith("ussr,")),
        encoding="utf-8",
    )  # fmt: skip
    lines, summary = run_build(root, force=True, curated_path=curated)
    store = opened(root)
    try:
        assert place(store.geoparsed(SEED_SLUG)[0], "ussr") is None  # the geoparse did change
        assert place(store.places(SEED_SLUG), "osh")["name"] == "Osh city"  # still corrected
        assert "Osh city" in (root / "data" / "locations.csv").read_text(encoding="utf-8")
        assert store.corrections(SEED_SLUG) == corrections  # none lost
        [ussr] = [c for c in corrections if c.target == "place:ussr"]
        assert store.skipped(SEED_SLUG) == [(ussr.seq, "no place 'ussr' in this article")]
    finally:
        store.close()
    line = f"{SEED_SLUG}: correction #{ussr.seq} could not be applied: no place 'ussr' in this article"
    assert line in lines and summary.warnings == [line]
    assert lines.index(line) < len(lines) - 1  # reported before the export's summary line
    lines, summary = run_build(root, curated_path=curated)  # unchanged: still reported, still kept
    assert lines[0] == f"{SEED_SLUG}: unchanged" and summary.warnings == [line]
    lines, summary = run_build(root, force=True)  # the USSR is back: so is its correction
    assert summary.warnings == [] and not any("could not be applied" in line for line in lines)
    store = opened(root)
    try:
        assert place(store.places(SEED_SLUG), "ussr")["status"] == "gone"
    finally:
        store.close()


def test_export_then_a_fresh_database_from_the_seeds_shows_the_same_rows(root: Path):
    corrections = correct_some(root)
    result = cli("corrections", "export", SEED_SLUG, "--seeds", root / "seeds", "--db", root / "data" / "newsmap.db")
    path = corrections_file(root / "seeds", SEED_SLUG)
    assert result.exit_code == 0
    assert result.stdout == f"wrote {len(corrections)} corrections of {SEED_SLUG} to {path}\n"
    text = path.read_text(encoding="utf-8")
    assert FORMULAS[0] in text.replace('""', '"') and "'=" not in text  # no formula escape: it must read back
    with path.open(encoding="utf-8", newline="") as handle:
        assert tuple(csv.DictReader(handle).fieldnames or ()) == CORRECTION_FIELDS
    run_build(root)  # writes the corrected rows to data/ (no new corrections to import)

    lines, summary = run_build(root, data="fresh")
    assert f"{SEED_SLUG}: {len(corrections)} corrections imported from {FILE}" in lines and not summary.warnings
    for name in ("locations.csv", "mentions.csv"):
        assert (root / "fresh" / name).read_bytes() == (root / "data" / name).read_bytes(), name
    fresh = opened(root, "fresh")
    try:
        imported = fresh.corrections(SEED_SLUG)
    finally:
        fresh.close()
    keep = ("target", "field", "old", "new", "editor", "at", "note", "uid", "seq", "action", "reverts")
    assert [[getattr(c, k) for k in keep] for c in imported] == [[getattr(c, k) for k in keep] for c in corrections]
    assert [c.note for c in imported][:3] == [PAYLOADS[0], " | ".join(PAYLOADS[1:]), FORMULAS[0]]

    lines, _ = run_build(root, data="fresh")
    assert lines[0] == f"{SEED_SLUG}: unchanged" and not any("imported" in line for line in lines)
    lines, _ = run_build(root, data="fresh", force=True)
    assert not any("imported" in line for line in lines)
    assert (root / "fresh" / "locations.csv").read_bytes() == (root / "data" / "locations.csv").read_bytes()


def test_every_payload_note_round_trips_exactly(root: Path):
    store = opened(root)
    try:
        for note in (*PAYLOADS, *FORMULAS, "  spaced  ", "line\nbreak", 'quote " and , comma'):
            store.correct(SEED_SLUG, plan_of(Correction("place:osh", "status", note[:50].strip() or "x", note=note)),
                          editor="=cmd|' /C calc'!A0")  # fmt: skip
        written = store.corrections(SEED_SLUG)
    finally:
        store.close()
    assert cli("corrections", "export", SEED_SLUG, "--seeds", root / "seeds", "--db", root / "data" / "newsmap.db"
               ).exit_code == 0  # fmt: skip
    run_build(root, data="fresh")
    fresh = opened(root, "fresh")
    try:
        read = fresh.corrections(SEED_SLUG)
    finally:
        fresh.close()
    assert [(c.note, c.editor, c.new) for c in read] == [(c.note, c.editor, c.new) for c in written]


HEADER = ",".join(CORRECTION_FIELDS)
OLD, NEW, BAD_CSV = '"""Osh"""', '"""Osh city"""', '"Osh"x'  # the old and new cells (JSON text, quoted)
GOOD = f"1,abc,1,place:osh,name,{OLD},{NEW},alice,2026-01-01T00:00:00+00:00,,0,applied"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("seq,uid,target\n1,a,place:osh\n", "missing columns action, field, old, new, editor, at"),
        (f"{HEADER}\n{GOOD.replace(OLD, BAD_CSV)}\n", "not valid CSV"),
        (f"{HEADER}\n{GOOD.replace(NEW, 'Osh city')}\n", "row 1: not a correction row"),
        (f"{HEADER}\n{GOOD.replace(',abc,', ',,')}\n", "row 1: no uid"),
        (f"{HEADER}\n{GOOD}\n{GOOD.replace('1,abc', '2,abc')}\n", "row 2: seq 2 or uid 'abc' is another row's too"),
        (f"{HEADER}\n{GOOD.replace('place:osh', 'osh')}\n", "row 1: target 'osh' is neither place:<id> nor"),
        (f"{HEADER}\n{GOOD.replace(',name,', ',colour,')}\n", "row 1: place:osh has no field 'colour'"),
        (f"{HEADER}\n{GOOD}\n1,2\n", "row 2: its cells do not match the header"),
        ("", "the file is empty"),
    ],
)
def test_a_malformed_corrections_file_is_a_warning_and_the_build_goes_on(root: Path, content: str, why: str):
    corrections_file(root / "seeds", SEED_SLUG).write_text(content, encoding="utf-8")
    lines, summary = run_build(root, force=True)
    [warning] = summary.warnings
    assert warning.startswith(f"warning: {SEED_SLUG}: {FILE} not imported: ") and why in warning, warning
    assert "\n" not in warning and warning in lines
    assert lines[0].startswith(f"{SEED_SLUG}: 18 places") and lines[-1].startswith("18 places")
    assert not summary.skipped
    store = opened(root)
    try:
        assert store.corrections(SEED_SLUG) == []
    finally:
        store.close()


def test_a_well_formed_file_imports_and_a_later_build_imports_nothing(root: Path):
    corrections_file(root / "seeds", SEED_SLUG).write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    lines, _ = run_build(root)
    assert lines[:2] == [f"{SEED_SLUG}: unchanged", f"{SEED_SLUG}: 1 correction imported from {FILE}"]
    assert "Osh city" in (root / "data" / "locations.csv").read_text(encoding="utf-8")
    lines, _ = run_build(root)
    assert not any("imported" in line for line in lines)


def test_list_shows_the_history_as_a_table(root: Path):
    correct_some(root)
    result = cli("corrections", "list", SEED_SLUG, "--db", root / "data" / "newsmap.db")
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["seq", "when", "editor", "target", "field", "old", "→", "new", "note", "state"]
    assert len(rows) == 5
    assert rows[0].startswith("#1  ") and "alice" in rows[0] and "place:osh" in rows[0] and "Osh → Osh city" in rows[0]
    assert rows[0].rstrip().endswith("applied") and "\x1b" not in result.output
    assert rows[3].rstrip().endswith("reverted") and rows[4].rstrip().endswith("reverts #4")
    assert '{"place":"osh"}' in rows[2]


def test_list_and_export_say_when_there_is_nothing(root: Path, tmp_path: Path):
    db = root / "data" / "newsmap.db"
    result = CliRunner().invoke(main, ["corrections", "list", SEED_SLUG, "--db", str(db)])
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == f"no corrections of {SEED_SLUG}\n"
    for command in (["list", "nope", "--db", str(db)], ["export", "nope", "--db", str(db), "--seeds", str(root)]):
        result = CliRunner().invoke(main, ["corrections", *command])
        assert result.exit_code == 1 and result.stderr == f"error: no article 'nope' in the library ({db})\n"
    result = CliRunner().invoke(main, ["corrections", "list", SEED_SLUG, "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and result.stderr.startswith("error: missing.db: no database yet")
    result = CliRunner().invoke(
        main, ["corrections", "export", SEED_SLUG, "--db", str(db), "--seeds", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == 1 and result.stderr == f"error: {tmp_path / 'nowhere'}: no such seeds folder\n"
    assert not (tmp_path / "nowhere").exists()


def test_the_database_and_seeds_default_to_the_settings(root: Path, monkeypatch):
    monkeypatch.chdir(root)
    monkeypatch.setenv("NEWSMAP_DB", str(root / "data" / "newsmap.db"))
    monkeypatch.setenv("NEWSMAP_SEEDS_DIR", "seeds")
    result = CliRunner().invoke(main, ["corrections", "export", SEED_SLUG])
    assert result.exit_code == 0 and result.stdout == f"wrote 0 corrections of {SEED_SLUG} to seeds/{FILE}\n"
    assert (root / "seeds" / FILE).read_text(encoding="utf-8") == ",".join(CORRECTION_FIELDS) + "\n"
