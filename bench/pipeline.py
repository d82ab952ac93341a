"""Build time, peak memory and throughput of the newsmap pipeline -> bench/out/pipeline.json.

The machine is noisy, so an absolute second means little from one run to the next. Every
subject is therefore measured in the same run as its baseline, interleaved with it (baseline,
subject, baseline, subject, ...) so that drift hits both alike, and the report gives the ratio
with the absolute values beside it.

- Build: `python -m newsmap build --seeds seeds --data <tmp>`, cold (an empty
  NEWSMAP_CACHE_DIR, so the GeoNames SQLite index is built) and warm (index present), against
  `python -c "import newsmap.library.pipeline"`: interpreter start and imports, the floor under any
  build. Each run is one child process reaped with os.wait4, which returns its wall time and
  its own max RSS together (hyperfine times a command but does not give each run's memory).
- Throughput: articles per second of the recogniser+resolver, in-process, over the real news
  of the corpus's dev files, against the gazetteer-only floor (pipeline_common.floor_toponyms)
  over the same texts and the same index.

Usage: python bench/pipeline.py [CORPUS_DIR]   (default ../shared/corpus; missing: skipped)
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # newsmap is not installed into the venv: the scripts run from the repo

from pipeline_common import CORPORA, DEFAULT_CORPUS, floor_toponyms, load_corpus, ratio, write_report  # noqa: E402

from newsmap.article import article_from_text  # noqa: E402
from newsmap.geoparser import geoparse, geoparse_article  # noqa: E402
from newsmap.geoparser.gazetteer import DEFAULT_CURATED, Gazetteer  # noqa: E402

COLD_RUNS = 3  # each one builds the ~50 MB index: seconds apiece
WARM_RUNS = 10
THROUGHPUT_ROUNDS = 5  # methods alternate within each round; the median round counts
MIN_ARTICLES = 100
WARM_TARGET_SECONDS = 1.0  # the target for a warm build
BASELINE = 'python -c "import newsmap.library.pipeline"'


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mb: float


def run_child(args: list[str], env: dict[str, str]) -> Run:
    """Run one child to completion: its wall time and its own peak RSS (not the max over all children)."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace")[-400:]
            raise SystemExit(f"{' '.join(args)} exited {child.returncode}: {tail}")
    return Run(seconds, usage.ru_maxrss / 1024)  # Linux reports ru_maxrss in KiB


def child_env(cache_dir: Path) -> dict[str, str]:
    """The caller's environment without its NEWSMAP_* settings, and with our own cache folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSMAP_")}
    env["NEWSMAP_CACHE_DIR"] = str(cache_dir)
    return env


def measure_builds(tmp: Path) -> tuple[list[Run], list[Run], list[Run], Path]:
    """(baseline runs, cold builds, warm builds, the warm cache folder), interleaved."""
    baseline_cmd = [sys.executable, "-c", "import newsmap.library.pipeline"]

    def build_cmd(data: Path) -> list[str]:
        return [sys.executable, "-m", "newsmap", "build", "--seeds", str(ROOT / "seeds"), "--data", str(data)]

    baseline: list[Run] = []
    cold: list[Run] = []
    warm: list[Run] = []
    cache = tmp / "cache"
    for number in range(COLD_RUNS):
        cache = tmp / f"cache-{number}"  # a fresh, empty folder: the build has to index GeoNames
        baseline.append(run_child(baseline_cmd, child_env(cache)))
        cold.append(run_child(build_cmd(tmp / f"data-cold-{number}"), child_env(cache)))
        if not list(cache.glob("geonames-*.sqlite")):
            raise SystemExit(f"the cold build left no GeoNames index in {cache}")
    for _ in range(WARM_RUNS):
        baseline.append(run_child(baseline_cmd, child_env(cache)))
        warm.append(run_child(build_cmd(tmp / "data-warm"), child_env(cache)))
    return baseline, cold, warm, cache


def measure_throughput(docs: list[dict[str, Any]], cache: Path) -> dict[str, tuple[float, list[float], int]]:
    """Per method: (median articles/s, every round's rate, toponyms found in the last round).

    Each method gets a freshly opened Gazetteer per round (opened once for the whole batch, its
    lookup cache empty), so no method profits from another's lookups.
    """

    def full(doc: dict[str, Any], gazetteer: Gazetteer) -> int:
        article = article_from_text(str(doc["id"]), doc["text"])
        _, mentions = geoparse_article(article, gazetteer, None)
        return sum(1 for m in mentions if m["role"] == "toponym")

    def core(doc: dict[str, Any], gazetteer: Gazetteer) -> int:
        mentions, _ = geoparse(article_from_text(str(doc["id"]), doc["text"]), gazetteer)
        return sum(1 for m in mentions if m.mention.role == "toponym")

    def floor(doc: dict[str, Any], gazetteer: Gazetteer) -> int:
        return len(floor_toponyms(doc["text"], gazetteer))

    methods: dict[str, tuple[Path | None, Callable[[dict[str, Any], Gazetteer], int]]] = {
        "floor": (None, floor),  # GeoNames only, as the README describes the floor
        "newsmap": (DEFAULT_CURATED, full),
        "core": (DEFAULT_CURATED, core),
    }
    rates: dict[str, list[float]] = {name: [] for name in methods}
    found: dict[str, int] = {}
    for _ in range(THROUGHPUT_ROUNDS):
        for name, (curated, method) in methods.items():
            gazetteer = Gazetteer.open(curated, cache)
            start = time.perf_counter()
            found[name] = sum(method(doc, gazetteer) for doc in docs)
            rates[name].append(len(docs) / (time.perf_counter() - start))
    return {name: (statistics.median(r), r, found[name]) for name, r in rates.items()}


def median(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    columns = ["measure", "subject", "value", "unit", "baseline", "baseline value", "ratio to baseline", "runs"]
    rows: list[list[Any]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="newsmap-bench-") as tmp_name:
        tmp = Path(tmp_name)
        baseline, cold, warm, cache = measure_builds(tmp)
        base_s, base_mb = median(baseline, "seconds"), median(baseline, "max_rss_mb")
        for label, runs in (("cold build (index built)", cold), ("warm build (index present)", warm)):
            seconds, mb = median(runs, "seconds"), median(runs, "max_rss_mb")
            rows.append(["wall time, median", label, round(seconds, 3), "s", BASELINE, round(base_s, 3),
                         ratio(seconds, base_s), len(runs)])  # fmt: skip
            rows.append(["max RSS, median", label, round(mb, 1), "MiB", BASELINE, round(base_mb, 1),
                         ratio(mb, base_mb), len(runs)])  # fmt: skip
        warm_s = median(warm, "seconds")
        notes.append(
            f"Build runs interleave with {len(baseline)} baseline runs ({BASELINE}: median {base_s:.3f} s, "
            f"{base_mb:.1f} MiB). Cold: median {median(cold, 'seconds'):.3f} s (min {min(r.seconds for r in cold):.3f}); "
            f"warm: median {warm_s:.3f} s (min {min(r.seconds for r in warm):.3f}); "
            f"cold/warm = {ratio(median(cold, 'seconds'), warm_s)}x. Warm minus baseline = "
            f"{warm_s - base_s:.3f} s: the build's own work beyond starting Python and importing."
        )

        missing = [name for name in CORPORA if not (corpus / f"{name}.dev.jsonl").exists()]
        if missing:
            notes.append(f"Throughput skipped: {corpus} lacks {', '.join(f'{m}.dev.jsonl' for m in missing)}.")
        else:
            docs = [doc for name in CORPORA for doc in load_corpus(corpus, name)]
            if len(docs) < MIN_ARTICLES:
                notes.append(f"Throughput batch is only {len(docs)} articles (wanted {MIN_ARTICLES}+).")
            result = measure_throughput(docs, cache)
            floor_rate = result["floor"][0]
            subjects = (("newsmap", "newsmap geoparse_article (recognise, resolve, place rows)"),
                        ("core", "newsmap geoparse only (recognise, resolve; no place rows)"))  # fmt: skip
            for name, label in subjects:
                rate = result[name][0]
                rows.append(["throughput, median round", label, round(rate, 1), "articles/s",
                             "gazetteer-only floor", round(floor_rate, 1), ratio(rate, floor_rate),
                             THROUGHPUT_ROUNDS])  # fmt: skip
            chars = sum(len(doc["text"]) for doc in docs)
            notes.append(
                f"Throughput batch: {len(docs)} real news articles ({chars:,} characters), the dev files of "
                f"{', '.join(CORPORA)} in {corpus}; one Gazetteer opened per method and round, warm index. "
                "Rates per round: "
                + "; ".join(f"{name} {', '.join(f'{r:.1f}' for r in result[name][1])}" for name in result)
                + ". Toponyms found in the batch: "
                + ", ".join(f"{name} {result[name][2]}" for name in result)
                + "."
            )
            place_rows_share = 1 - result["newsmap"][0] / result["core"][0]
            notes.append(
                f"Building the place rows (describe, nearest-city context) takes {place_rows_share:.0%} of "
                "geoparse_article's time: the gap between the two newsmap rows."
            )
    notes.append(
        f"Machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}. Medians throughout; ratios are subject / baseline from this same run."
    )
    targets = [
        {
            "what": "warm build of the seed",
            "target": f"< {WARM_TARGET_SECONDS:g} s",
            "measured": f"{warm_s:.3f} s median of {len(warm)} ({ratio(warm_s, base_s)}x the import baseline)",
            "met": warm_s < WARM_TARGET_SECONDS,
        }
    ]
    path = write_report("pipeline", "Pipeline: build time, memory, throughput", columns, rows, notes, targets)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
