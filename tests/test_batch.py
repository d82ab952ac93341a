"""`newsmap geoparse IN.jsonl`: many articles in, one JSON line each out, the same on one process or a Dask cluster.

The tests marked `processes` start real processes: the command itself (a subprocess), a local
Dask cluster of 2 worker processes, and a cluster the test starts for --scheduler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmap.library import batch
from newsmap.library.batch import geoparse_command

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"start", "end", "text", "name", "lat", "lon", "precision", "role"}

# Short texts written for these tests; a blank line between them is skipped, "title" is ignored.
ARTICLES = [
    {
        "id": "floods",
        "title": "ignored",
        "text": "Flooding hit Lyon on Monday. Officials in Paris said the river would peak on Friday.",
    },
    {"id": 42, "text": "The talks moved from Geneva to Vienna, where the delegates met again in March."},
    {"id": "none", "text": "Nothing here names a place: only a note about the weather and the markets."},
    # A character outside the BMP first (offsets count code points) and a zero-width space inside "Moscow".
    {"id": "unicode", "text": "🌍 Reporters in Nairobi said crowds in Kraków and Mos\u200bcow had gathered too."},
]
# The mentions as written, and where each place is (lat, lon): names are the gazetteer's to choose.
EXPECTED = {
    "floods": {"Lyon": (45.75, 4.85), "Paris": (48.85, 2.35)},
    42: {"Geneva": (46.2, 6.15), "Vienna": (48.21, 16.37)},
    "none": {},
    "unicode": {"Nairobi": (-1.28, 36.82), "Kraków": (50.06, 19.94), "Mos\u200bcow": (55.75, 37.62)},
}


def write_input(path: Path) -> Path:
    lines = [json.dumps(doc, ensure_ascii=False) for doc in ARTICLES]
    path.write_text("\n".join([*lines[:2], "", *lines[2:]]) + "\n", encoding="utf-8")
    return path


def parse(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def run_in_process(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(geoparse_command, [str(a) for a in args], env=env, catch_exceptions=False)


def newsmap_geoparse() -> list[str]:
    """The command line: `python -m newsmap geoparse` once the CLI registers it, the command object until then."""
    from newsmap.cli import main

    if "geoparse" in main.commands:
        return [sys.executable, "-m", "newsmap", "geoparse"]
    code = "from newsmap.library.batch import geoparse_command; geoparse_command(prog_name='newsmap geoparse')"
    return [sys.executable, "-c", code]


def run_command(*args: str, cwd: Path, tmpdir: Path) -> subprocess.CompletedProcess[str]:
    """The command in its own process, from `cwd`, with its temporary files (Dask's too) under `tmpdir`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmpdir)}
    return subprocess.run(
        [*newsmap_geoparse(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=90, check=False
    )


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> tuple[Path, str]:
    """The input file and the output of one process (the reference the clusters must match)."""
    source = write_input(tmp_path_factory.mktemp("batch") / "in.jsonl")
    result = run_in_process(source)
    assert result.exit_code == 0, result.output
    return source, result.stdout


def test_one_line_per_article_in_input_order_with_every_field(one_process):
    _, output = one_process
    rows = parse(output)
    assert [row["id"] for row in rows] == [doc["id"] for doc in ARTICLES]  # blank line skipped, 42 stays a number
    texts = {doc["id"]: doc["text"] for doc in ARTICLES}
    for row in rows:
        assert set(row) == {"id", "language", "toponyms"} and row["language"] == "en"
        assert [t["text"] for t in row["toponyms"]] == list(EXPECTED[row["id"]])
        starts = [t["start"] for t in row["toponyms"]]
        assert starts == sorted(starts)
        for toponym in row["toponyms"]:
            assert set(toponym) == FIELDS
            assert texts[row["id"]][toponym["start"] : toponym["end"]] == toponym["text"]
            lat, lon = EXPECTED[row["id"]][toponym["text"]]
            assert abs(toponym["lat"] - lat) < 0.2 and abs(toponym["lon"] - lon) < 0.2, toponym
            assert isinstance(toponym["name"], str) and toponym["name"]
            assert isinstance(toponym["role"], str) and toponym["role"]  # toponym, facility, adjective, ...
            assert toponym["precision"] in ("facility", "settlement", "region", "country")
            assert -90 <= toponym["lat"] <= 90 and -180 <= toponym["lon"] <= 180
    nairobi, _, moscow = rows[3]["toponyms"]
    assert (nairobi["start"], nairobi["end"]) == (15, 22)  # 🌍 is one character, not two
    assert moscow["name"] != moscow["text"]  # the zero-width space is in the mention, not in the place's name


def test_dash_reads_stdin(one_process):
    source, expected = one_process
    result = CliRunner().invoke(geoparse_command, ["-"], input=source.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


def test_out_writes_the_file_and_the_progress_goes_to_stderr(one_process, tmp_path):
    source, expected = one_process
    out = tmp_path / "out.jsonl"
    result = run_in_process(source, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Geoparsing" in result.stderr
    assert out.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "text": "Paris"', "in.jsonl:3: not JSON ("),
        ('["a", "Paris"]', 'in.jsonl:3: a line must be a JSON object with an "id" and a "text"'),
        ('{"id": "a"}', 'in.jsonl:3: the object has no "text"'),
        ('{"text": "Paris"}', 'in.jsonl:3: the object has no "id"'),
        ('{"id": "a", "text": 7}', 'in.jsonl:3: "text" must be text, not a number'),
        ('{"id": null, "text": "Paris"}', 'in.jsonl:3: "id" must be text or an integer, not null'),
    ],
)
def test_a_bad_line_stops_the_command_naming_its_line_and_nothing_is_written(tmp_path, line, message):
    good = json.dumps(ARTICLES[0])
    source = tmp_path / "in.jsonl"
    source.write_text(f"{good}\n\n{line}\n{good}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_in_process(source, "--out", out)
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error: {source}:3: ")
    assert message in errors[0]
    assert result.stdout == "" and not out.exists()


def test_an_article_over_the_limits_keeps_its_line_with_an_error(tmp_path):
    source = write_input(tmp_path / "in.jsonl")
    result = run_in_process(source, env={"NEWSMAP_MAX_ARTICLE_KB": "0.079"})  # two texts are longer
    assert result.exit_code == 1
    rows = parse(result.stdout)
    assert [row["id"] for row in rows] == [doc["id"] for doc in ARTICLES]
    failed = [row for row in rows if "error" in row]
    assert [row["id"] for row in failed] == ["floods", "unicode"]
    assert all(row["toponyms"] == [] and "NEWSMAP_MAX_ARTICLE_KB" in row["error"] for row in failed)
    assert rows[1]["toponyms"] and "2 of 4 articles not geoparsed" in result.stderr


def test_a_bad_gazetteer_is_one_line(tmp_path):
    source = write_input(tmp_path / "in.jsonl")
    result = run_in_process(source, env={"NEWSMAP_GAZETTEER": str(tmp_path / "missing.csv")})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'missing.csv'}: cannot read")


def test_registering_the_command_loads_neither_the_geoparser_nor_dask():
    code = (
        "import sys, newsmap.library.batch; "
        "print([m for m in sys.modules if m.startswith(('dask', 'distributed', 'newsmap.geoparser', 'newsmap.library.', 'geopy', 'numpy'))])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['newsmap.library.batch']", done.stderr


def test_workers_and_scheduler_exclude_each_other(tmp_path):
    source = write_input(tmp_path / "in.jsonl")
    result = run_in_process(source, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "give one of them" in result.stderr


def test_an_unreachable_scheduler_is_one_line(tmp_path, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setattr(batch, "CONNECT_TIMEOUT", "1s")
    source = write_input(tmp_path / "in.jsonl")
    address = f"tcp://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(geoparse_command, [str(source), "--scheduler", address])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot reach the Dask scheduler at {address}")


@pytest.mark.processes
def test_two_worker_processes_give_the_same_output_and_leave_no_files(one_process, tmp_path):
    """A real LocalCluster of 2 processes, started by the command in its own process, with no dashboard.

    Compared with the command on one process run just before it (both read the geoparser's files as they are now).
    """
    source, _ = one_process
    work, scratch = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    single = run_command(str(source), "--out", "one.jsonl", cwd=work, tmpdir=scratch)
    assert single.returncode == 0, single.stderr
    result = run_command(str(source), "--workers", "2", "--out", "two.jsonl", cwd=work, tmpdir=scratch)
    assert result.returncode == 0, result.stderr
    assert (work / "two.jsonl").read_text(encoding="utf-8") == (work / "one.jsonl").read_text(encoding="utf-8")
    assert [row["id"] for row in parse((work / "two.jsonl").read_text(encoding="utf-8"))] == [d["id"] for d in ARTICLES]
    assert sorted(p.name for p in work.iterdir()) == ["one.jsonl", "two.jsonl"]
    assert list(scratch.iterdir()) == []  # the cluster's scratch folder is removed
    assert "Traceback" not in result.stderr


@pytest.mark.processes
def test_scheduler_runs_on_a_cluster_the_test_starts(one_process, tmp_path):
    """A cluster of 1 worker (in this process's threads) serving TCP on the loopback address; the command connects."""
    import dask
    from distributed import LocalCluster

    source, expected = one_process
    with dask.config.set({"temporary-directory": str(tmp_path)}), LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, local_directory=str(tmp_path / "dask"),
    ) as cluster:  # fmt: skip
        result = run_command(str(source), "--scheduler", cluster.scheduler_address, cwd=tmp_path, tmpdir=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected
        assert cluster.scheduler.transition_counter > 0  # the work ran there
