"""The dataset: schema checks with row numbers, atomic writes, determinism, the committed files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsmap import atomic
from newsmap.dataset import (
    LOCATION_FIELDS,
    Dataset,
    DatasetError,
    encode_csv,
    read_table,
    validate,
    write_table,
)
from newsmap.library.pipeline import build

from .conftest import ROOT, SEED_SLUG


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsmap", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120,
    )  # fmt: skip


def seed_texts(seeds: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")}


def test_committed_data_is_what_the_pipeline_builds_now(tmp_path):
    """The repository's data/ is the build of its seeds/, whatever seeds/ holds."""
    build(ROOT / "seeds", tmp_path, echo=lambda _: None)
    for name in ("locations.csv", "mentions.csv"):
        committed = (ROOT / "data" / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, f"{name} is stale: run make data"


def test_rebuild_is_byte_identical(workdir):
    result = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert result.returncode == 0, result.stderr
    first = (workdir / "data" / "locations.csv").read_bytes()
    again = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert (workdir / "data" / "locations.csv").read_bytes() == first
    assert "0 added, 0 changed, 0 removed" in again.stdout


def test_build_reports_progress_and_changes(workdir):
    rows = read_table(workdir / "data" / "locations.csv")
    rows[0]["lat"] = "1.00000"
    stale = [r for r in rows if r["id"] != "osh"] + [{**rows[1], "id": "atlantis"}]
    write_table(workdir / "data" / "locations.csv", stale, LOCATION_FIELDS)
    result = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "kyrgyzstan-russian-bases-2019: unchanged"  # in the database already: skipped by hash
    assert "3 facility, 8 settlement, 2 region, 5 country" in lines[-1]
    assert "1 added, 1 changed, 1 removed" in lines[-1]  # the exports are rewritten from the database
    forced = run_cli("build", "--force", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert forced.stdout.splitlines()[0].startswith("kyrgyzstan-russian-bases-2019: 18 places")
    (workdir / "seeds" / "kyrgyzstan-russian-bases-2019.json").write_text('{"title": "Renamed"}', encoding="utf-8")
    changed = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert changed.stdout.splitlines()[0].startswith("kyrgyzstan-russian-bases-2019: 18 places")  # metadata counts


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: (d / "seeds" / "kyrgyzstan-russian-bases-2019.txt").unlink(), "no .txt articles"),
        (lambda d: (d / "seeds" / "kyrgyzstan-russian-bases-2019.txt").write_bytes(b""), "the seed is empty"),
        (lambda d: (d / "seeds" / "kyrgyzstan-russian-bases-2019.txt").write_bytes(b"\xff\xfe\x00bad"), "not UTF-8"),
    ],
)
def test_bad_seed_fails_with_one_line_and_keeps_the_data(workdir, setup, message):
    before = (workdir / "data" / "locations.csv").read_bytes()
    setup(workdir)
    result = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert result.returncode == 1
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert (workdir / "data" / "locations.csv").read_bytes() == before


def test_unknown_geocoder_and_unwritable_output(workdir):
    result = run_cli(
        "build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"), "--geocoder", "google"
    )
    assert result.returncode == 1 and "unknown geocoder 'google'" in result.stderr
    blocker = workdir / "not-a-folder"
    blocker.write_text("x")
    result = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(blocker / "data"))
    assert result.returncode == 1 and "cannot create the data folder" in result.stderr
    (workdir / "data" / "locations.csv").unlink()
    (workdir / "data" / "locations.csv").mkdir()
    result = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(workdir / "data"))
    assert result.returncode == 1 and "is a folder" in result.stderr and "Traceback" not in result.stderr


def test_failed_write_leaves_the_previous_csv_intact(workdir, monkeypatch):
    target = workdir / "data" / "locations.csv"
    before = target.read_bytes()
    rows = read_table(target)

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_table(target, rows[:3], LOCATION_FIELDS)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_validate_accepts_the_built_data_and_sums_it_up(workdir):
    assert validate(workdir / "data", seed_texts(workdir / "seeds")) == []
    result = run_cli("validate", cwd=workdir)  # ./data and ./seeds by default
    assert result.returncode == 0 and "valid, 18 places, 66 mentions" in result.stdout
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["precision", "facility", "settlement", "region", "country", "all"]
    assert lines[-1].split() == ["all", "3", "8", "2", "5", "18"]


def test_dataset_as_a_pandas_frame(workdir):
    data = workdir / "data"
    frame = Dataset.load(data).frame()
    rows = read_table(data / "locations.csv")
    assert list(frame.index) == [(row["article"], row["id"]) for row in rows]
    assert str(frame["lat"].dtype) == "float64" and str(frame["mentions"].dtype) == "int64"
    assert frame.loc[(SEED_SLUG, "kant-air-base"), "precision"] == "facility"
    assert frame["mentions"].sum() == len(read_table(data / "mentions.csv"))


def test_validate_reports_every_problem_with_its_row(workdir):
    path = workdir / "data" / "locations.csv"
    rows = read_table(path)
    rows[0]["lat"] = "north"
    rows[1]["lon"] = "200"
    duplicate = rows[2]["id"] = rows[3]["id"]
    rows[4]["quote"] = "A sentence the article never wrote."
    rows[5]["precision"] = "street"
    rows[6]["mentions"] = "0"
    write_table(path, rows, LOCATION_FIELDS)
    result = run_cli("validate", "--data", str(workdir / "data"), "--seeds", str(workdir / "seeds"))
    assert result.returncode == 1
    for expected in (
        "row 1: lat 'north' is not a number",
        "row 2: lon 200 is outside [-180, 180]",
        f"row 4: id '{duplicate}' repeats row 3",
        "row 5: quote is not found verbatim",
        "row 6: precision 'street'",
        "row 7: mentions '0'",
    ):
        assert expected in result.stderr
    # Row 3 lost its id, so its mentions now point nowhere: reported too, with their rows.
    assert "mentions.csv row" in result.stderr and "is not in locations.csv" in result.stderr


def test_validate_reports_missing_columns_and_unreadable_files(workdir):
    path = workdir / "data" / "locations.csv"
    path.write_text("id,name\nx,y\n", encoding="utf-8")
    result = run_cli("validate", "--data", str(workdir / "data"), "--seeds", str(workdir / "seeds"))
    assert result.returncode == 1 and "header: missing columns: article_name" in result.stderr
    path.write_bytes(b"id,name\n\xff\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        Dataset.load(workdir / "data")
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="empty"):
        Dataset.load(workdir / "data")


def test_formula_cells_are_neutralised_but_numbers_are_not():
    row = dict.fromkeys(LOCATION_FIELDS, "x") | {
        "name": "=HYPERLINK(1)",
        "quote": "-1+2",
        "source": "@x",
        "lat": -12.5,
        "lon": 3.0,
        "mentions": 2,
    }
    safe = encode_csv([row], LOCATION_FIELDS, formula_safe=True).decode()
    assert "'=HYPERLINK(1)" in safe and "'-1+2" in safe and "'@x" in safe
    assert ",-12.50000,3.00000," in safe


def test_readme_data_dictionary_matches_the_schema():
    from newsmap.schema import LOCATION_COLUMNS, MENTION_COLUMNS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for heading, columns in (("### `locations.csv`", LOCATION_COLUMNS), ("### `mentions.csv`", MENTION_COLUMNS)):
        section = readme.split(heading, 1)[1].split("###", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert rows == [f"| `{c.name}` | {c.type} | {c.description} |" for c in columns]


def test_build_with_data_keeps_its_database_in_that_folder(workdir, tmp_path):
    """`--data DIR` brings `DIR/newsmap.db`: a build elsewhere never writes the current folder's database."""
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = run_cli("build", "--seeds", str(workdir / "seeds"), "--data", str(tmp_path / "out"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "newsmap.db").exists() and not (elsewhere / "data").exists()
