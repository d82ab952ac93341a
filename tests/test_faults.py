"""A build killed with SIGKILL, at a chosen point of the write or at any moment, loses nothing.

Each build here is a real `python` process, killed with a real SIGKILL.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsmap.dataset import validate

from .conftest import ROOT, SEED_SLUG

KILLERS = {
    # Half-way through writing the first new table's bytes: the old tables must stay.
    "half written": (
        "real = os.fdopen\n"
        "class Half:\n"
        "    def __init__(self, handle): self.handle = handle\n"
        "    def __enter__(self): return self\n"
        "    def __exit__(self, *a): return False\n"
        "    def write(self, data):\n"
        "        self.handle.write(data[: len(data) // 2]); self.handle.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "newsmap.atomic.os.fdopen = lambda fd, mode: Half(real(fd, mode))",
        "old",
    ),
    # Both new tables written in full, killed before the commit's journal: the old tables stay.
    "before the commit": ("newsmap.atomic.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)", "old"),
    # Killed between renaming the two tables: the journal lets the next reader finish the commit.
    "between the renames": (
        "real = os.replace\ncount = [0]\n"
        "def replace(a, b):\n"
        "    count[0] += 1\n"
        "    if count[0] == 3: os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(a, b)\n"
        "newsmap.atomic.os.replace = replace",
        "new",
    ),
}


def texts(seeds: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")}


def more_articles(seeds: Path, copies: int) -> None:
    """More seeds, so the rebuilt data differs from the committed data and takes longer to write."""
    for number in range(copies):
        shutil.copy(seeds / f"{SEED_SLUG}.txt", seeds / f"copy-{number:03d}.txt")


def build(seeds: Path, data: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "newsmap", "build", "--seeds", str(seeds), "--data", str(data)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("when", KILLERS)
def test_sigkill_during_the_write_leaves_one_whole_version(workdir, when):
    seeds, data = workdir / "seeds", workdir / "data"
    more_articles(seeds, 3)
    build(seeds, workdir / "expected")
    old = {name: (data / name).read_bytes() for name in ("locations.csv", "mentions.csv")}
    new = {name: (workdir / "expected" / name).read_bytes() for name in ("locations.csv", "mentions.csv")}
    killer, outcome = KILLERS[when]
    script = (
        "import os, signal\nimport newsmap.atomic\n"
        + killer
        + f"\nfrom newsmap.cli import main\nmain(['build', '--seeds', {str(seeds)!r}, '--data', {str(data)!r}])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert list(data.glob(".*.tmp")) or (data / ".commit.json").exists(), "the kill should leave unfinished work"
    # Reading the dataset finishes or forgets the interrupted commit: one whole version remains.
    assert validate(data, texts(seeds)) == []
    expected = old if outcome == "old" else new
    assert {name: (data / name).read_bytes() for name in expected} == expected
    # The next build sweeps the leftovers away.
    build(seeds, data)
    assert not list(data.glob(".*.tmp")) and not (data / ".commit.json").exists()
    assert (data / "locations.csv").read_bytes() == new["locations.csv"]


def test_sigkill_at_random_moments_always_leaves_one_whole_version(workdir):
    seeds, data = workdir / "seeds", workdir / "data"
    more_articles(seeds, 40)
    old = (data / "locations.csv").read_bytes()
    start = time.monotonic()
    build(seeds, workdir / "expected")
    duration = time.monotonic() - start
    new = (workdir / "expected" / "locations.csv").read_bytes()
    delays = random.Random(7)
    for attempt in range(6):
        shutil.copy(ROOT / "data" / "locations.csv", data / "locations.csv")
        shutil.copy(ROOT / "data" / "mentions.csv", data / "mentions.csv")
        process = subprocess.Popen(
            [sys.executable, "-m", "newsmap", "build", "--seeds", str(seeds), "--data", str(data)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delays.uniform(0.4, 1.1) * duration)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert validate(data, texts(seeds)) == [], attempt
        current = (data / "locations.csv").read_bytes()
        assert current in (old, new), attempt  # which one depends on the moment of the kill
