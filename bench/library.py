"""Library size: the server with 10,000 articles against the same server with 10 -> bench/out/library.json.

The issue: with 10,000 articles, starting the server, memory per worker and the latency of one
article page stay within 1.5x of what they are with 10 articles; and (issue 21) so does a place's
page across the library, though thousands of articles name it instead of a few.

1. **Two libraries from the fixtures.** `newsmap build` of the three fixture articles (the real
   build, offline geocoder), then two databases of 10 and 10,000 articles, each article a copy
   of one fixture article (its row, text, sentences, places and mentions) under a new slug
   (`<fixture-slug>-00042`), with `published` spread over 25 years so the library's order is
   realistic. Written with `executemany` in one transaction into a database the app's own
   migrations made.
2. **The production server on each**, both up at once (`ROUNDS` rounds, each with fresh
   servers; every phase asks the two in turn, request by request, so a burst of other work on
   the shared machine hits both alike). Per round: start time of each (process start until
   /healthz answers 200, polled every 0.1 s by `LiveServer`; started one after the other); both
   workers of each warmed (checked from their CPU time in /proc); then on one keep-alive
   connection per server, one request at a time: article pages never asked for before (cache
   misses: 9 per round with 10 articles, all of them but the hot one; 120 per round with 10,000, none repeated; the three fixtures in equal
   shares in both), place pages never asked for before (`/places/<key>`: every key of the fixtures,
   the same ~50 in both libraries, named by 3 to 10 articles in one and 3,333 to 10,000 in the
   other: the first page, 50 articles), library pages and searches never asked for before
   (`/?page=k`, `/?q=word`), then `/`, one article page (always the same: cached), its
   `locations.csv` and one place page (the Kant air base's, cached), in turns; the
   RSS of each worker after that. In the last round, 1,100 more different articles (all 10 with
   10) on two connections: the RSS of a worker whose cache is full (512 built articles). Pages
   are asked for as browsers do (Accept-Encoding: gzip).
3. **The whole-library download** `/data/locations.csv`, built once per library in a child
   process (Flask test client): time and peak RSS. Whole-library answers are O(library) by
   nature: reported, no target.

Targets: every ratio (10,000 / 10) <= 1.5x: start time; RSS per worker after the run and with a
full cache; p50 and p95 of `/`, of the cached article page, of its CSV, of article pages that
miss the cache, of the cached place page and of place pages that miss the cache, of a cached filtered library
map (bench/librarymap.py; and its payload, bounded whatever the library holds). Informational: RSS after the
warm-up, the first `/`, `/?page=k`, `/?q=word`, filtered maps never asked for before.

Usage: python bench/library.py [--rounds N] [--keep DIR] [--profile]
  --profile  also profile (cProfile, in process, Flask test client) article-page misses on both
             libraries and print where the time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import http.client
import io
import json
import os
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import ROOT, LiveServer, bench_server, build_fixtures, exit_status, gunicorn_workers_rss_kib, write_result
from librarymap import HOT_MAP, NEAR_LIMIT, distinct_library, miss_paths, payload_walk
from librarymap import report as map_report

from newsmap.store import Store, transaction

if TYPE_CHECKING:
    from flask import Flask

SIZES = (10, 10_000)
ROUNDS = 3
HOT = 9  # the index of the hot article: a copy of the first (largest) fixture in both libraries
HOT_PLACE = "/places/curated-kant-air-base"  # the hot place page: 4 articles name it with 10, 3,334 with 10,000
DEEP_PLACE = "/places/country-RU"  # every article names Russia: 200 pages of 50 with 10,000
DEEP_PAGES = 15  # its pages 2 to 199 asked for once each per round (misses), with 10,000 only
MISSES_PER_FIXTURE = 40  # per round with 10,000 articles: 120 misses, never repeated
HITS = 150  # requests of each cached route per round
LIBRARY_MISSES = 10  # `/?page=k` and `/?q=word` never asked for before, per round
FILL = 1_100  # different articles asked for once, to fill a worker's cache (512 entries)
TARGET_RATIO = 1.5
GZIP = {"Accept-Encoding": "gzip"}
SEARCH_WORDS = ("Aktau", "Bishkek", "Kant", "Dushanbe", "Moscow", "Osh", "Caspian", "border", "base", "Russia",
                "Baku", "China", "port", "air", "Kazakhstan", "Tajik", "Kyrgyz", "Iran", "Turkmen", "Astana",
                "Khujand", "Ayni", "Tehran", "Volga", "oil", "gas", "Batken", "Ferghana", "army", "river",
                "Almaty", "Ashgabat", "Makhachkala", "Uzbek", "lake", "Issyk", "Naryn", "Panj", "Afghan", "Kulob",
                "Bokhtar", "Rasht", "Karakol", "Jalal", "Talas", "Chui", "Sughd", "Pamir", "Murghab", "Wakhan")  # fmt: skip


# -- the libraries


def fixture_of(index: int, fixtures: int) -> int:
    """Which fixture article the copy at `index` is: index 9 is the first (sorted) of three, the largest."""
    return (index + 1) % fixtures


def make_library(source: Path, dest: Path, count: int, seed: int = 20240501) -> float:
    """`count` copies of `source`'s articles (with their places and mentions) into a new database at `dest`.

    Every column is copied as it is but the slug (and the rows' `article`), `published` (a random
    day or month from 2000 to 2024), `added_at`/`updated_at` (37 s apart), `version` and
    `content_hash` (unique, as real articles' are). Returns the seconds it took.
    """
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    src.row_factory = sqlite3.Row
    articles = [dict(row) for row in src.execute("SELECT * FROM articles ORDER BY slug")]
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {"places": {}, "mentions": {}}
    for table, by_slug in rows.items():
        for article in articles:
            query = f"SELECT * FROM {table} WHERE article = ? ORDER BY position"
            by_slug[article["slug"]] = [dict(row) for row in src.execute(query, (article["slug"],))]
    src.close()
    largest = max(articles, key=lambda a: len(a["text"]))
    if count <= HOT or articles[fixture_of(HOT, len(articles))] is not largest:
        raise RuntimeError("the hot article is expected to be a copy of the largest fixture")
    started = time.perf_counter()
    for old in dest.parent.glob(dest.name + "*"):
        old.unlink()
    rng = random.Random(seed)
    first_added = datetime(2025, 1, 1, tzinfo=UTC)
    new: dict[str, list[dict[str, Any]]] = {"articles": [], "places": [], "mentions": []}
    for index in range(count):
        base = articles[fixture_of(index, len(articles))]
        slug = f"{base['slug']}-{index:05d}"
        day = datetime(2000, 1, 1) + timedelta(days=rng.randrange(25 * 365))
        added = (first_added + timedelta(seconds=37 * index)).isoformat()
        new["articles"].append({
            **base, "slug": slug, "published": day.strftime("%Y-%m" if index % 3 == 0 else "%Y-%m-%d"),
            "added_at": added, "updated_at": added, "version": index + 1,
            "content_hash": hashlib.sha256(slug.encode()).hexdigest(),
        })  # fmt: skip
        for table in ("places", "mentions"):
            new[table] += [{**row, "article": slug} for row in rows[table][base["slug"]]]
    store = Store.open(dest)  # the schema, by the app's own migrations
    try:
        with transaction(store.conn):
            for table, items in new.items():
                # generated columns (articles.published_from/_to) are read by SELECT * but never written
                generated = {row[1] for row in store.conn.execute(f"PRAGMA table_xinfo({table})") if row[6] in (2, 3)}
                columns = [c for c in items[0] if c not in generated]
                store.conn.executemany(
                    f"INSERT INTO {table} ({', '.join(json.dumps(c) for c in columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [tuple(item[c] for c in columns) for item in items],
                )
            store.conn.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (str(count),))
            store.conn.execute("UPDATE meta SET value = ? WHERE key = 'updated_at'", (new["articles"][-1]["added_at"],))
    finally:
        store.close()
    return time.perf_counter() - started


def place_pages(db: Path) -> dict[str, int]:
    """Every place page of a library but the hot one (warmed), `/places/<key>` by key, with how many
    articles its first page lists (50 at most)."""
    from newsmap.serve.placelinks import place_path

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        keys = conn.execute("SELECT key, count(*) FROM places GROUP BY key ORDER BY key").fetchall()
    finally:
        conn.close()
    return {place_path(key): min(50, n) for key, n in keys if place_path(key) != HOT_PLACE}


def slugs_of(db: Path) -> list[str]:
    """Slugs by index (the number they end with)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        slugs = [row[0] for row in conn.execute("SELECT slug FROM articles")]
    finally:
        conn.close()
    return sorted(slugs, key=lambda s: int(s.rsplit("-", 1)[1]))


def miss_plan(count: int, fixtures: int, rounds: int) -> list[list[int]]:
    """Per round, the indices of the articles asked for once (misses): equal shares of each fixture, interleaved.

    With 10 articles, every round asks for the same 9 (each round is a fresh server); with more,
    no article is asked for twice in the whole run.
    """
    per_fixture = min(MISSES_PER_FIXTURE, (count - 1) // fixtures)
    pools = {f: [i for i in range(count) if i != HOT and fixture_of(i, fixtures) == f] for f in range(fixtures)}
    rng = random.Random(count)
    for pool in pools.values():
        rng.shuffle(pool)
    plan = []
    for r in range(rounds):
        start = r * per_fixture if count - 1 >= per_fixture * fixtures * rounds else 0
        plan.append([pools[f][start + k] for k in range(per_fixture) for f in range(fixtures)])
    return plan


# -- measuring


class Client:
    """One keep-alive HTTP/1.1 connection; each request timed from sending it to the last body byte."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[float, int, int]:
        """(milliseconds, status, body bytes).

        gunicorn closes a keep-alive connection idle for 5 s (while the other library is asked): then the
        request is sent again on a new connection, and only that attempt is timed.
        """
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=headers or GZIP)
                response = self.conn.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
                continue
            return (time.perf_counter() - started) * 1000, response.status, len(body)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def warm_workers(server: LiveServer, paths: list[str]) -> bool:
    """Ask for `paths` on many parallel connections until every worker has spent CPU on them (<= 5 tries)."""
    workers = list(gunicorn_workers_rss_kib(server))
    before = {pid: cpu_ticks(pid) for pid in workers}

    def ask() -> None:
        client = Client(server.port)
        try:
            for path in paths:
                client.get(path)
        finally:
            client.close()

    for _ in range(5):
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if all(cpu_ticks(pid) > before[pid] for pid in workers):
            return True
    return False


@dataclass
class Sample:
    """Everything measured for one library size, over all rounds."""

    start_s: list[float] = field(default_factory=list)
    first_library_ms: list[float] = field(default_factory=list)
    rss_warm_kib: list[int] = field(default_factory=list)  # the largest worker, after the warm-up
    rss_kib: list[int] = field(default_factory=list)  # the largest worker, after the run
    rss_full_kib: list[int] = field(default_factory=list)  # the largest worker, with a full cache
    latency: dict[str, list[float]] = field(default_factory=dict)  # route -> ms
    sizes: dict[str, int] = field(default_factory=dict)  # route -> body bytes (gzip)
    warmed: list[bool] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, route: str, result: tuple[float, int, int]) -> None:
        ms, status, size = result
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            self.latency.setdefault(route, []).append(ms)
            self.sizes[route] = size


ROUTES = {
    "/": "`/` (the library, cached)",
    "article": "one article page, the same each time (cached)",
    "csv": "its `locations.csv` (cached)",
    "miss": "article pages, a different one each time (cache misses)",
    "place": f"one place page, `{HOT_PLACE}`, the same each time (cached)",
    "place-per": "place pages never asked for before, per article they list (ms / articles on the page)",
    "map": f"a filtered library map, `{HOT_MAP}`, the same each time (cached)",
}
INFO_ROUTES = {
    "place-miss": "place pages, every place of the fixtures once a round (cache misses; 3 to 10 articles name each "
    "with 10 and list them all, 3,333 to 10,000 with 10,000 and list 50)",
    "page": "`/?page=k`, a different k each time (misses)",
    "search": "`/?q=word`, a different word each time (misses)",
    "map-miss": "filtered library maps never asked for before (a month to five years; misses)",
}


@dataclass
class Library:
    """One library under test: its database, its articles, what it asks for and what was measured."""

    size: int
    db: Path
    slugs: list[str]
    plan: list[list[int]]  # per round, the articles to ask for once (misses)
    places: dict[str, int] = field(default_factory=dict)  # every place page but the hot one -> articles it lists
    sample: Sample = field(default_factory=Sample)
    server: LiveServer | None = None
    client: Client | None = None


def one_round(libraries: list[Library], round_: int, fill: bool) -> None:
    """A fresh server per library, all up at once; every phase asks each library in turn, request by request,
    so a burst of other work on the shared machine hits them alike."""
    with contextlib.ExitStack() as stack:
        for lib in libraries:  # one after the other: each start has the machine to itself
            started = time.monotonic()
            lib.server = stack.enter_context(bench_server(f"library-{lib.size}-server", {"NEWSMAP_DB": str(lib.db)}))
            lib.sample.start_s.append(time.monotonic() - started)
        for lib in libraries:
            assert lib.server is not None
            first = Client(lib.server.port)
            stack.callback(first.close)
            ms, status, _ = first.get("/")
            lib.sample.statuses[status] = lib.sample.statuses.get(status, 0) + 1
            lib.sample.first_library_ms.append(ms)
            hot = lib.slugs[HOT]
            lib.sample.warmed.append(
                warm_workers(lib.server, [f"/articles/{hot}", f"/articles/{hot}/locations.csv", "/", HOT_PLACE, HOT_MAP])
            )
            lib.sample.rss_warm_kib.append(max(gunicorn_workers_rss_kib(lib.server).values()))
            lib.client = Client(lib.server.port)  # the run's connection: whichever worker it reaches, it is warm
            stack.callback(lib.client.close)

        def in_turns(route: str, paths: dict[int, list[str]]) -> None:
            for i in range(max(len(p) for p in paths.values())):
                for lib in libraries:
                    if i < len(paths[lib.size]):
                        assert lib.client is not None
                        lib.sample.add(route, lib.client.get(paths[lib.size][i]))

        in_turns("miss", {lib.size: [f"/articles/{lib.slugs[i]}" for i in lib.plan[round_]] for lib in libraries})
        for path in libraries[0].places:  # the same keys in both, in turns; also per article the page lists
            for lib in libraries:
                assert lib.client is not None
                result = lib.client.get(path)
                lib.sample.add("place-miss", result)
                if result[1] == 200:
                    lib.sample.latency.setdefault("place-per", []).append(result[0] / lib.places[path])
        deep = [f"{DEEP_PLACE}?page={2 + (round_ * DEEP_PAGES + k) % 198}" for k in range(DEEP_PAGES)]
        in_turns("place-deep", {lib.size: deep if lib.size == SIZES[-1] else [] for lib in libraries})
        js = [round_ * LIBRARY_MISSES + k for k in range(LIBRARY_MISSES)]  # never the same page or word twice
        in_turns("page", {lib.size: [f"/?page={page_number(lib.size, j)}" for j in js] for lib in libraries})
        in_turns("search", {lib.size: [f"/?q={SEARCH_WORDS[j % len(SEARCH_WORDS)]}" for j in js] for lib in libraries})
        in_turns("map-miss", {lib.size: miss_paths(round_) for lib in libraries})
        for _ in range(HITS):
            for route, path in (("/", "/"), ("article", "/articles/{}"), ("csv", "/articles/{}/locations.csv"),
                                ("place", HOT_PLACE), ("map", HOT_MAP)):
                in_turns(route, {lib.size: [path.format(lib.slugs[HOT])] for lib in libraries})
        for lib in libraries:
            assert lib.server is not None
            lib.sample.rss_kib.append(max(gunicorn_workers_rss_kib(lib.server).values()))
        if fill:
            for lib in libraries:
                assert lib.server is not None
                fill_cache(lib.server, lib.slugs)
                lib.sample.rss_full_kib.append(max(gunicorn_workers_rss_kib(lib.server).values()))


def page_number(size: int, j: int) -> int:
    """The j-th library page number asked for once: spread over a large library; with a library of one page, past
    its end (that shows the last page, under a cache key of its own)."""
    pages = -(-size // 20)
    return 2 + (j * 7919 % (pages - 1) if pages > 100 else j)


def fill_cache(server: LiveServer, slugs: list[str]) -> None:
    """Ask for FILL different articles (all of them if fewer) on two connections: each worker's cache fills up."""
    chosen = slugs if len(slugs) <= FILL else random.Random(7).sample(slugs, FILL)

    def ask(part: list[str]) -> None:
        client = Client(server.port)
        try:
            for slug in part:
                client.get(f"/articles/{slug}")
        finally:
            client.close()

    threads = [threading.Thread(target=ask, args=(chosen[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-share * len(ordered) // 1)) - 1))]


DATASET_CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[2])
os.environ["NEWSMAP_DB"] = sys.argv[1]
from newsmap.serve import create_app
client = create_app().test_client()
client.get("/healthz")
started = time.perf_counter()
response = client.get("/data/locations.csv", headers={"Accept-Encoding": "gzip"})
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "status": response.status_code, "bytes": len(response.get_data()),
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def dataset_cost(db: Path) -> dict[str, Any]:
    """`/data/locations.csv` built in a child process (in-process app, Flask test client): seconds and peak RSS."""
    try:
        run = subprocess.run([sys.executable, "-c", DATASET_CHILD, str(db), str(ROOT)], capture_output=True,
                             text=True, timeout=180, cwd=ROOT)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": "took over 180 s"}
    if run.returncode != 0:
        return {"error": (run.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def app_on(db: Path) -> Flask:
    """The app (`create_app()`, as gunicorn loads it) on the database `db`."""
    os.environ["NEWSMAP_DB"] = str(db)
    from newsmap.serve import create_app

    return create_app()


def cached_article_bytes(db: Path, slug: str) -> dict[str, int]:
    """What one article keeps in a worker's cache: body bytes (plain + gzip) of each of its built responses."""
    built = app_on(db).extensions["newsmap"].article(slug)
    sizes = {path.replace(slug, "<slug>"): len(asset.body) + len(asset.gzipped or b"")
             for path, asset in built.assets.items()}  # fmt: skip
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


def profile_misses(dbs: dict[int, Path]) -> None:
    """cProfile of article-page misses in process (Flask test client) on each library; prints the top entries."""
    for size, db in dbs.items():
        client = app_on(db).test_client()
        slugs = slugs_of(db)
        client.get(f"/articles/{slugs[HOT]}", headers=GZIP)  # templates compiled, connection open
        plan = miss_plan(len(slugs), 3, 1)[0]
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for index in plan:
            client.get(f"/articles/{slugs[index]}", headers=GZIP)
        profiler.disable()
        per = (time.perf_counter() - started) / len(plan) * 1000
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(f"\n== {size} articles: {len(plan)} misses, {per:.1f} ms each (profiled) ==")
        print(out.getvalue())


# -- the report


def fmt(value: float, unit: str) -> str:
    return f"{value:.2f}" if unit == "s" else f"{value:.1f}"


def report_rows(samples: dict[int, Sample], datasets: dict[int, dict[str, Any]]) -> tuple[list[list[Any]], list[dict]]:
    """One row per measure (10, 10,000, ratio, n), and a target for those that have one."""
    small, large = (samples[size] for size in SIZES)
    rows: list[list[Any]] = []
    targets: list[dict[str, Any]] = []

    def compare(label: str, unit: str, a: list[float], b: list[float], target: bool, share: float = 0.5) -> None:
        """Median (or `share` percentile) of the values for each library, and their ratio."""
        x, y = percentile(a, share), percentile(b, share)
        ratio = y / x if x else float("inf")
        kind = "target" if target else "info"
        rows.append([label, fmt(x, unit), fmt(y, unit), f"{ratio:.2f}×", f"{len(a)} / {len(b)}", kind])
        if target:
            measured = f"{ratio:.2f}× ({fmt(x, unit)} → {fmt(y, unit)} {unit})"
            met = ratio <= TARGET_RATIO
            targets.append({"what": f"10,000 vs 10 articles: {label}", "target": f"≤ {TARGET_RATIO}×",
                            "measured": measured, "met": met})  # fmt: skip

    def mib(values: list[int]) -> list[float]:
        return [v / 1024 for v in values]

    compare("start (process start → /healthz 200), median s", "s", small.start_s, large.start_s, True)
    compare("RSS per worker after the run, median MiB", "MiB", mib(small.rss_kib), mib(large.rss_kib), True)
    full = f"RSS of a worker with a full cache ({SIZES[0]} / 512 articles built), MiB"
    compare(full, "MiB", mib(small.rss_full_kib), mib(large.rss_full_kib), True)
    for key, label in ROUTES.items():
        for share, name in ((0.5, "p50"), (0.95, "p95")):
            compare(f"{label}, {name} ms", "ms", small.latency[key], large.latency[key], True, share)
    first, deep = large.latency["place-miss"], large.latency["place-deep"]
    ratio = percentile(deep, 0.5) / percentile(first, 0.5)
    rows.append([f"`{DEEP_PLACE}?page=k` (k = 2 to 199, misses) against the first pages (misses), with 10,000, p50 ms",
                 fmt(percentile(first, 0.5), "ms"), fmt(percentile(deep, 0.5), "ms"), f"{ratio:.2f}×",
                 f"{len(first)} / {len(deep)}", "target"])  # fmt: skip
    targets.append({"what": "a place's deep pages cost what its first does (both 50 articles, 10,000 in the library)",
                    "target": f"≤ {TARGET_RATIO}×", "measured": f"{ratio:.2f}×", "met": ratio <= TARGET_RATIO})  # fmt: skip
    compare("RSS per worker after the warm-up, median MiB", "MiB", mib(small.rss_warm_kib), mib(large.rss_warm_kib),
            False)  # fmt: skip
    compare("first `/` after start (builds the library page), median ms", "ms", small.first_library_ms,
            large.first_library_ms, False)  # fmt: skip
    for key, label in INFO_ROUTES.items():
        for share, name in ((0.5, "p50"), (0.95, "p95")):
            compare(f"{label}, {name} ms", "ms", small.latency[key], large.latency[key], False, share)
    a, b = datasets[SIZES[0]], datasets[SIZES[1]]
    if "error" in a or "error" in b:
        rows.append(["`/data/locations.csv` built once (in process)", a.get("error", ""), b.get("error", ""), "", "",
                     "info"])  # fmt: skip
    else:
        compare("`/data/locations.csv` built once (in process), s", "s", [a["seconds"]], [b["seconds"]], False)
        compare("peak RSS of that process, MiB", "MiB", [a["peak_rss_kib"] / 1024], [b["peak_rss_kib"] / 1024], False)
    return rows, targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--keep", type=Path, help="make the databases in this folder and keep them")
    parser.add_argument("--profile", action="store_true", help="profile article-page misses in process")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    tmp = Path(tempfile.mkdtemp(prefix="newsmap-library-"))
    folder = args.keep or tmp
    try:
        source = build_fixtures(tmp / "fixtures")
        fixtures = len(slugs_of_source(source))
        dbs: dict[int, Path] = {}
        make_seconds: dict[int, float] = {}
        db_mb: dict[int, float] = {}
        for size in SIZES:
            dbs[size] = folder / f"library-{size}.db"
            make_seconds[size] = make_library(source, dbs[size], size)
            db_mb[size] = dbs[size].stat().st_size / 1e6
            print(f"  {size} articles: made in {make_seconds[size]:.1f} s, {db_mb[size]:.1f} MB")
        libraries = [Library(size, dbs[size], slugs_of(dbs[size]), miss_plan(size, fixtures, args.rounds),
                             place_pages(dbs[size])) for size in SIZES]  # fmt: skip
        if list(libraries[0].places) != list(libraries[1].places):
            raise RuntimeError("the two libraries should name the same places")
        for round_ in range(args.rounds):
            order = libraries if round_ % 2 == 0 else libraries[::-1]
            one_round(order, round_, fill=round_ == args.rounds - 1)
            print(f"  round {round_ + 1}: " + "; ".join(
                f"{lib.size} articles: start {lib.sample.start_s[-1]:.2f} s, "
                f"miss p50 {statistics.median(lib.sample.latency['miss']):.1f} ms" for lib in libraries))  # fmt: skip
        samples = {lib.size: lib.sample for lib in libraries}
        slugs = {lib.size: lib.slugs for lib in libraries}
        datasets = {size: dataset_cost(db) for size, db in dbs.items()}
        cached = cached_article_bytes(dbs[SIZES[-1]], slugs[SIZES[-1]][HOT])
        distinct = distinct_library(dbs[SIZES[-1]], folder / "library-distinct.db")
        walk = payload_walk(distinct) + payload_walk(distinct, NEAR_LIMIT)
        if args.profile:
            profile_misses(dbs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows, targets = report_rows(samples, datasets)
    map_rows, map_targets, map_note = map_report(walk, walk[0]["count"])
    rows, targets = rows + map_rows, targets + map_targets
    bad = {size: {k: v for k, v in samples[size].statuses.items() if k != 200} for size in SIZES}
    targets.append({"what": "every measured request answered 200", "target": "0 other statuses",
                    "measured": json.dumps(bad), "met": not any(bad.values())})  # fmt: skip
    warmed = all(w for s in samples.values() for w in s.warmed)
    notes = [
        f"Libraries made from `newsmap build` of the {fixtures} fixture articles: each article a copy of one of them "
        f"under a new slug, `published` spread over 2000–2024; written with executemany in one transaction "
        f"({make_seconds[SIZES[0]]:.2f} s for {SIZES[0]:,}, {make_seconds[SIZES[1]]:.1f} s for {SIZES[1]:,}; "
        f"the larger database is {db_mb[SIZES[1]]:.0f} MB).",
        f"{args.rounds} rounds, each with a fresh production server per library (`newsmap serve`'s gunicorn: 2 "
        "gevent workers, app preloaded), both up at once, each phase asking the two in turn, request by request. "
        "Start time: process start until /healthz answers 200 (polled every 0.1 s), the servers started one after "
        "the other; median of the rounds.",
        "Latency: one keep-alive connection per server, one request at a time, Accept-Encoding: gzip, from sending the request "
        "to the last byte of the body; both workers warmed first (templates compiled, library page and the hot "
        f"article built){'' if warmed else ' — NOT confirmed for every round (a worker showed no CPU time)'}. "
        "Nearest-rank p50 and p95 over all rounds; n = requests with 10 / with 10,000.",
        f"Cache misses: articles never asked for before on that server (with 10 articles the 9 that are not the hot "
        f"one, every round; with 10,000, {MISSES_PER_FIXTURE * fixtures} a round and none twice), the fixtures in "
        f"equal shares in both. Cached routes: {HITS} requests of each per round, in turns. The hot article: "
        f"`{slugs[SIZES[0]][HOT]}` / `{slugs[SIZES[1]][HOT]}` (a copy of the largest fixture).",
        "RSS per worker: VmRSS of the largest gunicorn worker from /proc (the one that served the run), median of "
        "the rounds; shared pages of the preloaded app count in every worker. 'Full cache' is measured once, after "
        f"the last round's run, having asked for {FILL} different articles on two connections (each worker keeps "
        "512 built articles and library pages).",
        "Whole-library downloads are O(library) by nature and not in the targets: `/data/locations.csv` is timed "
        "once per library in a child process with the Flask test client (no gunicorn: its 30 s worker timeout "
        "could cut it short), with that process's peak RSS.",
    ]
    notes.append(
        f"Place pages (issue 21): `/places/<key>` for each of the {len(libraries[0].places)} other keys of the fixtures "
        "(the same in both libraries) once a round, never asked for before: with 10 articles a page lists the 3 to 10 "
        "that name the place, with 10,000 the first 50 of the 3,333 to 10,000 that do. A page's cost grows with the "
        "articles it lists, at most 50 (that is what the pagination is for), so the target is the time per article "
        "listed, with the raw times beside it; the cached page is the same for every reader until the library "
        f"changes. `{HOT_PLACE}` is asked {HITS} times a round (cached); `{DEEP_PLACE}?page=k`, pages 2 to 199 of "
        "Russia's 200, once each (10,000 only), against the first pages of the same run."
    )
    notes.append(
        f"One article in a worker's cache (the hot article, {len(cached)} built responses) holds "
        f"{sum(cached.values()) / 1024:.0f} KiB of bodies, plain + gzip: "
        + ", ".join(f"{path} {size / 1024:.1f}" for path, size in list(cached.items())[:6])
        + " KiB, … (a worker keeps up to 512 articles and library pages)."
    )
    notes.append(map_note)
    for size in SIZES:
        sizes = samples[size].sizes
        notes.append(f"Body bytes (gzip) with {size:,}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(sizes.items())))
    columns = ["measure", "10 articles", "10,000 articles", "ratio", "n", "kind"]
    write_result("library", "Library size: 10,000 articles vs 10 (production server)", columns, rows, notes, targets)
    return exit_status(targets)


def slugs_of_source(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT slug FROM articles ORDER BY slug")]
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
