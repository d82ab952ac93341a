"""Load/soak check (`make soak`): `make serve` under 64 connections for 30 s must not fail or grow.

This runs the production target itself, `make serve` (through `tests/liveserver.py`'s `LiveServer`,
which also runs the tests' servers), on a free loopback port, reading a database made by
`newsmap build` of the fixture articles (NEWSMAP_DB, in a temporary folder), and drives it with wrk
cycling through the routes people and scripts hit (the library page `/`, an article page, its CSV,
the whole-library CSV, the JSON API) plus browser-style revalidations of `/` and of the article
page (If-None-Match, answered 304). It passes with no
socket errors, no response other than 2xx/304, and a gunicorn resident set (master plus
workers, summed from /proc) that grows by less than 10 % between a short warm-up and the end.
It is bounded in time and always stops the server it started (its whole process group).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import (
    OUT,
    ROOT,
    LiveServer,
    build_fixtures,
    exit_status,
    fetch,
    gunicorn_rss_kib,
    main_article,
    run_wrk,
    write_result,
)

SECONDS, WARMUP, THREADS, CONNECTIONS = 30, 5, 2, 64
MAX_GROWTH = 0.10


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="newsmap-soak-") as tmp:
        db = build_fixtures(Path(tmp))
        return soak(db, main_article(db))


def soak(db: Path, slug: str) -> int:
    def make_serve(host: str, port: int) -> list[str]:
        return ["make", "--no-print-directory", "serve", f"HOST={host}", f"PORT={port}"]

    # `make serve` builds first: from the seeds that made this database (build_seeds' dest/seeds) into its
    # own folder, so the build finds nothing to do, rather than dropping the fixtures for the checkout's
    # seeds/ or writing their tables into the checkout's data/.
    env = {"NEWSMAP_DB": str(db), "NEWSMAP_DATA_DIR": str(db.parent), "NEWSMAP_SEEDS_DIR": str(db.parent.parent / "seeds")}
    with LiveServer(env, command=make_serve, log_path=OUT / "soak-server.log") as server:
        gzip = {"Accept-Encoding": "gzip"}
        article = f"/articles/{slug}"
        etags = {path: fetch(server.url + path, gzip)[1]["ETag"] for path in ("/", article)}
        paths = [
            ("/", gzip),
            (article, gzip),
            (f"{article}/locations.csv", {}),
            ("/data/locations.csv", {}),
            ("/api/places", gzip),
            ("/", {**gzip, "If-None-Match": etags["/"]}),
            (article, {**gzip, "If-None-Match": etags[article]}),
        ]
        cold_kib, processes = gunicorn_rss_kib(server)
        run_wrk(server.url, seconds=WARMUP, threads=THREADS, connections=CONNECTIONS, paths=paths)
        before_kib, _ = gunicorn_rss_kib(server)
        result = run_wrk(server.url, seconds=SECONDS, threads=THREADS, connections=CONNECTIONS, paths=paths)
        after_kib, processes_after = gunicorn_rss_kib(server)
        log_path, host = server.log_path, server.host
    log = log_path.read_text(encoding="utf-8", errors="replace")
    crashes = sum(log.count(word) for word in ("Traceback", "WORKER TIMEOUT", "exited with code", "was sent SIGKILL"))
    boots = log.count("Booting worker")  # more boots than workers means a worker died and was replaced

    statuses = result["statuses"]
    bad = {status: n for status, n in statuses.items() if not (200 <= status < 300 or status == 304)}
    growth = after_kib / before_kib - 1
    revalidations = result["requests"] * sum(1 for _, h in paths if "If-None-Match" in h) / len(paths)
    columns = ["requests", "req/s", "p50 ms", "p99 ms", "max ms", "socket errors", "statuses", "RSS cold MiB",
               "RSS before MiB", "RSS after MiB", "growth"]  # fmt: skip
    rows = [[
        result["requests"], round(result["rps"]), round(result["lat_p50_ms"], 1), round(result["lat_p99_ms"], 1),
        round(result["lat_max_ms"], 1), result["socket_errors"],
        ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())),
        round(cold_kib / 1024, 1), round(before_kib / 1024, 1), round(after_kib / 1024, 1), f"{growth:+.2%}",
    ]]  # fmt: skip
    targets = [
        {"what": "socket errors (connect, read, write, timeout)", "target": "0",
         "measured": f"{result['socket_errors']} {result['socket_detail']}", "met": result["socket_errors"] == 0},
        {"what": "responses other than 2xx or 304", "target": "0",
         "measured": str(sum(bad.values())) + (f" {bad}" if bad else ""), "met": not bad},
        {"what": "gunicorn RSS growth over the run", "target": f"< {MAX_GROWTH:.0%}",
         "measured": f"{growth:+.2%} ({before_kib:,} → {after_kib:,} KiB)", "met": growth < MAX_GROWTH},
        {"what": "worker crashes, timeouts, restarts or tracebacks in the server log", "target": "0",
         "measured": f"{crashes} ({boots} worker boots for {processes_after - 1} workers)",
         "met": crashes == 0 and boots == processes_after - 1},
    ]  # fmt: skip
    notes = [
        f"`make serve` on {host}, a free port, with NEWSMAP_DB a `newsmap build` of the fixture articles (the "
        f"article: `{slug}`, the one with the most places); wrk {THREADS} threads, {CONNECTIONS} connections, {SECONDS} s, "
        f"after a {WARMUP} s warm-up at the same load; requests cycle through "
        + ", ".join(f"`{p}`" + (f" ({', '.join(h)})" if h else "") for p, h in paths)
        + ".",
        f"RSS: VmRSS summed over the {processes} gunicorn processes (master + workers; {processes_after} at the end); "
        "cold = right after /healthz answered, before = after the warm-up (both workers have built and cached every response asked for).",
        f"304s: {statuses.get(304, 0)} for about {revalidations:.0f} revalidations ({statuses.get(304, 0) / revalidations:.0%}); "
        "a revalidation of a current ETag answered 200 means a wasted full response.",
        f"Server log (stderr): {log_path.relative_to(ROOT)}; stdout (an access log, if configured) goes to /dev/null.",
    ]
    write_result("soak", "Load/soak: `make serve` at 64 connections", columns, rows, notes, targets)
    return exit_status(targets)


if __name__ == "__main__":
    raise SystemExit(main())
