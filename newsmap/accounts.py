"""Editors, their API tokens and their signed-in sessions, in the store's `users`, `tokens` and `sessions` tables.

Readers need no account; adding and deleting articles needs an editor. An editor signs in with
a password (kept only as an argon2id hash: slow on purpose, so a stolen database does not give
the passwords away) or sends an API token (kept only as its SHA-256: a token is 256 random bits,
so a fast hash is enough, and a lookup by hash costs one index search). A token is shown once,
when it is made, and never again.

Signing in makes a session: a random id that only the browser's cookie holds, and a row with its
SHA-256, the editor and when it ends. The database thus holds nothing that could be replayed as a
session (as with tokens), and a session ends the moment its row goes: at sign-out, when the
editor's password changes or the editor is removed, or when its time is up.

Every function takes a connection from `newsmap.store.connect`; errors a user can fix are an
`AccountError` with one line that says what is wrong.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from newsmap.store import now, transaction

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length; a limit keeps the form and the prompt sane
MAX_LABEL = 100
TOKEN_PREFIX = "nm_"  # recognisable in a config file or a leak scanner
MAX_TOKEN = 200  # longer is never one of ours: answered without a lookup
MAX_SESSION_ID = 100  # likewise for a session id (ours are 43 characters)

_HASHER = PasswordHasher()  # argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile)


class AccountError(ValueError):
    """An account operation that cannot be done; one line for the user."""


@dataclass(frozen=True)
class Editor:
    name: str
    created_at: str
    tokens: int


@dataclass(frozen=True)
class TokenInfo:
    """A token's row without its secret (which is not kept anyway: only its hash is)."""

    id: int
    user: str
    label: str
    created_at: str
    last_used_at: str | None


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise AccountError(f"{name!r} is not a valid editor name: use 1 to 64 letters, digits, '_', '.' or '-'")
    return name


def _check_password(password: str) -> str:
    if not isinstance(password, str) or not password:
        raise AccountError("a password is required")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    return password


def _exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None


def user_exists(conn: sqlite3.Connection, name: str) -> bool:
    return isinstance(name, str) and _exists(conn, name)


def add_user(conn: sqlite3.Connection, name: str, password: str) -> None:
    """A new editor; its password is stored as an argon2id hash, never as it is."""
    check_name(name)
    password_hash = _HASHER.hash(_check_password(password))
    try:
        with transaction(conn):
            conn.execute(
                "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, password_hash, now()),
            )
    except sqlite3.IntegrityError:
        raise AccountError(f"an editor named {name!r} already exists") from None


def set_password(conn: sqlite3.Connection, name: str, password: str) -> None:
    """A new password for an editor; every session it has signed in ends (a changed password is
    often a stolen one). Its API tokens stay."""
    password_hash = _HASHER.hash(_check_password(password))
    with transaction(conn):
        changed = conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)).rowcount
        if not changed:
            raise AccountError(f"no editor named {name!r}")
        conn.execute("DELETE FROM sessions WHERE user = ?", (name,))


def remove_user(conn: sqlite3.Connection, name: str) -> int:
    """Remove an editor with all its tokens and sessions; returns how many tokens went with it."""
    with transaction(conn):
        tokens = conn.execute("SELECT COUNT(*) FROM tokens WHERE user = ?", (name,)).fetchone()[0]
        if not conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount:
            raise AccountError(f"no editor named {name!r}")
        # The foreign keys cascade too; deleting here is sure even on a connection without them.
        conn.execute("DELETE FROM tokens WHERE user = ?", (name,))
        conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return int(tokens)


def list_users(conn: sqlite3.Connection) -> list[Editor]:
    rows = conn.execute(
        "SELECT name, created_at, (SELECT COUNT(*) FROM tokens WHERE tokens.user = users.name) FROM users ORDER BY name"
    ).fetchall()
    return [Editor(row[0], row[1], int(row[2])) for row in rows]


def has_editors(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


@functools.cache
def _dummy_hash() -> str:
    """What a password is checked against when there is no such editor: the answer takes as long."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def check_password(conn: sqlite3.Connection, name: str, password: str) -> bool:
    """Whether `password` is `name`'s; as slow for an unknown name as for a known one.

    A hash made with weaker parameters than today's is replaced by a new one on success.
    """
    row = None
    if isinstance(name, str) and NAME_PATTERN.fullmatch(name):
        row = conn.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
    stored = row[0] if row else _dummy_hash()
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        row, stored, password = None, _dummy_hash(), ""  # never a valid password: checked all the same
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if row is None:
        return False
    if _HASHER.check_needs_rehash(stored):
        with transaction(conn):
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
                (_HASHER.hash(password), name, stored),
            )
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- sessions
def _at(seconds: float) -> str:
    """A time as the sessions table keeps it: ISO, UTC, to the second (so text order is time order)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def start_session(conn: sqlite3.Connection, name: str, lifetime: float) -> str:
    """A new session of editor `name` for `lifetime` seconds; returns its id, which only the
    cookie will hold (the table keeps its SHA-256). Sessions whose time is up are deleted on the way."""
    session_id = secrets.token_urlsafe(32)
    start = time.time()
    with transaction(conn):
        if not _exists(conn, name):
            raise AccountError(f"no editor named {name!r}")
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (_at(start),))
        conn.execute(
            "INSERT INTO sessions (id_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (_token_hash(session_id), name, _at(start), _at(start + lifetime)),
        )
    return session_id


def session_user(conn: sqlite3.Connection, session_id: str) -> str | None:
    """The editor a session id belongs to, or None: unknown, ended, or past its time (then deleted)."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
        return None
    digest = _token_hash(session_id)
    row = conn.execute("SELECT user, expires_at FROM sessions WHERE id_hash = ?", (digest,)).fetchone()
    if row is None:
        return None
    if row[1] <= _at(time.time()):
        conn.execute("DELETE FROM sessions WHERE id_hash = ?", (digest,))
        return None
    return str(row[0])


def end_session(conn: sqlite3.Connection, session_id: str) -> bool:
    """Sign a session out: its id stops working at once, wherever a copy of the cookie is."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
        return False
    with transaction(conn):
        return conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_token_hash(session_id),)).rowcount > 0


def add_token(conn: sqlite3.Connection, user: str, label: str = "") -> str:
    """A new API token for `user`; the token itself is returned here once and stored only hashed."""
    label = " ".join(label.split()) if isinstance(label, str) else ""
    if len(label) > MAX_LABEL:
        raise AccountError(f"the label is too long: use at most {MAX_LABEL} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(conn):
        if not _exists(conn, user):
            raise AccountError(f"no editor named {user!r}")
        conn.execute(
            "INSERT INTO tokens (user, label, token_hash, created_at) VALUES (?, ?, ?, ?)",
            (user, label, _token_hash(token), now()),
        )
    return token


def token_user(conn: sqlite3.Connection, token: str) -> str | None:
    """The editor a token belongs to (and its use noted), or None for a wrong or removed token."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN:
        return None
    digest = _token_hash(token)
    row = conn.execute("SELECT id, user FROM tokens WHERE token_hash = ?", (digest,)).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now(), row[0]))
    return str(row[1])


def list_tokens(conn: sqlite3.Connection, user: str | None = None) -> list[TokenInfo]:
    """Tokens (all, or one editor's) without their secrets, oldest first."""
    where, args = ("WHERE user = ?", (user,)) if user is not None else ("", ())
    rows = conn.execute(
        f"SELECT id, user, label, created_at, last_used_at FROM tokens {where} ORDER BY id", args
    ).fetchall()
    return [TokenInfo(int(row[0]), row[1], row[2], row[3], row[4]) for row in rows]


def remove_token(conn: sqlite3.Connection, token_id: int) -> None:
    with transaction(conn):
        if not conn.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount:
            raise AccountError(f"no token with id {token_id}")
