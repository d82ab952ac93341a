"""`newsmap user ...` and `newsmap token ...`: the editors who may add and delete articles, and their API tokens.

Passwords are typed at a hidden prompt (twice), or read from the first line of stdin with
`--password-stdin` for scripts; they never appear on the command line. A token is printed once,
alone on stdout (`TOKEN=$(newsmap token add alice)` works), and cannot be shown again.
Errors end the command with exit status 1 and one line on stderr.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from newsmap import accounts
from newsmap.settings import Settings
from newsmap.store import StoreError, connect


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db", "db", type=click.Path(path_type=Path, dir_okay=False), default=None,
        help="The SQLite database (default: $NEWSMAP_DB or data/newsmap.db).",
    )(command)  # fmt: skip


@contextlib.contextmanager
def _opened(db: Path | None, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    """The store (created only when adding an editor); account errors end the command."""
    if db is None:
        try:
            db = Settings.from_env().db
        except ValueError as error:
            _fail(str(error))
    try:
        conn = connect(db, create=create)
    except StoreError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{db}: cannot open ({error.strerror})")
    try:
        yield conn
    except accounts.AccountError as error:
        _fail(str(error))
    except sqlite3.Error as error:
        _fail(f"{db.name}: {error}")
    finally:
        conn.close()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


# -- editors
@click.group("user")
def user_group() -> None:
    """Editors: the accounts that may add and delete articles (readers need none)."""


_PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts)."
)


@user_group.command("add")
@click.argument("name")
@_PASSWORD_STDIN
@_db_option
def user_add(name: str, password_stdin: bool, db: Path | None) -> None:
    """Add an editor NAME; asks for its password (at least 8 characters)."""
    with _opened(db, create=True) as conn:
        accounts.check_name(name)
        if accounts.user_exists(conn, name):
            raise accounts.AccountError(f"an editor named {name!r} already exists")
        accounts.add_user(conn, name, _read_password(password_stdin))
    click.echo(f"added editor {name}")


@user_group.command("password")
@click.argument("name")
@_PASSWORD_STDIN
@_db_option
def user_password(name: str, password_stdin: bool, db: Path | None) -> None:
    """Give editor NAME a new password (every browser signed in as NAME is signed out; its tokens stay)."""
    with _opened(db) as conn:
        if not accounts.user_exists(conn, name):
            raise accounts.AccountError(f"no editor named {name!r}")
        accounts.set_password(conn, name, _read_password(password_stdin))
    click.echo(f"changed the password of {name}")


@user_group.command("remove")
@click.argument("name")
@_db_option
def user_remove(name: str, db: Path | None) -> None:
    """Remove editor NAME, its API tokens and its sessions (it can no longer write, at once)."""
    with _opened(db) as conn:
        tokens = accounts.remove_user(conn, name)
    click.echo(f"removed editor {name}" + (f" and its {tokens} token{'s' if tokens != 1 else ''}" if tokens else ""))


@user_group.command("list")
@_db_option
def user_list(db: Path | None) -> None:
    """List the editors (name, created, number of API tokens)."""
    with _opened(db) as conn:
        editors = accounts.list_users(conn)
    if not editors:
        click.echo("no editors yet: add one with `newsmap user add NAME`", err=True)
    for editor in editors:
        click.echo(f"{editor.name}\t{editor.created_at}\t{editor.tokens} token{'s' if editor.tokens != 1 else ''}")


# -- API tokens
@click.group("token")
def token_group() -> None:
    """API tokens: `Authorization: Bearer <token>` lets a program write as an editor."""


@token_group.command("add")
@click.argument("user")
@click.option("--label", default="", help="What the token is for (shown by `newsmap token list`).")
@_db_option
def token_add(user: str, label: str, db: Path | None) -> None:
    """Make an API token for editor USER and print it, once."""
    with _opened(db) as conn:
        token = accounts.add_token(conn, user, label)
    click.echo(token)
    click.echo(
        f"This token writes as {user}. Store it now: it cannot be shown again (only its hash is kept).", err=True
    )


@token_group.command("list")
@click.option("--user", default=None, help="Only this editor's tokens.")
@_db_option
def token_list(user: str | None, db: Path | None) -> None:
    """List the API tokens (id, editor, label, created, last used), never their secrets."""
    with _opened(db) as conn:
        tokens = accounts.list_tokens(conn, user)
    if not tokens:
        click.echo("no API tokens", err=True)
    for token in tokens:
        click.echo(
            f"{token.id}\t{token.user}\t{token.label or '-'}\t{token.created_at}\t{token.last_used_at or 'never used'}"
        )


@token_group.command("remove")
@click.argument("token_id", metavar="ID", type=int)
@_db_option
def token_remove(token_id: int, db: Path | None) -> None:
    """Remove the API token ID (see `newsmap token list`); it stops working at once."""
    with _opened(db) as conn:
        accounts.remove_token(conn, token_id)
    click.echo(f"removed token {token_id}")


@click.group("accounts")
def accounts_cli() -> None:
    """Editors and API tokens (the same commands as `newsmap user` and `newsmap token`)."""


accounts_cli.add_command(user_group)
accounts_cli.add_command(token_group)

if __name__ == "__main__":
    accounts_cli(prog_name="newsmap")
