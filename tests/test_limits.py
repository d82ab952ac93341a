"""Rate limits shared by every worker: the SQLite storage on its own, then the real gunicorn server.

This module stays light (no `conftest` import): the live-server test runs gunicorn on
`tests.test_limits:app_naming_its_worker()`, the real app plus one header naming the worker
process that answered, so the test can tell that its requests reached both workers.
"""

from __future__ import annotations

import http.client
import os
import re
import sqlite3
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask, Response
from limits import parse
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from newsmap import accounts
from newsmap.serve.limitstore import SQLiteStorage, path_of, storage_uri
from newsmap.store import connect

from .liveserver import ROOT, LiveServer, site_env
from .racing import run_together

WORKER_HEADER = "X-Test-Worker"
PASSWORD = "correct horse battery"


def app_naming_its_worker() -> Flask:
    """The app `newsmap serve` runs, answering with the pid of the worker that served each request."""
    from newsmap.serve import create_app

    app = create_app()

    @app.after_request
    def name_worker(response: Response) -> Response:
        response.headers[WORKER_HEADER] = str(os.getpid())
        return response

    return app


class Clock:
    """A time that moves only when a test moves it."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def storage(tmp_path: Path, clock: Clock) -> SQLiteStorage:
    return SQLiteStorage(storage_uri(tmp_path / "limits.db"), clock=clock)


def rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM hits) + (SELECT count(*) FROM counters)").fetchone()[0]


# -- the storage
def test_the_scheme_is_registered_and_names_a_file(tmp_path: Path):
    path = tmp_path / "a folder" / "limits.db"
    uri = storage_uri(path)
    assert uri.startswith("newsmap+sqlite:///") and " " not in uri and path_of(uri) == path
    made = storage_from_string(uri)
    assert isinstance(made, SQLiteStorage) and made.check()
    assert path.exists() and path.stat().st_mode & 0o777 == 0o600  # it holds addresses
    assert path_of("newsmap+sqlite://relative/limits.db") == Path("relative/limits.db")
    for wrong in ("newsmap+sqlite://", "sqlite:///x.db", "newsmap+sqlite:/x.db"):
        with pytest.raises(ConfigurationError):
            path_of(wrong)


def test_the_moving_window_allows_the_limit_in_any_span_of_its_length(storage: SQLiteStorage, clock: Clock):
    """3 per 60 s: refused while 3 entries are younger than 60 s, allowed again as each leaves."""
    taken = {}
    for at in (0, 10, 20, 30, 59.9, 60.1, 61, 70.1, 80.1, 80.2):
        clock.now = 1_000_000.0 + at
        taken[at] = storage.acquire_entry("k", 3, 60)
    assert taken == {
        0: True, 10: True, 20: True, 30: False, 59.9: False,  # 0, 10, 20 fill it
        60.1: True, 61: False,  # the entry of 0 has left: one slot, taken
        70.1: True, 80.1: True, 80.2: False,  # 10 leaves, then 20
    }  # fmt: skip
    clock.now = 1_000_000.0 + 80.2
    assert storage.get_moving_window("k", 3, 60) == (1_000_000.0 + 60.1, 3)  # the oldest still in it
    assert storage.get_moving_window("other", 3, 60) == (clock.now, 0)
    assert not storage.acquire_entry("k2", 3, 60, amount=4)  # more than the limit at once
    assert storage.acquire_entry("k2", 3, 60, amount=2) and not storage.acquire_entry("k2", 3, 60, amount=2)
    assert storage.get_moving_window("k2", 3, 60)[1] == 2


def test_limits_moving_window_strategy_on_it(storage: SQLiteStorage, clock: Clock):
    """What Flask-Limiter does with it: hit, test, and the window's stats (Retry-After comes from them)."""
    limiter = MovingWindowRateLimiter(storage)
    item = parse("2/minute")
    assert limiter.hit(item, "address:192.0.2.1") and limiter.test(item, "address:192.0.2.1")
    clock.now += 5
    assert limiter.hit(item, "address:192.0.2.1")
    assert not limiter.test(item, "address:192.0.2.1") and not limiter.hit(item, "address:192.0.2.1")
    assert limiter.hit(item, "address:192.0.2.2")  # another address has its own window
    stats = limiter.get_window_stats(item, "address:192.0.2.1")
    assert stats.remaining == 0 and stats.reset_time == clock.now - 5 + 60


def test_fixed_window_counters(storage: SQLiteStorage, clock: Clock):
    assert storage.get("c") == 0 and storage.get_expiry("c") == clock.now
    assert [storage.incr("c", 30) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("c", 30, amount=5) == 8 and storage.get("c") == 8
    assert storage.get_expiry("c") == clock.now + 30
    clock.now += 30
    assert storage.get("c") == 0 and storage.incr("c", 30) == 1  # a new window
    storage.incr("d", 30)
    storage.acquire_entry("e", 5, 30)
    storage.clear("c")
    assert storage.get("c") == 0 and storage.get("d") == 1
    assert storage.reset() == 2 and storage.get("d") == 0 and storage.get_moving_window("e", 5, 30)[1] == 0


def test_expired_rows_are_pruned(tmp_path: Path, clock: Clock):
    path = tmp_path / "limits.db"
    storage = SQLiteStorage(storage_uri(path), clock=clock, prune_every=600)
    storage.acquire_entry("short", 5, 10)
    storage.acquire_entry("long", 5, 1000)
    storage.incr("counter", 10)
    clock.now += 11
    assert rows(path) == 3  # expired, but not yet swept
    assert storage.prune() == 2 and rows(path) == 1  # "long" stays
    storage.acquire_entry("short", 5, 10)
    clock.now += 11
    storage.acquire_entry("other", 5, 10)  # a write within prune_every of the last sweep: nothing swept
    assert rows(path) == 3
    clock.now += 600
    storage.acquire_entry("other", 5, 10)  # prune_every later, a write sweeps on its way
    assert rows(path) == 2  # "long" and the new entry


def test_two_connections_share_the_counts(tmp_path: Path):
    uri = storage_uri(tmp_path / "limits.db")
    first, second = SQLiteStorage(uri), SQLiteStorage(uri)
    assert [first.acquire_entry("k", 3, 60) for _ in range(2)] == [True, True]
    assert second.get_moving_window("k", 3, 60)[1] == 2
    assert second.acquire_entry("k", 3, 60) and not second.acquire_entry("k", 3, 60)
    assert not first.acquire_entry("k", 3, 60)


def test_threads_of_one_process_take_exactly_the_limit(tmp_path: Path):
    storage = SQLiteStorage(storage_uri(tmp_path / "limits.db"))
    start = threading.Barrier(8)

    def take(_: int) -> int:
        start.wait()
        return sum(storage.acquire_entry("k", 20, 60) for _ in range(5))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(take, range(8))) == 20


CHILD = """
import sys
from newsmap.serve.limitstore import SQLiteStorage
storage = SQLiteStorage(sys.argv[1])
storage.check()  # connected before the signal: the race is in the writes
print("ready", flush=True)
sys.stdin.readline()
print(sum(storage.acquire_entry("k", 15, 60) for _ in range(10)), flush=True)
"""


def test_processes_take_exactly_the_limit_between_them(tmp_path: Path):
    """Three processes (as gunicorn's workers are) race for 15 entries, 10 tries each: 15 in all."""
    uri = storage_uri(tmp_path / "limits.db")
    taken = [int(answer) for answer in run_together([sys.executable, "-c", CHILD, uri], 3, ROOT)]
    assert sum(taken) == 15, taken
    assert not SQLiteStorage(uri).acquire_entry("k", 15, 60)


def test_a_storage_made_before_a_fork_works_on_both_sides(tmp_path: Path):
    """gunicorn loads the app (and so the storage) in its master, then forks the workers."""
    storage = SQLiteStorage(storage_uri(tmp_path / "limits.db"))
    assert storage.acquire_entry("k", 3, 60)  # the parent's connection exists before the fork
    pid = os.fork()
    if pid == 0:  # the child: its own connection, the same counts
        os._exit(0 if storage.acquire_entry("k", 3, 60) and storage.get_moving_window("k", 3, 60)[1] == 2 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert storage.acquire_entry("k", 3, 60) and not storage.acquire_entry("k", 3, 60)


def test_the_app_counts_in_limits_db_beside_the_database(tmp_path: Path):
    from newsmap.serve import create_app

    connect(tmp_path / "newsmap.db").close()
    app = create_app({"TESTING": True, "DB": str(tmp_path / "newsmap.db")})
    assert path_of(app.config["RATELIMIT_STORAGE_URI"]) == (tmp_path / "limits.db").resolve()
    memory = create_app({"TESTING": True, "DB": str(tmp_path / "newsmap.db"), "RATELIMIT_STORAGE_URI": "memory://"})
    assert memory.config["RATELIMIT_STORAGE_URI"] == "memory://"  # tests may still choose it


# -- the real server
def call(port: int, method: str, path: str, body: str | None = None, headers: dict | None = None):
    """One request on a connection of its own (closed after it: gunicorn hands each to whichever worker accepts)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_the_sign_in_limit_holds_across_gunicorn_workers(tmp_path: Path):
    """14 wrong passwords from one address, each with another X-Forwarded-For (trusted by nothing:
    NEWSMAP_PROXIES is 0), to gunicorn's 2 workers: the first 10 are 401 and the rest 429 (counted
    per worker, it was 401 x11, 429, 401, 401). Then the right password is 429 too."""
    conn = connect(tmp_path / "data" / "newsmap.db")
    accounts.add_user(conn, "alice", PASSWORD)
    conn.close()
    server = LiveServer(site_env(tmp_path), gunicorn=True, app_spec="tests.test_limits:app_naming_its_worker()")
    try:
        page, text = call(server.port, "GET", "/login")
        cookie = page.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)

        def attempt(number: int, password: str = "wrong password"):
            form = urlencode({"name": "alice", "password": password, "csrf_token": token})
            headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                       "X-Forwarded-For": f"198.51.100.{number}"}  # fmt: skip
            return call(server.port, "POST", "/login", form, headers)[0]

        answers = [attempt(number) for number in range(14)]
        assert [a.status for a in answers] == [401] * 10 + [429] * 4
        assert all(int(a.getheader("Retry-After")) > 0 for a in answers[10:])
        workers = {a.getheader(WORKER_HEADER) for a in answers}
        more = []  # should one worker have taken all 14, ask until the other answers: 429 as well
        while len(workers) < 2 and len(more) < 40:
            more.append(attempt(14 + len(more)))
            workers.add(more[-1].getheader(WORKER_HEADER))
        assert len(workers) == 2 and all(a.status == 429 for a in more), (workers, [a.status for a in more])
        assert attempt(99, PASSWORD).status == 429
    finally:
        server.stop()
    limits_db = tmp_path / "data" / "limits.db"
    assert limits_db.stat().st_mode & 0o777 == 0o600
    library = b"".join(path.read_bytes() for path in (tmp_path / "data").glob("newsmap.db*"))
    assert b"127.0.0.1" not in library and b"198.51.100." not in library  # addresses stay out of the library
