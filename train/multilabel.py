"""Multi-label tagging at training time: per-label thresholds chosen on dev, and label-set metrics
(micro, macro and samples F1, exact match, and how often a paragraph of two or more topics gets
them all: `mixed_all_found`).

    >>> thresholds = choose_label_thresholds(predictor, dev_records)    # {"economy": 0.35, ...}
    >>> metrics, report = label_set_metrics(predictor, dev_records + test_records)
    >>> metrics["test_sets_micro_f1"]

The rule for thresholds: a paragraph's label set is its dominant label plus every other
topic whose independent probability reaches that topic's threshold (`other` stays alone).
Each topic's threshold is the value on a 0.05 grid that maximises that topic's F1 over the
dev label sets; ties go to the higher threshold (fewer secondary labels).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from train.data import Record
from train.scores import articles_within_splits, scope_members

GRID = np.round(np.arange(0.05, 1.0, 0.05), 2)


def choose_label_thresholds(predictor, records: list[Record]) -> dict[str, float]:
    dominant, independent = predictor.predict_both([r.text for r in records], doc_ids=articles_within_splits(records))
    labels = predictor.labels
    top = dominant.argmax(axis=1)
    relevant = top != labels.index("other")
    thresholds = {}
    for column, label in enumerate(labels):
        if label == "other":
            continue
        truth = np.array([label in r.labels for r in records])
        scores = [(f1_score(truth, (top == column) | (relevant & (independent[:, column] >= t)), zero_division=0), t)
                  for t in GRID]
        thresholds[label] = float(max(scores)[1])
    return thresholds


def set_scores(name: str, truth: list[tuple], predicted: list[list[str]], labels: list[str]) -> dict[str, float]:
    binarizer = MultiLabelBinarizer(classes=labels)
    y_true, y_pred = binarizer.fit_transform(truth), binarizer.transform(predicted)
    # Macro over the labels in this scope's gold or predicted sets, as the single-label table averages.
    present = [i for i in range(len(labels)) if y_true[:, i].any() or y_pred[:, i].any()]
    metrics = {f"{name}_sets_{average}_f1": float(f1_score(y_true, y_pred, average=average, zero_division=0,
                                                           labels=present if average == "macro" else None))
               for average in ("micro", "macro", "samples")}
    metrics[f"{name}_sets_exact_match"] = float(np.mean([set(t) == set(p) for t, p in zip(truth, predicted)]))
    mixed = [set(t) <= set(p) for t, p in zip(truth, predicted) if len(t) > 1]
    if mixed:  # how often a paragraph of two topics gets both: rare in the data, so the F1s above hide it
        metrics[f"{name}_mixed_all_found"] = float(np.mean(mixed))
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    for i, label in ((i, labels[i]) for i in present):  # an absent label has no F1, not a zero
        metrics.update({f"per_label/{name}_{label}_set_precision": float(p[i]),
                        f"per_label/{name}_{label}_set_recall": float(r[i]), f"per_label/{name}_{label}_set_f1": float(f[i])})
    return metrics


def predicted_sets(predictor, records: list[Record]) -> list[list[str]]:
    """Each record's predicted label set, its article (within its split, as the dominant label's) read with it,
    as `serve tag` tags it."""
    texts = [r.text for r in records]
    return [result["labels"] for result in predictor.predict(texts, doc_ids=articles_within_splits(records))]


def label_set_metrics(predictor, records: list[Record], header: bool = True,
                      predicted: list[list[str]] | None = None) -> tuple[dict[str, float], str]:
    """Micro, macro and samples F1 of the label sets, and per-label precision/recall/F1, per scope
    (`header=False`: the table's rows only, to follow another part's table; `predicted`: the sets, where
    the caller has them)."""
    predicted = predicted_sets(predictor, records) if predicted is None else predicted
    metrics: dict[str, float] = {}
    lines = [f"{'label sets':<10} {'n':>5} {'micro_f1':>9} {'macro_f1':>9} {'samples':>9} {'exact':>7} "
             f"{'mixed':>6} {'all found':>9}"] if header else []
    for name, members in scope_members(records).items():
        scores = set_scores(name, [records[i].labels for i in members], [predicted[i] for i in members], predictor.labels)
        metrics.update(scores)
        mixed = sum(len(records[i].labels) > 1 for i in members)
        found = f"{scores[f'{name}_mixed_all_found']:>9.3f}" if mixed else f"{'-':>9}"
        lines.append(f"{name:<10} {len(members):>5} {scores[f'{name}_sets_micro_f1']:>9.3f} "
                     f"{scores[f'{name}_sets_macro_f1']:>9.3f} {scores[f'{name}_sets_samples_f1']:>9.3f} "
                     f"{scores[f'{name}_sets_exact_match']:>7.3f} {mixed:>6} {found}")
    return metrics, "\n".join(lines)
