"""Collections at library size: a collection's page with 10,000 articles against 10 -> bench/out/collection.json.

Issue 21: with bench/library.py's libraries (10,000 articles against 10), a collection of 50 articles
stays within 1.5x its 10-article time.

1. **The libraries** are bench/library.py's (`make_library`: copies of the fixture articles, built by the
   real `newsmap build`), each given collections written through `newsmap.collections.create`: in the
   10-article library, one of all 10 articles; in the 10,000-article library, one of 10 and one of 50,
   their articles spread over the library (every 1,000th, every 200th), so they are no neighbours.
2. **The production server on each**, both up at once, asked in turns (as library.py does), `ROUNDS`
   rounds with fresh servers:
   - *built*: the collection's page asked for just after its state changed (a write of its
     description, made straight into the database by this script), so the server builds its page and
     downloads anew (`COLD` times a round per collection); a request is timed from sending it to the
     last byte of the body;
   - *cached*: its page and its `locations.csv`, `HITS` times each, once both workers hold them.

Targets (ratios <= 1.5x): the 50-article collection in 10,000 articles against the 10-article one in 10,
for the cached page and CSV (p50, p95) and for the build per article of the collection (what the page
costs grows with the collection, never with the library); and the same 10-article collection's build
and cached page in 10,000 articles against 10. Informational: the whole build, 50 against 10 articles.

Usage: python bench/collection.py [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from common import bench_server, build_fixtures, exit_status, write_result
from library import Client, make_library, percentile, slugs_of, warm_workers

from newsmap import collections as stories
from newsmap.store import Store

ROUNDS = 3
COLD = 8  # builds per round per collection
HITS = 100  # requests of each cached route per round
TARGET_RATIO = 1.5
CASES = ((10, 10), (10_000, 10), (10_000, 50))  # (articles in the library, articles in the collection)


@dataclass
class Case:
    """One collection on one library: what it is and what was measured."""

    library: int
    size: int
    slug: str = ""
    built_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    csv_ms: list[float] = field(default_factory=list)
    page_bytes: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.size} of {self.library:,}"

    def add(self, into: list[float], result: tuple[float, int, int]) -> None:
        ms, status, _ = result
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            into.append(ms)


def add_collection(db: Path, size: int) -> str:
    """A collection of `size` articles spread over the library (every n-th by index), written as editors do."""
    slugs = slugs_of(db)
    step = len(slugs) // size
    store = Store.open(db)
    try:
        fields = {"title": f"A story in {size} articles", "articles": slugs[::step][:size]}
        return stories.create(store.conn, stories.checked(fields, partial=False), editor="bench").slug
    finally:
        store.close()


def touch(db: Path, slug: str, note: str) -> None:
    """A write of the collection (its description): every worker builds its page anew at the next request."""
    store = Store.open(db)
    try:
        stories.update(store.conn, slug, {"description": note})
    finally:
        store.close()


def one_round(dbs: dict[int, Path], cases: list[Case], round_: int) -> None:
    with contextlib.ExitStack() as stack:
        servers = {size: stack.enter_context(bench_server(f"collection-{size}-server", {"NEWSMAP_DB": str(db)}))
                   for size, db in dbs.items()}  # fmt: skip
        clients = {}
        for size, server in servers.items():
            warm_workers(server, ["/", *(f"/collections/{c.slug}" for c in cases if c.library == size)])
            clients[size] = Client(server.port)
            stack.callback(clients[size].close)
        for k in range(COLD):
            for case in cases:
                touch(dbs[case.library], case.slug, f"round {round_}, build {k}")
                case.add(case.built_ms, clients[case.library].get(f"/collections/{case.slug}"))
        for size, server in servers.items():  # both workers hold the latest build before the cached phase
            own = [c for c in cases if c.library == size]
            warm_workers(server, [f"/collections/{c.slug}{s}" for c in own for s in ("", "/locations.csv")])
        for _ in range(HITS):
            for case in cases:
                client = clients[case.library]
                case.add(case.page_ms, client.get(f"/collections/{case.slug}"))
                case.add(case.csv_ms, client.get(f"/collections/{case.slug}/locations.csv"))
        for case in cases:
            case.page_bytes = clients[case.library].get(f"/collections/{case.slug}")[2]


def report(cases: dict[tuple[int, int], Case]) -> tuple[list[list[str]], list[dict]]:
    rows: list[list[str]] = []
    targets: list[dict] = []

    def compare(label: str, a: Case, b: Case, values: str, share: float, target: bool, per_article: bool = False) -> None:
        x, y = percentile(getattr(a, values), share), percentile(getattr(b, values), share)
        if per_article:
            x, y = x / a.size, y / b.size
        ratio = y / x if x else float("inf")
        rows.append([label, a.name, f"{x:.2f}", b.name, f"{y:.2f}", f"{ratio:.2f}×", "target" if target else "info"])
        if target:
            targets.append({"what": f"{label}: {b.name} vs {a.name} articles", "target": f"≤ {TARGET_RATIO}×",
                            "measured": f"{ratio:.2f}× ({x:.2f} → {y:.2f} ms)", "met": ratio <= TARGET_RATIO})  # fmt: skip

    small, ten, fifty = cases[(10, 10)], cases[(10_000, 10)], cases[(10_000, 50)]
    for label, values in (("cached page", "page_ms"), ("cached locations.csv", "csv_ms")):
        for share, name in ((0.5, "p50"), (0.95, "p95")):
            compare(f"{label}, {name} ms", small, fifty, values, share, True)
    compare("page and downloads built, p50 ms per article of the collection", small, fifty, "built_ms", 0.5, True, True)
    compare("page and downloads built, p50 ms", small, fifty, "built_ms", 0.5, False)
    compare("page and downloads built, p50 ms", small, ten, "built_ms", 0.5, True)
    compare("cached page, p50 ms", small, ten, "page_ms", 0.5, True)
    return rows, targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="newsmap-collection-"))
    try:
        source = build_fixtures(tmp / "fixtures")
        dbs = {size: tmp / f"library-{size}.db" for size in (10, 10_000)}
        for size, db in dbs.items():
            make_library(source, db, size)
        cases = {(lib, n): Case(lib, n, add_collection(dbs[lib], n)) for lib, n in CASES}
        for round_ in range(args.rounds):
            one_round(dbs, list(cases.values()), round_)
            print(f"  round {round_ + 1}: " + "; ".join(
                f"{c.name}: built {statistics.median(c.built_ms):.1f} ms, page {statistics.median(c.page_ms):.2f} ms"
                for c in cases.values()))  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows, targets = report(cases)
    bad = {c.name: {k: v for k, v in c.statuses.items() if k != 200} for c in cases.values()}
    targets.append({"what": "every measured request answered 200", "target": "0 other statuses",
                    "measured": str(bad), "met": not any(bad.values())})  # fmt: skip
    notes = [
        "Libraries as bench/library.py makes them (copies of the fixture articles); collections written with "
        "newsmap.collections.create, their articles spread over the library.",
        f"{args.rounds} rounds, fresh production servers (`newsmap serve`'s gunicorn) for both libraries, up at once, "
        "asked in turns on one keep-alive connection each (Accept-Encoding: gzip); nearest-rank percentiles.",
        f"Built: {COLD} times a round per collection, the page asked for just after a write of the collection "
        "(its description), so its page and all its downloads are built in that request.",
        "Page bytes (gzip): " + ", ".join(f"{c.name}: {c.page_bytes:,}" for c in cases.values()),
    ]
    columns = ["measure", "baseline", "ms", "measured", "ms", "ratio", "kind"]
    write_result("collection", "Collections: 50 articles in 10,000 vs 10 in 10 (production server)", columns, rows,
                 notes, targets)  # fmt: skip
    return exit_status(targets)


if __name__ == "__main__":
    raise SystemExit(main())
