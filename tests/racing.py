"""Processes that start one piece of work at the same moment, for the tests of what they share.

Each child prints "ready", waits for a line on stdin, does its work and prints its answer; the
parent starts them all, waits until every one is ready, then lets them go together, so the race
is real rather than left to how fast each one happened to start.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def run_together(argv: list[str], count: int, cwd: Path) -> list[str]:
    """What each of `count` processes running `argv` printed after "ready" (stripped), in start order."""
    children = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd)
        for _ in range(count)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        return [child.communicate(timeout=60)[0].strip() for child in children]
    finally:
        for child in children:
            child.kill()
