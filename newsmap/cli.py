"""The `newsmap` command: build, validate, serve (gunicorn), run (development server).

Also mounted as `flask --app app build-data|validate-data`. Errors end a command with exit
status 1 and one line on stderr that says what is wrong. Only click and the settings are
imported here at the top: `newsmap serve` must not load the geoparser.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, NoReturn

import click

from newsmap import __version__
from newsmap.settings import Settings


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as error:
        _fail(str(error))


_SEEDS = click.option(
    "--seeds", "seeds_dir", type=click.Path(path_type=Path), default=None,
    help="Folder of <slug>.txt articles (default: $NEWSMAP_SEEDS_DIR or ./seeds).",
)  # fmt: skip
_DATA = click.option(
    "--data", "data_dir", type=click.Path(path_type=Path), default=None,
    help="Folder of locations.csv and mentions.csv (default: $NEWSMAP_DATA_DIR or ./data).",
)  # fmt: skip


_DB = click.option(
    "--db", "db_path", type=click.Path(path_type=Path), default=None,
    help="The SQLite database (default: $NEWSMAP_DB or ./data/newsmap.db).",
)  # fmt: skip


@click.command("build")
@_SEEDS
@_DATA
@_DB
@click.option("--force", is_flag=True, help="Geoparse every seed again, even unchanged ones.")
@click.option("--geocoder", default=None, help="offline (default, or $NEWSMAP_GEOCODER), or nominatim.")
@click.option(
    "--gazetteer", "curated", type=click.Path(path_type=Path), default=None,
    help="Curated gazetteer CSV (default: $NEWSMAP_GAZETTEER or the one shipped with newsmap).",
)  # fmt: skip
def build_command(
    seeds_dir: Path | None,
    data_dir: Path | None,
    db_path: Path | None,
    force: bool,
    geocoder: str | None,
    curated: Path | None,
) -> None:
    """Import the seed articles into the database (geoparsing what changed); export locations.csv and mentions.csv."""
    from newsmap.article import ArticleError
    from newsmap.geoparser.gazetteer import GazetteerError
    from newsmap.library.pipeline import BuildError, build

    settings = _settings()
    if db_path is None and data_dir is not None:
        # --data D stands for NEWSMAP_DATA_DIR=D, as the settings read it: the database is $NEWSMAP_DB
        # when that is set (the file the server will read), else newsmap.db in D.
        db_path = Settings.from_env({**os.environ, "NEWSMAP_DATA_DIR": str(data_dir)}).db
    try:
        summary = build(
            seeds_dir or settings.seeds_dir,
            data_dir or settings.data_dir,
            db_path=db_path or settings.db,
            force=force,
            geocoder_name=geocoder or settings.geocoder,
            curated_path=curated or settings.gazetteer,
            nominatim_url=settings.nominatim_url,
            echo=click.echo,
        )
    except (ArticleError, BuildError, GazetteerError) as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{error.filename or 'output'}: cannot write ({error.strerror})")
    for line in summary.skipped:  # the others were built and written; the exit status says not all were
        click.echo(f"error: {line}", err=True)
    if summary.skipped:
        sys.exit(1)


@click.command("validate")
@_DATA
@_SEEDS
def validate_command(data_dir: Path | None, seeds_dir: Path | None) -> None:
    """Check the dataset against its schema; list every problem with its row number."""
    from newsmap.article import ArticleError, find_articles, read_text
    from newsmap.dataset import Dataset, DatasetError, check

    settings = _settings()
    db = Settings.from_env({**os.environ, "NEWSMAP_DATA_DIR": str(data_dir)}).db if data_dir else settings.db
    data_dir = data_dir or settings.data_dir
    seeds_dir = seeds_dir or settings.seeds_dir
    try:
        articles = _library_texts(db) or {path.stem: read_text(path) for path in find_articles(seeds_dir)}
        locations, mentions, problems = check(data_dir, articles)
    except (ArticleError, DatasetError) as error:
        _fail(str(error))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        _fail(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {data_dir}")
    dataset = Dataset.from_rows(locations, mentions)
    click.echo(f"{data_dir}: valid, {len(dataset.locations)} places, {len(dataset.mentions)} mentions")
    click.echo(dataset.summary())


def _library_texts(db: Path) -> dict[str, str]:
    """{slug: text} of every article in the library the exports were written from (seeds and added
    ones alike); {} when there is no database yet (the seeds are then what the exports quote)."""
    from newsmap.store import Store, StoreError

    try:
        store = Store.open(db, create=False)
    except StoreError:
        return {}
    try:
        return {info.slug: store.article(info.slug).text for info in store.infos()}  # type: ignore[union-attr]
    finally:
        store.close()


def _server_options(command: Callable[..., None]) -> Callable[..., None]:
    """--db, --host and --port, shared by `serve` and `run` (the server reads only the database)."""
    command = click.option("--port", type=int, default=None, help="Port (default: $PORT or 5000).")(command)
    command = click.option("--host", default=None, help="Address to listen on (default: $HOST or 127.0.0.1).")(command)
    return _DB(command)


def _server_settings(db_path: Path | None) -> Settings:
    """--db reaches the app (and gunicorn's workers) as the setting it stands for."""
    if db_path:
        os.environ["NEWSMAP_DB"] = str(db_path)
    return _settings()


@click.command("serve")
@_server_options
def serve_command(db_path: Path | None, host: str | None, port: int | None) -> None:
    """Serve the map in production: gunicorn with gevent workers, as `make serve`."""
    from newsmap.serve.server import gunicorn_argv

    settings = _server_settings(db_path)
    argv = gunicorn_argv(host or settings.host, port or settings.port)
    os.execv(argv[0], argv)


@click.command("run")
@_server_options
def run_command(db_path: Path | None, host: str | None, port: int | None) -> None:
    """Serve the map with Flask's development server (one process, for working on newsmap)."""
    from newsmap.wsgi import create_app

    settings = _server_settings(db_path)
    create_app().run(host=host or settings.host, port=port or settings.port)


class LazyGroup(click.Group):
    """A group whose heavier subcommands are imported only when run or listed for help.

    `newsmap serve` and the app's `flask` commands must not load the geoparser or Dask, which
    `geoparse` needs, so it is named here and imported on use (click's documented lazy pattern).
    """

    LAZY: ClassVar[dict[str, str]] = {
        "geoparse": "newsmap.library.batch:geoparse_command",
        "corrections": "newsmap.cli_corrections:corrections_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, _, attribute = self.LAZY[name].partition(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup)
@click.version_option(version=__version__, prog_name="newsmap")
def main() -> None:
    """newsmap: news articles to a map of the places they name."""


@click.command("add")
@click.argument("sources", nargs=-1, required=True)
@_DB
@click.option("--title", default="", help="Title (one article only; default: the file's or page's own).")
@click.option("--publisher", default="", help="Publisher (one article only).")
@click.option("--published", default="", help="Date published, YYYY-MM-DD, YYYY-MM or YYYY (one article only).")
@click.option("--url", default="", help="Address of the original (one article only; a fetched page's own by default).")
@click.option("--language", default="", help="ISO 639-1 code, e.g. ru (every article given; default: detected from the text).")
@click.option("--by", "added_by", default="", help="Who adds it (shown in the article's record).")
def add_command(
    sources: tuple[str, ...], db_path: Path | None, title: str, publisher: str, published: str, url: str,
    language: str, added_by: str,
) -> None:
    """Add articles to the library: files (.txt, .md, .html) or web addresses (http/https).

    Places are found in English and Russian texts; an article in another language is stored without places."""
    from newsmap.adding import GeoparseError, Limits, add_article
    from newsmap.article import ArticleError
    from newsmap.dates import DateError, check_published
    from newsmap.geoparse_pool import GeoparsePool
    from newsmap.ingest import IngestError, fetch_url, from_upload
    from newsmap.language import checked as checked_language
    from newsmap.language import notice
    from newsmap.store import Store, StoreError

    settings = _settings()
    if len(sources) > 1 and (title or publisher or published or url):
        _fail("--title, --publisher, --published and --url name one article: give one FILE or URL with them")
    try:
        check_published(published)
    except DateError as error:
        _fail(f"--published: {error}")
    try:
        language = checked_language(language)
    except ValueError as error:
        _fail(f"--language: {error}")
    limit = int(settings.max_article_kb * 1000)
    try:
        store = Store.open(db_path or settings.db)
    except StoreError as error:
        _fail(str(error))
    failed = 0
    limits = Limits.from_settings(settings)
    geoparse = GeoparsePool(timeout=settings.geoparse_timeout)  # the same budget as the web's
    with click.progressbar(sources, label="Adding", file=sys.stderr, show_pos=True,
                           hidden=len(sources) < 2, item_show_func=lambda s: s) as bar:  # fmt: skip
        for source in bar:
            try:
                if source.startswith(("http://", "https://")):
                    draft = fetch_url(source, timeout=settings.url_timeout, max_bytes=limit * 4,
                                      allow_private=settings.allow_private_urls)  # fmt: skip
                else:
                    path = Path(source)
                    draft = from_upload(path.name, path.read_bytes(), max_bytes=limit * 4)
                added = add_article(
                    store, geoparse, draft.text, limits=limits, title=title or draft.title,
                    publisher=publisher or draft.publisher, published=published or draft.published,
                    url=url or draft.url, language=language or draft.language, added_by=added_by, source="cli",
                )  # fmt: skip
            except (IngestError, ArticleError, GeoparseError) as error:
                failed += 1
                click.echo(f"\nerror: {source}: {error}", err=True)
                continue
            except OSError as error:
                failed += 1
                click.echo(f"\nerror: {source}: cannot read ({error.strerror})", err=True)
                continue
            verb = "is already in the library as" if added.duplicate else "added as"
            click.echo(f"{source}: {verb} /articles/{added.slug} ({len(added.places)} places)")
            if notice(added.language):
                click.echo(f"note: {source}: {notice(added.language)}", err=True)
    geoparse.close()
    store.close()
    if failed:
        sys.exit(1)


@click.command("remove")
@click.argument("slugs", nargs=-1, required=True)
@_DB
def remove_command(slugs: tuple[str, ...], db_path: Path | None) -> None:
    """Remove articles (and their places) from the library by slug."""
    from newsmap.store import Store, StoreError

    try:
        store = Store.open(db_path or _settings().db, create=False)
    except StoreError as error:
        _fail(str(error))
    missing = [slug for slug in slugs if not store.delete_article(slug)]
    for slug in slugs:
        if slug not in missing:
            click.echo(f"removed {slug}")
    store.close()
    if missing:
        _fail(f"no article {', '.join(repr(s) for s in missing)} in the library")


@click.command("export")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--article", "slugs", multiple=True, help="Only this article (repeat for several; default: all).")
@click.option("--base-url", default="", help="Where the export will be published (https://...), for canonical links and the feed.")
@click.option("--tiles", default=None, help="Tile URL template, or `offline` (default: $NEWSMAP_TILES).")
@_DB
def export_command(out: Path, slugs: tuple[str, ...], base_url: str, tiles: str | None, db_path: Path | None) -> None:
    """Write the library as a static site into OUT: pages, downloads, scripts; no server needed."""
    import time

    from newsmap.serve import create_app, vendor_files
    from newsmap.serve.export import ExportError, export_site
    from newsmap.settings import bundled

    settings = _settings()
    if base_url and not base_url.startswith(("https://", "http://")):
        _fail("--base-url must start with https:// or http://")
    started = time.monotonic()
    app = create_app({"DB": str(db_path or settings.db)})
    try:
        done = export_site(
            Path(app.config["DB"]), out, app.jinja_env, bundled("static"), vendor_files(), slugs=list(slugs) or None,
            base_url=base_url, tiles=tiles or settings.tiles, tiles_attribution=settings.tiles_attribution,
            progress=click.echo,
        )  # fmt: skip
    except ExportError as error:
        _fail(str(error))
    for url in sorted(set(done.unmapped)):
        click.echo(f"warning: a page links to {url}, which only a server answers: the link leads nowhere", err=True)
    seconds = time.monotonic() - started
    articles = f"{done.articles} article{'s' if done.articles != 1 else ''}"
    click.echo(f"exported {articles}: {done.files} files, {done.bytes / 1e6:.1f} MB -> {out} in {seconds:.1f} s")


def _register() -> None:
    from newsmap.cli_accounts import token_group, user_group

    commands = (build_command, validate_command, add_command, remove_command, serve_command, run_command, export_command)
    for command in (*commands, user_group, token_group):
        main.add_command(command)


_register()
