"""Throughput and memory of `newsmap geoparse` at 1 and 2 worker processes -> bench/out/batch.json.

The input is every article of the corpus dev slices (257), repeated to about 1,000 (each copy
with its own id) so a run lasts several seconds. The baseline, measured in this same run and
process: `geoparse_partition` called here, in process, on the same articles (a cold pass over the
257, then the best of REPEATS warm passes over all of them: what one process does once its caches
are filled).

Each command runs as a user runs it (`newsmap geoparse IN --out OUT [--workers 2]`, a fresh
process each time), REPEATS times, the configurations taking turns; the best is reported. Its
articles/s are given over the whole wall clock and net of the start-up, which is measured with a
one-article input of the same configuration (interpreter, imports, gazetteer, and for 2 workers
the Dask cluster). The peak RSS is the largest sum, sampled every 20 ms, of the resident memory
of the command's process and all its descendants (the scheduler and the nannies run in the
command's process; the worker processes and multiprocessing's resource tracker are its children).
The sum counts pages shared between processes once per process, so it errs high.

Targets: at least 100 articles/s warm in one process; a peak RSS of at most 600 MiB for each
configuration; the same output at 1 and 2 workers.

Usage: python bench/batch.py [CORPUS_DIR]   (default ../shared/corpus)
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # newsmap is not installed into the venv: the scripts run from the repo

import psutil  # noqa: E402 (distributed's dependency)
from common import exit_status  # noqa: E402
from pipeline_common import CORPORA, DEFAULT_CORPUS, write_report  # noqa: E402

from newsmap.library.batch import geoparse_partition  # noqa: E402
from newsmap.settings import Settings  # noqa: E402

TARGET_ARTICLES = 1000
REPEATS = 3
SAMPLE_SECONDS = 0.02
RATE_TARGET = 100.0  # articles/s, warm, one process
RSS_TARGET_MIB = 600
WORKERS = (1, 2)
COLUMNS = ["run", "articles", "seconds", "articles/s", "articles/s net of start-up", "start-up s", "peak RSS MiB",
           "processes"]  # fmt: skip


def geoparse_argv() -> list[str]:
    """`python -m newsmap geoparse` once the CLI registers it; the command object itself until then."""
    from newsmap.cli import main

    if "geoparse" in main.commands:
        return [sys.executable, "-m", "newsmap", "geoparse"]
    code = "from newsmap.library.batch import geoparse_command; geoparse_command(prog_name='newsmap geoparse')"
    return [sys.executable, "-c", code]


def load_articles(corpus: Path) -> list[tuple[str, str, str]]:
    """(id, text, language: "" to detect) of every dev article, in corpus order."""
    articles = []
    for name in CORPORA:
        with (corpus / f"{name}.dev.jsonl").open(encoding="utf-8") as handle:
            articles += [(doc["id"], doc["text"], "") for doc in map(json.loads, handle) if doc]
    return articles


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    """Summed RSS (bytes) of a process and its descendants, and how many processes that is."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    total = count = 0
    for member in members:
        try:
            total += member.memory_info().rss
            count += 1
        except psutil.Error:
            continue
    return total, count


def run_command(source: Path, out: Path, workers: int) -> dict[str, Any]:
    """One run of the command, with its wall clock and the peak RSS of its process tree."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [*geoparse_argv(), str(source), "--out", str(out), "--workers", str(workers)]
    peak = [0, 0]
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(child.pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss, count = tree_rss(watched)
            if rss > peak[0]:
                peak[:] = [rss, count]
            stop.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = child.communicate(timeout=1800)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` failed ({child.returncode}):\n{stderr[-2000:]}")
    return {"seconds": seconds, "rss": peak[0], "processes": peak[1]}


def fingerprint(curated: str) -> str:
    """The hash of what the output depends on (geoparser code, word lists, curated gazetteer)."""
    from newsmap.library.pipeline import build_fingerprint

    return build_fingerprint(Path(curated), "offline")


def write_jsonl(path: Path, articles: list[tuple[str, str, str]]) -> None:
    """`newsmap geoparse`'s input: a line per article, with its language when one is given."""
    with path.open("w", encoding="utf-8") as handle:
        for doc_id, text, language in articles:
            record = {"id": doc_id, "text": text, **({"language": language} if language else {})}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    missing = [f"{name}.dev.jsonl" for name in CORPORA if not (corpus / f"{name}.dev.jsonl").exists()]
    if missing:
        raise SystemExit(f"{corpus}: not the corpus folder (missing {', '.join(missing)})")
    distinct = load_articles(corpus)
    copies = max(1, round(TARGET_ARTICLES / len(distinct)))
    articles = [(f"{doc_id}#{copy}", text, lang) for copy in range(copies) for doc_id, text, lang in distinct]
    settings = Settings.from_env()
    limits = (int(settings.max_article_kb * 1000), settings.max_places, settings.max_mentions)
    args = (str(settings.gazetteer), str(settings.cache_dir), limits)

    before = fingerprint(args[0])
    load_before = os.getloadavg()[0]
    # The baseline: the same function, in this process.
    started = time.perf_counter()
    geoparse_partition(distinct, *args)
    cold = time.perf_counter() - started
    warm = math.inf
    for _ in range(REPEATS):
        started = time.perf_counter()
        geoparse_partition(articles, *args)
        warm = min(warm, time.perf_counter() - started)
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows: list[list[Any]] = [
        ["in process, cold (first pass)", len(distinct), round(cold, 2), round(len(distinct) / cold, 1), None, None,
         None, 1],
        ["in process, warm", len(articles), round(warm, 2), round(len(articles) / warm, 1), None, None,
         round(own_rss / 2**20), 1],
    ]  # fmt: skip
    warm_rate = len(articles) / warm

    outputs: dict[int, bytes] = {}
    measured: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="newsmap-bench-batch-") as folder:
        source, single = Path(folder) / "in.jsonl", Path(folder) / "one.jsonl"
        write_jsonl(source, articles)
        write_jsonl(single, articles[:1])
        startups: dict[int, list[float]] = {workers: [] for workers in WORKERS}
        runs: dict[int, list[dict[str, Any]]] = {workers: [] for workers in WORKERS}
        for _ in range(REPEATS):  # the configurations take turns, so a busy moment is shared between them
            for workers in WORKERS:
                startups[workers].append(run_command(single, Path(folder) / "one-out.jsonl", workers)["seconds"])
                runs[workers].append(run_command(source, Path(folder) / f"out-{workers}.jsonl", workers))
                outputs.setdefault(workers, (Path(folder) / f"out-{workers}.jsonl").read_bytes())
        for workers in WORKERS:
            best = min(runs[workers], key=lambda run: run["seconds"])
            best["startup"] = min(startups[workers])
            best["peak_rss"] = max(run["rss"] for run in runs[workers])
            best["all_seconds"] = [round(run["seconds"], 2) for run in runs[workers]]
            measured[workers] = best
    changed = fingerprint(args[0]) != before
    for workers, run in measured.items():
        net = run["seconds"] - run["startup"]
        rows.append([
            f"newsmap geoparse --workers {workers}", len(articles), round(run["seconds"], 2),
            round(len(articles) / run["seconds"], 1), round(len(articles) / net, 1) if net > 0 else None,
            round(run["startup"], 2), round(run["peak_rss"] / 2**20), run["processes"],
        ])  # fmt: skip

    same = outputs[1] == outputs[2]
    comparison = "identical" if same else "different"
    if changed and not same:
        comparison += " (the geoparser's code, word lists or gazetteer changed during the run: not comparable)"
    targets = [
        {
            "what": "articles/s in one process, warm (in process, baseline)",
            "target": f">= {RATE_TARGET:.0f}",
            "measured": f"{warm_rate:.1f}",
            "met": warm_rate >= RATE_TARGET,
        },
        *(
            {
                "what": f"peak RSS of `newsmap geoparse --workers {workers}` (its whole process tree)",
                "target": f"<= {RSS_TARGET_MIB} MiB",
                "measured": f"{run['peak_rss'] / 2**20:.0f} MiB in {run['processes']} processes",
                "met": run["peak_rss"] <= RSS_TARGET_MIB * 2**20,
            }
            for workers, run in measured.items()
        ),
        {
            "what": "the same output at 1 and 2 workers",
            "target": "byte for byte",
            "measured": comparison,
            "met": same,
        },
    ]
    speedup = measured[1]["seconds"] / measured[2]["seconds"]
    notes = [
        f"Input: the {len(distinct)} dev articles of {', '.join(CORPORA)} x {copies} = {len(articles)} articles "
        f"({sum(len(t) for _, t, _ in articles) / 1e6:.1f} M characters); the copies hit the gazetteer's lookup cache, "
        "so the warm figures are what a process reaches once its caches are filled.",
        f"Best of {REPEATS} runs per configuration (all: "
        + "; ".join(f"{w} worker(s) {measured[w]['all_seconds']} s" for w in measured)
        + f"); start-up = best of {REPEATS} runs on a one-article input; peak RSS = the largest of the runs.",
        f"2 workers vs 1: {speedup:.2f}x the wall clock speed on this 2-core machine, which the scheduler, the "
        "client and other work share.",
        f"Load average (1 min) {load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after: the machine is "
        "shared, so read the figures against it.",
        f"Cores: {os.cpu_count()}; the in-process peak RSS is this benchmark's own process (the corpus and "
        "the benchmark's imports included).",
    ]
    write_report("batch", "Batch geoparsing throughput (`newsmap geoparse`)", COLUMNS, rows, notes, targets)
    widths = [max(len(str(c)) for c in col) for col in zip(COLUMNS, *rows, strict=True)]
    for row in [COLUMNS, *rows]:
        print("  ".join(("" if c is None else str(c)).ljust(w) for c, w in zip(row, widths, strict=True)))
    sys.exit(exit_status(targets))


if __name__ == "__main__":
    main()
