"""Cost of hostile input and clients -> bench/out/hostile.json.

1. **Linear build.** One-line and many-line articles of 25 KB to 2 MB (the fixture articles
   repeated) go through every step of a build in-process: read the file, split sentences,
   recognise, resolve, describe, encode and write the three data files. Reported: CPU seconds
   per 100 KB at each size; the baseline is the smallest size of the same kind, measured in the
   same run, so the ratio shows growth, not the machine. Target: the 2 MB figure within 1.5x of
   the 25 KB one. Then one real `newsmap build` of the 2 MB article in a child process (start,
   gazetteer and all), target under 30 s.
2. **A place-dense sentence** (issue 18): "Bishkek Osh Kant Moscow " over and over, one sentence
   of 10, 40, 120 and 480 KB, through the same in-process steps. Reported: CPU seconds per KB;
   target: the 480 KB figure within 1.5x of the 10 KB one (it grew with the square of the
   sentence: minutes at 480 KB). Then one real `newsmap build` of the 480 KB text (the article
   limit's size) in a child process with the default limits, which refuse it: targets under
   10 s and under 600 MB peak RSS (before the fix it was still working after 5 minutes, at 5.9 GB).
3. **Slow clients.** `newsmap serve` (the production command) on loopback; the latency of 200
   normal requests with no attack (the baseline), then while 500 connections send their request
   headers one line every 2 s (bounded: at most 60 s, every socket closed at the end). Target:
   p99 under attack below 1 s.
4. **Hostile bodies** (issue 18), on the same kind of server: a 300 MB form POSTed to `/login` as
   fast as loopback takes it: the time to its 413 (against the calm p50 of an article page, the
   baseline), how much of the body was sent by then, and the workers' RSS growth (target < 50 MB;
   it grew ~575 MB). Then 2,000 connections POST sign-in bodies a byte at a time (each under its
   size limit, so only the read deadline cuts them off) while normal requests are timed. Target:
   the worst normal request under 1 s.

Usage: python bench/hostile.py
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import ROOT, bench_server, exit_status, gunicorn_workers_rss_kib, write_result

from newsmap.article import load_article
from newsmap.dataset import write_dataset
from newsmap.geoparser import geoparse_article
from newsmap.geoparser.gazetteer import DEFAULT_CURATED, Gazetteer

FIXTURES = ROOT / "tests" / "fixtures"
SIZES = (25_000, 100_000, 500_000, 2_000_000)
DENSE_SIZES = (10_000, 40_000, 120_000, 480_000)
DENSE_WORDS = "Bishkek Osh Kant Moscow "
ATTACKERS = 500
REQUESTS = 200


def source_text() -> str:
    """The fixture articles, whole: real news phrasing with facilities, towns and countries."""
    return "\n\n".join(path.read_text(encoding="utf-8") for path in sorted(FIXTURES.glob("*.txt")))


def article_text(size: int, one_line: bool) -> str:
    base = source_text()
    if one_line:
        base = " ".join(base.split())
    text = (base + ("\n\n" if not one_line else " ")) * (size // len(base) + 1)
    cut = text[:size]
    return cut[: cut.rfind(" ")] + "\n"


def build_in_process(path: Path, gazetteer: Gazetteer, out: Path) -> float:
    """CPU seconds for every step of one article's build, from reading the file to writing the data."""
    started = time.process_time()
    article = load_article(path)
    locations, mentions = geoparse_article(article, gazetteer, None)
    write_dataset(out, locations, mentions)
    return time.process_time() - started


def linear_build(tmp: Path) -> tuple[list[list[object]], list[dict[str, object]]]:
    gazetteer = Gazetteer.open(DEFAULT_CURATED)
    build_in_process(write_article(tmp, "warmup", article_text(25_000, False)), gazetteer, tmp / "out")
    rows, targets = [], []
    for one_line in (True, False):
        kind = "one line" if one_line else "many lines"
        per_100k: dict[int, float] = {}
        for size in SIZES:
            path = write_article(tmp, f"a{size}", article_text(size, one_line))
            runs = 3 if size <= 100_000 else 1
            seconds = statistics.median(build_in_process(path, gazetteer, tmp / "out") for _ in range(runs))
            per_100k[size] = seconds / (size / 100_000)
            ratio = per_100k[size] / per_100k[SIZES[0]]
            rows.append([kind, f"{size / 1000:g} KB", f"{seconds:.2f}", f"{per_100k[size]:.3f}", f"{ratio:.2f}x"])
        worst = max(per_100k[size] / per_100k[SIZES[0]] for size in SIZES)
        targets.append(
            {"what": f"s/100 KB, {kind}, largest vs smallest", "target": "<= 1.5x",
             "measured": f"{worst:.2f}x", "met": worst <= 1.5}
        )  # fmt: skip
    return rows, targets


def write_article(tmp: Path, name: str, text: str) -> Path:
    path = tmp / "seeds" / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def full_build_2mb(tmp: Path) -> tuple[float, float]:
    """(wall seconds, max RSS MiB) of `newsmap build` of one 2 MB article, in a child process."""
    seeds = tmp / "big-seeds"
    seeds.mkdir()
    (seeds / "big.txt").write_text(article_text(2_000_000, False), encoding="utf-8")
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "NEWSMAP_MAX_ARTICLE_KB": "2100", "NEWSMAP_MAX_PLACES": "100000",
        "NEWSMAP_MAX_MENTIONS": "1000000", "NEWSMAP_MAX_CSV_MB": "500",
    }  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "newsmap", "build", "--seeds", str(seeds), "--data", str(tmp / "big-data")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"newsmap build of 2 MB failed: {child.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def dense_text(size: int) -> str:
    """The issue's place-dense article: four place names over and over, one sentence (no full stop)."""
    return (DENSE_WORDS * (size // len(DENSE_WORDS) + 1))[:size]


def dense_build(tmp: Path) -> tuple[list[list[object]], list[dict[str, object]], list[str]]:
    """CPU s per KB of the place-dense sentence by size, then a real `newsmap build` of 480 KB."""
    gazetteer = Gazetteer.open(DEFAULT_CURATED)
    build_in_process(write_article(tmp, "dense-warmup", dense_text(DENSE_SIZES[0])), gazetteer, tmp / "out")
    rows: list[list[object]] = []
    per_kb: dict[int, float] = {}
    for size in DENSE_SIZES:
        path = write_article(tmp, f"dense{size}", dense_text(size))
        runs = 5 if size <= 40_000 else 3 if size <= 120_000 else 1  # the small ones are noisy
        seconds = statistics.median(build_in_process(path, gazetteer, tmp / "out") for _ in range(runs))
        per_kb[size] = seconds / (size / 1000)
        ratio = per_kb[size] / per_kb[DENSE_SIZES[0]]
        rows.append([f"{size / 1000:g} KB", f"{seconds:.2f}", f"{per_kb[size] * 1000:.2f}", f"{ratio:.2f}x"])
    worst = per_kb[DENSE_SIZES[-1]] / per_kb[DENSE_SIZES[0]]
    seconds, rss, outcome = full_build_dense(tmp)
    targets = [
        {"what": "CPU s/KB, place-dense sentence, 480 KB vs 10 KB", "target": "<= 1.5x",
         "measured": f"{worst:.2f}x", "met": worst <= 1.5},
        {"what": "`newsmap build` of the 480 KB place-dense sentence: wall time", "target": "< 10 s",
         "measured": f"{seconds:.1f} s", "met": seconds < 10},
        {"what": "`newsmap build` of the 480 KB place-dense sentence: peak RSS", "target": "< 600 MB",
         "measured": f"{rss:.0f} MB", "met": rss < 600},
    ]  # fmt: skip
    return rows, targets, [f"The real build's answer: {outcome}"]


def write_dense_result(rows: list[list[object]], targets: list[dict[str, object]], notes: list[str]) -> None:
    write_result(
        "hostile-dense",
        "Hostile input: one place-dense sentence against its size",
        ["size", "CPU s", "CPU ms per KB", "vs 10 KB"],
        rows,
        [
            f"'{DENSE_WORDS}' over and over as one sentence: CPU seconds of every step of its build in-process "
            "(read, split, recognise, resolve, describe, write; no limits), median of 5 up to 40 KB and of 3 at "
            "120 KB; the ratio is against the 10 KB text, measured in the same run. Then `newsmap build` of the "
            "480 KB text in a child process with the default limits: wall time, and the child's peak RSS.",
            *notes,
        ],
        targets,
    )


# `python -m newsmap ARGS...` that writes its own peak RSS (VmHWM, KiB) to a file as it exits. The
# rusage wait4 returns is no use here: a child's ru_maxrss counts the parent's memory it was forked
# with (after the 2 MB builds, a few hundred MB that the build never used).
PEAK_RSS_WRAPPER = """
import atexit, runpy, sys
from pathlib import Path
out = Path(sys.argv[1])
def peak():
    out.write_text(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1])
atexit.register(peak)
sys.argv = ["newsmap", *sys.argv[2:]]
runpy.run_module("newsmap", run_name="__main__", alter_sys=True)
"""


def full_build_dense(tmp: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, its last line on stderr) of `newsmap build` of the 480 KB
    place-dense text in a child process, with the default limits and a database of its own."""
    seeds, peak = tmp / "dense-seeds", tmp / "dense-peak-kib"
    seeds.mkdir()
    (seeds / "dense.txt").write_text(dense_text(DENSE_SIZES[-1]), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSMAP_MAX_")}
    env.update({"PYTHONPATH": str(ROOT), "NEWSMAP_DB": str(tmp / "dense-data" / "newsmap.db")})
    argv = ["build", "--seeds", str(seeds), "--data", str(tmp / "dense-data")]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_RSS_WRAPPER, str(peak), *argv], env=env, cwd=tmp,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    lines = done.stderr.strip().splitlines()
    if done.returncode not in (0, 1) or (done.returncode == 1 and not lines):  # 1: refused, with its reason
        raise SystemExit(f"newsmap build of the place-dense text failed ({done.returncode}): {lines[-5:]}")
    return seconds, int(peak.read_text()) * 1024 / 1e6, lines[-1] if done.returncode else "accepted"


def latencies(url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
        times.append(time.perf_counter() - started)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.contextmanager
def calm_server(name: str, files: int):
    """(server, the article page's URL, its latencies unattacked): the server warmed, `files` descriptors allowed."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    with bench_server(name) as server:
        url = f"{server.url}/articles/kyrgyzstan-russian-bases-2019"
        latencies(url, 20)  # warm both workers
        yield server, url, latencies(url, REQUESTS)


def slow_clients() -> tuple[list[list[object]], list[dict[str, object]]]:
    with calm_server("hostile-server", 4096) as (server, url, calm):
        dribblers: list[socket.socket] = []
        deadline = time.monotonic() + 60
        try:
            for _ in range(ATTACKERS):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                dribblers.append(sock)
            attacked: list[float] = []
            next_line = time.monotonic()
            while len(attacked) < REQUESTS and time.monotonic() < deadline:
                if time.monotonic() >= next_line:
                    for number, sock in enumerate(dribblers):
                        sock.sendall(f"X-Slow-{number}: {int(next_line)}\r\n".encode())
                    next_line += 2.0
                attacked += latencies(url, 10)
        finally:
            for sock in dribblers:
                sock.close()
    rows = [
        [label, len(values), f"{percentile(values, 0.5) * 1000:.1f}", f"{percentile(values, 0.99) * 1000:.1f}"]
        for label, values in (("no attack (baseline)", calm), (f"{ATTACKERS} slow clients", attacked))
    ]
    p99 = percentile(attacked, 0.99)
    ratio = p99 / percentile(calm, 0.99)
    targets = [
        {"what": f"p99 of an article page during {ATTACKERS} slow clients", "target": "< 1 s",
         "measured": f"{p99 * 1000:.0f} ms ({ratio:.1f}x the calm p99)", "met": p99 < 1.0 and len(attacked) >= REQUESTS}
    ]  # fmt: skip
    return rows, targets


BODY_ATTACKERS = 2000


def refused_body(port: int, total: int) -> tuple[float, int]:
    """POST `total` bytes of form to /login as fast as the server takes them; (seconds to the answer, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {total}\r\n\r\n"
    sent = [0]
    started = time.monotonic()
    sock.sendall(head.encode())

    def pour() -> None:
        piece = b"a" * 65536
        try:
            while sent[0] < total:
                sock.sendall(piece)
                sent[0] += len(piece)
        except OSError:
            pass

    pourer = threading.Thread(target=pour, daemon=True)
    pourer.start()
    answer = sock.recv(64)
    elapsed = time.monotonic() - started
    at = sent[0]
    sock.close()
    pourer.join(timeout=30)
    if not answer.startswith(b"HTTP/1.1 413"):
        raise RuntimeError(f"expected a 413, got {answer!r}")
    return elapsed, at


def slow_bodies(server, url: str) -> list[float]:
    """Normal request latencies while BODY_ATTACKERS sockets trickle sign-in bodies (at most 40 s)."""
    dribblers: list[socket.socket] = []
    timed: list[float] = []
    try:
        for _ in range(BODY_ATTACKERS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 10000\r\n\r\nname=")  # fmt: skip
            sock.setblocking(False)
            dribblers.append(sock)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(timed) < REQUESTS:
            for sock in dribblers:
                with contextlib.suppress(OSError):
                    sock.send(b"a")
            timed += latencies(url, 5)
    finally:
        for sock in dribblers:
            sock.close()
    return timed


def hostile_bodies() -> tuple[list[list[object]], list[dict[str, object]]]:
    with calm_server("hostile-bodies", 8192) as (server, url, calm):
        before = sum(gunicorn_workers_rss_kib(server).values())
        refusals = [refused_body(server.port, 300_000_000) for _ in range(3)]
        growth = (sum(gunicorn_workers_rss_kib(server).values()) - before) / 1024
        attacked = slow_bodies(server, url)
    seconds = statistics.median(r[0] for r in refusals)
    sent = max(r[1] for r in refusals)
    worst = max(attacked) if attacked else float("inf")
    rows = [
        ["no attack (baseline): article page", len(calm), f"{percentile(calm, 0.5) * 1000:.1f}", f"{max(calm) * 1000:.1f}"],
        ["300 MB form to /login: its 413", len(refusals), f"{seconds * 1000:.1f}", f"{max(r[0] for r in refusals) * 1000:.1f}"],
        [f"article page during {BODY_ATTACKERS} slow bodies", len(attacked), f"{percentile(attacked, 0.5) * 1000:.1f}" if attacked else "-", f"{worst * 1000:.1f}"],
    ]  # fmt: skip
    targets = [
        {"what": "workers' RSS growth after three 300 MB form POSTs", "target": "< 50 MB",
         "measured": f"{growth:.1f} MB; 413 after {seconds * 1000:.0f} ms ({seconds / percentile(calm, 0.5):.1f}x a calm page), "
                     f"{sent / 1e6:.1f} MB of 300 sent by then", "met": growth < 50},
        {"what": f"worst article-page latency during {BODY_ATTACKERS} slow-body sockets", "target": "< 1 s",
         "measured": f"{worst * 1000:.0f} ms over {len(attacked)} requests", "met": worst < 1.0 and len(attacked) >= 50},
    ]  # fmt: skip
    return rows, targets


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="newsmap-hostile-"))
    try:
        build_rows, build_targets = linear_build(tmp)
        seconds, rss = full_build_2mb(tmp)
        dense_rows, dense_targets, dense_notes = dense_build(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    build_targets.append(
        {"what": "`newsmap build` of a 2 MB article", "target": "< 30 s",
         "measured": f"{seconds:.1f} s, {rss:.0f} MiB max RSS", "met": seconds < 30}
    )  # fmt: skip
    write_result(
        "hostile-build",
        "Hostile input: build cost against article size",
        ["article", "size", "CPU s", "CPU s per 100 KB", "vs 25 KB"],
        build_rows,
        [
            "CPU seconds of every step of one article's build in-process (read, split, recognise, resolve, "
            "describe, write), median of 3 for sizes up to 100 KB; the ratio is against the 25 KB article of "
            "the same kind, measured in the same run. The fixture articles, repeated.",
        ],
        build_targets,
    )
    write_dense_result(dense_rows, dense_targets, dense_notes)
    client_rows, client_targets = slow_clients()
    write_result(
        "hostile-clients",
        "Hostile clients: latency during a slow-header attack",
        ["requests", "count", "p50 ms", "p99 ms"],
        client_rows,
        [
            f"{REQUESTS} sequential GETs of an article page on `newsmap serve` (gevent workers), calm, then "
            f"while {ATTACKERS} loopback connections send a header line every 2 s and never finish their request.",
        ],
        client_targets,
    )
    body_rows, body_targets = hostile_bodies()
    write_result(
        "hostile-bodies",
        "Hostile bodies: oversized and slow request bodies",
        ["requests", "count", "p50 ms", "max ms"],
        body_rows,
        [
            "`newsmap serve` on loopback. An anonymous 300 MB form POST to /login, sent as fast as the server "
            "takes it: time to the 413, three times; RSS summed over the gunicorn workers before and after. "
            f"Then {BODY_ATTACKERS} connections each send a sign-in body of 10,000 bytes a byte per round "
            "(under the 16 KB limit, never silent for 5 s: only the 10 s read deadline cuts them off) while "
            "article pages are fetched one after another. The baseline is the same server's calm latency.",
        ],
        body_targets,
    )
    return exit_status(build_targets + dense_targets + client_targets + body_targets)


if __name__ == "__main__":
    sys.exit(main())
