"""Fit the resolver's weights to the corpus dev slices, and the k-fold cross-validation that judges them.

    python tools/fit_weights.py [CORPUS_DIR] [--write]     (default ../shared/corpus)

fits the weights on every article of the three dev slices (GeoWebNews, TR-News, LGL) and prints
them; `--write` stores them in newsmap/geoparser/weights.json, the file the geoparser reads. The
same functions serve `bench/eval.py` (`make eval`), which fits on k - 1 folds and scores the fold
left out, so that the figures it reports were never seen by the fit, and `bench/ablation.py`.

The method is coordinate ascent, from the hand-set weights of before any fit (`weights_start.json`,
beside this script; never from the fitted ones, which have seen every fold): for each weight in turn, try
a few values around the current one (steps of its own scale: a score bonus by 0.5 to 2 points, a
vote by a quarter, a distance or a population by factors), keep the best if it raises the
objective by more than `MIN_GAIN`, and pass over the weights again until a pass changes nothing
(at most `PASSES` passes). The objective is the mean, over the three slices, of recognition F1
and end-to-end acc@161 (both as the corpus's score.py defines them: exact character spans;
gold toponyms with coordinates found and placed within 161 km), over every mention the geoparser
writes. Recognition runs once per article (it reads no weight); each trial resolves every
training article again (about 0.1 s for all 257).

A trial that breaks one of `PROMISES` (made-up sentences the README promises and the tests pin:
"Kant" beside Bishkek is the Kyrgyz town, "Geneva" beside "Vienna" is Switzerland's) is refused,
whatever it would gain on the dev slices.

Held fixed, and why (`FIXED`): the weights that define a class of the geoparser's promise, which
the dev slices hardly test and tests/test_facilities.py pins: `facility_reach_km` (what counts as
"near" a phrase's place), `facility_nearby_bonus` and `facility_named_bonus` (the town with the
airfield named after it, not a larger namesake 100 km off), `city_over_its_region` and
`city_over_region_population` (a town of 10,000 or more that gives its name to a region is the
town: "Naryn" is the town of 41,000, not Naryn Region, unless the text says "region").

The corpus files are read in place, never copied (see ../shared/corpus/README.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("newsmap") is None:
    sys.path.insert(0, str(ROOT))  # the tools run from the checkout (bench/eval.py may have chosen another)

from newsmap.article import article_from_text  # noqa: E402
from newsmap.geoparser.gazetteer import Gazetteer  # noqa: E402
from newsmap.geoparser.mentions import Recognition  # noqa: E402
from newsmap.geoparser.parse import INVISIBLE, visible_text  # noqa: E402
from newsmap.geoparser.recognition import Recognizer  # noqa: E402
from newsmap.geoparser.resolution import Resolver  # noqa: E402
from newsmap.geoparser.weights import WEIGHTS, WEIGHTS_FILE, Weights  # noqa: E402

CORPORA = ("geowebnews", "tr-news", "lgl")
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
FOLDS = 5
PASSES = 3
# A change must raise the objective by more than this: a tenth of a point, a few mentions of the ~2,600
# gold toponyms. Smaller steps chase single articles: with 1e-4 the cross-validated scores were lower.
MIN_GAIN = 1e-3
FIXED = (
    "facility_reach_km",
    "facility_nearby_bonus",
    "facility_named_bonus",
    "city_over_its_region",
    "city_over_region_population",
)
R_EARTH = 6371.0088  # km, as score.py

START_FILE = Path(__file__).resolve().with_name("weights_start.json")

Span = tuple[int, int, float, float, str]  # start, end, lat, lon, role


@dataclass
class Doc:
    """One article of a slice: its gold toponyms, and what recognition made of it (weights play no part)."""

    corpus: str
    id: str
    gold: dict[tuple[int, int], tuple[float | None, float | None]]
    recognition: Recognition
    origins: list[int] | None  # offsets of the visible text in the original, when it had invisible characters


def load_slices(corpus: Path) -> dict[str, list[dict[str, Any]]]:
    """The articles of each dev slice, read in place."""
    slices = {}
    for name in CORPORA:
        with (corpus / f"{name}.dev.jsonl").open(encoding="utf-8") as handle:
            slices[name] = [json.loads(line) for line in handle if line.strip()]
    return slices


def fold_of(doc_id: str, folds: int = FOLDS) -> int:
    """The fold an article belongs to: by a hash of its id, so that folds are fixed and independent of order."""
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest(), 16) % folds


def prepare(
    slices: dict[str, list[dict[str, Any]]], gazetteer: Gazetteer, rules: Sequence[Any] | None = None
) -> list[Doc]:
    """Recognise every article once (as `geoparse_article` does: invisible characters set aside)."""
    recognizer = Recognizer(gazetteer) if rules is None else Recognizer(gazetteer, rules=tuple(rules))
    docs = []
    for name, articles in slices.items():
        for raw in articles:
            text, origins = raw["text"], None
            if INVISIBLE.search(text):
                text, origins = visible_text(text)
            recognition = recognizer.recognize(article_from_text(str(raw["id"]), text))
            gold = {(t["start"], t["end"]): (t.get("lat"), t.get("lon")) for t in raw["toponyms"]}
            docs.append(Doc(name, str(raw["id"]), gold, recognition, origins))
    return docs


def predict(docs: Iterable[Doc], gazetteer: Gazetteer, weights: Weights) -> dict[str, list[Span]]:
    """Every mention the geoparser writes for each article, with its place's point, under `weights`."""
    resolver = Resolver(gazetteer, weights=weights)
    out: dict[str, list[Span]] = {}
    for doc in docs:
        spans = []
        for decision in resolver.resolve(doc.recognition):
            start, end = decision.mention.start, decision.mention.end
            if doc.origins is not None:
                start, end = doc.origins[start], doc.origins[end - 1] + 1
            place = decision.place
            spans.append((start, end, round(place.lat, 5), round(place.lon, 5), decision.mention.role))
        out[doc.id] = spans
    return out


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH * math.asin(min(1.0, math.sqrt(a)))


def score(docs: Iterable[Doc], predicted: dict[str, list[Span]]) -> dict[str, float]:
    """P, R, F1 (exact spans) and e2e acc@161, as score.py defines them, for the fitting loop.

    `bench/eval.py` reports score.py's own figures; this copy of its definitions only spares the
    fit a process per trial (eval.py checks that both agree).
    """
    tp = fp = fn = placed = with_coords = 0
    for doc in docs:
        spans = {(s, e): (lat, lon) for s, e, lat, lon, _ in predicted.get(doc.id, [])}
        hit = doc.gold.keys() & spans.keys()
        tp, fp, fn = tp + len(hit), fp + len(spans) - len(hit), fn + len(doc.gold) - len(hit)
        for span, (lat, lon) in doc.gold.items():
            if lat is None or lon is None:
                continue
            with_coords += 1
            if span in spans and _haversine(lat, lon, *spans[span]) < 161:
                placed += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"P": precision, "R": recall, "F1": f1, "e2e_acc161": placed / with_coords if with_coords else 0.0}


def objective(docs: Sequence[Doc], predicted: dict[str, list[Span]]) -> float:
    """The mean over the slices present of (F1 + e2e acc@161) / 2."""
    values = []
    for name in CORPORA:
        mine = [doc for doc in docs if doc.corpus == name]
        if mine:
            s = score(mine, predicted)
            values.append((s["F1"] + s["e2e_acc161"]) / 2)
    return sum(values) / len(values) if values else 0.0


def _steps(name: str, value: Any) -> list[Any]:
    """The values tried around `value` for the weight `name` (see the module's docstring)."""
    if name.startswith("vote_"):
        return [value + d for d in (-0.5, -0.25, 0.25, 0.5) if value + d >= 0]
    if name.startswith("accept_") and name.endswith("_context"):
        return [round(value + d, 4) for d in (-0.25, -0.125, 0.125, 0.25) if 0 <= value + d <= 1]
    if isinstance(value, int) and not isinstance(value, bool):  # a population
        return [int(value * f) for f in (0.25, 0.5, 2, 4)]
    if name.endswith("_km"):
        return [value * f for f in (0.5, 0.75, 1.5, 2)]
    if name == "region_evidence_floor":
        return [value * f for f in (0.5, 2, 4)]
    return sorted({max(0.0, value + d) for d in (-2, -1, -0.5, 0.5, 1, 2)} - {value})


def start_weights() -> Weights:
    """Where every fit starts: the weights as they were set by hand before any fit, never the fitted
    ones, which have seen every fold: the measured checkout's tools/weights_start.json, or, in a
    checkout from before the fit (bench/eval.py's NEWSMAP_EVAL_CODE), its own weights.json."""
    import newsmap

    start = Path(newsmap.__file__).resolve().parent.parent / "tools" / START_FILE.name
    return Weights.from_file(start if start.exists() else WEIGHTS_FILE)


def fitted_names(weights: Weights = WEIGHTS) -> list[str]:
    """The weights the fit moves: every number but those held `FIXED`."""
    return [f.name for f in dataclasses.fields(weights) if f.name not in FIXED]


# What the README promises of disambiguation, and the tests pin (tests/test_geoparse.py, test_batch.py):
# made-up sentences, each with a name and the country it must be placed in. A fit may not trade one of
# them for the dev slices' score ("Geneva" beside "Vienna" is not the Geneva in New York).
PROMISES = (
    ("Troops arrived in Kant, east of Bishkek, in Kyrgyzstan.", "Kant", "KG"),
    ("The air base in Kant will be closed next year.", "Kant", "KG"),
    ("Protests were reported in Osh on Monday.", "Osh", "KG"),
    ("Officials from France and Kyrgyzstan met in Osh.", "Osh", "KG"),
    ("Moscow said the talks went well.", "Moscow", "RU"),
    ("The fair opened in Moscow, Idaho, on Friday.", "Moscow", "US"),
    ("The Paris City Council met on Monday. Delegates came from Orleans.", "Orleans", "FR"),
    ("A 36-year-old Palestine man was arrested at an Anderson County residence. He lives in Palestine.",
     "Palestine", "US"),
    ("The talks moved from Geneva to Vienna, where the delegates met again in March.", "Geneva", "CH"),
    ("The talks moved from Geneva to Vienna, where the delegates met again in March.", "Vienna", "AT"),
    ("Flooding hit Lyon on Monday. Officials in Paris said the river would peak on Friday.", "Paris", "FR"),
    ("Reporters in Nairobi said crowds in Kraków and Moscow had gathered too.", "Moscow", "RU"),
)  # fmt: skip


class Promises:
    """The promises recognised once; `kept(weights)`: which of them the weights keep (by index)."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        recognizer = Recognizer(gazetteer)
        self.recognitions = [recognizer.recognize(article_from_text("promise", text + "\n")) for text, _, _ in PROMISES]

    def kept(self, weights: Weights) -> frozenset[int]:
        resolver = Resolver(self.gazetteer, weights=weights)
        held = set()
        for index, (recognition, (_, name, country)) in enumerate(zip(self.recognitions, PROMISES, strict=True)):
            places = [r.place.country for r in resolver.resolve(recognition) if r.mention.text == name]
            if places and all(c == country for c in places):
                held.add(index)
        return frozenset(held)


def fit(
    docs: Sequence[Doc],
    gazetteer: Gazetteer,
    start: Weights | None = None,
    passes: int = PASSES,
    log: Callable[[str], None] | None = None,
) -> Weights:
    """Coordinate ascent on `objective` over `docs`, from `start` (see the module's docstring), keeping
    every promise the starting weights keep."""
    best = start if start is not None else start_weights()
    promises = Promises(gazetteer)
    kept = promises.kept(best)
    best_value = objective(docs, predict(docs, gazetteer, best))
    for number in range(passes):
        changed = False
        for name in fitted_names(best):
            current = getattr(best, name)
            for value in _steps(name, current):
                trial = dataclasses.replace(best, **{name: value})
                trial_value = objective(docs, predict(docs, gazetteer, trial))
                if trial_value > best_value + MIN_GAIN and kept <= promises.kept(trial):
                    best, best_value, changed = trial, trial_value, True
            if log and getattr(best, name) != current:
                log(f"pass {number + 1}: {name} {current} -> {getattr(best, name)} (objective {best_value:.4f})")
        if not changed:
            break
    return best


def weights_json(weights: Weights) -> str:
    """weights.json's text: the fields in their order, floats written as they are."""
    values = dataclasses.asdict(weights)
    return json.dumps(values, indent=2) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--write", action="store_true", help=f"store the fitted weights in {WEIGHTS_FILE}")
    parser.add_argument("--passes", type=int, default=PASSES)
    args = parser.parse_args(argv)
    gazetteer = Gazetteer.open()
    docs = prepare(load_slices(args.corpus), gazetteer)
    before = objective(docs, predict(docs, gazetteer, start_weights()))
    weights = fit(docs, gazetteer, None, args.passes, log=lambda line: print(line, file=sys.stderr))
    after = objective(docs, predict(docs, gazetteer, weights))
    print(f"objective on all {len(docs)} dev articles (in sample): {before:.4f} -> {after:.4f}", file=sys.stderr)
    if args.write:
        WEIGHTS_FILE.write_text(weights_json(weights), encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}", file=sys.stderr)
    else:
        print(weights_json(weights), end="")


if __name__ == "__main__":
    main()
