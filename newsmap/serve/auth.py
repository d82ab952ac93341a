"""Who may write: editors, signed in with a password (a session cookie) or sending an API token.

Readers need no account. A view that changes the library is decorated with `editor_required`
(and `write_limit`); `current_editor()` names who is asking. Two ways in:

- the browser: `/login` checks the password and starts a session kept on the server
  (`accounts.start_session`: a row holding the SHA-256 of a random id, the editor and when it ends,
  `SESSION_LIFETIME` later however much it is used). Flask's signed cookie (HttpOnly, SameSite=Lax,
  Secure with HTTPS) carries only that id; `/logout` deletes the row, so a copy of the cookie is
  worth nothing after it. Every form POST carries Flask-WTF's CSRF token (`{{ csrf_token() }}`, or
  the `X-CSRFToken` header from script).
- a program: `Authorization: Bearer <token>` (tokens from `newsmap token add`). Such a request is
  judged by its token alone, never by a cookie, so it needs no CSRF token: a cross-site page can
  neither read a token nor make the browser add the header.

The key that signs cookies and CSRF tokens is never in the database (whoever may read that, e.g.
through Datasette, could sign a cookie): SECRET_KEY, else the file `secret_key` (mode 0600) in the
database's folder, made once (`key_file`).

Writes are rate-limited per editor and per address (`WRITE_LIMIT`; corrections `EDIT_LIMIT`), sign-in
attempts per address (`LOGIN_LIMIT`), with Flask-Limiter counting in `limits.db` beside the database
(`newsmap.serve.limitstore`), so every worker process shares the counts. The address is the
connection's, unless PROXIES says how many proxies' `X-Forwarded-For` entries to trust.
"""

from __future__ import annotations

import functools
import math
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse_many
from werkzeug.exceptions import Forbidden
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from newsmap import accounts, store
from newsmap.serve import limitstore
from newsmap.serve.headers import DEFAULT_CSP, error_answer, wants_json
from newsmap.settings import Settings

EXTENSION = "newsmap.auth"
SESSION_LIFETIME = timedelta(hours=12)
DEFAULT_WRITE_LIMIT = "30 per hour;200 per day"
DEFAULT_EDIT_LIMIT = "300 per hour;2000 per day"
DEFAULT_LOGIN_LIMIT = "10 per minute"
NO_EDITOR = "No editor account exists yet: create one with `newsmap user add NAME` (in a checkout, after `make run`: `.venv/bin/newsmap user add NAME`)"
WRONG_PASSWORD = "Wrong name or password"
# The login page posts its form to this site: the only page whose CSP allows a form.
FORM_CSP = re.sub(r"form-action [^;]*", "form-action 'self'", DEFAULT_CSP)
if "form-action" not in FORM_CSP:
    FORM_CSP += "; form-action 'self'"

KEY_FILE = "secret_key"  # in the database's folder, unless SECRET_KEY is set
MIN_KEY = 32  # characters of a key file: shorter is a mistake, not a key
MAX_PROXIES = 10

# What the session cookie holds for a signed-in editor: the random id of its server-side session.
_SESSION_ID = "session_id"
_UNSET = object()

bp = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., Any])


class _Auth:
    """One app's CSRF protection and rate limiter, and its views wrapped with that limiter's limits."""

    def __init__(self, app: Flask) -> None:
        self.csrf = CSRFProtect(app)
        self.limiter = Limiter(key_func=limit_key)
        self.limiter.init_app(app)
        self._limited: dict[tuple[str, Callable[..., Any]], Callable[..., Any]] = {}
        self._lock = threading.Lock()

    def limited(self, kind: str, view: Callable[..., Any]) -> Callable[..., Any]:
        """`view` under this app's limits of `kind` (made on first use: views are decorated before apps exist)."""
        wrapped = self._limited.get((kind, view))
        if wrapped is None:
            with self._lock:
                wrapped = self._limited.get((kind, view))
                if wrapped is None:
                    wrapped = view
                    for limit in self._limits(kind):
                        wrapped = limit(wrapped)
                    self._limited[(kind, view)] = wrapped
        return wrapped

    def _limits(self, kind: str) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
        if kind in ("write", "edit"):  # per address and, separately, per editor
            limit, scope, what = (_write_limit, "writes", "changes") if kind == "write" else (_edit_limit, "edits", "corrections")
            return [
                self.limiter.shared_limit(
                    limit, scope=f"{scope}-by-address", key_func=get_remote_address,
                    error_message=f"Too many {what} from this address",
                ),
                self.limiter.shared_limit(
                    limit, scope=f"{scope}-by-editor", key_func=_editor_key, exempt_when=_no_editor,
                    error_message=f"Too many {what} by this editor",
                ),
            ]  # fmt: skip
        if kind == "login":
            return [
                self.limiter.shared_limit(
                    _login_limit, scope="login-by-address", key_func=get_remote_address, methods=["POST"],
                    error_message="Too many sign-in attempts from this address",
                )
            ]  # fmt: skip
        raise ValueError(f"no limits of kind {kind!r}")


def _state() -> _Auth:
    return current_app.extensions[EXTENSION]


def _write_limit() -> str:
    return current_app.config.get("WRITE_LIMIT") or DEFAULT_WRITE_LIMIT


def _edit_limit() -> str:
    return current_app.config.get("EDIT_LIMIT") or DEFAULT_EDIT_LIMIT


def _login_limit() -> str:
    return current_app.config.get("LOGIN_LIMIT") or DEFAULT_LOGIN_LIMIT


def _editor_key() -> str:
    return f"editor:{current_editor()}"


def _no_editor() -> bool:
    return current_editor() is None


def limit_key() -> str:
    """The limiter's default key: the editor's name when signed in, else the remote address."""
    editor = current_editor()
    return f"editor:{editor}" if editor else f"address:{get_remote_address()}"


def _rate_limited(kind: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            return _state().limited(kind, view)(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


#: Limit a view to WRITE_LIMIT per editor and, separately, per address, shared by every view so
#: decorated (429 with Retry-After beyond). Put it under `editor_required`, so only editors' writes count.
write_limit = _rate_limited("write")
#: The same for corrections (EDIT_LIMIT): an editor fixing a map makes many small changes.
edit_limit = _rate_limited("edit")
_login_limited = _rate_limited("login")


# -- the database, one connection per request when needed
def _db() -> sqlite3.Connection | None:
    """The store (opened once per request), or None when there is no database yet."""
    conn = g.get("_newsmap_auth_db")
    if conn is None:
        try:
            conn = store.connect(Path(current_app.config["DB"]), create=False)
        except store.StoreError:
            current_app.logger.warning(
                "newsmap: no usable database at %s: nobody can sign in", current_app.config["DB"]
            )
            return None
        g._newsmap_auth_db = conn
    return conn


def _close_db(_: BaseException | None = None) -> None:
    conn = g.pop("_newsmap_auth_db", None)
    if conn is not None:
        conn.close()


# -- who is asking
def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header ("" when empty), None without one."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def current_editor() -> str | None:
    """The editor making this request: the bearer token's owner when the request has a bearer header
    (the session is then ignored), else the editor of the server-side session whose id the cookie
    holds, if that session has not ended (signed out, password changed, editor removed, or
    `SESSION_LIFETIME` up). None for a reader (whose request asks the database nothing)."""
    editor = g.get("_newsmap_editor", _UNSET)
    if editor is _UNSET:
        editor = _find_editor()
        g._newsmap_editor = editor
    return editor  # type: ignore[return-value]


def _find_editor() -> str | None:
    token = bearer_token()
    if token is not None:
        conn = _db()
        return accounts.token_user(conn, token) if token and conn is not None else None
    session_id = session.get(_SESSION_ID)
    if not isinstance(session_id, str):
        return None
    conn = _db()
    return accounts.session_user(conn, session_id) if conn is not None else None


def _has_editors() -> bool:
    conn = _db()
    return conn is not None and accounts.has_editors(conn)


def _unauthorized(message: str, *, invalid_token: bool = False) -> Response:
    body, code = error_answer(401, "Unauthorized", message)
    response = make_response(body, code)
    challenge = 'Bearer realm="newsmap"' + (', error="invalid_token"' if invalid_token else "")
    response.headers["WWW-Authenticate"] = challenge
    return response


def safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in or out; anything else (another site) is "/"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return "/"  # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil.example"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _here() -> str:
    return request.full_path if request.query_string else request.path


def editor_required(view: View) -> View:
    """Only editors may use the view: 403 while no editor exists; a reader is sent to /login (pages)
    or answered 401 with `WWW-Authenticate: Bearer` (API and data paths); a wrong token is 401."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not _has_editors():
            raise Forbidden(description=NO_EDITOR)
        if current_editor() is not None:
            return view(*args, **kwargs)
        token = bearer_token()
        if token is not None:
            return _unauthorized(
                "This API token is not valid (it may have been removed): make one with `newsmap token add NAME`.",
                invalid_token=bool(token),
            )
        if wants_json(request.path):
            return _unauthorized(
                "Editors only: send `Authorization: Bearer <token>` (make one with `newsmap token add NAME`)."
            )
        return redirect(url_for("auth.login", next=_here()))

    return guarded  # type: ignore[return-value]


# -- signing in and out
def _login_page(target: str, *, error: str = "", name: str = "", status: int = 200) -> Response:
    response = make_response(
        render_template(
            "login.html",
            next=target,
            error=error,
            name=name,
            editor=current_editor(),
            no_editor=not _has_editors(),
        ),
        status,
    )
    response.headers["Content-Security-Policy"] = FORM_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@_login_limited
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return _login_page(target)
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    conn = _db()
    if conn is None or not accounts.check_password(conn, name, password):
        return _login_page(target, error=WRONG_PASSWORD, name=name, status=401)
    _end_session(conn)  # signing in again from a signed-in browser: the old session ends
    session.clear()  # a new session for the editor: nothing set before signing in (fixation) carries over
    session[_SESSION_ID] = accounts.start_session(conn, name, SESSION_LIFETIME.total_seconds())
    session.permanent = True
    g._newsmap_editor = name
    return redirect(target, 303)


def _end_session(conn: sqlite3.Connection | None) -> None:
    session_id = session.get(_SESSION_ID)
    if isinstance(session_id, str) and conn is not None:
        accounts.end_session(conn, session_id)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: the session's row goes, so the cookie (and any copy of it) no longer signs anyone in."""
    _end_session(_db())
    session.clear()
    g._newsmap_editor = None
    return redirect(safe_next(request.form.get("next")), 303)


# -- setting it up
class KeyFileError(RuntimeError):
    """The session key file cannot be used; one line that says what to do."""


def _secret_key(app: Flask) -> str:
    """The configured key, or the one in the key file beside the database (shared by every worker)."""
    if app.config.get("SECRET_KEY"):
        return str(app.config["SECRET_KEY"])
    folder = Path(app.config["DB"]).parent
    if not folder.is_dir():
        app.logger.warning("newsmap: no folder %s yet; sessions use a key of this process only", folder)
        return secrets.token_hex(32)
    return key_file(folder / KEY_FILE)


def key_file(path: Path) -> str:
    """The key in `path`, made once with mode 0600 if there is none, and the same in every process.

    Publishing it is the O_CREAT|O_EXCL step, done with link(2), which fails just as O_EXCL does
    when the file exists, but on a file already written in full: a plain O_EXCL create would leave
    a moment in which another process starting at once finds the file empty. The process that
    loses reads the winner's key, so every worker signs with the same one.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd, draft = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".part", dir=path.parent)  # O_EXCL, 0600
    except OSError as error:
        raise _unusable(path, "make", error) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    except FileExistsError:
        return _read_key(path)  # another process made it first: use its key
    except OSError as error:
        raise _unusable(path, "make", error) from None
    finally:
        os.unlink(draft)
    return key


def _unusable(path: Path, doing: str, error: OSError) -> KeyFileError:
    return KeyFileError(f"cannot {doing} the session key file {path} ({error.strerror}): set NEWSMAP_SECRET_KEY")


def _read_key(path: Path) -> str:
    """The key in an existing key file; refused when others may read it or it holds no real key."""
    try:
        handle = path.open(encoding="ascii", errors="replace")
    except FileNotFoundError:
        raise
    except OSError as error:
        raise _unusable(path, "read", error) from None
    with handle:
        mode = os.fstat(handle.fileno()).st_mode & 0o777
        if mode & 0o077:
            raise KeyFileError(
                f"{path} may be read by other users (mode {mode:o}), so its key may have leaked: delete it "
                "(a new key is made and editors sign in again) or, if nobody else could read it, chmod 600 it"
            )
        key = handle.read().strip()
    if len(key) < MIN_KEY:
        raise KeyFileError(f"{path} holds no usable key (under {MIN_KEY} characters): delete it and a new one is made")
    return key


def _proxies(app: Flask) -> int:
    value = app.config.get("PROXIES", 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PROXIES:
        raise ValueError(f"PROXIES must be a number of proxies from 0 to {MAX_PROXIES}, not {value!r}")
    return value


def exempt_from_limits(app: Flask, blueprint: Blueprint) -> None:
    """No limit ever applies to `blueprint`'s routes (the readers').

    newsmap has no application-wide limits, only the ones its write and login views carry as
    decorators (which check on their own), so Flask-Limiter's check before *every* request does
    nothing but cost a reader ~15 % of a cached page: it is taken out of the app's hooks.
    """
    limiter = app.extensions[EXTENSION].limiter
    limiter.exempt(blueprint)
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [hook for hook in hooks if hook != limiter._check_request_limit]


class ReadersFirstSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request with no session cookie (every reader's) gets an
    empty session at once, without building a signing serializer: reading stays as fast as it was."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:  # type: ignore[override]
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _configure(app: Flask) -> None:
    """The config Flask, Flask-WTF and Flask-Limiter read: cookies, the key, the limits and where they are counted."""
    if "DB" not in app.config:
        app.config["DB"] = str(Settings.from_env().db)
    app.config.update(
        SECRET_KEY=_secret_key(app),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("HTTPS", False)),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in init_app's hook, unless the request carries a bearer token
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),  # a form may stay open as long as a session
    )
    limits = (("WRITE_LIMIT", DEFAULT_WRITE_LIMIT), ("EDIT_LIMIT", DEFAULT_EDIT_LIMIT), ("LOGIN_LIMIT", DEFAULT_LOGIN_LIMIT))
    for key, default in limits:
        value = app.config.setdefault(key, default)
        try:
            parse_many(value)  # Flask-Limiter would only log a bad limit, and then not limit at all
        except ValueError:
            raise ValueError(f"{key} must be limits like {default!r}, not {value!r}") from None
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limits_file = Path(app.config["DB"]).parent / limitstore.FILE_NAME
    app.config.setdefault("RATELIMIT_STORAGE_URI", limitstore.storage_uri(limits_file))  # shared by all workers
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")


def init_app(app: Flask) -> None:
    """Sessions, CSRF protection, rate limits, the login routes and the error answers they need.

    Reads from app.config: DB, SECRET_KEY ("" = the key file beside the database), HTTPS (Secure
    cookies), PROXIES (how many proxies' X-Forwarded-For/-Proto to trust), WRITE_LIMIT, and optionally
    LOGIN_LIMIT, RATELIMIT_STORAGE_URI (default: `limits.db` beside the database), WTF_CSRF_ENABLED
    and RATELIMIT_ENABLED (tests may turn them off).
    """
    proxies = _proxies(app)
    _configure(app)
    if proxies:  # the last `proxies` entries of X-Forwarded-For (and -Proto) are our proxies' own
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.session_interface = ReadersFirstSessions()
    state = _Auth(app)
    app.extensions[EXTENSION] = state

    @app.before_request
    def check_csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS") or not app.config.get("WTF_CSRF_ENABLED", True):
            return  # reads change nothing: nothing to protect, and readers pay nothing
        if bearer_token() is not None:
            return  # judged by its token alone (see current_editor): no cookie authority to forge
        if wants_json(request.path) and app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return  # an API call without a session has no authority either: editor_required answers 401
        state.csrf.protect(apply_exemptions=True)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> ResponseReturnValue:
        reason = error.description or "The CSRF token is missing or wrong."
        if wants_json(request.path):
            advice = "Send the page's CSRF token in the X-CSRFToken header, or use `Authorization: Bearer <token>`."
        else:
            advice = "Reload the page and send the form again."
        return error_answer(400, "Bad Request", f"{reason} {advice}")

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> ResponseReturnValue:
        breached = state.limiter.current_limit
        retry = max(1, math.ceil(breached.window.reset_time - time.time())) if breached else 60
        message = f"{error.description} (at most {error.limit.limit}): try again in {retry} seconds."
        body, code = error_answer(429, "Too Many Requests", message)
        response = make_response(body, code)
        response.headers["Retry-After"] = str(retry)
        return response

    app.jinja_env.globals["current_editor"] = current_editor  # templates: "signed in as", a sign-out form
    app.teardown_appcontext(_close_db)
    app.register_blueprint(bp)
