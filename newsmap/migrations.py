"""The store's schema, as numbered migration steps (recorded in `PRAGMA user_version`).

A database written by an older newsmap opens and upgrades itself (`newsmap.store.migrate`): each
step is applied once, in order, in one transaction. Kept apart from the store's code so that the
schema's history reads in one place.
"""

from __future__ import annotations

from collections.abc import Callable

from newsmap.language import detect
from newsmap.lemmas import index_text

# The first and last day a publication date covers ("2019" -> 2019-01-01 .. 2019-12-31; "" -> NULL).
_FIRST_DAY = (
    "CASE length(published) WHEN 4 THEN published || '-01-01' WHEN 7 THEN published || '-01' "
    "WHEN 10 THEN published END"
)
_LAST_DAY = (
    "CASE length(published) WHEN 4 THEN published || '-12-31' "
    "WHEN 7 THEN date(published || '-01', '+1 month', '-1 day') WHEN 10 THEN published END"
)

# Each step is applied once, in order, in one transaction; never edit a step that has shipped.
# A step is a script split on ";", or a tuple of statements (a trigger holds ";" inside).
MIGRATIONS: tuple[str | tuple[str, ...], ...] = (
    # 1: articles with their places and mentions (the columns of locations.csv and mentions.csv)
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta (key, value) VALUES ('revision', '0');
    INSERT INTO meta (key, value) VALUES ('updated_at', '1970-01-01T00:00:00+00:00');
    CREATE TABLE articles (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        publisher TEXT NOT NULL DEFAULT '',
        published TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        sentences TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        build_hash TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        added_by TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'seed',
        version INTEGER NOT NULL
    );
    CREATE INDEX articles_content_hash ON articles (content_hash);
    CREATE INDEX articles_newest ON articles (published DESC, added_at DESC, slug);
    CREATE TABLE places (
        article TEXT NOT NULL REFERENCES articles (slug) ON DELETE CASCADE,
        id TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        article_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        category TEXT NOT NULL,
        status TEXT NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        precision TEXT NOT NULL,
        quote TEXT NOT NULL,
        mentions INTEGER NOT NULL,
        source TEXT NOT NULL,
        country TEXT NOT NULL,
        context TEXT NOT NULL,
        PRIMARY KEY (article, id)
    );
    CREATE INDEX places_id ON places (id);
    CREATE TABLE mentions (
        article TEXT NOT NULL REFERENCES articles (slug) ON DELETE CASCADE,
        place_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        role TEXT NOT NULL,
        sentence INTEGER NOT NULL,
        sentence_start INTEGER NOT NULL,
        sentence_end INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (article, position),
        FOREIGN KEY (article, place_id) REFERENCES places (article, id) ON DELETE CASCADE
    );
    CREATE INDEX mentions_place ON mentions (article, place_id);
    """,
    # 2: editors and their API tokens (passwords and tokens stored only as hashes)
    """
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        label TEXT NOT NULL DEFAULT '',
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT
    );
    CREATE INDEX tokens_user ON tokens (user);
    """,
    # 3: a full-text index of titles and place names, so that searching the library stays fast
    """
    CREATE VIRTUAL TABLE search USING fts5 (
        slug UNINDEXED, title, places, tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO search (slug, title, places)
        SELECT a.slug, a.title, coalesce(
            (SELECT group_concat(p.name || ' ' || p.article_name, ' ') FROM places p WHERE p.article = a.slug), ''
        ) FROM articles a;
    """,
    # 4: editors' corrections (append-only: triggers refuse to change or delete one while its article
    # exists) and each article's rows as the geoparser gave them, which the corrections apply to
    (
        """CREATE TABLE corrections (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            uid TEXT NOT NULL,
            article TEXT NOT NULL,
            action INTEGER NOT NULL,
            target TEXT NOT NULL,
            field TEXT NOT NULL,
            old TEXT NOT NULL,
            new TEXT NOT NULL,
            editor TEXT NOT NULL,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            reverts INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE UNIQUE INDEX corrections_uid ON corrections (article, uid)",
        "CREATE INDEX corrections_article ON corrections (article, seq)",
        """CREATE TRIGGER corrections_append_only BEFORE UPDATE ON corrections
        BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END""",
        """CREATE TRIGGER corrections_kept BEFORE DELETE ON corrections
        WHEN EXISTS (SELECT 1 FROM articles WHERE slug = OLD.article)
        BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END""",
        """CREATE TABLE geoparsed (
            article TEXT PRIMARY KEY,
            places TEXT NOT NULL,
            mentions TEXT NOT NULL,
            skipped TEXT NOT NULL DEFAULT '[]'
        )""",
    ),
    # 5: nothing that signs, and no session, in the database (anyone who may read it could forge one):
    # the cookie-signing key leaves it (a 0600 file beside it now, see newsmap.serve.auth), and an
    # editor's sign-in is a row here holding only the SHA-256 of the random id its cookie carries,
    # so signing out, a new password or removing the editor ends it at once (newsmap.accounts)
    """
    DELETE FROM meta WHERE key = 'secret_key';
    CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user);
    CREATE INDEX sessions_expires ON sessions (expires_at);
    """,
    # 6: stories over time. A place's identity across the library (`key`: the gazetteer's key, an
    # editor's choice, or for older rows what their source names, else the row itself); the days a
    # partial publication date covers, indexed, so a date filter is one range scan at any size;
    # collections, named and ordered sets of articles (an article's deletion takes it out of them)
    (
        "ALTER TABLE places ADD COLUMN key TEXT NOT NULL DEFAULT ''",
        """UPDATE places SET key = CASE
            WHEN source LIKE 'GeoNames country %' AND country != '' THEN 'country:' || country
            WHEN source LIKE 'GeoNames %' THEN 'geonames:' ||
                rtrim(substr(source, 10, instr(substr(source, 10) || ' ', ' ') - 1), ';,:')
            WHEN source LIKE 'airportsdata ICAO %' THEN 'airport:' || substr(source, 19, 4)
            ELSE 'article:' || article || '/' || id END""",
        "CREATE INDEX places_key ON places (key, article)",
        f"ALTER TABLE articles ADD COLUMN published_from TEXT GENERATED ALWAYS AS ({_FIRST_DAY}) VIRTUAL",
        f"ALTER TABLE articles ADD COLUMN published_to TEXT GENERATED ALWAYS AS ({_LAST_DAY}) VIRTUAL",
        "CREATE INDEX articles_published_span ON articles (published_from, published_to)",
        """CREATE TABLE collections (
            slug TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        )""",
        """CREATE TABLE collection_articles (
            collection TEXT NOT NULL REFERENCES collections (slug) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            article TEXT NOT NULL REFERENCES articles (slug) ON DELETE CASCADE,
            PRIMARY KEY (collection, article)
        )""",
        "CREATE INDEX collection_articles_order ON collection_articles (collection, position)",
        "CREATE INDEX collection_articles_article ON collection_articles (article)",
    ),
    # 7: a place across the library, oldest first, from one index. Each place row carries its
    # article's first day (NULL: undated) and when it was added, kept by triggers whoever writes the
    # rows, so `/places/<key>` reads a page of 50 in date order from `places_timeline` however many
    # articles name the place (a join sorted per request grew with them), statuses included (the
    # timeline before a page); `place_timeline` is that list as a view, for Datasette
    (
        "ALTER TABLE places ADD COLUMN published_from TEXT",
        "ALTER TABLE places ADD COLUMN added_at TEXT NOT NULL DEFAULT ''",
        """UPDATE places SET (published_from, added_at) =
            (SELECT a.published_from, a.added_at FROM articles a WHERE a.slug = places.article)""",
        "CREATE INDEX places_timeline ON places (key, published_from IS NULL, published_from, added_at, article, id, status)",
        """CREATE TRIGGER places_dated AFTER INSERT ON places BEGIN
            UPDATE places SET (published_from, added_at) =
                (SELECT a.published_from, a.added_at FROM articles a WHERE a.slug = NEW.article)
            WHERE article = NEW.article AND id = NEW.id;
        END""",
        """CREATE TRIGGER articles_redated AFTER UPDATE OF published, added_at ON articles BEGIN
            UPDATE places SET (published_from, added_at) = (NEW.published_from, NEW.added_at) WHERE article = NEW.slug;
        END""",
        """CREATE VIEW place_timeline AS
            SELECT p.key, p.published_from, a.published, a.title, a.publisher, p.article, p.id, p.name, p.kind,
                p.status, p.quote, p.lat, p.lon
            FROM places p JOIN articles a ON a.slug = p.article
            ORDER BY p.key, p.published_from IS NULL, p.published_from, p.added_at, p.article, p.id""",
    ),
    # 8: articles in several languages (issue 22). Each article's language (ISO 639-1), for an existing
    # one detected from its text; the full-text index gains `lemmas`, the dictionary forms of the
    # Cyrillic words of the title and place names, so «Ош» finds «в Оше» (FTS5 adds no column to a
    # table: it is made again, and filled from the rows). The SQL functions are Python's (`FUNCTIONS`).
    (
        "ALTER TABLE articles ADD COLUMN language TEXT NOT NULL DEFAULT ''",
        "UPDATE articles SET language = newsmap_language(text)",
        "DROP TABLE search",
        """CREATE VIRTUAL TABLE search USING fts5 (
            slug UNINDEXED, title, places, lemmas, tokenize = 'unicode61 remove_diacritics 2'
        )""",
        """INSERT INTO search (slug, title, places, lemmas)
            SELECT slug, title, places, newsmap_lemmas(title || ' ' || places) FROM (
                SELECT a.slug, a.title, coalesce((SELECT group_concat(p.name || ' ' || p.article_name, ' ')
                    FROM places p WHERE p.article = a.slug), '') AS places FROM articles a
            )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# Python functions the steps call, registered on the connection before they run.
FUNCTIONS: dict[str, Callable[[str], str]] = {"newsmap_language": detect, "newsmap_lemmas": index_text}
