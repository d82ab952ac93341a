"""What each recognition rule is worth: the cross-validated scores without it -> bench/out/ablation.json.

For each rule of `newsmap.geoparser.rules.RULES`, the dev slices are recognised again without
that rule and resolved fold by fold, each fold with the weights fitted without it (the per-fold
weights `bench/eval.py` wrote to bench/out/eval-weights.json, so run `make eval` first; with
`--refit`, fitted again for every rule, which takes about as long as `make eval` per rule). The
held-out predictions are scored as score.py scores them (exact spans, e2e acc@161; every mention
the geoparser writes), and the table gives, per slice, F1 and end-to-end acc@161 with every rule,
and how much each falls without the rule.

The README's rule: a rule stays if it raises cross-validated F1 or end-to-end accuracy by at least
`KEEP` on one slice, or a test of a class of the geoparser's promise needs it; otherwise it goes.
The verdict column applies the first half; the second is the tests' to say.

Usage: python bench/ablation.py [CORPUS_DIR] [--refit]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tools"))

from common import OUT  # noqa: E402
from fit_weights import CORPORA, FOLDS, fit, fold_of, load_slices, predict, prepare, score  # noqa: E402
from pipeline_common import corpus_folder, write_report  # noqa: E402

from newsmap.geoparser.gazetteer import Gazetteer  # noqa: E402
from newsmap.geoparser.rules import RULES  # noqa: E402
from newsmap.geoparser.weights import Weights  # noqa: E402

KEEP = 0.002  # the least a rule must add to one slice's F1 or e2e acc@161


def cross_validated(
    docs: list, gazetteer: Gazetteer, fold_weights: list[Weights] | None
) -> dict[str, dict[str, float]]:
    """Per slice, the held-out scores: each fold resolved with its weights (given, or fitted here on the other folds)."""
    held_out: dict[str, list] = {}
    for fold in range(FOLDS):
        test = [doc for doc in docs if fold_of(doc.id) == fold]
        if fold_weights is None:
            weights = fit([doc for doc in docs if fold_of(doc.id) != fold], gazetteer)
        else:
            weights = fold_weights[fold]
        held_out.update(predict(test, gazetteer, weights))
    return {name: score([d for d in docs if d.corpus == name], held_out) for name in CORPORA}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=None)
    parser.add_argument("--refit", action="store_true", help="fit the weights again without each rule")
    parser.add_argument("--rules", default="", help="only these rules (names, comma-separated)")
    args = parser.parse_args()
    corpus = corpus_folder([sys.argv[0], *([args.corpus] if args.corpus else [])])
    fold_weights = None
    if not args.refit:
        saved = OUT / "eval-weights.json"
        if not saved.exists():
            raise SystemExit(f"{saved} is missing: run `make eval` first (or pass --refit)")
        fold_weights = [Weights.from_dict(fold["weights"]) for fold in json.loads(saved.read_text(encoding="utf-8"))]
    gazetteer = Gazetteer.open()
    slices = load_slices(corpus)
    everything = cross_validated(prepare(slices, gazetteer), gazetteer, fold_weights)
    print(
        "every rule:",
        " ".join(f"{everything[n][m]:.4f}" for n in CORPORA for m in ("F1", "e2e_acc161")),
        file=sys.stderr,
    )
    columns = ["rule", *(f"{name} {m}" for name in CORPORA for m in ("ΔF1", "Δe2e")), "verdict"]
    rows: list[list[Any]] = [
        ["(every rule: the scores)", *(everything[n][m] for n in CORPORA for m in ("F1", "e2e_acc161")), ""]
    ]
    for rule in RULES:
        if args.rules and rule.__name__ not in args.rules.split(","):
            continue
        without = cross_validated(
            prepare(slices, gazetteer, [r for r in RULES if r is not rule]), gazetteer, fold_weights
        )
        gains = [everything[n][m] - without[n][m] for n in CORPORA for m in ("F1", "e2e_acc161")]
        verdict = "keep" if max(gains) >= KEEP else f"under {KEEP} everywhere"
        rows.append([rule.__name__, *(round(g, 4) for g in gains), verdict])
        print(rule.__name__, " ".join(f"{g:+.4f}" for g in gains), verdict, file=sys.stderr)
    notes = [
        "Δ = the cross-validated score with every rule less the score without this rule (positive: the rule helps), "
        "on the dev slices (not the held-out 70%), every mention the geoparser writes, exact spans, e2e acc@161.",
        "Weights per fold: "
        + (
            "fitted again without each rule."
            if args.refit
            else "those make eval fitted with every rule (bench/out/eval-weights.json)."
        ),
        f"Verdict: 'keep' when the rule adds at least {KEEP} to F1 or e2e on one slice; a rule under that may still "
        "stay when a test of one of the geoparser's classes needs it (README, 'Benchmarks and accuracy').",
    ]
    write_report("ablation-refit" if args.refit else "ablation", "What each recognition rule is worth (cross-validated, dev slices)", columns, rows,
                 notes, [])  # fmt: skip
    for row in rows:
        print(" | ".join(f"{v:+.4f}" if isinstance(v, float) and i else str(v) for i, v in enumerate(row)))


if __name__ == "__main__":
    main()
