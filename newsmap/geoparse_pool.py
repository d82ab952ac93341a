"""Geoparsing beside the web workers: child processes that hold the geoparser, with a time budget.

An editor's add must not keep readers waiting, and one costly article must not hold a web worker
for as long as it likes. So the geoparse runs in a child process (`python -m newsmap.geoparser.child`,
started on first use and kept warm with its gazetteer), and the worker waits for its answer
cooperatively (under gevent, `select` yields to the other greenlets; under a thread server it
blocks only its thread). A geoparse that outlasts `timeout` seconds is killed, and the add fails
with a clear message having changed nothing: the child only computes rows; the caller stores them.

The protocol is one JSON object per line each way. This module imports nothing of the geoparser:
the serve side may hold a pool while reading never loads it.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

CHILD_ARGV = (sys.executable, "-m", "newsmap.geoparser.child")


class GeoparseError(RuntimeError):
    """The geoparse could not be done; one line for the user. `status` is the HTTP answer it calls for."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _ChildGone(OSError):
    """The child closed its end (it crashed or was killed)."""


class _Child:
    """One child process, spoken to over non-blocking pipes with a deadline on every exchange."""

    def __init__(self, argv: tuple[str, ...]) -> None:
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # this process's settings
        assert self.process.stdin is not None and self.process.stdout is not None
        self._out, self._in = self.process.stdin.fileno(), self.process.stdout.fileno()
        os.set_blocking(self._out, False)
        os.set_blocking(self._in, False)
        self._buffer = bytearray()

    def ask(self, payload: bytes, deadline: float) -> bytes:
        """Send one line, return the child's one-line answer; TimeoutError past `deadline`."""
        view = memoryview(payload + b"\n")
        while view:
            self._wait(write=True, deadline=deadline)
            try:
                view = view[os.write(self._out, view) :]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise _ChildGone("the geoparser stopped") from None
        while b"\n" not in self._buffer:
            self._wait(write=False, deadline=deadline)
            try:
                chunk = os.read(self._in, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise _ChildGone("the geoparser stopped")
            self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def _wait(self, *, write: bool, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        with selectors.DefaultSelector() as selector:  # gevent's when patched; no FD_SETSIZE limit either way
            selector.register(self._out if write else self._in, selectors.EVENT_WRITE if write else selectors.EVENT_READ)
            if not selector.select(remaining):
                raise TimeoutError

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class GeoparsePool:
    """Up to `size` warm children for this process; `run` sends one request and waits `timeout` at most."""

    def __init__(self, argv: tuple[str, ...] = CHILD_ARGV, *, size: int = 1, timeout: float = 30.0) -> None:
        self.argv, self.size, self.timeout = tuple(argv), size, timeout
        self._idle: list[_Child] = []
        weakref.finalize(self, _stop_all, self._idle)  # an app that goes (a test's) takes its children along
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()  # a pool copied into a forked worker starts afresh: children are per process
        self._idle.clear()
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()

    def __call__(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return self.run(request)

    def run(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The child's answer to `request`; GeoparseError when the budget runs out or the child fails."""
        if self._pid != os.getpid():
            self._reset()
        deadline = time.monotonic() + self.timeout
        if not self._slots.acquire(timeout=self.timeout):
            raise GeoparseError(
                f"Every geoparser is busy with other articles: try again in a minute (waited {self.timeout:g} s).", 503
            )
        try:
            return self._ask(json.dumps(request).encode("utf-8"), deadline)
        finally:
            self._slots.release()

    def _ask(self, payload: bytes, deadline: float) -> dict[str, Any]:
        with self._lock:
            child = self._idle.pop() if self._idle else None
        if child is None or child.process.poll() is not None:
            child = _Child(self.argv)
        try:
            answer = json.loads(child.ask(payload, deadline))
        except TimeoutError:
            child.kill()
            raise GeoparseError(
                f"Finding the places took longer than NEWSMAP_GEOPARSE_TIMEOUT ({self.timeout:g} s), so nothing was "
                "added: split the article into shorter ones, or raise the setting.",
                422,
            ) from None
        except (_ChildGone, ValueError) as error:
            child.kill()
            raise GeoparseError(f"The geoparser failed ({error}): nothing was added.", 500) from None
        with self._lock:
            self._idle.append(child)
        return answer

    def close(self) -> None:
        """Stop the warm children (they also stop by themselves when this process ends: their stdin closes)."""
        with self._lock:
            _stop_all(self._idle)


def _stop_all(children: list[_Child]) -> None:
    while children:
        children.pop().kill()
