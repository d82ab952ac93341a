"""Start a newsmap server in a real process, wait for /healthz, always stop it: for tests and benchmarks.

A plain module (no pytest), so the benchmarks import it too (`tests.liveserver`, with the
repository root on sys.path). Two ways to serve:

- `newsmap run`, Flask's development server (the default: one process, quick to start);
- `gunicorn=True`: the production command itself, `newsmap.serve.server.gunicorn_argv` (what
  `newsmap serve` and `make serve` run), optionally with another WSGI app in place of the
  app (`app_spec`, e.g. the benchmarks' `bench.baseline_app:application`);

or any command line (`command=lambda host, port: [...]`). The server runs in its own session
and process group, so `stop()` (SIGTERM, then SIGKILL) reaches gunicorn's workers and whatever
else it started, and nothing else. Its stderr goes to a file (a pipe nobody reads would fill up
and stall the server); a server that exits or never answers names the file and shows its tail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from newsmap.serve.server import APP_SPEC, gunicorn_argv

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TAIL_CHARS = 3000


class ServerError(RuntimeError):
    """The server exited, or did not answer /healthz in time; the message holds its stderr's tail."""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_health(
    url: str,
    process: subprocess.Popen,
    timeout: float = 60.0,
    log_path: Path | None = None,
    name: str = "server",
    path: str = "/healthz",
) -> None:
    """Poll `url` + `path` until it answers 200; ServerError (with stderr's tail) if `process` exits or time
    runs out. A static server (an export served by `http.server`) is asked for `/index.html` instead.

    stderr is read from `log_path` if given, else from `process.stderr` if that is a pipe.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            status = process.returncode
            raise ServerError(f"{name} exited ({status}) before {url}{path} answered" + _tail(process, log_path))
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while it starts; HTTPError (a 5xx) is an OSError too
            pass
        if time.monotonic() >= deadline:
            raise ServerError(f"{name} did not answer {url}{path} within {timeout:.0f} s" + _tail(process, log_path))
        time.sleep(0.1)


def _tail(process: subprocess.Popen, log_path: Path | None) -> str:
    text = ""
    if log_path is not None:
        with contextlib.suppress(OSError):
            text = log_path.read_text(encoding="utf-8", errors="replace")
        where = f"; its stderr ({log_path})"
    elif process.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            if process.poll() is None:
                os.set_blocking(process.stderr.fileno(), False)  # a live process: take what is there, never block
            data = process.stderr.read() or b""
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        where = "; its stderr"
    else:
        return ""
    text = text.rstrip()
    if not text:
        return f"{where} is empty"
    cut = "…" if len(text) > TAIL_CHARS else ""
    return f"{where} ends:\n{cut}{text[-TAIL_CHARS:]}"


class LiveServer:
    """A newsmap server on a free loopback port, healthy when the constructor returns; `stop()` or `with` ends it.

    `env` is laid over os.environ (e.g. `site_env(root)` or NEWSMAP_TILES). `log_path` keeps
    stderr there (the benchmarks' bench/out/*.log); by default it goes to a temporary file that
    `stop()` removes.
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        gunicorn: bool = False,
        *,
        app_spec: str | None = None,
        command: Callable[[str, int], list[str]] | None = None,
        log_path: Path | None = None,
        timeout: float = 60.0,
        host: str = HOST,
    ) -> None:
        if app_spec is not None and not gunicorn:
            raise ValueError("app_spec needs gunicorn=True")
        self.host = host
        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        if command is not None:
            argv = command(host, self.port)
        elif gunicorn:  # exactly as `newsmap serve` (and so `make serve`) runs it
            argv = gunicorn_argv(host, self.port, app_spec or APP_SPEC)
        else:
            argv = [sys.executable, "-m", "newsmap", "run", "--host", host, "--port", str(self.port)]
        self.argv = argv
        self._own_log = log_path is None
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="newsmap-server-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,  # stdout: an access log, if configured
                start_new_session=True,  # its own session and process group: stop() reaches its workers
            )  # fmt: skip
        try:
            wait_for_health(self.url, self.process, timeout, log_path, name=f"`{' '.join(argv)}`")
        except BaseException:
            with contextlib.suppress(ServerError):
                self.stop(keep_log=True)
            raise

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, grace: float = 15.0, keep_log: bool = False) -> None:
        """SIGTERM to the whole group (gunicorn shuts down gracefully), SIGKILL to what is left after `grace` s."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if not self.alive():
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        if self.alive():
            raise ServerError(f"{self.url}: processes {self.pids()} survived SIGKILL")
        if self._own_log and not keep_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def alive(self) -> bool:
        """Whether any process of its group still runs (our own child reaped first; zombies do not count)."""
        self.process.poll()
        return any(pgrp == self.process.pid and state != "Z" for _pid, state, _ppid, pgrp in _proc_stats())

    def pids(self) -> list[int]:
        """The server process and all its descendants, from /proc."""
        children: dict[int, list[int]] = {}
        for pid, _state, ppid, _pgrp in _proc_stats():
            children.setdefault(ppid, []).append(pid)
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found


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


def site_env(root: Path) -> dict[str, str]:
    """The settings that point a server process at a folder's seeds/, data/ and data/newsmap.db."""
    return {
        "NEWSMAP_DATA_DIR": str(root / "data"),
        "NEWSMAP_SEEDS_DIR": str(root / "seeds"),
        "NEWSMAP_DB": str(root / "data" / "newsmap.db"),
    }
