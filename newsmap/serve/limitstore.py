"""Rate-limit counts in a small SQLite file that every worker process shares, with no server to run.

Why: `newsmap serve` runs several gunicorn workers, and Flask-Limiter's `memory://` storage counts
in each of them separately, so "10 sign-in attempts per minute" really meant 10 per worker (14 wrong
passwords from one address got `401 x11, 429, 401, 401`). Redis or memcached would share the
counts, but they are one more server to run and secure. One SQLite file does it for every process
on the machine: WAL, one short `BEGIN IMMEDIATE` transaction per hit (the check and the new entry
together, so two workers cannot both take the last slot) and a busy timeout so they queue. Only
sign-ins and writes are limited, so readers never touch it.

Why its own file (`limits.db` beside `newsmap.db`) and not a table in the library: it holds client
addresses, which do not belong in a database people publish as it is (with Datasette), and its
constant small writes stay out of the library's file. It is made readable by its owner only.

Importing this module registers the storage with the `limits` package (the one Flask-Limiter uses)
under the scheme `newsmap+sqlite`: everything after `newsmap+sqlite://` is the file's path,
percent-encoded (`newsmap+sqlite:///srv/newsmap/data/limits.db`; `storage_uri` makes one). It
implements the base `Storage` (fixed-window counters) and `MovingWindowSupport`, the strategy
newsmap uses: "10 per minute" means at most 10 in any 60 seconds. Expired rows are deleted now and
then (`prune`), inside a write that is being made anyway.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from limits.errors import ConfigurationError
from limits.storage import MovingWindowSupport, Storage

SCHEME = "newsmap+sqlite"
FILE_NAME = "limits.db"
BUSY_TIMEOUT_MS = 5_000  # a worker waits this long for another's write (each takes well under a millisecond)
PRUNE_EVERY = 60.0  # seconds between two sweeps of expired rows by one process

_SCHEMA = (
    # One row per acquired entry of a moving window (`amount` entries at once), kept until `expires`.
    "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL, amount INTEGER NOT NULL, "
    "expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hits_key_at ON hits (key, at)",
    "CREATE INDEX IF NOT EXISTS hits_expires ON hits (expires)",
    # Fixed-window counters (the base Storage API; newsmap's own limits use the moving window).
    "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS counters_expires ON counters (expires)",
)

# Connections a process inherited through fork: never used, and never closed either (closing one in
# the child could drop the parent's SQLite locks or delete its WAL), so kept referenced here.
_INHERITED: list[sqlite3.Connection] = []


def storage_uri(path: Path) -> str:
    """The storage URI of a limits file (made absolute: workers may not share the current folder)."""
    return f"{SCHEME}://" + urllib.parse.quote(str(Path(path).resolve()))


def path_of(uri: str) -> Path:
    """The file a `newsmap+sqlite://PATH` URI names."""
    scheme, sep, rest = uri.partition("://")
    path = urllib.parse.unquote(rest.split("?", 1)[0])
    if scheme != SCHEME or not sep or not path:
        raise ConfigurationError(f"a newsmap limits storage is {SCHEME}://PATH, not {uri!r}")
    return Path(path)


def _open(path: Path) -> sqlite3.Connection:
    """A connection to the limits file (made, with its tables, if missing): WAL and a busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # addresses: for the server's user only (WAL inherits it)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # losing the last hits in a power cut is fine for rate limits
    for statement in _SCHEMA:
        conn.execute(statement)
    return conn


class SQLiteStorage(Storage, MovingWindowSupport):
    """Flask-Limiter's counts in one SQLite file shared by every process (see the module's docstring).

    One connection per process, made on first use (never before gunicorn forks its workers), used
    by one thread at a time. `clock` and `prune_every` are there for tests.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = [SCHEME]

    def __init__(
        self,
        uri: str,
        wrap_exceptions: bool = False,
        *,
        clock: Callable[[], float] = time.time,
        prune_every: float = PRUNE_EVERY,
        **options: Any,
    ) -> None:
        self.path = path_of(uri)
        self._clock = clock
        self._prune_every = float(prune_every)
        self._pruned_at = float("-inf")
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            if self._conn is not None:  # made before a fork: SQLite's locks belong to the parent
                _INHERITED.append(self._conn)
            self._conn, self._pid = _open(self.path), os.getpid()
        return self._conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[tuple[sqlite3.Connection, float]]:
        with self._lock:
            yield self._connection(), self._clock()

    @contextlib.contextmanager
    def _write(self) -> Iterator[tuple[sqlite3.Connection, float]]:
        """One short write transaction, and the time read once it holds the file's write lock (so
        hits are stamped in the order the processes commit them)."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()
                yield conn, now
                if now - self._pruned_at >= self._prune_every:
                    self._delete_expired(conn, now)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _delete_expired(self, conn: sqlite3.Connection, now: float) -> int:
        deleted = conn.execute("DELETE FROM hits WHERE expires <= ?", (now,)).rowcount
        deleted += conn.execute("DELETE FROM counters WHERE expires <= ?", (now,)).rowcount
        self._pruned_at = now
        return deleted

    def prune(self) -> int:
        """Delete every expired row now; returns how many went (writes also do it every `prune_every` s)."""
        with self._write() as (conn, now):
            return self._delete_expired(conn, now)

    # -- the moving window (newsmap's strategy)
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Take `amount` entries of `key`'s window if no more than `limit` would then be in the last `expiry` s."""
        if amount > limit:
            return False
        with self._write() as (conn, now):
            used = conn.execute(
                "SELECT coalesce(sum(amount), 0) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()[0]
            if used + amount > limit:
                return False
            conn.execute(
                "INSERT INTO hits (key, at, amount, expires) VALUES (?, ?, ?, ?)", (key, now, amount, now + expiry)
            )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(when the oldest entry still in the window was taken, how many entries it holds)."""
        with self._read() as (conn, now):
            oldest, used = conn.execute(
                "SELECT min(at), coalesce(sum(amount), 0) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
        return (now if oldest is None else float(oldest)), int(used)

    # -- fixed-window counters (the base Storage API)
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to `key`'s counter (a new one lives `expiry` s); returns its value."""
        with self._write() as (conn, now):
            conn.execute("DELETE FROM counters WHERE key = ? AND expires <= ?", (key, now))
            conn.execute(
                "INSERT INTO counters (key, value, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                (key, amount, now + expiry),
            )
            value = conn.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()[0]
        return int(value)

    def get(self, key: str) -> int:
        with self._read() as (conn, now):
            row = conn.execute("SELECT value FROM counters WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        with self._read() as (conn, now):
            row = conn.execute("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        """Whether the file can be used."""
        try:
            with self._read() as (conn, _):
                conn.execute("SELECT count(*) FROM hits").fetchone()
        except (sqlite3.Error, OSError):
            return False
        return True

    def clear(self, key: str) -> None:
        with self._write() as (conn, _):
            conn.execute("DELETE FROM hits WHERE key = ?", (key,))
            conn.execute("DELETE FROM counters WHERE key = ?", (key,))

    def reset(self) -> int | None:
        """Forget every count; returns how many keys there were."""
        with self._write() as (conn, _):
            keys = conn.execute(
                "SELECT count(*) FROM (SELECT key FROM hits UNION SELECT key FROM counters)"
            ).fetchone()[0]
            conn.execute("DELETE FROM hits")
            conn.execute("DELETE FROM counters")
        return int(keys)
