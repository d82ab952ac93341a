"""Sessions kept on the server, and a signing key kept out of the database.

Reading `newsmap.db` (Datasette invites it) must not be enough to sign in: no value in it signs
a cookie the server accepts, and it holds only hashes of session ids. A copy of a session cookie
stops working when its editor signs out, gets a new password or is removed, checked against the
real gunicorn server (2 workers) and the real `newsmap user` commands.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from newsmap import accounts
from newsmap.serve import auth, create_app
from newsmap.store import MIGRATIONS, connect

from .conftest import ROOT, LiveServer, app_for, site_env
from .racing import run_together

PASSWORD = "correct horse battery"
FORM = "application/x-www-form-urlencoded"


class Browser:
    """One browser against a live server: its cookie, kept from answer to answer; a request per connection."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port, self.cookie = port, cookie

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """(status, body, Location)."""
        headers = {"Connection": "close", **({"Cookie": self.cookie} if self.cookie else {})}
        if form is not None:
            headers["Content-Type"] = FORM
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=urlencode(form) if form is not None else None, headers=headers)
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                self.cookie = header.split(";", 1)[0]
        return response.status, body, response.getheader("Location", "")

    def csrf_token(self, path: str = "/login") -> str:
        status, body, _ = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)

    def sign_in(self, password: str = PASSWORD) -> None:
        form = {"name": "alice", "password": password, "csrf_token": self.csrf_token()}
        assert self.request("POST", "/login", form)[0] == 303

    def sign_out(self) -> None:
        status, _, _ = self.request("POST", "/logout", {"csrf_token": self.csrf_token("/new")})
        assert status == 303

    def is_editor(self) -> bool:
        """Whether the editors' page opens (200), rather than sending to sign in (302)."""
        status, _, location = self.request("GET", "/new")
        assert status == 200 or (status == 302 and location.startswith("/login")), (status, location)
        return status == 200


def newsmap_user(db: Path, *args: str, stdin: str = "") -> None:
    """`newsmap user ...` in a process of its own, as an administrator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "newsmap.cli_accounts", "user", *args, "--db", str(db)],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_copied_cookie_stops_working_on_sign_out_new_password_and_removal(tmp_path: Path):
    """Against gunicorn with its 2 workers: the copy works until the session ends, then never again."""
    db = tmp_path / "data" / "newsmap.db"
    conn = connect(db)
    accounts.add_user(conn, "alice", PASSWORD)
    accounts.add_user(conn, "bob", PASSWORD)  # someone stays an editor when alice is removed
    conn.close()
    server = LiveServer(site_env(tmp_path), gunicorn=True)
    try:
        browser = Browser(server.port)
        browser.sign_in()
        copy = Browser(server.port, browser.cookie)  # e.g. taken from a shared computer
        assert copy.is_editor() and browser.is_editor()
        browser.sign_out()
        assert not browser.is_editor()
        assert not copy.is_editor() and not copy.is_editor()  # refused by whichever worker answers

        browser.sign_in()
        copy = Browser(server.port, browser.cookie)
        assert copy.is_editor()
        newsmap_user(db, "password", "alice", "--password-stdin", stdin="a new password\n")
        assert not copy.is_editor() and not browser.is_editor()

        browser.sign_in("a new password")
        copy = Browser(server.port, browser.cookie)
        assert copy.is_editor()
        newsmap_user(db, "remove", "alice")
        assert not copy.is_editor() and not browser.is_editor()
    finally:
        server.stop()
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


def text_values(db: Path) -> set[str]:
    """Every text value in every table of the database (its full-text index's own tables too)."""
    values: set[str] = set()
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                values.update(value for value in row if isinstance(value, str))
    return values


def forger(key: str) -> URLSafeTimedSerializer:
    """What Flask signs its session cookie with, under another key (`get_signing_serializer`'s recipe)."""
    interface = SecureCookieSessionInterface()
    return URLSafeTimedSerializer(
        key,
        salt=interface.salt,
        serializer=interface.serializer,
        signer_kwargs={"key_derivation": interface.key_derivation, "digest_method": interface.digest_method},
    )


def test_no_value_in_the_database_signs_a_session(workdir: Path):
    """Whoever reads the database (every table, every text value) still cannot make a cookie the
    server takes: each value tried as the key, signing the session the table describes (its id's
    hash) and the old kind of cookie (a name, a stamp, a time), is refused."""
    db = workdir / "data" / "newsmap.db"
    conn = connect(db)
    accounts.add_user(conn, "alice", PASSWORD)
    accounts.add_token(conn, "alice", "ci")
    app = app_for(workdir)
    browser = app.test_client()
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert browser.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}).status_code == 303
    real = forger(app.secret_key).loads(browser.get_cookie("session").value)
    [(id_hash, password_hash)] = conn.execute(
        "SELECT s.id_hash, u.password_hash FROM sessions s JOIN users u ON u.name = s.user"
    ).fetchall()
    conn.close()
    client = app.test_client(use_cookies=False)

    def editor_with(cookie: str) -> bool:
        return client.get("/new", headers={"Cookie": f"session={cookie}"}).status_code == 200

    assert editor_with(forger(app.secret_key).dumps(real))  # the forging itself is right: the real key works
    assert id_hash == hashlib.sha256(real["session_id"].encode()).hexdigest()
    old_stamp = hashlib.sha256(password_hash.encode()).hexdigest()[:32]
    sessions = (
        {"session_id": id_hash, "_permanent": True},
        {"editor": "alice", "editor_stamp": old_stamp, "editor_since": int(time.time()), "_permanent": True},
    )
    values = text_values(db)
    assert len(values) > 100 and app.secret_key not in values
    forged = [value for value in values for session in sessions if editor_with(forger(value).dumps(session))]
    assert forged == []
    on_disk = b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*"))
    assert app.secret_key.encode() not in on_disk and real["session_id"].encode() not in on_disk
    key_file = db.parent / auth.KEY_FILE
    assert key_file.read_text().strip() == app.secret_key and key_file.stat().st_mode & 0o777 == 0o600


# -- the key file
def make(db: Path, **config):
    return create_app({"TESTING": True, "DB": str(db), **config})


def test_the_key_is_made_once_beside_the_database_and_shared(tmp_path: Path):
    db = tmp_path / "newsmap.db"
    connect(db).close()
    first = make(db)
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(first.secret_key) == 64
    assert make(db).secret_key == first.secret_key == key_file.read_text().strip()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []  # no draft left behind
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'secret_key'").fetchone()[0] == 0


def test_a_configured_key_needs_no_file(tmp_path: Path):
    connect(tmp_path / "newsmap.db").close()
    assert make(tmp_path / "newsmap.db", SECRET_KEY="configured-" + "k" * 40).secret_key.startswith("configured-")
    assert not (tmp_path / "secret_key").exists()


MAKER = """
import sys
from pathlib import Path
from newsmap.serve.auth import key_file
print("ready", flush=True)
sys.stdin.readline()
print(key_file(Path(sys.argv[1])), flush=True)
"""


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path):
    keys = set(run_together([sys.executable, "-c", MAKER, str(tmp_path / "secret_key")], 4, ROOT))
    assert keys == {(tmp_path / "secret_key").read_text().strip()} and len(keys.pop()) == 64


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ("k" * 64, 0o644, r"may be read by other users \(mode 644\).*chmod 600"),
        ("k" * 64, 0o640, r"may be read by other users \(mode 640\)"),
        ("", 0o600, "holds no usable key"),
        ("short\n", 0o600, "holds no usable key"),
    ],
)
def test_a_key_file_others_may_read_or_without_a_key_is_refused(tmp_path: Path, content: str, mode: int, message: str):
    connect(tmp_path / "newsmap.db").close()
    key_file = tmp_path / "secret_key"
    key_file.write_text(content)
    os.chmod(key_file, mode)
    with pytest.raises(auth.KeyFileError, match=message) as refused:
        make(tmp_path / "newsmap.db")
    assert "\n" not in str(refused.value) and str(key_file) in str(refused.value)
    assert key_file.read_text() == content  # left for the administrator to judge


def test_without_the_database_s_folder_the_key_is_the_process_s_own(tmp_path: Path):
    app = make(tmp_path / "nowhere" / "newsmap.db")
    assert len(app.secret_key) == 64 and not (tmp_path / "nowhere").exists()


def test_a_key_file_that_cannot_be_read_says_so(tmp_path: Path):
    connect(tmp_path / "newsmap.db").close()
    (tmp_path / "secret_key").mkdir()
    with pytest.raises(auth.KeyFileError, match=r"cannot read the session key file .*: set NEWSMAP_SECRET_KEY"):
        make(tmp_path / "newsmap.db")


# -- the migration
def test_the_migration_removes_the_key_from_an_older_database(tmp_path: Path):
    """A database of schema 4 kept the signing key in `meta`; opening it takes the key out and adds `sessions`."""
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as old:
        for step in MIGRATIONS[:4]:
            for statement in [part for part in step.split(";") if part.strip()] if isinstance(step, str) else step:
                old.execute(statement)
        old.execute("INSERT INTO meta (key, value) VALUES ('secret_key', ?)", ("ab" * 32,))
        old.execute("PRAGMA user_version = 4")
    conn = connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'secret_key'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0] == "0"  # the rest stays
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT user FROM sessions WHERE id_hash = 'x'").fetchall()
        assert "USING INDEX" in " ".join(str(row[-1]) for row in plan)  # one index search per editor request
    finally:
        conn.close()
