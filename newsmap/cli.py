"""Command line: `python -m newsmap build|validate`, also mounted as `flask --app app build-data`.

Errors end the command with exit status 1 and one line on stderr that says what is wrong.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from newsmap.gazetteer import PROJECT_DIR


def seeds_dir_default() -> Path:
    return Path(os.environ.get("NEWSMAP_SEEDS_DIR") or PROJECT_DIR / "seeds")


def data_dir_default() -> Path:
    return Path(os.environ.get("NEWSMAP_DATA_DIR") or PROJECT_DIR / "data")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("build")
@click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of <slug>.txt articles (default: $NEWSMAP_SEEDS_DIR or seeds/).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: $NEWSMAP_DATA_DIR or data/).",
)
@click.option(
    "--geocoder",
    default=lambda: os.environ.get("NEWSMAP_GEOCODER", "offline"),
    show_default="offline",
    help="offline, or nominatim (falls back to offline on failure).",
)
@click.option(
    "--gazetteer",
    "curated",
    type=click.Path(path_type=Path),
    default=None,
    help="Curated gazetteer CSV (default: data/gazetteer.csv).",
)
def build_command(seeds_dir: Path | None, data_dir: Path | None, geocoder: str, curated: Path | None) -> None:
    """Geoparse every seed article into locations.csv and mentions.csv."""
    from newsmap.article import ArticleError
    from newsmap.gazetteer import DEFAULT_CURATED, GazetteerError
    from newsmap.pipeline import BuildError, build

    try:
        build(
            seeds_dir or seeds_dir_default(),
            data_dir or data_dir_default(),
            geocoder_name=geocoder,
            curated_path=curated or DEFAULT_CURATED,
            nominatim_url=os.environ.get("NEWSMAP_NOMINATIM_URL"),
            echo=click.echo,
        )
    except (ArticleError, BuildError, GazetteerError) as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{error.filename or 'output'}: cannot write ({error.strerror})")


@click.command("validate")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder holding locations.csv and mentions.csv.",
)
@click.option(
    "--seeds", "seeds_dir", type=click.Path(path_type=Path), default=None, help="Articles the quotes must come from."
)
def validate_command(data_dir: Path | None, seeds_dir: Path | None) -> None:
    """Check the dataset against its schema; list every problem with its row number."""
    from newsmap.article import ArticleError, find_articles, read_text
    from newsmap.dataset import Dataset, DatasetError, check

    data_dir = data_dir or data_dir_default()
    seeds_dir = seeds_dir or seeds_dir_default()
    try:
        articles = {path.stem: read_text(path) for path in find_articles(seeds_dir)}
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


@click.group()
def main() -> None:
    """newsmap: news articles to a map of the places they name."""


main.add_command(build_command)
main.add_command(validate_command)
