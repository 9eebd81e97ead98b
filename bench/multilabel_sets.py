"""Label-set F1 of the multi-label model against a plain one-vs-rest baseline, on the test split and seeds.

    python bench/multilabel_sets.py --model models/tfidf-multilabel

The baseline reads the same independent per-label probabilities with one threshold, 0.5,
and nothing else (argmax when no label reaches it; `other` alone when it is among them).
The model adds the dominant label from its relevance x topic heads and per-label
thresholds chosen on dev.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vnzh_runtime  # noqa: E402
from train.data import by_split, load_records  # noqa: E402
from train.scores import scope_members  # noqa: E402
from train.multilabel import set_scores  # noqa: E402


def ovr_sets(independent: np.ndarray, labels: list[str]) -> list[list[str]]:
    sets = []
    for row in independent:
        chosen = [labels[i] for i in np.argsort(-row) if row[i] >= 0.5] or [labels[int(row.argmax())]]
        sets.append(["other"] if "other" in chosen else chosen)
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/tfidf-multilabel")
    args = parser.parse_args()
    predictor = vnzh_runtime.load(args.model)
    records = by_split(load_records(["data/seeds.jsonl", "data/authored/*.jsonl"]), predictor.labels)["test"]
    texts, docs = [r.text for r in records], [r.doc_id for r in records]
    model_sets = [r["labels"] for r in predictor.predict(texts, doc_ids=docs)]
    baseline_sets = ovr_sets(predictor.predict_both(texts, doc_ids=docs)[1], predictor.labels)
    print(f"{'scope':<8} {'n':>5} {'model micro':>12} {'OvR micro':>10} {'model samples':>14} {'OvR samples':>12}")
    for name, members in scope_members(records).items():
        truth = [records[i].labels for i in members]
        ours = set_scores(name, truth, [model_sets[i] for i in members], predictor.labels)
        ovr = set_scores(name, truth, [baseline_sets[i] for i in members], predictor.labels)
        print(f"{name:<8} {len(members):>5} {ours[f'{name}_sets_micro_f1']:>12.3f} {ovr[f'{name}_sets_micro_f1']:>10.3f}"
              f" {ours[f'{name}_sets_samples_f1']:>14.3f} {ovr[f'{name}_sets_samples_f1']:>12.3f}")


if __name__ == "__main__":
    main()
