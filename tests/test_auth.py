"""Who may write: sign-in, sessions, CSRF, API tokens and rate limits, on a small app of their own.

The app here is Flask + `auth.init_app` + the error answers of `headers`, with two write routes
(an API one and a page) decorated as the real ones are, so these tests do not depend on them.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from newsmap import accounts
from newsmap.serve import auth, headers
from newsmap.store import connect

from .conftest import ROOT

PASSWORD = "correct horse battery"


def make_app(db: Path, **config) -> Flask:
    app = Flask(__name__, static_folder=None, template_folder=str(ROOT / "templates"))
    app.config.update(
        {"TESTING": True, "DB": str(db), "SECRET_KEY": "", "HTTPS": False, "WRITE_LIMIT": "3 per minute", **config}
    )
    auth.init_app(app)
    headers.init_app(app)

    @app.post("/api/things")
    @auth.editor_required
    @auth.write_limit
    def add_thing():
        return {"editor": auth.current_editor()}

    @app.delete("/api/things/<int:number>")
    @auth.editor_required
    @auth.write_limit
    def delete_thing(number: int):
        return {"deleted": number, "editor": auth.current_editor()}

    @app.route("/things/new", methods=["GET", "POST"])
    @auth.editor_required
    @auth.write_limit
    def new_thing():
        return f"hello {auth.current_editor()}"

    @app.get("/")
    def home():
        return f"home of {auth.current_editor() or 'a reader'}"

    return app


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "newsmap.db"


@pytest.fixture()
def conn(db: Path):
    conn = connect(db)
    accounts.add_user(conn, "alice", PASSWORD)
    yield conn
    conn.close()


@pytest.fixture()
def app(db: Path, conn):
    return make_app(db)


@pytest.fixture()
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(client, name: str = "alice", password: str = PASSWORD, next: str | None = None, **kwargs):
    form = {"name": name, "password": password, "csrf_token": csrf_token(client)}
    if next is not None:
        form["next"] = next
    return client.post("/login", data=form, **kwargs)


def session_cookie(response) -> str:
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    return cookie


# -- signing in
def test_sign_in_with_the_right_password_gives_a_session(client):
    assert client.get("/").text == "home of a reader"
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # a permanent session, for SESSION_LIFETIME
    assert client.get("/").text == "home of alice"
    assert client.get("/things/new").text == "hello alice"
    page = client.get("/login")
    assert "You are signed in as <strong>alice</strong>" in page.text


def test_a_wrong_name_or_password_gets_the_form_again_with_401(client):
    for name, password in (("alice", "wrong password"), ("bob", PASSWORD), ("", ""), ("al ice", PASSWORD)):
        response = sign_in(client, name, password)
        assert response.status_code == 401
        assert "Wrong name or password" in response.text and '<form method="post"' in response.text
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/").text == "home of a reader"


def test_signing_in_starts_a_new_session(client):
    """Session fixation: nothing put in the session before signing in survives it."""
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = csrf_token(client)
    sign_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session and session.permanent
    assert csrf_token(client) != before


def test_sign_out_needs_the_csrf_token_and_ends_the_session(client):
    sign_in(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").text == "home of alice"
    response = client.post("/logout", data={"csrf_token": csrf_token(client), "next": "//evil.example"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/").text == "home of a reader"


def test_sessions_on_https_are_secure_and_the_proxy_is_trusted(db, conn):
    app = make_app(db, HTTPS=True, PROXIES=1)
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}  # as the proxy sends it
    form = {"name": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/login", data=form, headers=https)
    assert response.status_code == 303
    cookie = session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Over HTTPS Flask-WTF also wants a same-site Referer on form posts.
    no_referer = client.post(
        "/login", data={**form, "csrf_token": csrf_token(client)}, headers={"X-Forwarded-Proto": "https"}
    )
    assert no_referer.status_code == 400 and "referrer" in no_referer.text


def test_https_alone_trusts_no_forwarded_header(db, conn):
    """NEWSMAP_HTTPS only makes cookies Secure: which proxy headers to believe is NEWSMAP_PROXIES."""
    client = make_app(db, HTTPS=True).test_client()
    assert client.get("/", headers={"X-Forwarded-Proto": "https"}).request.scheme == "http"
    response = sign_in(client)
    assert response.status_code == 303 and "Secure" in session_cookie(response)


def test_the_session_ends_after_its_lifetime_even_when_used(client, conn):
    sign_in(client)
    [(created, expires)] = conn.execute("SELECT created_at, expires_at FROM sessions").fetchall()
    assert datetime.fromisoformat(expires) - datetime.fromisoformat(created) == auth.SESSION_LIFETIME
    assert client.get("/").text == "home of alice"
    assert conn.execute("SELECT expires_at FROM sessions").fetchone()[0] == expires  # use does not extend it
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
    conn.execute("UPDATE sessions SET expires_at = ?", (past,))
    assert client.get("/").text == "home of a reader"
    assert client.get("/things/new").status_code == 302
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0  # cleaned up when met


def test_a_signed_cookie_without_a_live_session_is_not_an_editor(db, conn, client):
    """The cookie is signed with the real key here, yet names no session the server holds: nobody.
    (What the cookie used to carry, an editor's name and a time, counts for nothing either.)"""
    with client.session_transaction() as session:
        session["editor"] = "alice"
        session["editor_since"] = int(time.time())
        session["session_id"] = secrets.token_urlsafe(32)
    assert client.get("/").text == "home of a reader"
    sign_in(client)
    [(hashed,)] = conn.execute("SELECT id_hash FROM sessions").fetchall()
    with client.session_transaction() as session:
        session["session_id"] = hashed  # what someone reading the database sees is not the id
    assert client.get("/").text == "home of a reader"
    assert make_app(db).secret_key == make_app(db).secret_key  # every worker shares the key file's key


# -- who may write
def test_a_reader_is_sent_to_sign_in_and_back(client):
    response = client.get("/things/new?kind=a&b=c")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/things/new?kind%3Da%26b%3Dc"
    page = client.get(response.headers["Location"])
    assert 'name="next" value="/things/new?kind=a&amp;b=c"' in page.text
    signed = sign_in(client, next="/things/new?kind=a&b=c")
    assert signed.headers["Location"] == "/things/new?kind=a&b=c"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_no_open_redirect_through_next(client, target):
    response = sign_in(client, next=target)
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_api_caller_without_credentials_gets_401_with_a_bearer_challenge(client):
    response = client.post("/api/things")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="newsmap"'
    assert response.json["status"] == 401 and "Authorization: Bearer" in response.json["message"]


@pytest.mark.parametrize("header", ["Bearer nm_wrong", "Bearer ", "bearer nm_" + "x" * 43, "Bearer " + "x" * 5000])
def test_a_wrong_token_gets_401(client, conn, header):
    accounts.add_token(conn, "alice")
    for path in ("/api/things", "/things/new"):
        response = client.post(path, headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="newsmap"')
    assert client.delete("/api/things/1", headers={"Authorization": header}).status_code == 401


def test_a_valid_token_writes_without_a_csrf_token(client, conn):
    token = accounts.add_token(conn, "alice", "ci")
    response = client.post("/api/things", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json == {"editor": "alice"}
    assert client.delete("/api/things/7", headers={"Authorization": f"bearer {token}"}).json["deleted"] == 7
    assert client.get_cookie("session") is None  # no session was made for it
    assert accounts.list_tokens(conn)[0].last_used_at is not None


def test_a_bearer_request_is_judged_by_its_token_alone(client, conn):
    """A signed-in browser's cookie does not vouch for a request with a wrong token (and no CSRF token)."""
    sign_in(client)
    response = client.post("/api/things", headers={"Authorization": "Bearer nm_wrong"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_forms_and_session_api_calls_need_the_csrf_token(client):
    sign_in(client)
    page = client.post("/things/new")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "The CSRF token is missing." in page.text and "Reload the page" in page.text
    api = client.post("/api/things")
    assert api.status_code == 400 and api.json["error"] == "Bad Request"
    assert "CSRF token is missing" in api.json["message"] and "Bearer" in api.json["message"]
    token = csrf_token(client)
    wrong = client.post("/things/new", data={"csrf_token": "forged"})
    assert wrong.status_code == 400 and "The CSRF token is invalid." in wrong.text
    assert client.post("/things/new", data={"csrf_token": token}).text == "hello alice"
    assert client.post("/api/things", headers={"X-CSRFToken": token}).json == {"editor": "alice"}


def test_signing_in_needs_the_csrf_token(client):
    response = client.post("/login", data={"name": "alice", "password": PASSWORD})
    assert response.status_code == 400 and "CSRF" in response.text
    assert client.get("/").text == "home of a reader"


def test_without_any_editor_writes_are_403_with_what_to_do(tmp_path):
    client = make_app(tmp_path / "empty.db").test_client()
    connect(tmp_path / "empty.db").close()
    message = "No editor account exists yet: create one with `newsmap user add NAME` (in a checkout, after `make run`: `.venv/bin/newsmap user add NAME`)"
    api = client.post("/api/things", headers={"Authorization": "Bearer nm_anything"})
    assert api.status_code == 403 and api.json["message"] == message
    page = client.get("/things/new")
    assert page.status_code == 403 and message.replace("`", "") in page.text.replace("`", "")
    assert "No editor account exists yet" in client.get("/login").text


def test_without_a_database_nobody_writes_and_nothing_is_created(tmp_path):
    app = make_app(tmp_path / "missing.db")
    client = app.test_client()
    assert len(app.secret_key) == 64  # a key of this process only
    assert client.get("/login").status_code == 200
    assert sign_in(client).status_code == 401
    assert client.post("/api/things", headers={"Authorization": "Bearer nm_x"}).status_code == 403
    assert not (tmp_path / "missing.db").exists()


def test_a_removed_editor_loses_access_at_once(client, conn):
    token = accounts.add_token(conn, "alice")
    sign_in(client)
    assert client.get("/things/new").text == "hello alice"
    accounts.add_user(conn, "bob", PASSWORD)  # someone must stay, or the answer is "no editor yet"
    accounts.remove_user(conn, "alice")
    assert client.get("/things/new").status_code == 302
    assert client.get("/").text == "home of a reader"
    assert client.post("/api/things", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_new_password_ends_the_old_sessions(client, conn):
    sign_in(client)
    accounts.set_password(conn, "alice", "another password")
    assert client.get("/").text == "home of a reader"
    assert sign_in(client, password="another password").status_code == 303
    assert client.get("/").text == "home of alice"


# -- rate limits
def test_writes_are_limited_per_editor_and_per_address(client, conn):
    accounts.add_user(conn, "bob", PASSWORD)
    alice, bob = accounts.add_token(conn, "alice"), accounts.add_token(conn, "bob")

    def write(token: str, address: str):
        return client.post(
            "/api/things", headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": address}
        )

    assert [write(alice, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 200]
    limited = write(alice, "10.0.0.1")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert limited.json["error"] == "Too Many Requests"
    assert "Too many changes" in limited.json["message"] and "try again in" in limited.json["message"]
    assert write(alice, "10.0.0.2").status_code == 429  # the same editor from elsewhere: per editor
    assert write(bob, "10.0.0.1").status_code == 429  # another editor from the same address: per address
    assert write(bob, "10.0.0.3").status_code == 200
    # Deleting counts against the same budget as adding.
    response = client.delete(
        "/api/things/1", headers={"Authorization": f"Bearer {bob}"}, environ_base={"REMOTE_ADDR": "10.0.0.3"}
    )
    assert response.status_code == 200


def test_the_rate_limit_page_says_when_to_retry(client):
    sign_in(client)
    token = csrf_token(client)
    statuses = [client.post("/things/new", data={"csrf_token": token}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    page = client.post("/things/new", data={"csrf_token": token})
    assert page.status_code == 429 and page.mimetype == "text/html" and "Retry-After" in page.headers
    assert "Too many changes" in page.text


def test_behind_a_proxy_the_address_is_the_proxy_s_x_forwarded_for(db, conn):
    client = make_app(db, PROXIES=1).test_client()
    token = accounts.add_token(conn, "alice")
    accounts.add_user(conn, "bob", PASSWORD)
    bob = accounts.add_token(conn, "bob")

    def write(token: str, forwarded: str):
        return client.post(
            "/api/things", headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded}
        ).status_code

    assert [write(token, "203.0.113.7") for _ in range(4)] == [200, 200, 200, 429]
    assert write(bob, "203.0.113.7") == 429  # same client address, though the proxy's is the same for all
    assert write(bob, "198.51.100.2") == 200


def test_sign_in_attempts_are_limited_per_address(db, conn):
    client = make_app(db, LOGIN_LIMIT="3 per minute").test_client()
    assert [sign_in(client, password="wrong guess").status_code for _ in range(3)] == [401, 401, 401]
    limited = sign_in(client)  # even the right password, now
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in limited.text
    assert client.get("/login").status_code == 200  # showing the form is not an attempt
    other = sign_in(client, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 303


def test_without_a_trusted_proxy_a_forwarded_for_header_changes_nothing(db, conn):
    """NEWSMAP_PROXIES=0 (the default, also with HTTPS): a client naming a new address each time
    in X-Forwarded-For is still one address to the sign-in limit."""
    client = make_app(db, LOGIN_LIMIT="3 per minute", HTTPS=True).test_client()
    statuses = [
        sign_in(client, password="wrong guess", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_behind_one_proxy_the_address_is_the_last_forwarded_for_entry(db, conn):
    """NEWSMAP_PROXIES=1: the entry our proxy appended counts, whatever the client wrote before it."""
    client = make_app(db, LOGIN_LIMIT="3 per minute", PROXIES=1).test_client()

    def attempt(forwarded: str) -> int:
        return sign_in(client, password="wrong guess", headers={"X-Forwarded-For": forwarded}).status_code

    assert [attempt(f"10.0.0.{n}, 198.51.100.7") for n in range(4)] == [401, 401, 401, 429]
    assert attempt("198.51.100.8") == 401  # another client, as the proxy saw it
    assert attempt("198.51.100.8, 198.51.100.7") == 429  # a client's own entry is not its address


def test_proxies_must_be_a_small_count(db, conn):
    for wrong in (-1, 11, "1", True):
        with pytest.raises(ValueError, match="PROXIES must be a number of proxies from 0 to 10"):
            make_app(db, PROXIES=wrong)


def test_limits_and_csrf_can_be_turned_off_for_tests(db, conn):
    client = make_app(db, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False).test_client()
    client.post("/login", data={"name": "alice", "password": PASSWORD})
    assert [client.post("/api/things").status_code for _ in range(5)] == [200] * 5


def test_a_bad_limit_stops_the_app_at_once(db, conn):
    """Flask-Limiter alone would log it and then limit nothing."""
    with pytest.raises(ValueError, match="WRITE_LIMIT must be limits like '30 per hour;200 per day', not 'lots'"):
        make_app(db, WRITE_LIMIT="lots")
    with pytest.raises(ValueError, match="LOGIN_LIMIT must be"):
        make_app(db, LOGIN_LIMIT="10 a minute")
    assert make_app(db, WRITE_LIMIT="30 per hour;200 per day").config["LOGIN_LIMIT"] == "10 per minute"


# -- the page
def test_the_login_page_allows_its_form_and_nothing_inline(client):
    page = client.get("/login?next=/things/new")
    csp = page.headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    source = (ROOT / "templates" / "login.html").read_text(encoding="utf-8")
    assert "<script" not in source and "style=" not in source and "<style" not in source
    assert 'autocomplete="current-password"' in page.text and 'type="password"' in page.text
    assert client.get("/").headers["Content-Security-Policy"] == headers.DEFAULT_CSP  # other pages keep theirs
