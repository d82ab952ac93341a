"""The SQLite store: every article, place, mention, editor and token, in one WAL database file.

Both sides share it: the build writes articles and their rows (`put_article`, one transaction
each, so a crash leaves the whole article or nothing), the app reads them per article and
writes what editors add. Several processes may use the file at once: WAL lets readers go on
while one writer commits, a busy timeout makes writers queue instead of failing, and every
write is one short `BEGIN IMMEDIATE` transaction.

The schema is migrated in numbered steps (`newsmap.migrations`, recorded in `PRAGMA user_version`): a
database written by an older newsmap opens and upgrades itself. Its tables have foreign keys
and readable columns, so `datasette data/newsmap.db` shows it as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsmap.article import Article, Sentence
from newsmap.corrections import Correction, CorrectionError, Materialised, check_correction, materialise
from newsmap.language import detect
from newsmap.lemmas import CYRILLIC, fold, index_text, query_alternatives
from newsmap.migrations import FUNCTIONS, MIGRATIONS, SCHEMA_VERSION
from newsmap.schema import COLUMN_TYPES, LOCATION_FIELDS, MENTION_FIELDS, fallback_key
from newsmap.slugs import slugify

BUSY_TIMEOUT_MS = 30_000



class StoreError(RuntimeError):
    """The database cannot be used; one line for the user."""


def now() -> str:
    """An ISO time to the microsecond: "added first" must order articles added within one second."""
    return datetime.now(UTC).isoformat()


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection with WAL, foreign keys and a busy timeout, on a database at the current schema.

    With `create=False` a missing file is a StoreError (the server never creates an empty library
    by accident: `newsmap build` does).
    """
    if not create and not path.exists():
        raise StoreError(f"{path.name}: no database yet (run `newsmap build` to make it)")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed transaction's integrity
        migrate(conn)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path.name}: not a usable newsmap database ({error})") from None
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migration steps, each in its own transaction; returns the schema version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"the database has schema {version}, newer than this newsmap's {SCHEMA_VERSION}")
    if version < SCHEMA_VERSION:
        for name, function in FUNCTIONS.items():
            conn.create_function(name, 1, function, deterministic=True)
    for number in range(version, SCHEMA_VERSION):
        with transaction(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] != number:
                continue  # another process migrated meanwhile
            step = MIGRATIONS[number]
            for statement in _statements(step) if isinstance(step, str) else step:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction: BEGIN IMMEDIATE for a writer (it queues behind another writer at once, instead
    of failing later), a plain BEGIN for a consistent read; rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _bump_revision(conn: sqlite3.Connection) -> int:
    """Every write moves the store's revision on: caches of whole-library pages key on it."""
    conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'revision'")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'updated_at'", (now(),))
    return int(conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])


def content_hash(text: str) -> str:
    """The same article pasted twice (whitespace aside) has the same hash: a duplicate."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArticleInfo:
    """An article's row without its text: what lists and caches need."""

    slug: str
    title: str
    publisher: str
    published: str
    url: str
    added_at: str
    updated_at: str
    added_by: str
    source: str
    version: int
    content_hash: str
    build_hash: str
    language: str = ""  # ISO 639-1


class Store:
    """Reads and writes of the library, on one connection (one per thread or request)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Store:
        return cls(connect(path, create=create))

    def close(self) -> None:
        self.conn.close()

    # -- reading
    def revision(self) -> int:
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def version(self, slug: str) -> int | None:
        """The article's version (every write changes it), or None."""
        row = self.conn.execute("SELECT version FROM articles WHERE slug = ?", (slug,)).fetchone()
        return row[0] if row else None

    def info(self, slug: str) -> ArticleInfo | None:
        row = self.conn.execute(f"SELECT {_INFO_COLUMNS} FROM articles WHERE slug = ?", (slug,)).fetchone()
        return ArticleInfo(**dict(row)) if row else None

    def infos(self) -> list[ArticleInfo]:
        rows = self.conn.execute(f"SELECT {_INFO_COLUMNS} FROM articles ORDER BY slug").fetchall()
        return [ArticleInfo(**dict(row)) for row in rows]

    def article(self, slug: str) -> Article | None:
        row = self.conn.execute("SELECT * FROM articles WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            return None
        sentences = tuple(
            Sentence(i, start, end, para) for i, (start, end, para) in enumerate(json.loads(row["sentences"]))
        )
        return Article(
            row["slug"], row["text"], row["title"], row["publisher"], row["published"], row["url"], sentences,
            row["language"],
        )

    def places(self, slug: str | None = None) -> list[dict[str, Any]]:
        """Place rows as the schema types them, in their article's order (all articles: by slug)."""
        where, args = ("WHERE article = ?", (slug,)) if slug is not None else ("", ())
        rows = self.conn.execute(f"SELECT * FROM places {where} ORDER BY article, position", args).fetchall()
        return [_typed(row, LOCATION_FIELDS) for row in rows]

    def mentions(self, slug: str | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE article = ?", (slug,)) if slug is not None else ("", ())
        rows = self.conn.execute(f"SELECT * FROM mentions {where} ORDER BY article, position", args).fetchall()
        return [_typed(row, MENTION_FIELDS) for row in rows]

    def count(
        self, query: str = "", only: Collection[str] | None = None, days: tuple[str, ...] | None = None
    ) -> int:
        where, args = _search(query, only, days)
        return int(self.conn.execute(f"SELECT count(*) FROM articles a {where}", args).fetchone()[0])

    def listing(
        self,
        query: str = "",
        limit: int = 20,
        offset: int = 0,
        only: Collection[str] | None = None,
        days: tuple[str, ...] | None = None,
    ) -> list[ArticleInfo]:
        """Articles newest first (by date published, then added) whose title or place names match
        `query`, among the slugs `only` names when given (a static export of some articles), published
        in `days` when given (see `_search`)."""
        where, args = _search(query, only, days)
        rows = self.conn.execute(
            f"SELECT {_INFO_COLUMNS} FROM articles a {where} "
            "ORDER BY a.published DESC, a.added_at DESC, a.slug LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return [ArticleInfo(**dict(row)) for row in rows]

    def place_counts(self, slugs: Collection[str] | None = None) -> dict[str, int]:
        """{slug: how many places} of the articles `slugs` names (all when None) that have places."""
        if slugs is None:
            return dict(self.conn.execute("SELECT article, count(*) FROM places GROUP BY article").fetchall())
        query = "SELECT article, count(*) FROM places WHERE article IN (SELECT value FROM json_each(?)) GROUP BY article"
        return dict(self.conn.execute(query, (json.dumps(sorted(slugs)),)).fetchall())

    def places_with_id(self, slug: str, place_id: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM places WHERE article = ? AND id = ?", (slug, place_id)).fetchone()
            is not None
        )

    def first_with_place(self, place_id: str) -> str | None:
        """The earliest-added article with a place of this id (old `/#<id>` links)."""
        row = self.conn.execute(
            "SELECT p.article FROM places p JOIN articles a ON a.slug = p.article WHERE p.id = ? "
            "ORDER BY a.added_at, a.slug LIMIT 1",
            (place_id,),
        ).fetchone()
        return row[0] if row else None

    def iter_places(self, days: tuple[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every place of the library (of the articles published in `days` when given: `article_filter`),
        by article and position, read with a cursor (never all at once)."""
        where, args = _search("", None, days)
        query = f"SELECT p.* FROM articles a JOIN places p ON p.article = a.slug {where} ORDER BY p.article, p.position"
        for row in self.conn.execute(query if days else "SELECT * FROM places ORDER BY article, position", args):
            yield _typed(row, LOCATION_FIELDS)

    def iter_mentions(self) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute("SELECT * FROM mentions ORDER BY article, position"):
            yield _typed(row, MENTION_FIELDS)

    def duplicate_of(self, text: str) -> str | None:
        row = self.conn.execute("SELECT slug FROM articles WHERE content_hash = ?", (content_hash(text),)).fetchone()
        return row[0] if row else None

    def free_slug(self, title: str) -> str:
        """A slug for a new article from its title, unique in the library ("-2", "-3" when taken): at
        most SLUG_LIMIT characters, its number included, ending where a word of the title ends (a URL
        people read and share should not stop at "-t")."""
        from newsmap.slugs import SLUG_LIMIT, shorten  # here: this function is the store's one use of them

        base = shorten(slugify(title, fallback="article"), SLUG_LIMIT)
        candidate, number = base, 2
        while self.conn.execute("SELECT 1 FROM articles WHERE slug = ?", (candidate,)).fetchone():
            suffix = f"-{number}"
            candidate, number = f"{shorten(base, SLUG_LIMIT - len(suffix))}{suffix}", number + 1
        return candidate

    # -- writing
    def put_article(
        self,
        article: Article,
        locations: list[dict[str, Any]],
        mentions: list[dict[str, Any]],
        *,
        added_by: str = "",
        source: str = "seed",
        build_hash: str = "",
    ) -> int:
        """Add or replace an article with all its rows, in one transaction; returns its new version."""
        with transaction(self.conn):
            return self._write_article(article, locations, mentions, added_by, source, build_hash)

    def _write_article(
        self,
        article: Article,
        locations: list[dict[str, Any]],
        mentions: list[dict[str, Any]],
        added_by: str,
        source: str,
        build_hash: str,
    ) -> int:
        """The statements of put/insert, inside the caller's transaction."""
        revision, written = _bump_revision(self.conn), now()
        previous = self.conn.execute("SELECT added_at FROM articles WHERE slug = ?", (article.slug,)).fetchone()
        self.conn.execute("DELETE FROM articles WHERE slug = ?", (article.slug,))
        self.conn.execute(
            "INSERT INTO articles (slug, title, publisher, published, url, text, sentences, content_hash, "
            "build_hash, added_at, updated_at, added_by, source, version, language) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.slug, article.title, article.publisher, article.published, article.url, article.text,
                json.dumps([[s.start, s.end, s.paragraph] for s in article.sentences]), content_hash(article.text),
                build_hash, previous["added_at"] if previous else written, written, added_by, source, revision,
                article.language or detect(article.text),  # every path decides it first; this is the last resort
            ),
        )  # fmt: skip
        self.conn.execute(
            "INSERT OR REPLACE INTO geoparsed (article, places, mentions) VALUES (?, ?, ?)",
            (article.slug, json.dumps(locations), json.dumps(mentions)),
        )
        result = materialise(article, locations, mentions, self.corrections(article.slug))
        self._write_rows(article, result)
        return revision

    def _write_rows(self, article: Article, result: Materialised) -> None:
        """The article's current rows (its geoparsed rows with the corrections applied), replacing the old."""
        self.conn.execute("DELETE FROM places WHERE article = ?", (article.slug,))  # its mentions go too
        self.conn.executemany(
            f"INSERT INTO places (position, {', '.join(LOCATION_FIELDS)}) "
            f"VALUES (?, {', '.join('?' for _ in LOCATION_FIELDS)})",
            [(n, *(_with_key(row, article.slug)[f] for f in LOCATION_FIELDS)) for n, row in enumerate(result.places)],
        )
        self.conn.executemany(
            f"INSERT INTO mentions (position, {', '.join(_quoted(MENTION_FIELDS))}) "
            f"VALUES (?, {', '.join('?' for _ in MENTION_FIELDS)})",
            [(n, *(row[f] for f in MENTION_FIELDS)) for n, row in enumerate(result.mentions)],
        )
        self.conn.execute(
            "UPDATE geoparsed SET skipped = ? WHERE article = ?", (json.dumps(result.skipped), article.slug)
        )
        self.conn.execute("DELETE FROM search WHERE slug = ?", (article.slug,))
        names = " ".join(f"{row['name']} {row['article_name']}" for row in result.places)
        self.conn.execute(
            "INSERT INTO search (slug, title, places, lemmas) VALUES (?, ?, ?, ?)",
            (article.slug, article.title, names, index_text(f"{article.title} {names}")),
        )

    def insert_article(
        self,
        article: Article,
        locations: list[dict[str, Any]],
        mentions: list[dict[str, Any]],
        *,
        added_by: str = "",
        source: str = "web",
    ) -> str | None:
        """Add a new article under a free slug (never replacing one), in one transaction.

        The slug is chosen inside the transaction from the article's, so two editors adding
        articles with the same title at once get "x" and "x-2". Returns the slug, or None when
        the same text is already in the library (checked inside the transaction too).
        """
        with transaction(self.conn):
            if self.duplicate_of(article.text) is not None:
                return None
            slug = self.free_slug(article.slug)
            article = dataclasses.replace(article, slug=slug)
            self._write_article(article, [{**r, "article": slug} for r in locations],
                                [{**r, "article": slug} for r in mentions], added_by, source, "")  # fmt: skip
        return slug

    def delete_article(self, slug: str) -> bool:
        """The article and everything about it: rows, geoparsed rows and corrections."""
        with transaction(self.conn):
            gone = self.conn.execute("DELETE FROM articles WHERE slug = ?", (slug,)).rowcount > 0
            self.conn.execute("DELETE FROM search WHERE slug = ?", (slug,))
            self.conn.execute("DELETE FROM geoparsed WHERE article = ?", (slug,))
            self.conn.execute("DELETE FROM corrections WHERE article = ?", (slug,))
            if gone:
                _bump_revision(self.conn)
        return gone

    # -- corrections
    def corrections(self, slug: str) -> list[Correction]:
        """The article's corrections, oldest first (reverts and reverted ones included)."""
        rows = self.conn.execute("SELECT * FROM corrections WHERE article = ? ORDER BY seq", (slug,)).fetchall()
        return [_correction(row) for row in rows]

    def skipped(self, slug: str) -> list[tuple[int, str]]:
        """(seq, why) of the corrections that could not be applied to the article's current geoparse."""
        row = self.conn.execute("SELECT skipped FROM geoparsed WHERE article = ?", (slug,)).fetchone()
        return [(int(seq), str(why)) for seq, why in json.loads(row[0])] if row else []

    def articles_with_skipped(self, source: str = "seed") -> dict[str, list[tuple[int, str]]]:
        """{slug: skipped} of the articles of one source that have corrections that could not be applied."""
        rows = self.conn.execute(
            "SELECT g.article, g.skipped FROM geoparsed g JOIN articles a ON a.slug = g.article "
            "WHERE a.source = ? AND g.skipped != '[]' ORDER BY g.article",
            (source,),
        ).fetchall()
        return {slug: [(int(seq), str(why)) for seq, why in json.loads(skipped)] for slug, skipped in rows}

    def geoparsed(self, slug: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The article's rows as the geoparser gave them (an article stored before corrections
        existed has no separate copy: its rows are its geoparse)."""
        row = self.conn.execute("SELECT places, mentions FROM geoparsed WHERE article = ?", (slug,)).fetchone()
        if row is None:
            return self.places(slug), self.mentions(slug)
        return json.loads(row[0]), json.loads(row[1])

    def _keep_geoparsed(self, slug: str) -> None:
        """Before the first correction of an article stored by an older newsmap (no copy of its
        geoparse yet), copy its rows, which are its geoparse: later changes replay onto them."""
        self.conn.execute(
            "INSERT OR IGNORE INTO geoparsed (article, places, mentions) VALUES (?, ?, ?)",
            (slug, json.dumps(self.places(slug)), json.dumps(self.mentions(slug))),
        )

    def correct(self, slug: str, plan: Plan, *, editor: str) -> Corrected:
        """Append one change (one or more correction rows) and apply it, in one transaction.

        `plan(article, places, mentions)` turns the request into corrections against the article's
        current rows, read inside the transaction (so a check such as If-Match sees what is there
        now); it raises CorrectionError to refuse. The change is refused too, and nothing is
        written, when one of its rows does not apply or when it would leave an earlier correction
        with nothing to apply to (revert that one first).
        """
        with transaction(self.conn):
            article = self.article(slug)
            if article is None:
                raise CorrectionError(f"No article {slug!r}.", 404)
            self._keep_geoparsed(slug)
            planned = plan(article, self.places(slug), self.mentions(slug))
            if not planned:
                raise CorrectionError("Nothing to change: the request names no field with a new value.", 400)
            before = {seq for seq, _ in self.skipped(slug)}
            stored = self._append(slug, planned, editor, now())
            result = materialise(article, *self.geoparsed(slug), self.corrections(slug))
            for correction in stored:
                if correction.seq in result.errors:
                    raise result.errors[correction.seq]
            for seq, why in result.skipped:
                if seq not in before:
                    raise CorrectionError(
                        f"This would leave change #{seq} with nothing to apply to ({why}): revert it first.", 409
                    )
            self._write_rows(article, result)
            version = self._touch(slug)
        return Corrected(version, stored, result.places, result.mentions)

    def import_corrections(self, slug: str, rows: list[Correction]) -> int:
        """Add the corrections of a seed's corrections file that this database does not have yet
        (by uid), keeping their editors, times and notes, then apply them; returns how many were added."""
        with transaction(self.conn):
            article = self.article(slug)
            if article is None:
                raise CorrectionError(f"No article {slug!r}.", 404)
            self._keep_geoparsed(slug)
            known = dict(self.conn.execute("SELECT uid, seq FROM corrections WHERE article = ?", (slug,)).fetchall())
            mapped: dict[int, int] = {}  # the file's seq -> this database's
            added = 0
            for row in rows:
                check_correction(row)  # a row without a uid would be imported again by every build
                if row.uid in known:
                    mapped[row.seq] = known[row.uid]
                    continue
                seq = self._next_seq()
                action = seq if row.action in (0, row.seq) else mapped.get(row.action, seq)
                reverts = mapped.get(row.reverts, 0) if row.reverts else 0
                if row.reverts and not reverts:
                    continue  # it reverts a correction neither the file nor the database holds
                stored = dataclasses.replace(row, action=action, reverts=reverts)
                mapped[row.seq] = known[row.uid] = self._insert_correction(slug, stored)
                added += 1
            if added:
                self._write_rows(article, materialise(article, *self.geoparsed(slug), self.corrections(slug)))
                self._touch(slug)
        return added

    def _append(self, slug: str, planned: list[Correction], editor: str, at: str) -> list[Correction]:
        action = self._next_seq()
        stored = []
        for correction in planned:
            row = dataclasses.replace(
                correction, editor=editor, at=at, action=action, uid=correction.uid or secrets.token_hex(8)
            )
            stored.append(dataclasses.replace(row, seq=self._insert_correction(slug, row)))
        return stored

    def _next_seq(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'corrections'").fetchone()
        return (row[0] if row else 0) + 1

    def _insert_correction(self, slug: str, c: Correction) -> int:
        """One row, checked first: the table keeps it for good (a uid, a field its target has)."""
        c = c if c.uid else dataclasses.replace(c, uid=secrets.token_hex(8))
        check_correction(c)
        cursor = self.conn.execute(
            "INSERT INTO corrections (uid, article, action, target, field, old, new, editor, at, note, reverts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (c.uid, slug, c.action, c.target, c.field, json.dumps(c.old, ensure_ascii=False),
             json.dumps(c.new, ensure_ascii=False), c.editor, c.at, c.note, c.reverts),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def _touch(self, slug: str) -> int:
        """A new version of the article (every cache of it is then stale)."""
        revision = _bump_revision(self.conn)
        self.conn.execute("UPDATE articles SET version = ?, updated_at = ? WHERE slug = ?", (revision, now(), slug))
        return revision


Plan = Callable[[Article, list[dict[str, Any]], list[dict[str, Any]]], list[Correction]]


@dataclass(frozen=True)
class Corrected:
    """What a change did: the article's new version, the rows stored, and the article's rows now."""

    version: int
    corrections: list[Correction]
    places: list[dict[str, Any]]
    mentions: list[dict[str, Any]]


def _correction(row: sqlite3.Row) -> Correction:
    return Correction(
        target=row["target"], field=row["field"], new=json.loads(row["new"]), old=json.loads(row["old"]),
        editor=row["editor"], note=row["note"], at=row["at"], seq=row["seq"], action=row["action"],
        reverts=row["reverts"], uid=row["uid"],
    )  # fmt: skip


_INFO_COLUMNS = ", ".join(ArticleInfo.__dataclass_fields__)


def _search(
    query: str, only: Collection[str] | None = None, days: tuple[str, ...] | None = None
) -> tuple[str, tuple[str, ...]]:
    """`article_filter`'s conditions as a WHERE clause (or none)."""
    clauses, args = article_filter(query, only, days)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


def article_filter(
    query: str, only: Collection[str] | None = None, days: tuple[str, ...] | None = None
) -> tuple[list[str], list[str]]:
    """Conditions on articles `a` (and their arguments) whose title or place names hold every word of
    `query` (as a word or the start of one; accents and case ignored), through the full-text index: its
    cost does not grow with the library the way a scan would. `only`: among these slugs. `days`, a first
    and last day (`dates.date_range`): published on any of them, so a partial date ("2019-03")
    belongs to every day it covers (an overlap, one range of `articles_published_span`); `()`: the
    articles without a date, which a filtered view leaves out and counts."""
    clauses: list[str] = []
    args: list[str] = []
    if days is not None:
        clauses.append("a.published_from <= ? AND a.published_to >= ?" if days else "a.published_from IS NULL")
        args += [days[1], days[0]] if days else []
    if only is not None:
        clauses.append("a.slug IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(sorted(only)))
    words = re.findall(r"\w+", query)
    if query.strip() and not words:
        clauses.append("0")
    elif words:
        clauses.append("a.slug IN (SELECT slug FROM search WHERE search MATCH ?)")
        args.append(" AND ".join(_match_word(word) for word in words[:20]))
    return clauses, args


def _match_word(word: str) -> str:
    """One word of a search as FTS5 syntax: the word or a word it starts, in any column; a Cyrillic
    word also by its lemmas (`newsmap.lemmas`: «Ош» finds «в Оше», «Киргизия» «Киргизии»)."""
    phrase = _phrase(word) + "*"
    if not CYRILLIC.search(word):
        return phrase
    folded = [_phrase(fold(word)) + "*"] if "ё" in word.lower() else []  # the index writes «ё» as «е»
    return "(" + " OR ".join([phrase, *folded, *map(_phrase, query_alternatives(word))]) + ")"


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _quoted(fields: tuple[str, ...]) -> list[str]:
    return [f'"{field}"' for field in fields]


def _with_key(row: dict[str, Any], slug: str) -> dict[str, Any]:
    return row if row.get("key") else {**row, "key": fallback_key(row, slug)}


def _typed(row: sqlite3.Row, fields: tuple[str, ...]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for field in fields:
        value = row[field]
        kind = COLUMN_TYPES[field]
        typed[field] = float(value) if kind == "float" else int(value) if kind == "int" else str(value)
    return typed
