"""`newsmap geoparse IN.jsonl`: the places of many articles at once, one JSON line per article.

Input: JSON Lines, one article a line, `{"id": ..., "text": ...}` ("id" text or an integer; an
optional "language", an ISO 639-1 code, overrides the detector; other fields are ignored; blank
lines are skipped). The whole file is read and checked before anything
is geoparsed: a line that is not such an object ends the command with exit status 1 and one line
`error: IN.jsonl:LINE: what is wrong`, and nothing is written.

Output (stdout, or --out, written whole at the end): one line per article, in input order,
`{"id", "language", "toponyms": [{"start", "end", "text", "name", "lat", "lon", "precision", "role"}]}`
(an article in a language the geoparser does not read: no toponyms and a "notice" saying so): one
toponym per mention row of the pipeline (sorted by offset; `text == article[start:end]`, `name`,
`lat`, `lon` and `precision` are its place's, `role` the mention's). The offline gazetteer only,
never Nominatim. An article over the limits (NEWSMAP_MAX_ARTICLE_KB, NEWSMAP_MAX_PLACES,
NEWSMAP_MAX_MENTIONS) keeps its line with no toponyms and an "error", is named on stderr, and
the exit status is 1 once every line is written.

Where it runs: in this process (the default), on a local Dask cluster of --workers processes, or
on the Dask cluster at --scheduler (its workers must import this newsmap and read the same
gazetteer files). Every way runs `geoparse_partition` on the same partitions, and each process
opens the gazetteer once, so the output is the same whichever way it runs. A missing GeoNames
index is built by the first process that needs it while the others wait (a lock in the cache folder).

Only click and the standard library are imported at the top: `newsmap` registers this command
without loading the geoparser or Dask.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from newsmap.settings import Settings

PARTITION_ARTICLES = 25  # articles per partition: a task is ~0.1 s, well above Dask's overhead per task
PARTITIONS_PER_WORKER = 4  # at least, so a slow partition does not leave the other workers idle
CONNECT_TIMEOUT = "10s"  # to reach a --scheduler

Record = tuple[Any, str, str]  # (id, text, language: "" to detect)
Limits3 = tuple[int, int, int]  # article bytes, places, mentions: plain values, cheap to send to workers


class InputError(ValueError):
    """A line of the input that is not an article; the message names its line."""


def read_articles(data: bytes, name: str) -> list[Record]:
    """The (id, text) of every line of a JSON Lines input; InputError for the first bad line."""
    records: list[Record] = []
    # Split on "\n" only: U+2028 and friends may stand unescaped inside a JSON string.
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"{name}:{number}"
        try:
            doc = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{where}: not UTF-8 text") from None
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(doc, dict):
            raise InputError(f'{where}: a line must be a JSON object with an "id" and a "text"')
        if "id" not in doc or "text" not in doc:
            missing = " and ".join(f'"{key}"' for key in ("id", "text") if key not in doc)
            raise InputError(f"{where}: the object has no {missing}")
        records.append(_record(doc, where))
    return records


def _record(doc: dict[str, Any], where: str) -> Record:
    """One line's (id, text, language), checked; its `language` ("" when absent: detected) overrides the detector."""
    from newsmap.language import checked

    doc_id, text, language = doc["id"], doc["text"], doc.get("language", "")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        raise InputError(f'{where}: "id" must be text or an integer, not {_kind(doc_id)}')
    if not isinstance(text, str):
        raise InputError(f'{where}: "text" must be text, not {_kind(text)}')
    if not isinstance(language, str):
        raise InputError(f'{where}: "language" must be text, not {_kind(language)}')
    try:
        return doc_id, text, checked(language)
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", bool: "true/false", str: "text"}.get(type(value), "a number")


def geoparse_partition(
    records: Iterable[Record], curated: str, cache_dir: str, limits: Limits3
) -> list[dict[str, Any]]:
    """The output object of each article, in order: what every way of running calls, per partition.

    The gazetteer is opened once per process (`open_gazetteer` is cached), never per partition.
    """
    from newsmap.adding import Limits
    from newsmap.article import ArticleError, article_from_text
    from newsmap.geoparser import geoparse_within_limits
    from newsmap.language import SUPPORTED, decide, notice

    gazetteer = _gazetteer(curated, cache_dir)
    allowed = Limits(*limits)
    results: list[dict[str, Any]] = []
    for doc_id, text, given in records:
        language = decide(text, given)
        if language not in SUPPORTED:  # never misread as English or Russian: no toponyms, and why
            results.append({"id": doc_id, "language": language, "toponyms": [], "notice": notice(language)})
            continue
        try:
            if len(text.encode("utf-8")) > allowed.article_bytes:
                raise ArticleError(
                    f"{doc_id}: the text is more than the {allowed.article_bytes // 1000} KB allowed "
                    "(NEWSMAP_MAX_ARTICLE_KB)"
                )
            article = article_from_text(str(doc_id), text, language=language)
            locations, mentions = geoparse_within_limits(article, gazetteer, None, allowed)
        except ArticleError as error:
            results.append({"id": doc_id, "language": language, "toponyms": [], "error": str(error)})
            continue
        results.append({"id": doc_id, "language": language, "toponyms": _toponyms(locations, mentions)})
    return results


def _toponyms(locations: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One toponym per mention row, by offset, with its place's name, point and precision."""
    places = {row["id"]: row for row in locations}
    toponyms = []
    for mention in sorted(mentions, key=lambda row: (row["start"], row["end"])):
        place = places[mention["place_id"]]
        toponyms.append({
            "start": mention["start"],
            "end": mention["end"],
            "text": mention["text"],
            "name": place["name"],
            "lat": place["lat"],
            "lon": place["lon"],
            "precision": place["precision"],
            "role": mention["role"],
        })  # fmt: skip
    return toponyms


@functools.cache
def _gazetteer(curated: str, cache_dir: str) -> Any:
    """`open_gazetteer`, under an exclusive lock on the cache folder: when the GeoNames index is
    missing, the first process builds it and the others wait for it instead of each building it."""
    from newsmap.geoparser import open_gazetteer

    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "index.lock").open("a") as lock:  # closing it releases the lock
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        return open_gazetteer(Path(curated), folder)


def partition_count(articles: int, workers: int) -> int:
    """Partitions of about PARTITION_ARTICLES articles, and at least PARTITIONS_PER_WORKER per worker."""
    return max(1, min(articles, max(PARTITIONS_PER_WORKER * workers, math.ceil(articles / PARTITION_ARTICLES))))


def partitions(records: list[Record], count: int) -> list[list[Record]]:
    """`records` cut as dask.bag.from_sequence(records, npartitions=count) cuts them."""
    size = max(1, math.ceil(len(records) / count))
    return [records[start : start + size] for start in range(0, len(records), size)]


def run_local(records: list[Record], args: tuple[str, str, Limits3], done: Callable[[int], None]) -> Iterator[dict]:
    """In this process, partition by partition."""
    for part in partitions(records, partition_count(len(records), 1)):
        results = geoparse_partition(part, *args)
        done(len(results))
        yield from results


def run_dask(
    records: list[Record], args: tuple[str, str, Limits3], done: Callable[[int], None], client: Any
) -> Iterator[dict]:
    """On the cluster behind `client`, one task per partition; results come back in input order."""
    import dask.bag
    from distributed import as_completed

    workers = max(1, sum(client.nthreads().values()))
    bag = dask.bag.from_sequence(records, npartitions=partition_count(len(records), workers))
    futures = client.compute(bag.map_partitions(geoparse_partition, *args).to_delayed())
    position = {future.key: index for index, future in enumerate(futures)}
    finished: dict[int, list[dict]] = {}
    following = 0
    for future, results in as_completed(futures, loop=client.loop, with_results=True):
        finished[position[future.key]] = results
        done(len(results))
        while following in finished:
            yield from finished.pop(following)
            following += 1


def local_cluster(workers: int, directory: str) -> Any:
    """A Dask cluster of `workers` processes on this machine, one thread each, with no network:
    it listens on the loopback address only, has no dashboard, and keeps its files in `directory`.

    Worker processes are spawned, so a script that calls this must guard its work with
    `if __name__ == "__main__"`, as the `newsmap` script does (multiprocessing never re-runs a
    package's `__main__`, so `python -m newsmap` is safe too)."""
    import dask
    from distributed import LocalCluster

    config = {
        "temporary-directory": directory,  # the scheduler's scratch folder too
        "distributed.worker.profile.enabled": False,  # no sampling of the tasks' stacks every 10 ms
    }
    with dask.config.set(config):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its health and metrics pages: loopback, any port
            local_directory=directory,
            silence_logs=logging.CRITICAL,  # a task that fails raises here, in the client: one line, not a log
        )


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("geoparse")
@click.argument("source", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON Lines here (default: stdout).")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes: more than 1 runs a local Dask cluster of that many.")  # fmt: skip
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run on an existing Dask cluster, e.g. tcp://127.0.0.1:8786.")  # fmt: skip
def geoparse_command(source: str, out: Path | None, workers: int, scheduler: str | None) -> None:
    """Find and place the toponyms of every article in a JSON Lines file ({"id", "text"} a line)."""
    if scheduler and workers != 1:
        raise click.UsageError("--workers starts a local cluster; --scheduler uses another: give one of them")
    try:
        settings = Settings.from_env()
    except ValueError as error:
        _fail(str(error))
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        records = read_articles(data, "stdin" if source == "-" else source)
    except InputError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{source}: cannot read ({error.strerror})")
    args = (
        str(settings.gazetteer),
        str(settings.cache_dir),
        (int(settings.max_article_kb * 1000), settings.max_places, settings.max_mentions),
    )
    lines: list[bytes] = []
    failed: list[str] = []
    try:
        with click.progressbar(length=len(records), label="Geoparsing", file=sys.stderr, show_pos=True,
                               hidden=not records) as bar:  # fmt: skip
            for result in _results(records, args, bar.update, workers, scheduler):
                if "error" in result:
                    failed.append(result["error"])
                line = json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n"
                if out is None:
                    _write_stdout(line)
                else:
                    lines.append(line)
    except ValueError as error:  # a bad curated gazetteer, raised where the gazetteer is opened
        from newsmap.geoparser.gazetteer import GazetteerError

        if not isinstance(error, GazetteerError):
            raise
        _fail(str(error))
    if out is not None:
        from newsmap.atomic import atomic_write_bytes

        try:
            atomic_write_bytes(out, b"".join(lines))
        except OSError as error:
            _fail(f"{out}: cannot write ({error.strerror})")
    for message in failed:
        click.echo(f"error: {message}", err=True)
    if failed:
        _fail(f'{len(failed)} of {len(records)} articles not geoparsed (their lines have an "error")')


def _write_stdout(line: bytes) -> None:
    try:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped (`| head`): stop too, without a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def _results(
    records: list[Record],
    args: tuple[str, str, Limits3],
    done: Callable[[int], None],
    workers: int,
    scheduler: str | None,
) -> Iterator[dict]:
    if not records:
        return
    if scheduler is None and workers == 1:
        yield from run_local(records, args, done)
        return
    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, ValueError) as error:
            _fail(f"cannot reach the Dask scheduler at {scheduler} ({error})")
        with client:
            yield from run_dask(records, args, done, client)
        return
    with (
        tempfile.TemporaryDirectory(prefix="newsmap-dask-") as directory,
        local_cluster(workers, directory) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield from run_dask(records, args, done, client)
