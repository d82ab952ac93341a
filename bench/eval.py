"""Accuracy of `newsmap geoparse` on the corpus dev slices -> bench/out/eval.json (`make eval`).

For each dev file of the corpus this runs the batch command as a user would (`newsmap geoparse
DEV.jsonl --out ...`, one process), then scores its output with the corpus's own score.py twice:
with every mention the command writes, and without the mentions of role "adjective" ("French
troops": the gold of some corpora marks such words, of others not). The predictions are the
command's own lines: score.py reads only "id" and each toponym's start, end, lat and lon.

Targets (issue 10): end-to-end acc@161 at least .63 / .64 / .60 on GeoWebNews / TR-News / LGL
(Mordecai 3's published figures, rounded up) and recognition F1 at least .75, on all mentions.
A missed target is reported and makes the exit status 1, as in the other benchmarks.

Usage: python bench/eval.py [CORPUS_DIR]   (default ../shared/corpus)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # newsmap is not installed into the venv: the scripts run from the repo

from common import OUT, exit_status  # noqa: E402
from pipeline_common import CORPORA, corpus_folder, score, write_report  # noqa: E402

E2E_TARGETS = {"geowebnews": 0.63, "tr-news": 0.64, "lgl": 0.60}
F1_TARGET = 0.75
VARIANTS = ("all mentions", "without adjective")
COLUMNS = ["corpus", "mentions", "articles", "predicted", "P", "R", "F1", "acc@161", "e2e acc@161"]


def geoparse_argv() -> list[str]:
    """`python -m newsmap geoparse` once the CLI registers it; the command object itself until then."""
    from newsmap.cli import main

    if "geoparse" in main.commands:
        return [sys.executable, "-m", "newsmap", "geoparse"]
    code = "from newsmap.library.batch import geoparse_command; geoparse_command(prog_name='newsmap geoparse')"
    return [sys.executable, "-c", code]


def run_geoparse(source: Path, out: Path, *options: str) -> float:
    """`newsmap geoparse SOURCE --out OUT [options]` from the repository; its wall-clock seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([*geoparse_argv(), str(source), "--out", str(out), *options], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:  # 1 with every line written when some articles were over the limits
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        if not out.exists():
            raise SystemExit(f"newsmap geoparse {source} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        print("\n".join(errors), file=sys.stderr)
    return seconds


def without_adjectives(source: Path, target: Path) -> Counter[str]:
    """Write the command's output less its role-"adjective" mentions; the mentions by role."""
    roles: Counter[str] = Counter()
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for line in lines:
            row = json.loads(line)
            roles.update(t["role"] for t in row["toponyms"])
            kept = [t for t in row["toponyms"] if t["role"] != "adjective"]
            out.write(json.dumps({**row, "toponyms": kept}, ensure_ascii=False) + "\n")
    return roles


def table(rows: list[list[Any]]) -> str:
    """Rows as a plain-text table, numbers to 3 decimals."""
    cells = [COLUMNS, *([f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    corpus = corpus_folder(sys.argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[Any]]] = {variant: [] for variant in VARIANTS}
    notes = [
        "Scored by the corpus's score.py (exact character spans; acc@161 over the found toponyms with coordinates; "
        "e2e acc@161 over all gold toponyms with coordinates) on the output of `newsmap geoparse DEV.jsonl` "
        "(one process, the offline gazetteer). 'all mentions' scores every mention the command writes, whatever its "
        "role; 'without adjective' drops role 'adjective'."
    ]
    targets: list[dict[str, Any]] = []
    for name in CORPORA:
        source = corpus / f"{name}.dev.jsonl"
        articles = sum(1 for line in source.open(encoding="utf-8") if line.strip())
        every = OUT / f"eval-{name}.jsonl"
        seconds = run_geoparse(source, every)
        fewer = OUT / f"eval-{name}-without-adjective.jsonl"
        roles = without_adjectives(every, fewer)
        scores = {VARIANTS[0]: score(corpus, name, every), VARIANTS[1]: score(corpus, name, fewer)}
        predicted = roles.total()
        counts = {VARIANTS[0]: predicted, VARIANTS[1]: predicted - roles["adjective"]}
        for variant, s in scores.items():
            rows[variant].append([name, variant, articles, counts[variant], s["P"], s["R"], s["F1"], s["acc161"],
                                  s["e2e_acc161"]])  # fmt: skip
        notes.append(
            f"{name}: {articles} articles geoparsed in {seconds:.1f} s (the command's wall clock, start-up included); "
            f"{predicted} mentions: " + ", ".join(f"{role} {n}" for role, n in roles.most_common()) + "."
        )
        every_s, fewer_s = scores[VARIANTS[0]], scores[VARIANTS[1]]
        for metric, label, goal in (("e2e_acc161", "end-to-end acc@161", E2E_TARGETS[name]), ("F1", "F1", F1_TARGET)):
            targets.append({
                "what": f"{name}: {label}, all mentions",
                "target": f">= {goal:.2f}",
                "measured": f"{every_s[metric]:.3f} (without adjective {fewer_s[metric]:.3f})",
                "met": every_s[metric] >= goal,
            })  # fmt: skip
    for variant in VARIANTS:
        print(f"\n{variant}:\n{table(rows[variant])}\n")
    all_rows = [row for variant in VARIANTS for row in rows[variant]]
    write_report("eval", "Accuracy of `newsmap geoparse` on the dev slices", COLUMNS, all_rows, notes, targets)
    sys.exit(exit_status(targets))


if __name__ == "__main__":
    main()
