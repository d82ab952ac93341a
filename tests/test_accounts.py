"""Editors and API tokens: the store functions on a real SQLite file, and `newsmap user|token` as users run them."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from newsmap import accounts
from newsmap.accounts import AccountError
from newsmap.cli_accounts import accounts_cli, token_group, user_group
from newsmap.store import connect

from .conftest import ROOT

PASSWORD = "correct horse battery"


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "newsmap.db"


@pytest.fixture()
def conn(db: Path):
    conn = connect(db)
    yield conn
    conn.close()


def on_disk(db: Path) -> bytes:
    """Every byte of the database and its WAL."""
    return b"".join(path.read_bytes() for path in sorted(db.parent.glob(db.name + "*")))


def raw_rows(db: Path, sql: str) -> list[tuple]:
    """What is really on disk, through a connection of its own."""
    with sqlite3.connect(db) as other:
        return other.execute(sql).fetchall()


def sessions_count(conn: sqlite3.Connection) -> int:
    """How many sessions the table holds, whoever they belong to."""
    return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]


# -- editors
def test_passwords_are_stored_as_argon2id_hashes_never_as_typed(conn, db):
    accounts.add_user(conn, "alice", PASSWORD)
    [(name, stored, created)] = raw_rows(db, "SELECT name, password_hash, created_at FROM users")
    assert name == "alice" and created
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PASSWORD.encode() not in on_disk(db)
    assert accounts.check_password(conn, "alice", PASSWORD)
    assert not accounts.check_password(conn, "alice", PASSWORD + "!")
    assert not accounts.check_password(conn, "alice", "")
    assert not accounts.check_password(conn, "bob", PASSWORD)  # no such editor: checked against a dummy hash
    assert not accounts.check_password(conn, "not a name", PASSWORD)
    assert not accounts.check_password(conn, "alice", "x" * 100_000)


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("alice", "", "a password is required"),
        ("alice", "short", "too short: use at least 8 characters"),
        ("alice", "x" * 1025, "too long"),
        ("", PASSWORD, "not a valid editor name"),
        ("al ice", PASSWORD, "not a valid editor name"),
        ("a/b", PASSWORD, "not a valid editor name"),
        ("x" * 65, PASSWORD, "not a valid editor name"),
        ("ålice", PASSWORD, "not a valid editor name"),
    ],
)
def test_bad_names_and_passwords_are_refused_with_one_line(conn, name, password, message):
    with pytest.raises(AccountError, match=message) as error:
        accounts.add_user(conn, name, password)
    assert "\n" not in str(error.value)
    assert accounts.list_users(conn) == []


def test_names_may_use_letters_digits_dot_dash_underscore(conn):
    for name in ("a", "Alice.B-2_x", "x" * 64):
        accounts.add_user(conn, name, PASSWORD)
    assert [e.name for e in accounts.list_users(conn)] == ["Alice.B-2_x", "a", "x" * 64]


def test_a_name_is_taken_once(conn):
    accounts.add_user(conn, "alice", PASSWORD)
    with pytest.raises(AccountError, match="an editor named 'alice' already exists"):
        accounts.add_user(conn, "alice", "another password")
    assert accounts.check_password(conn, "alice", PASSWORD)


def test_set_password_replaces_the_old_one_and_ends_the_sessions(conn):
    accounts.add_user(conn, "alice", PASSWORD)
    accounts.add_user(conn, "bob", PASSWORD)
    alices = [accounts.start_session(conn, "alice", 3600) for _ in range(2)]
    bobs = accounts.start_session(conn, "bob", 3600)
    token = accounts.add_token(conn, "alice")
    accounts.set_password(conn, "alice", "a new password")
    assert accounts.check_password(conn, "alice", "a new password")
    assert not accounts.check_password(conn, "alice", PASSWORD)
    assert [accounts.session_user(conn, sid) for sid in alices] == [None, None]  # every one of them
    assert accounts.session_user(conn, bobs) == "bob"  # nobody else's
    assert accounts.token_user(conn, token) == "alice"  # tokens stay
    with pytest.raises(AccountError, match="no editor named 'ghost'"):
        accounts.set_password(conn, "ghost", "a new password")
    with pytest.raises(AccountError, match="too short"):
        accounts.set_password(conn, "alice", "short")


def test_an_old_hash_is_upgraded_when_its_password_is_checked(conn, db):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with conn:
        conn.execute("INSERT INTO users (name, password_hash, created_at) VALUES ('old', ?, 'then')", (weak,))
    assert accounts.check_password(conn, "old", PASSWORD)
    [(stored,)] = raw_rows(db, "SELECT password_hash FROM users WHERE name = 'old'")
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)
    assert accounts.check_password(conn, "old", PASSWORD)


def test_has_editors_list_and_remove(conn):
    assert not accounts.has_editors(conn)
    accounts.add_user(conn, "bob", PASSWORD)
    accounts.add_user(conn, "alice", PASSWORD)
    accounts.add_token(conn, "alice", "laptop")
    accounts.add_token(conn, "alice", "ci")
    assert accounts.has_editors(conn)
    assert [(e.name, e.tokens) for e in accounts.list_users(conn)] == [("alice", 2), ("bob", 0)]
    assert accounts.remove_user(conn, "alice") == 2
    assert accounts.list_tokens(conn) == []  # the tokens go with their editor
    assert not accounts.check_password(conn, "alice", PASSWORD)
    with pytest.raises(AccountError, match="no editor named 'alice'"):
        accounts.remove_user(conn, "alice")
    accounts.remove_user(conn, "bob")
    assert not accounts.has_editors(conn)


# -- sessions
def test_a_session_is_stored_only_as_the_sha256_of_its_id(conn, db):
    accounts.add_user(conn, "alice", PASSWORD)
    session_id = accounts.start_session(conn, "alice", 3600)
    assert len(session_id) >= 43 and accounts.start_session(conn, "alice", 3600) != session_id
    [(stored, user, created, expires)] = raw_rows(
        db, "SELECT id_hash, user, created_at, expires_at FROM sessions ORDER BY created_at LIMIT 1"
    )
    assert stored == hashlib.sha256(session_id.encode()).hexdigest() and user == "alice"
    assert datetime.fromisoformat(expires) - datetime.fromisoformat(created) == timedelta(hours=1)
    assert session_id.encode() not in on_disk(db)
    assert accounts.session_user(conn, session_id) == "alice"
    for wrong in ("", session_id[:-1], session_id + "x", stored, "x" * 10_000, None, 42):
        assert accounts.session_user(conn, wrong) is None, wrong  # type: ignore[arg-type]
    with pytest.raises(AccountError, match="no editor named 'ghost'"):
        accounts.start_session(conn, "ghost", 3600)


def test_ending_sessions(conn):
    accounts.add_user(conn, "alice", PASSWORD)
    accounts.add_user(conn, "bob", PASSWORD)
    first, second = accounts.start_session(conn, "alice", 3600), accounts.start_session(conn, "alice", 3600)
    bobs = accounts.start_session(conn, "bob", 3600)
    assert accounts.end_session(conn, first) and not accounts.end_session(conn, first)
    assert accounts.session_user(conn, first) is None and accounts.session_user(conn, second) == "alice"
    assert not accounts.end_session(conn, "") and not accounts.end_session(conn, "x" * 10_000)
    assert accounts.session_user(conn, bobs) == "bob"
    accounts.remove_user(conn, "bob")
    assert accounts.session_user(conn, bobs) is None
    assert sessions_count(conn) == 1 and accounts.session_user(conn, second) == "alice"  # only the one signed in


def test_an_expired_session_is_refused_and_swept(conn):
    accounts.add_user(conn, "alice", PASSWORD)
    old = accounts.start_session(conn, "alice", 3600)
    other = accounts.start_session(conn, "alice", 3600)
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
    conn.execute("UPDATE sessions SET expires_at = ?", (past,))
    assert accounts.session_user(conn, old) is None
    assert sessions_count(conn) == 1  # the one met was deleted at once
    accounts.start_session(conn, "alice", 3600)  # a sign-in sweeps the others whose time is up
    assert sessions_count(conn) == 1 and accounts.session_user(conn, other) is None


def test_the_user_commands_end_sessions(db):
    invoke(user_group, ["add", "alice", "--password-stdin"], db, input=PASSWORD + "\n")
    conn = connect(db)
    try:
        session_id = accounts.start_session(conn, "alice", 3600)
        changed = invoke(user_group, ["password", "alice", "--password-stdin"], db, input="a new password\n")
        assert changed.exit_code == 0 and accounts.session_user(conn, session_id) is None
        session_id = accounts.start_session(conn, "alice", 3600)
        assert invoke(user_group, ["remove", "alice"], db).exit_code == 0
        assert accounts.session_user(conn, session_id) is None and sessions_count(conn) == 0
    finally:
        conn.close()


# -- tokens
def test_a_token_is_returned_once_and_stored_only_as_its_sha256(conn, db):
    accounts.add_user(conn, "alice", PASSWORD)
    token = accounts.add_token(conn, "alice", "  ci   bot ")
    assert token.startswith("nm_") and len(token) > 40
    [(stored, label, used)] = raw_rows(db, "SELECT token_hash, label, last_used_at FROM tokens")
    assert stored == hashlib.sha256(token.encode()).hexdigest() and label == "ci bot" and used is None
    assert token.encode() not in on_disk(db) and token[3:].encode() not in on_disk(db)
    [info] = accounts.list_tokens(conn)
    assert (info.user, info.label, info.last_used_at) == ("alice", "ci bot", None)
    assert token not in repr(info) and stored not in repr(info)
    assert accounts.add_token(conn, "alice") != token  # every token is new


def test_token_user_finds_the_editor_and_notes_the_use(conn):
    accounts.add_user(conn, "alice", PASSWORD)
    accounts.add_user(conn, "bob", PASSWORD)
    token = accounts.add_token(conn, "alice", "laptop")
    bobs = accounts.add_token(conn, "bob")
    assert accounts.token_user(conn, token) == "alice"
    assert accounts.token_user(conn, bobs) == "bob"
    assert accounts.list_tokens(conn, "alice")[0].last_used_at is not None
    for wrong in ("", "nm_", token + "x", token[:-1], token.upper(), "x" * 10_000, "Bearer " + token):
        assert accounts.token_user(conn, wrong) is None, wrong
    assert [t.user for t in accounts.list_tokens(conn, "bob")] == ["bob"]


def test_removed_tokens_stop_working(conn):
    accounts.add_user(conn, "alice", PASSWORD)
    token = accounts.add_token(conn, "alice")
    [info] = accounts.list_tokens(conn)
    accounts.remove_token(conn, info.id)
    assert accounts.token_user(conn, token) is None
    with pytest.raises(AccountError, match=f"no token with id {info.id}"):
        accounts.remove_token(conn, info.id)


def test_tokens_need_an_existing_editor_and_a_short_label(conn):
    with pytest.raises(AccountError, match="no editor named 'ghost'"):
        accounts.add_token(conn, "ghost")
    accounts.add_user(conn, "alice", PASSWORD)
    with pytest.raises(AccountError, match="label is too long"):
        accounts.add_token(conn, "alice", "x" * 101)
    assert accounts.list_tokens(conn) == []


# -- the commands
def invoke(command, args: list[str], db: Path, input: str | None = None):
    return CliRunner().invoke(command, [*args, "--db", str(db)], input=input)


def test_user_add_prompts_twice_and_hides_the_password(db):
    result = invoke(user_group, ["add", "alice"], db, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "added editor alice\n"
    assert PASSWORD not in result.output  # hidden input is not echoed
    conn = connect(db)
    assert accounts.check_password(conn, "alice", PASSWORD)
    conn.close()
    mismatch = invoke(user_group, ["add", "bob"], db, input=f"{PASSWORD}\nsomething else\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output


def test_user_commands_and_their_errors(db):
    ok = invoke(user_group, ["add", "alice", "--password-stdin"], db, input=PASSWORD + "\n")
    assert ok.exit_code == 0 and ok.stdout == "added editor alice\n"
    for args, stdin, message in (
        (["add", "alice", "--password-stdin"], PASSWORD + "\n", "error: an editor named 'alice' already exists\n"),
        (
            ["add", "bob", "--password-stdin"],
            "short\n",
            "error: the password is too short: use at least 8 characters\n",
        ),
        (["add", "bob", "--password-stdin"], "", "error: a password is required\n"),
        (["add", "bad name", "--password-stdin"], PASSWORD + "\n", "error: 'bad name' is not a valid editor name"),
        (["remove", "ghost"], None, "error: no editor named 'ghost'\n"),
        (["password", "ghost", "--password-stdin"], PASSWORD + "\n", "error: no editor named 'ghost'\n"),
    ):
        result = invoke(user_group, args, db, input=stdin)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""
    changed = invoke(user_group, ["password", "alice", "--password-stdin"], db, input="a new password\n")
    assert changed.exit_code == 0 and changed.stdout == "changed the password of alice\n"
    listed = invoke(user_group, ["list"], db)
    assert listed.exit_code == 0 and listed.stdout.startswith("alice\t") and listed.stdout.endswith("\t0 tokens\n")
    removed = invoke(user_group, ["remove", "alice"], db)
    assert removed.exit_code == 0 and removed.stdout == "removed editor alice\n"
    empty = invoke(user_group, ["list"], db)
    assert empty.exit_code == 0 and empty.stdout == "" and "no editors yet" in empty.stderr


def test_commands_on_a_missing_database_say_so(tmp_path):
    for command, args in ((user_group, ["list"]), (token_group, ["add", "alice"]), (user_group, ["remove", "x"])):
        result = invoke(command, args, tmp_path / "missing.db")
        assert result.exit_code == 1
        assert result.stderr == "error: missing.db: no database yet (run `newsmap build` to make it)\n"
    assert not (tmp_path / "missing.db").exists()


def test_token_commands_print_the_token_once(db):
    invoke(user_group, ["add", "alice", "--password-stdin"], db, input=PASSWORD + "\n")
    made = invoke(token_group, ["add", "alice", "--label", "ci bot"], db)
    assert made.exit_code == 0
    token = made.stdout.strip()
    assert made.stdout == token + "\n" and token.startswith("nm_")  # alone on stdout: TOKEN=$(...) works
    assert "cannot be shown again" in made.stderr
    listed = invoke(token_group, ["list"], db)
    assert listed.exit_code == 0
    [line] = listed.stdout.splitlines()
    token_id, user, label, created, used = line.split("\t")
    assert (user, label, used) == ("alice", "ci bot", "never used") and created
    assert token not in listed.output and token[3:20] not in listed.output
    assert invoke(token_group, ["list", "--user", "bob"], db).stdout == ""
    assert invoke(token_group, ["add", "ghost"], db).stderr == "error: no editor named 'ghost'\n"
    assert invoke(token_group, ["remove", "999"], db).stderr == "error: no token with id 999\n"
    removed = invoke(token_group, ["remove", token_id], db)
    assert removed.exit_code == 0 and removed.stdout == f"removed token {token_id}\n"
    conn = connect(db)
    assert accounts.token_user(conn, token) is None
    conn.close()
    assert invoke(token_group, ["remove", "abc"], db).exit_code == 2  # click's usage error


def test_the_commands_in_a_real_process(db, tmp_path):
    """`python -m newsmap.cli_accounts` as a shell runs it: stdin, stdout, stderr and exit statuses."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSMAP_DB": str(db)}  # --db's default comes from the settings

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsmap.cli_accounts", *args],
            input=stdin, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip

    added = run("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert (added.returncode, added.stdout, added.stderr) == (0, "added editor alice\n", "")
    token = run("token", "add", "alice", "--label", "deploy")
    assert token.returncode == 0 and token.stdout.startswith("nm_")
    refused = run("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == "error: an editor named 'alice' already exists\n"
    conn = connect(db)
    assert accounts.token_user(conn, token.stdout.strip()) == "alice"
    assert accounts.check_password(conn, "alice", PASSWORD)
    conn.close()
    listed = run("--help")
    assert listed.returncode == 0 and "user" in listed.stdout and "token" in listed.stdout
    assert accounts_cli.commands == {"user": user_group, "token": token_group}
