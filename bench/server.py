"""Server benchmark: requests per second for the library page, an article page, its CSV, the whole-library CSV and
the JSON API, against a static file.

The server reads a database made by `newsmap build` of the fixture articles (tests/fixtures/, three
articles) into a temporary folder (NEWSMAP_DB); the article is the one with the most places. Each route is compared with a static file of the same byte count served by the same gunicorn
process (the production command of `newsmap serve` and `make serve`, with `baseline_app.py`'s static mount), with the same wrk
settings. The machine is shared and noisy, so the 6 s of each are taken as 1 s slices that
alternate between route and static file (ABBA...): a burst of other work hits both alike. The static file is the
ceiling for "bytes already in memory": the app builds an article's responses once per article version and the
library's once per store revision, then serves them from a cache, so it should come close to it.

Each route is measured twice: as wrk asks by default (no Accept-Encoding, the plain body) and
as browsers ask (Accept-Encoding: gzip, the app's precompressed body); the static file then
has the byte count of that response.

wrk shares the machine's 2 cores with the server, and TCP and gunicorn's own work dilute the
app's share; so the same comparison is also made in process, as CPU time per WSGI call
(best of several repeats, which little noise survives): `server-cpu.json`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import timeit
from pathlib import Path
from typing import Any

from common import WRAPPER_SPEC, bench_server, build_fixtures, exit_status, fetch, main_article, run_wrk, write_result

ENCODINGS = {"plain": {}, "gzip": {"Accept-Encoding": "gzip"}}
SLICES, SLICE_SECONDS, THREADS, CONNECTIONS, WARMUP = 6, 1, 2, 16, 1
TARGET_RATIO = 0.8
CPU_CALLS, CPU_REPEATS = 1000, 5


def routes(slug: str) -> dict[str, str]:
    """Route -> the suffix of its static twin."""
    return {
        "/": ".html",
        f"/articles/{slug}": ".html",
        f"/articles/{slug}/locations.csv": ".csv",
        "/data/locations.csv": ".csv",
        "/api/places": ".json",
    }


def combine(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """Slices of one URL as one run: rates from the totals, the median slice's p50, the worst slice's p99."""
    seconds = sum(r["seconds"] for r in slices)
    return {
        "rps": sum(r["requests"] for r in slices) / seconds,
        "lat_p50_ms": statistics.median(r["lat_p50_ms"] for r in slices),
        "lat_p99_ms": max(r["lat_p99_ms"] for r in slices),
        "socket_errors": sum(r["socket_errors"] for r in slices),
        "http_errors": sum(r["http_errors"] for r in slices),
        "command": slices[0]["command"],
    }


def measure(url: str, other: str, headers: dict[str, str], reverse: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """`url` and `other` in alternating slices (ABBAAB...), after a warm-up of each."""
    runs: dict[str, list[dict[str, Any]]] = {url: [], other: []}

    def wrk(target: str, seconds: int) -> dict[str, Any]:
        return run_wrk(target, seconds=seconds, threads=THREADS, connections=CONNECTIONS, headers=headers)

    for target in runs:
        wrk(target, WARMUP)
    for i in range(SLICES):
        for target in [url, other] if (i % 2 == 0) != reverse else [other, url]:
            runs[target].append(wrk(target, SLICE_SECONDS))
    return combine(runs[url]), combine(runs[other])


def cpu_costs(static_dir: Path, db: Path, slug: str, cases: list[tuple[str, str, dict[str, str], str, int]]) -> None:
    """Microseconds of CPU per WSGI call, app route vs its static file, in this process: server-cpu.json."""
    os.environ["NEWSMAP_BENCH_STATIC"] = str(static_dir)
    os.environ["NEWSMAP_DB"] = str(db)
    from werkzeug.test import EnvironBuilder

    from bench.baseline_app import application
    from newsmap.serve import create_app

    def per_call(path: str, headers: dict[str, str]) -> float:
        environ = EnvironBuilder(path=path, headers=headers).get_environ()

        def call() -> None:
            body = application(dict(environ), lambda *args: None)
            for _ in body:
                pass
            getattr(body, "close", lambda: None)()

        call()
        return min(timeit.repeat(call, number=CPU_CALLS, repeat=CPU_REPEATS)) / CPU_CALLS * 1e6

    rows = []
    for route, encoding, headers, static, size in cases:
        app_us, static_us = per_call(route, headers), per_call(static, headers)
        rows.append([route, encoding, size, round(app_us, 1), round(static_us, 1), f"{static_us / app_us:.2f}×"])
    store = create_app().extensions["newsmap"].store()

    def lookup_us(call: Any) -> float:
        call()
        return min(timeit.repeat(call, number=CPU_CALLS * 5, repeat=CPU_REPEATS)) / (CPU_CALLS * 5) * 1e6

    revision_us, info_us = lookup_us(store.revision), lookup_us(lambda: store.info(slug))
    notes = [
        f"Wall time per call of `bench.baseline_app:application` in one thread, with a prepared WSGI environ, best of {CPU_REPEATS} "
        f"repeats of {CPU_CALLS} calls, no server or socket: the app's own cost per request. '× static' is the "
        "rate ratio (static µs / app µs), comparable with server.json's req/s ratio.",
        f"Of the app's cost, the per-request freshness lookups in SQLite take {revision_us:.1f} µs "
        f"(`Store.revision()`, the key of the library page and `/data/...`) and {info_us:.1f} µs "
        "(`Store.info(slug)`, the article's version, the key of its page and downloads).",
    ]
    columns = ["route", "encoding", "bytes", "app µs/request", "static µs/request", "× static"]
    write_result("server-cpu", "Server CPU per request vs a static file (in process)", columns, rows, notes, [])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="newsmap-bench-") as tmp:
        static_dir = Path(tmp) / "static"
        static_dir.mkdir()
        db = build_fixtures(Path(tmp) / "library")
        slug = main_article(db)
        env = {"NEWSMAP_BENCH_STATIC": str(static_dir), "NEWSMAP_DB": str(db)}
        with bench_server("server-server", env, WRAPPER_SPEC) as server:
            cases = []
            for route, suffix in routes(slug).items():
                for encoding, headers in ENCODINGS.items():
                    status, _, body = fetch(server.url + route, headers)
                    assert status == 200, f"{route}: {status}"
                    name = f"{route.strip('/').replace('/', '-') or 'index'}-{encoding}{suffix}"
                    (static_dir / name).write_bytes(body)  # same bytes, so the same byte count
                    cases.append((route, encoding, headers, f"/bench/{name}", len(body)))
            results = []
            for i, (route, encoding, headers, static, size) in enumerate(cases):
                app, base = measure(server.url + route, server.url + static, headers, reverse=bool(i % 2))
                print(f"  {route} ({encoding}): {app['rps']:.0f} req/s; static {size} bytes: {base['rps']:.0f} req/s")
                results.append((route, encoding, size, app, base))
        cpu_costs(static_dir, db, slug, cases)

    columns = [
        "route", "encoding", "bytes", "req/s", "static req/s", "× static", "p50 ms", "p99 ms", "static p99 ms",
        "socket errors", "HTTP ≥ 400", "static errors",
    ]  # fmt: skip
    rows, targets = [], []
    for route, encoding, size, app, static in results:
        ratio = app["rps"] / static["rps"]
        errors = app["socket_errors"] + app["http_errors"]
        rows.append([
            route, encoding, size, round(app["rps"]), round(static["rps"]), f"{ratio:.2f}×",
            round(app["lat_p50_ms"], 2), round(app["lat_p99_ms"], 2), round(static["lat_p99_ms"], 2),
            app["socket_errors"], app["http_errors"], static["socket_errors"] + static["http_errors"],
        ])  # fmt: skip
        targets.append({
            "what": f"`{route}` ({encoding}) req/s vs a static file of {size} bytes",
            "target": f"≥ {TARGET_RATIO}×, 0 errors",
            "measured": f"{ratio:.2f}× ({app['rps']:.0f} vs {static['rps']:.0f} req/s), {errors} errors",
            "met": ratio >= TARGET_RATIO and errors == 0,
        })  # fmt: skip
    notes = [
        f"wrk {THREADS} threads, {CONNECTIONS} connections; per route and per static file {SLICES} slices of "
        f"{SLICE_SECONDS} s, alternating, after a {WARMUP} s warm-up of each, e.g. `{results[0][3]['command']}` "
        "(the Lua script only prints a JSON summary). req/s from the summed slices; p50 the median slice's, "
        "p99 the worst slice's.",
        "Server: the production gunicorn command of `newsmap serve` (2 gevent workers, app preloaded) with app "
        "`bench.baseline_app:application`; static files from werkzeug's SharedDataMiddleware mounted at /bench/ in "
        "that same process. wrk runs on the same 2 cores as the server, so absolute rates are low; the ratio is the figure.",
        "gunicorn's gevent workers keep connections alive between requests, as wrk asks.",
        "Database: `newsmap build` of the fixture articles (tests/fixtures/) into a temporary folder; the article "
        f"page and its CSV are `{slug}`'s (the article with the most places).",
        "Socket errors = connect + read + write + timeout; HTTP ≥ 400 = wrk's 'Non-2xx or 3xx responses'.",
    ]
    write_result("server", "Server throughput vs a static file of the same size (wrk)", columns, rows, notes, targets)
    return exit_status(targets)


if __name__ == "__main__":
    raise SystemExit(main())
