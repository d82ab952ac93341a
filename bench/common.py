"""What every benchmark shares: the production server, wrk, and the result files.

The machine is noisy, so each benchmark compares the app with a baseline measured in the same
run and served by the same server process; the helpers here make that setup identical for all.
The server is `tests/liveserver.py`'s `LiveServer` (the tests' own helper): gunicorn with the
command line of `newsmap serve` and `make serve` (`newsmap.serve.server.gunicorn_argv`), on a
free loopback port, waited for on /healthz, always stopped with its whole process group.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # newsmap is not installed into the venv: the scripts run from the repo

from newsmap.serve.server import APP_SPEC  # noqa: E402
from tests.liveserver import LiveServer  # noqa: E402

OUT = ROOT / "bench" / "out"
WRK = "/usr/bin/wrk"
WRAPPER_SPEC = "bench.baseline_app:application"  # the app plus the baselines' static mount


def bench_server(name: str, env: dict[str, str] | None = None, app_spec: str = APP_SPEC) -> LiveServer:
    """The production gunicorn command serving `app_spec` (the app, or WRAPPER_SPEC), stderr in bench/out/<name>.log.

    Workers, binding and options stay exactly as in production; only the WSGI app may be swapped.
    """
    return LiveServer(env, gunicorn=True, app_spec=app_spec, log_path=OUT / f"{name}.log")


def gunicorn_rss_kib(server: LiveServer) -> tuple[int, int]:
    """Summed VmRSS (KiB) of the server's gunicorn master and workers, and how many processes that is."""
    total = count = 0
    for pid in server.pids():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if b"gunicorn" not in cmdline:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
                count += 1
    return total, count


def gunicorn_workers_rss_kib(server: LiveServer) -> dict[int, int]:
    """VmRSS (KiB) of each gunicorn worker (a gunicorn process whose parent is one too), by pid."""
    status: dict[int, tuple[int, int]] = {}  # pid -> (ppid, rss)
    for pid in server.pids():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except (OSError, ValueError):
            continue
        if b"gunicorn" in cmdline and "VmRSS" in fields:
            status[pid] = (int(fields["PPid"]), int(fields["VmRSS"].split()[0]))
    return {pid: rss for pid, (ppid, rss) in status.items() if ppid in status}


def build_fixtures(dest: Path) -> Path:
    """`newsmap build` of the fixture articles (tests/fixtures/*.txt, .json) into dest; returns its database."""
    return build_seeds(dest, ROOT / "tests" / "fixtures")


def build_seeds(dest: Path, source: Path) -> Path:
    """`newsmap build` of the articles in `source` (its *.txt and *.json) into dest; returns its database.

    The real build (offline geocoder), so the database holds real rows; dest/seeds and dest/data are made.
    """
    seeds, data = dest / "seeds", dest / "data"
    seeds.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*")):
        if path.is_file() and path.suffix in (".txt", ".json"):
            shutil.copy2(path, seeds / path.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "newsmap", "build", "--seeds", str(seeds), "--data", str(data)]
    run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise RuntimeError(f"`{shlex.join(argv)}` failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return data / "newsmap.db"


def main_article(db: Path) -> str:
    """The slug of the article with the most places in a database (the one worth measuring)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT a.slug FROM articles a LEFT JOIN places p ON p.article = a.slug "
            "GROUP BY a.slug ORDER BY count(p.id) DESC, a.slug LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise RuntimeError(f"{db}: no article")
    return row[0]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


# wrk's `done` prints one JSON line; with `paths` set, requests cycle through them and every status is counted.
WRK_LUA = r"""
local paths = %(paths)s
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  counts = {}
  requests_ = {}
  for i, p in ipairs(paths) do requests_[i] = wrk.format("GET", p.path, p.headers) end
  index = id
end
if #paths > 0 then
  request = function()
    index = index %% #requests_ + 1
    return requests_[index]
  end
  response = function(status, headers, body)
    local key = "s" .. status
    counts[key] = (counts[key] or 0) + 1
  end
end
function done(summary, latency, requests)
  local totals, statuses = {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts") or {}) do totals[k] = (totals[k] or 0) + v end
  end
  for k, v in pairs(totals) do statuses[#statuses + 1] = string.format('"%%s":%%d', string.sub(k, 2), v) end
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"lat_mean_us":%%.1f,"lat_stdev_us":%%.1f,"lat_p50_us":%%d,"lat_p99_us":%%d,"lat_max_us":%%d,"statuses":[{%%s}]}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(statuses, ",")))
end
"""


def lua_paths(paths: list[tuple[str, dict[str, str]]]) -> str:
    items = []
    for path, headers in paths:
        pairs = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
        items.append(f"{{path = {json.dumps(path)}, headers = {{{pairs}}}}}")
    return "{" + ", ".join(items) + "}"


def run_wrk(
    url: str,
    *,
    seconds: int = 10,
    threads: int = 2,
    connections: int = 16,
    headers: dict[str, str] | None = None,
    paths: list[tuple[str, dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """One wrk run; its summary as a dict (rps, latency in ms, socket errors, HTTP >= 400 count)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_LUA % {"paths": lua_paths(paths or [])})
    argv = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script.name]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    try:
        run = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True)
    finally:
        os.unlink(script.name)
    line = next((x for x in run.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{run.stdout}\n{run.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    statuses = raw["statuses"][0] if raw["statuses"] else {}
    return {
        "requests": raw["requests"],
        "seconds": raw["duration_us"] / 1e6,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "mb_per_s": raw["bytes"] / (raw["duration_us"] / 1e6) / 1e6,
        "lat_mean_ms": raw["lat_mean_us"] / 1000,
        "lat_p50_ms": raw["lat_p50_us"] / 1000,
        "lat_p99_ms": raw["lat_p99_us"] / 1000,
        "lat_max_ms": raw["lat_max_us"] / 1000,
        "socket_errors": raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        "socket_detail": {k: raw[k] for k in ("connect", "read", "write", "timeout")},
        "http_errors": raw["status"],  # wrk's "Non-2xx or 3xx responses": statuses above 399
        "statuses": {int(k): v for k, v in statuses.items()},
        "command": shlex.join([*argv[:-2], url]),
    }


def write_result(
    name: str,
    title: str,
    columns: list[str],
    rows: list[list[Any]],
    notes: list[str],
    targets: list[dict[str, Any]],
) -> Path:
    """bench/out/<name>.json, the shape report.py renders."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    result = {"title": title, "columns": columns, "rows": rows, "notes": notes, "targets": targets}
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    for target in targets:
        print(
            f"  {'met    ' if target['met'] else 'NOT MET'}  {target['what']}: {target['measured']} (target {target['target']})"
        )
    return path


def exit_status(targets: list[dict[str, Any]]) -> int:
    return 0 if all(t["met"] for t in targets) else 1
