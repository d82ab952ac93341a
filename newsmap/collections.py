"""Collections: named, ordered sets of articles that tell one story (the store's side of them).

Schema step 6 made the tables (`collections`, and `collection_articles` with each article's
position; deleting an article takes it out of every collection). Here are the reads and the three
writes, over a store's connection; the serve side (`newsmap.serve.collections`) and anything else
share them, so there is no Flask here.

Every write is one `BEGIN IMMEDIATE` transaction that checks what it is given against what the
library holds *inside* that transaction (an article deleted a moment before is not linked), moves
the library's revision on (whole-library caches key on it) and gives the collection that revision
as its version. What an editor sends is checked before anything is written: an empty title, a slug
that names no article, the same article twice are a `CollectionError` naming the culprit, and the
library is left as it was.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from newsmap.slugs import SLUG_LIMIT, shorten, slugify
from newsmap.store import ArticleInfo, _bump_revision, now, transaction

TITLE_LIMIT = 200  # characters: a heading, not a paragraph
DESCRIPTION_LIMIT = 2000
ARTICLES_LIMIT = 500  # articles in one collection: its page and downloads are built whole
FIELDS = ("title", "description", "articles")
RESERVED = frozenset({"new"})  # `/collections/new` is the form: no collection may take its URL
_INFO = ", ".join(f"a.{name}" for name in ArticleInfo.__dataclass_fields__)


class CollectionError(ValueError):
    """A request a collection cannot take; the message is one line for the editor, `status` its HTTP code."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Collection:
    """A collection's own row and its articles' slugs, in the story's order."""

    slug: str
    title: str
    description: str
    created_by: str
    created_at: str
    updated_at: str
    version: int
    articles: tuple[str, ...]

    def document(self) -> dict[str, Any]:
        """What `GET /api/collections/<slug>` answers: the collection's own state and nothing that
        changes without it, so its ETag (which `If-Match` is checked against) moves only when it does."""
        return {
            "slug": self.slug, "title": self.title, "description": self.description,
            "articles": list(self.articles), "created_by": self.created_by, "created_at": self.created_at,
            "updated_at": self.updated_at, "page": f"/collections/{self.slug}",
        }  # fmt: skip


# --------------------------------------------------------------------------- checking what is sent


def check_title(value: Any) -> str:
    """One line of at most TITLE_LIMIT characters, its runs of white space made single spaces."""
    if not isinstance(value, str):
        raise CollectionError("title must be text.", 400)
    title = " ".join(value.split())
    if not title:
        raise CollectionError("The title is empty: a collection needs a name (at most 200 characters).")
    if len(title) > TITLE_LIMIT:
        raise CollectionError(f"The title is {len(title)} characters long: at most {TITLE_LIMIT}.")
    _refuse_controls(title, "title")
    return title


def check_description(value: Any) -> str:
    """Text of at most DESCRIPTION_LIMIT characters; its line breaks are kept (the page shows them)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CollectionError("description must be text.", 400)
    description = "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    description = description.strip()
    if len(description) > DESCRIPTION_LIMIT:
        raise CollectionError(f"The description is {len(description)} characters long: at most {DESCRIPTION_LIMIT}.")
    _refuse_controls(description.replace("\n", " ").replace("\t", " "), "description")
    return description


def _refuse_controls(text: str, field: str) -> None:
    """No NUL, escape or other control character: they have no place in a heading and break XML."""
    bad = next((char for char in text if unicodedata.category(char) == "Cc"), None)
    if bad is not None:
        raise CollectionError(f"The {field} holds a control character (U+{ord(bad):04X}): take it out.")


def check_articles(value: Any) -> list[str]:
    """A list of article slugs, each once, at most ARTICLES_LIMIT; whether each exists is checked
    by the write itself, in its transaction."""
    if not isinstance(value, list) or not all(isinstance(slug, str) for slug in value):
        raise CollectionError('articles must be a list of article slugs, e.g. ["kyrgyzstan-russian-bases-2019"].', 400)
    if len(value) > ARTICLES_LIMIT:
        raise CollectionError(f"{len(value)} articles: a collection holds at most {ARTICLES_LIMIT}.")
    seen: set[str] = set()
    for slug in value:
        if not slug.strip():
            raise CollectionError("An article slug in the list is empty.")
        if slug in seen:
            raise CollectionError(f"The article {slug!r} is in the list twice: a collection holds each article once.")
        seen.add(slug)
    return list(value)


def checked(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields of a request, checked; `partial` (a PATCH) lets any be left out, but not all."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise CollectionError(f"Unknown field {unknown[0]!r}: the fields are {', '.join(FIELDS)}.", 400)
    if not partial and "title" not in body:
        raise CollectionError('The title is missing: send {"title", "description"?, "articles": [slugs]}.')
    if not partial and "articles" not in body:
        raise CollectionError('The list of articles is missing: send "articles": [slugs], in the story\'s order.')
    if partial and not body:
        raise CollectionError("Nothing to change: send any of title, description, articles.", 400)
    fields: dict[str, Any] = {}
    if "title" in body:
        fields["title"] = check_title(body["title"])
    if "description" in body:
        fields["description"] = check_description(body["description"])
    if "articles" in body:
        fields["articles"] = check_articles(body["articles"])
    return fields


# --------------------------------------------------------------------------- reading


def get(conn: sqlite3.Connection, slug: str) -> Collection | None:
    row = conn.execute("SELECT * FROM collections WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        return None
    articles = conn.execute(
        "SELECT article FROM collection_articles WHERE collection = ? ORDER BY position", (slug,)
    ).fetchall()
    return Collection(**dict(row), articles=tuple(a[0] for a in articles))


def listing(conn: sqlite3.Connection) -> list[tuple[Collection, int]]:
    """Every collection, newest first, with how many articles it holds (its slugs are not read)."""
    rows = conn.execute(
        "SELECT c.*, (SELECT count(*) FROM collection_articles ca WHERE ca.collection = c.slug) AS size "
        "FROM collections c ORDER BY c.created_at DESC, c.slug"
    ).fetchall()
    return [(Collection(**{k: row[k] for k in Collection.__dataclass_fields__ if k != "articles"}, articles=()),
             row["size"]) for row in rows]  # fmt: skip


def articles_of(conn: sqlite3.Connection, slug: str) -> list[ArticleInfo]:
    """The collection's articles in its order, as the library lists them (one indexed query)."""
    rows = conn.execute(
        f"SELECT {_INFO} FROM collection_articles ca JOIN articles a ON a.slug = ca.article "
        "WHERE ca.collection = ? ORDER BY ca.position",
        (slug,),
    ).fetchall()
    return [ArticleInfo(**dict(row)) for row in rows]


def state(conn: sqlite3.Connection, slug: str) -> tuple[int, int, int, int] | None:
    """What a collection's page and downloads depend on, in one indexed query: its version, and the
    number, newest and sum of its articles' versions (every write of an article moves its version on;
    a deleted article leaves the count). None for no such collection. Caches key on it, so a write
    elsewhere in the library leaves a collection's built page as it is."""
    row = conn.execute(
        "SELECT c.version, count(a.slug), coalesce(max(a.version), 0), coalesce(sum(a.version), 0) "
        "FROM collections c LEFT JOIN collection_articles ca ON ca.collection = c.slug "
        "LEFT JOIN articles a ON a.slug = ca.article WHERE c.slug = ?",
        (slug,),
    ).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1], row[2], row[3])


def story_order(articles: Iterable[ArticleInfo]) -> list[int]:
    """Indices of `articles` by the first day their publication date covers ("2019" is 1 January), the
    collection's order among the same day; articles with no date come last. The time control steps so."""
    listed = list(articles)

    def first_day(index: int) -> tuple[str, int]:
        published = listed[index].published
        day = {4: published + "-01-01", 7: published + "-01", 10: published}.get(len(published), "")
        return (day or "9999-99-99", index)

    return sorted(range(len(listed)), key=first_day)


# --------------------------------------------------------------------------- writing


def free_slug(conn: sqlite3.Connection, title: str) -> str:
    """A slug for a new collection from its title, unique among collections ("-2", "-3" when taken), at
    most SLUG_LIMIT characters ending where a word ends; never a word its URLs reserve ("new")."""
    base = shorten(slugify(title, fallback="collection"), SLUG_LIMIT)
    candidate, number = base, 2
    while candidate in RESERVED or conn.execute("SELECT 1 FROM collections WHERE slug = ?", (candidate,)).fetchone():
        suffix = f"-{number}"
        candidate, number = f"{shorten(base, SLUG_LIMIT - len(suffix))}{suffix}", number + 1
    return candidate


def _require_articles(conn: sqlite3.Connection, slugs: list[str]) -> None:
    """Every slug names an article of the library now (read inside the write's transaction)."""
    missing = [row[0] for row in conn.execute(
        "SELECT value FROM json_each(?) WHERE value NOT IN (SELECT slug FROM articles) ORDER BY key",
        (json.dumps(slugs),),
    )]  # fmt: skip
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CollectionError(
            f"No article {missing[0]!r} in the library{more}: name articles by their slug, as in /articles/<slug>."
        )


def _write_articles(conn: sqlite3.Connection, slug: str, articles: list[str]) -> None:
    conn.execute("DELETE FROM collection_articles WHERE collection = ?", (slug,))
    conn.executemany(
        "INSERT INTO collection_articles (collection, position, article) VALUES (?, ?, ?)",
        [(slug, position, article) for position, article in enumerate(articles)],
    )


def create(conn: sqlite3.Connection, fields: dict[str, Any], *, editor: str) -> Collection:
    """A new collection from checked fields (`checked(..., partial=False)`), under a free slug."""
    with transaction(conn):
        _require_articles(conn, fields["articles"])
        slug = free_slug(conn, fields["title"])
        revision, at = _bump_revision(conn), now()
        conn.execute(
            "INSERT INTO collections (slug, title, description, created_by, created_at, updated_at, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (slug, fields["title"], fields.get("description", ""), editor, at, at, revision),
        )
        _write_articles(conn, slug, fields["articles"])
        found = get(conn, slug)
    assert found is not None
    return found


Check = Callable[[Collection], None]


def update(conn: sqlite3.Connection, slug: str, fields: dict[str, Any], *, check: Check | None = None) -> Collection:
    """Change a collection's title, description or articles (their order too), in one transaction.

    `check(current)` runs first, inside the transaction, on the collection as it is now (an
    `If-Match`), and may raise to refuse. Its slug stays: links to it keep working."""
    with transaction(conn):
        current = get(conn, slug)
        if current is None:
            raise CollectionError(f"No collection {slug!r}.", 404)
        if check is not None:
            check(current)
        if "articles" in fields:
            _require_articles(conn, fields["articles"])
            _write_articles(conn, slug, fields["articles"])
        title, description = fields.get("title", current.title), fields.get("description", current.description)
        conn.execute(
            "UPDATE collections SET title = ?, description = ?, updated_at = ?, version = ? WHERE slug = ?",
            (title, description, now(), _bump_revision(conn), slug),
        )
        found = get(conn, slug)
    assert found is not None
    return found


def delete(conn: sqlite3.Connection, slug: str, *, check: Check | None = None) -> bool:
    """Remove a collection (its articles stay in the library); False when there is none."""
    with transaction(conn):
        current = get(conn, slug)
        if current is None:
            return False
        if check is not None:
            check(current)
        conn.execute("DELETE FROM collections WHERE slug = ?", (slug,))  # its rows of collection_articles go too
        _bump_revision(conn)
    return True
