"""Static export: `newsmap export` of 1,000 articles against the same export of 10 -> bench/out/export.json.

1. **Two libraries from the fixtures**, made as `bench/library.py` makes them: `newsmap build` of
   the fixture articles, then databases of 10 and 1,000 articles, each a copy of one fixture
   under a new slug.
2. **`newsmap export` of each**, run as a user runs it (a child process, `--tiles offline`), the
   two sizes in turns, `ROUNDS` times: wall time, peak RSS of the process (from `/usr/bin/time`'s
   report through `resource.getrusage` of the child), files and bytes written.
3. **Byte-identical**: the 1,000-article export is made twice into two folders and compared file
   by file.

Targets: seconds per article with 1,000 within 1.5x of seconds per article with 10 (the cost of
an export grows with the library, its cost per article does not); bytes per article within 1.5x;
the two exports of the same data identical. Informational: total time, size, files, peak RSS.

Usage: python bench/export.py [--rounds N]
"""

from __future__ import annotations

import argparse
import filecmp
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, build_fixtures, exit_status, write_result
from library import make_library

SIZES = (10, 1_000)
ROUNDS = 3
TARGET_RATIO = 1.5


def export_once(db: Path, out: Path) -> tuple[float, int]:
    """One `newsmap export` in a child process: (seconds, peak RSS in MiB of that child)."""
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newsmap", "export", str(out), "--db", str(db), "--tiles", "offline"],
        check=True, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far: bigger runs last
    return seconds, max(before, after) // 1024


def folder_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def identical(a: Path, b: Path) -> bool:
    def same(cmp: filecmp.dircmp) -> bool:
        if cmp.left_only or cmp.right_only or cmp.funny_files:
            return False
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        return not mismatch and not errors and all(same(sub) for sub in cmp.subdirs.values())

    return same(filecmp.dircmp(a, b))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="newsmap-export-"))
    try:
        source = build_fixtures(tmp / "fixtures")
        dbs = {size: tmp / f"library-{size}.db" for size in SIZES}
        for size, db in dbs.items():
            make_library(source, db, size)
        seconds: dict[int, list[float]] = {size: [] for size in SIZES}
        rss: dict[int, int] = {}
        for round_ in range(args.rounds):
            for size in SIZES if round_ % 2 == 0 else SIZES[::-1]:
                took, peak = export_once(dbs[size], tmp / f"out-{size}")
                seconds[size].append(took)
                rss[size] = peak
                print(f"  round {round_ + 1}: {size:,} articles exported in {took:.1f} s")
        sizes = {size: folder_size(tmp / f"out-{size}") for size in SIZES}
        export_once(dbs[SIZES[-1]], tmp / "again")
        same = identical(tmp / f"out-{SIZES[-1]}", tmp / "again")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report(seconds, sizes, rss, same)


def report(seconds: dict[int, list[float]], sizes: dict[int, tuple[int, int]], rss: dict[int, int], same: bool) -> int:
    small, large = SIZES
    median = {size: statistics.median(values) for size, values in seconds.items()}
    per_article = {size: median[size] / size for size in SIZES}
    bytes_per = {size: sizes[size][1] / size for size in SIZES}
    time_ratio = per_article[large] / per_article[small]
    bytes_ratio = bytes_per[large] / bytes_per[small]
    rows = [
        ["export, wall time (median)", f"{median[small]:.2f} s", f"{median[large]:.1f} s", "", "informational"],
        ["seconds per article", f"{per_article[small] * 1000:.1f} ms", f"{per_article[large] * 1000:.1f} ms",
         f"{time_ratio:.2f}x", "target"],
        ["files written", f"{sizes[small][0]:,}", f"{sizes[large][0]:,}", "", "informational"],
        ["bytes written", f"{sizes[small][1] / 1e6:.1f} MB", f"{sizes[large][1] / 1e6:.1f} MB", "", "informational"],
        ["bytes per article", f"{bytes_per[small] / 1024:.0f} KiB", f"{bytes_per[large] / 1024:.0f} KiB",
         f"{bytes_ratio:.2f}x", "target"],
        ["peak RSS of the export process", f"{rss[small]} MiB", f"{rss[large]} MiB", "", "informational"],
    ]  # fmt: skip
    targets = [
        {"what": "seconds per article, 1,000 vs 10", "target": f"<= {TARGET_RATIO}x",
         "measured": f"{time_ratio:.2f}x", "met": time_ratio <= TARGET_RATIO},
        {"what": "bytes per article, 1,000 vs 10", "target": f"<= {TARGET_RATIO}x",
         "measured": f"{bytes_ratio:.2f}x", "met": bytes_ratio <= TARGET_RATIO},
        {"what": "two exports of the same 1,000 articles", "target": "byte-identical",
         "measured": "identical" if same else "DIFFERENT", "met": same},
    ]  # fmt: skip
    notes = [
        "Libraries made as bench/library.py makes them: `newsmap build` of the fixture articles, each article of "
        "the library a copy of one fixture under a new slug (so pages, downloads and places are real ones).",
        f"`newsmap export OUT --db DB --tiles offline` in a child process, the two sizes in turns, {len(seconds[small])} "
        "rounds; wall time from starting the process to its exit (Python start and imports included, which weigh "
        "more with 10 articles); peak RSS from the kernel's accounting of the child.",
        "Every article writes its page, 11 downloads and its embed page when that exists; the library adds its pages "
        "(20 articles each), the whole-library CSV/GeoJSON/KML and the hashed scripts and stylesheets once.",
    ]
    columns = ["measure", "10 articles", "1,000 articles", "ratio", "kind"]
    write_result("export", "Static export: 1,000 articles vs 10", columns, rows, notes, targets)
    return exit_status(targets)


if __name__ == "__main__":
    sys.exit(main())
