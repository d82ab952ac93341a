"""What every benchmark shares: the server as `make serve` runs it, wrk, and the result files.

The machine is noisy, so each benchmark compares the app with a baseline measured in the same
run and served by the same server process; the helpers here make that setup identical for all.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HOST = "127.0.0.1"
WRK = "/usr/bin/wrk"
APP_SPEC = "app:create_app()"  # what `make serve` hands gunicorn
WRAPPER_SPEC = "bench.baseline_app:application"  # the app plus the baselines' static mount


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def serve_command(port: int, app_spec: str = APP_SPEC) -> list[str]:
    """The gunicorn command of `make serve` (from `make -n`), so a change to the target is followed.

    With `app_spec` the app is swapped for the benchmark wrapper; workers, binding and the
    options stay exactly as in production.
    """
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve", f"HOST={HOST}", f"PORT={port}"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    lines = [line for line in dry.stdout.splitlines() if "gunicorn" in line]
    if not lines:
        raise RuntimeError(f"`make -n serve` shows no gunicorn command:\n{dry.stdout}")
    argv = shlex.split(lines[-1])
    if APP_SPEC not in argv:
        raise RuntimeError(f"`make serve` no longer serves {APP_SPEC!r}: {lines[-1]}")
    return [app_spec if arg == APP_SPEC else arg for arg in argv]


class Server:
    """A server process group on a free loopback port: started, awaited on /healthz, always stopped.

    It runs in its own session so that stopping it (SIGTERM, then SIGKILL) reaches every
    process it started (make, gunicorn's master and its workers) and nothing else.
    """

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None, log_name: str = "server") -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / f"{log_name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,  # stdout: an access log, if one is configured
            start_new_session=True,
        )  # fmt: skip

    def __enter__(self) -> Server:
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server not healthy within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM to the whole group (gunicorn shuts down gracefully), SIGKILL to what is left after 15 s."""
        for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            if not self._group_alive():
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while self._group_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
        self._log.close()

    def _group_alive(self) -> bool:
        """Whether any process of our group still runs (reaping our own child; zombies do not count)."""
        self.process.poll()
        return any(pgrp == self.process.pid and state != "Z" for _pid, state, _ppid, pgrp in _proc_stats())

    def pids(self) -> list[int]:
        """The process and all its descendants, from /proc."""
        children: dict[int, list[int]] = {}
        for pid, _state, ppid, _pgrp in _proc_stats():
            children.setdefault(ppid, []).append(pid)
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def gunicorn_rss_kib(self) -> tuple[int, int]:
        """Summed VmRSS (KiB) of the gunicorn master and workers, and how many processes that is."""
        total = count = 0
        for pid in self.pids():
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


def _proc_stats() -> list[tuple[int, str, int, int]]:
    """(pid, state, ppid, process group) of every process, from /proc/<pid>/stat."""
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats.append((int(entry.name), fields[0], int(fields[1]), int(fields[2])))
    return stats


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
        print(f"  {'met    ' if target['met'] else 'NOT MET'}  {target['what']}: {target['measured']} (target {target['target']})")
    return path


def exit_status(targets: list[dict[str, Any]]) -> int:
    return 0 if all(t["met"] for t in targets) else 1
