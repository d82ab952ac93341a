"""A build killed with SIGKILL, at a chosen point of the write or at any moment, loses nothing.

Each build here is a real `python` process, killed with a real SIGKILL. Everything happens in a
private copy of the `built` fixture (tests/fixtures' first article and the data built from it),
with the processes started outside the repository: its own seeds/ and data/ play no part.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from newsmap.atomic import JOURNAL
from newsmap.dataset import validate
from newsmap.geoparser.gazetteer import default_cache_dir
from newsmap.store import Store

from .conftest import FIXTURES, ROOT, SEED_SLUG, copy_article

KILLERS = {
    # Half-way through writing the first new table's bytes: the old tables must stay.
    "half written": (
        "real = os.fdopen\n"
        "class Half:\n"
        "    def __init__(self, handle): self.handle = handle\n"
        "    def __enter__(self): return self\n"
        "    def __exit__(self, *a): return False\n"
        "    def __getattr__(self, name): return getattr(self.handle, name)\n"
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


MORE_ARTICLES = ("tajikistan-border-2021", "caspian-ports-2023")


def texts(seeds: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")}


def tables(data: Path) -> dict[str, bytes]:
    """The exported tables in `data`, by name: the files one commit replaces together. (The database
    beside them has its own atomicity, per article: see test_a_kill_inside_an_article_write_leaves_all_or_nothing.)"""
    return {name: (data / name).read_bytes() for name in ("locations.csv", "mentions.csv") if (data / name).exists()}


def more_articles(seeds: Path, copies: int) -> None:
    """More seeds (tests/fixtures' other articles, and copies of the first), so the rebuilt data differs
    from `built`'s and takes longer to write."""
    for slug in MORE_ARTICLES:
        copy_article(slug, seeds)
    for number in range(copies):
        shutil.copy(FIXTURES / f"{SEED_SLUG}.txt", seeds / f"copy-{number:03d}.txt")


def python_env() -> dict[str, str]:
    """The environment of a child `python` run outside the repository: newsmap on PYTHONPATH (it is not
    installed), and the GeoNames index this process uses (the default, `.cache`, is relative to the working
    folder: a build elsewhere would spend its first seconds building another one)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    cache = str(default_cache_dir().resolve())
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", "NEWSMAP_CACHE_DIR": cache}


def build_argv(seeds: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "newsmap", "build", "--seeds", str(seeds), "--data", str(data)]


def build(seeds: Path, data: Path) -> None:
    subprocess.run(build_argv(seeds, data), cwd=seeds.parent, env=python_env(), check=True, capture_output=True)


@pytest.mark.parametrize("when", KILLERS)
def test_sigkill_during_the_write_leaves_one_whole_version(workdir, when):
    seeds, data = workdir / "seeds", workdir / "data"
    more_articles(seeds, 3)
    build(seeds, workdir / "expected")
    old, new = tables(data), tables(workdir / "expected")
    assert old != new
    killer, outcome = KILLERS[when]
    script = (
        "import os, signal\nimport newsmap.atomic\n"
        + killer
        + f"\nfrom newsmap.cli import main\nmain(['build', '--seeds', {str(seeds)!r}, '--data', {str(data)!r}])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, env=python_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert list(data.glob(".*.tmp")) or (data / JOURNAL).exists(), "the kill should leave unfinished work"
    # Reading the dataset finishes or forgets the interrupted commit: one whole version remains.
    assert validate(data, texts(seeds)) == []
    assert tables(data) == (old if outcome == "old" else new)
    # The next build sweeps the leftovers away.
    build(seeds, data)
    assert not list(data.glob(".*.tmp")) and not (data / JOURNAL).exists()
    assert tables(data) == new


# --------------------------------------------------------------------------- kills at random moments

# Where a kill can land, read from what it left in the data folder (before anything reads it), and
# the version a reader must then find: the commit window is from the first temporary file to the
# journal's removal; with the journal written the commit is decided and rolls forward.
LANDINGS = {
    "before": "old",  # no temporary file yet, the old tables in place
    "writing": "old",  # temporaries, no journal: rolled back
    "committing": "new",  # the journal names the temporaries: rolled forward
    "after": "new",  # the commit done, the process on its way out
    "finished": "new",  # the kill came too late: the build exited by itself
}
INSIDE = ("writing", "committing")
COPIES = 40  # ~1.5 s builds; the commit window itself lasts a few ms
ANYWHERE = 4  # kills at a random point of a build's progress (the machine's speed varies too much for clock times)
AIMED = 8  # at most this many kills aimed into the commit window, until WANT_INSIDE landed there
WANT_INSIDE = 4
AIMS = {"temporaries": 0.001, "journal": 0.0002}  # what to wait for, and the most random delay after it (s)


def landing(data: Path, old: dict[str, bytes], new: dict[str, bytes], returncode: int) -> str:
    names = os.listdir(data)
    if JOURNAL in names:
        return "committing"
    if any(name.startswith(".") and name.endswith(".tmp") for name in names):
        return "writing"
    if returncode == 0:
        return "finished"
    current = tables(data)
    return "before" if current == old else "after" if current == new else f"neither version: {sorted(names)}"


def await_articles(process: subprocess.Popen, count: int) -> bool:
    """Read the build's progress until it has geoparsed `count` articles (a line each); False if it ended first."""
    assert process.stdout is not None
    done = 0
    while done < count:
        line = process.stdout.readline()
        if not line:
            return False
        done += bool(re.match(r"\S+: (\d+ places|unchanged)", line))  # geoparsed, or skipped by hash
    return True


def anywhere(process: subprocess.Popen, articles: int, rng: random.Random) -> str:
    """Kill the build at a random point: in its start-up, or a random time after its k-th article."""
    done = rng.randint(0, articles)
    delay = rng.uniform(0, 0.5 if done == 0 else 0.2)
    if done and not await_articles(process, done):
        return "no output"
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    return f"{done}/{articles} articles + {delay * 1000:.0f} ms"


def aim(process: subprocess.Popen, data: Path, articles: int, target: str, delay: float) -> tuple[str, float | None]:
    """Kill the build `delay` s after `target` shows in the data folder, i.e. inside its commit window.

    The build prints a line per article, then commits: after the last of those lines the folder is
    watched without pause, and the first temporary file opens the window. Returns what was last
    seen before the kill and the time from the window's opening to the kill (ms).
    """
    if not await_articles(process, articles):
        return "no output", None
    deadline = time.monotonic() + 30
    opened = None
    seen = "no temporary file"
    while process.poll() is None and time.monotonic() < deadline:
        names = os.listdir(data)
        journal = JOURNAL in names
        temporaries = any(name.endswith(".tmp") for name in names)
        if (journal or temporaries) and opened is None:
            opened = time.perf_counter()
        if journal:
            seen = "journal"
        elif temporaries:
            seen = "temporaries"
        elif opened is not None:
            seen = "window closed"
        if (target == "journal" and journal) or (target == "temporaries" and temporaries) or seen == "window closed":
            until = time.perf_counter() + delay
            while time.perf_counter() < until:
                pass
            break
    process.send_signal(signal.SIGKILL)  # nothing if it has exited and been reaped
    return seen, None if opened is None else (time.perf_counter() - opened) * 1000


def test_sigkill_at_random_moments_always_leaves_one_whole_version(workdir):
    """Kills anywhere in a build, and kills aimed at random moments of its commit window (a few ms of a
    1.5 s build): where each landed is read from the folder it left, and the version found must follow."""
    seeds, data = workdir / "seeds", workdir / "data"
    more_articles(seeds, COPIES)
    articles = len(list(seeds.glob("*.txt")))
    shutil.copytree(data, workdir / "old")
    old = tables(data)
    start = time.monotonic()
    build(seeds, workdir / "expected")
    duration = time.monotonic() - start
    new = tables(workdir / "expected")
    assert old != new
    versions = {"old": old, "new": new}
    seed = random.randrange(2**32)  # a new one each run, in the report: `random.Random(seed)` replays a run's choices
    rng = random.Random(seed)
    first = rng.randrange(len(AIMS))
    aims = [list(AIMS)[(first + number) % len(AIMS)] for number in range(AIMED)]  # in turn: both halves of the window
    record: list[tuple[str, str, str]] = []  # (how it was killed, where it landed, what was seen / when)

    def kill(how: str) -> None:
        shutil.rmtree(data)
        shutil.copytree(workdir / "old", data)
        process = subprocess.Popen(
            build_argv(seeds, data), cwd=workdir, env=python_env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            if how == "anywhere":
                note = anywhere(process, articles, rng)
            else:
                seen, ms = aim(process, data, articles, how, rng.uniform(0, AIMS[how]))
                note = f"{seen} seen, {ms:.2f} ms into the window" if ms is not None else seen
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
            process.wait()
        where = landing(data, old, new, process.returncode)
        record.append((how, where, note))
        summary = f"seed {seed}, kill {len(record)} ({how}, {note}) landed {where}; stderr: {stderr[-500:]}"
        assert where in LANDINGS, summary
        assert process.returncode in (0, -signal.SIGKILL), summary
        # Reading the dataset finishes or forgets the interrupted commit: one whole version remains,
        # the one the landing calls for.
        assert validate(data, texts(seeds)) == [], summary
        assert tables(data) == versions[LANDINGS[where]], summary

    for _ in range(ANYWHERE):
        kill("anywhere")
    for target in aims:
        if sum(where in INSIDE for _, where, _ in record) >= WANT_INSIDE:
            break
        kill(target)

    landed = Counter(where for _, where, _ in record)
    report = "\n".join(f"  {how:12} {where:11} {note}" for how, where, note in record)
    report = f"build {duration:.2f} s, seed {seed}; kills landed {dict(landed)}:\n{report}"
    print(f"\n{report}")
    assert sum(landed[where] for where in INSIDE) >= 3, f"too few kills inside the commit window; {report}"


# --------------------------------------------------------------------------- the database


def test_a_kill_inside_an_article_write_leaves_all_or_nothing(workdir):
    """SIGKILL between an article's places and its mentions: the database holds the whole previous
    state, never an article without its mentions (one transaction per article)."""
    db = workdir / "data" / "newsmap.db"
    script = f"""
import os, signal, sys
from pathlib import Path
from newsmap.article import load_article
from newsmap.store import Store
store = Store.open(Path({str(db)!r}))
article = load_article(Path({str(FIXTURES / "tajikistan-border-2021.txt")!r}))
rows = store.places("{SEED_SLUG}")
mentions = store.mentions("{SEED_SLUG}")
moved = [{{**r, "article": article.slug}} for r in rows]
said = [{{**m, "article": article.slug}} for m in mentions]
def die(statement):
    if statement.startswith("INSERT INTO mentions"):
        os.kill(os.getpid(), signal.SIGKILL)
store.conn.set_trace_callback(die)
store.put_article(article, moved, said)
"""
    before = Store.open(db)
    articles, places = [i.slug for i in before.infos()], before.places()
    before.close()
    result = subprocess.run(
        [sys.executable, "-c", script], env=python_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    after = Store.open(db)
    assert after.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert after.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [i.slug for i in after.infos()] == articles and after.places() == places
