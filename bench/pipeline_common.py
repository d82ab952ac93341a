"""What bench/pipeline.py and bench/corpus.py share: the corpus reader, the two geoparsers
they compare (newsmap and the gazetteer-only floor), and the report writer.

The floor lives here, once, so that the throughput benchmark and the accuracy benchmark
measure exactly the same baseline.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ("geowebnews", "tr-news", "lgl")
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # newsmap is not installed into the venv: the scripts run from the repo

from common import OUT, write_result  # noqa: E402,F401 (bench/common.py, beside this file; OUT for corpus.py)

from newsmap.article import article_from_text  # noqa: E402
from newsmap.geoparser import geoparse_article  # noqa: E402
from newsmap.geoparser.gazetteer import Gazetteer  # noqa: E402

Toponym = dict[str, Any]  # the scorer's shape {"start", "end", "lat", "lon"}, + "text", "precision" for analysis

_FLOOR_WORD = re.compile(r"\w+(?:['’-]\w+)*")
FLOOR_MAX_TOKENS = 4


def load_corpus(directory: Path, name: str) -> list[dict[str, Any]]:
    """The articles of `<directory>/<name>.dev.jsonl`, read in place (never copied)."""
    path = directory / f"{name}.dev.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


PLACE_NAME_ROLES = ("toponym", "adjective", "organisation")


def newsmap_toponyms(doc: dict[str, Any], gazetteer: Gazetteer) -> list[Toponym]:
    """newsmap's place-name mentions of one article, placed, as the pipeline builds them.

    Roles "toponym", "adjective" ("Russian") and "organisation" (the place in "Paris City
    Council"), which the corpora mark as places too; facility and route phrases ("air base in
    Kant") are newsmap's own additions, while the gold marks place names; the town inside such a
    phrase is a toponym mention of its own and is kept.
    """
    article = article_from_text(str(doc["id"]), doc["text"], title=str(doc.get("title") or ""))
    locations, mentions = geoparse_article(article, gazetteer, None)
    places = {row["id"]: row for row in locations}
    return [
        {
            "start": m["start"],
            "end": m["end"],
            "lat": places[m["place_id"]]["lat"],
            "lon": places[m["place_id"]]["lon"],
            "text": m["text"],
            "precision": places[m["place_id"]]["precision"],
        }
        for m in mentions
        if m["role"] in PLACE_NAME_ROLES
    ]


def floor_toponyms(text: str, gazetteer: Gazetteer) -> list[Toponym]:
    """The corpus README's gazetteer-only floor, kept deliberately naive.

    Runs of capitalised words (one space apart, at most four) are looked up longest first in
    the gazetteer (open it without the curated file: GeoNames cities500 + countries), and the
    candidate with the largest population wins. No word lists, no context: it shows what the
    gazetteer alone gives, so newsmap's figures can be read as a gain over it.
    """
    words = list(_FLOOR_WORD.finditer(text))
    found: list[Toponym] = []
    i = 0
    while i < len(words):
        taken = 0
        for n in range(min(FLOOR_MAX_TOKENS, len(words) - i), 0, -1):
            span = words[i : i + n]
            if not all(w.group()[0].isupper() for w in span):
                continue
            if any(text[a.end() : b.start()] != " " for a, b in itertools.pairwise(span)):
                continue
            candidates = gazetteer.lookup(text[span[0].start() : span[-1].end()])
            if candidates:
                best = max(candidates, key=lambda p: p.population)
                start, end = span[0].start(), span[-1].end()
                found.append({"start": start, "end": end, "lat": best.lat, "lon": best.lon, "text": text[start:end]})
                taken = n
                break
        i += taken or 1
    return found


def ratio(value: float, baseline: float) -> float | None:
    """value / baseline, rounded; None when the baseline is zero (no ratio to report)."""
    return round(value / baseline, 3) if baseline else None


def provenance() -> str:
    """Which code was measured: others change newsmap/ while benchmarks run, so say it in the report."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "newsmap", "data", "seeds")
    return f"Measured on {commit}" + (" with uncommitted changes in newsmap/, data/ or seeds/." if dirty else ".")


def write_report(
    name: str,
    title: str,
    columns: list[str],
    rows: list[list[Any]],
    notes: list[str],
    targets: list[dict[str, Any]],
) -> Path:
    """bench/out/<name>.json in the shape the report generator reads, with the commit measured."""
    return write_result(name, title, columns, rows, [*notes, provenance()], targets)


def corpus_folder(argv: list[str]) -> Path:
    """The corpus folder given on the command line (default ../shared/corpus), checked to be one."""
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    missing = [f"{name}.dev.jsonl" for name in CORPORA if not (corpus / f"{name}.dev.jsonl").exists()]
    if missing or not (corpus / "score.py").exists():
        raise SystemExit(f"{corpus}: not the corpus folder (missing {', '.join(missing) or 'score.py'})")
    return corpus


def score(corpus: Path, name: str, predictions: Path, types: str = "") -> dict[str, Any]:
    """The corpus's score.py, run as its authors run it; its one JSON line is the result."""
    gold = corpus / f"{name}.dev.jsonl"
    done = subprocess.run(
        [sys.executable, str(corpus / "score.py"), str(gold), str(predictions), *(["--types", types] if types else [])],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)
