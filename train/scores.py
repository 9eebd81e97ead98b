"""Scores with scikit-learn metrics, per split, per language and for the real seed paragraphs.

    >>> results, probs = evaluate_records(predictor, records)   # records of dev + test
    >>> results["test_vi"].macro_f1
    0.87
    >>> results["test_vi"].metrics()["test_vi_macro_f1"]
    0.87

Scopes are `dev`, `test`, `dev_vi`, `test_zh`, ..., and `seed` (test paragraphs of the
real seed articles). Metric names are stable so runs line up in MLflow's compare view: the
headline figures (`test_macro_f1`, `test_vi_macro_f1`, `seed_macro_f1`, accuracies) come
first, per-label F1 under `per_label/` and scope sizes under `size/`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from train.data import Record
from vnzh_runtime.langid import LANGS


@dataclass
class ScopeResult:
    name: str
    size: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    confusion: np.ndarray  # rows: true label, columns: predicted label, in label order
    labels: list[str]

    def metrics(self) -> dict[str, float]:
        values = {f"{self.name}_macro_f1": self.macro_f1, f"{self.name}_accuracy": self.accuracy,
                  f"size/{self.name}": self.size}
        # a label this scope neither holds nor predicts has no F1 (the table shows "-"), not a zero
        shown = [i for i, label in enumerate(self.labels) if self.confusion[i].sum() or self.confusion[:, i].sum()]
        values.update({f"per_label/{self.name}_{self.labels[i]}_f1": self.per_label[self.labels[i]]["f1"] for i in shown})
        return values


def score(name: str, y_true: list[str], y_pred: list[str], labels: list[str]) -> ScopeResult:
    # Macro-F1 over the labels that occur in this scope (true or predicted), so a
    # language with no `science_tech` paragraphs is not charged a zero for it.
    present = [label for label in labels if label in set(y_true) | set(y_pred)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_label = {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, label in enumerate(labels)}
    return ScopeResult(
        name=name, size=len(y_true), accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        per_label=per_label, confusion=confusion_matrix(y_true, y_pred, labels=labels), labels=labels)


def scope_members(records: list[Record]) -> dict[str, list[int]]:
    """Scope name -> indices into records."""
    scopes: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        for name in (record.split, f"{record.split}_{record.lang}"):
            scopes.setdefault(name, []).append(i)
        if record.is_seed:
            scopes.setdefault("seed", []).append(i)
    order = [s for split in ("train", "dev", "test") for s in (split, *(f"{split}_{lang}" for lang in LANGS))] + ["seed"]
    return {name: scopes[name] for name in order if name in scopes}


def evaluate_scopes(records: list[Record], probs: np.ndarray, labels: list[str]) -> dict[str, ScopeResult]:
    predicted = [labels[i] for i in probs.argmax(axis=1)]
    results = {}
    for name, members in scope_members(records).items():
        y_true = [records[i].label for i in members]
        y_pred = [predicted[i] for i in members]
        results[name] = score(name, y_true, y_pred, labels)
    return results


def articles_within_splits(records: list[Record]) -> list[str | None]:
    """Each record's article named within its split: every figure (the dominant label's, the label set's)
    reads a split's articles apart, as training scores each split apart."""
    return [None if r.doc_id is None else f"{r.split}\t{r.doc_id}" for r in records]


def evaluate_records(predictor, records: list[Record]) -> tuple[dict[str, ScopeResult], np.ndarray]:
    """Tag records as `serve tag` would (articles read with their context), then score every scope. An
    article is read within its split, as training scores each split apart: a dev paragraph is no part
    of a test paragraph's context."""
    probs = predictor.predict_proba([r.text for r in records], doc_ids=articles_within_splits(records))
    return evaluate_scopes(records, probs, predictor.labels), probs


def choose_threshold(probs: np.ndarray, y_true: list[str], labels: list[str], target_precision: float = 0.95,
                     configured: float | None = None) -> dict:
    """Lowest top-score threshold whose kept dev predictions reach `target_precision`, or the
    `configured` one (`predict.threshold`) with its dev precision and coverage.

    Paragraphs under it are reported `uncertain`; coverage says how many are kept.
    """
    top = probs.max(axis=1)
    correct = np.array([labels[i] == t for i, t in zip(probs.argmax(axis=1), y_true)])
    if configured is not None:
        kept = top >= configured
        return {"value": float(configured), "configured": True,
                "dev_precision": float(correct[kept].mean()) if kept.any() else None, "dev_coverage": float(kept.mean())}
    for threshold in np.round(np.arange(0.0, 1.0, 0.01), 2):
        kept = top >= threshold
        if kept.sum() and correct[kept].mean() >= target_precision:
            return {"value": float(threshold), "target_precision": target_precision,
                    "dev_precision": float(correct[kept].mean()), "dev_coverage": float(kept.mean())}
    return {"value": None, "target_precision": target_precision, "dev_precision": None, "dev_coverage": None}


def format_report(results: dict[str, ScopeResult], detailed=("test", "seed")) -> str:
    """The overall table, then per-label and confusion tables of the `detailed` scopes present."""
    lines = [f"{'scope':<10} {'n':>5} {'accuracy':>9} {'macro_f1':>9}"]
    lines += [f"{r.name:<10} {r.size:>5} {r.accuracy:>9.3f} {r.macro_f1:>9.3f}" for r in results.values()]
    for name in detailed:
        if name in results:
            lines += ["", format_per_label(results[name])]
    return "\n".join(lines)


def format_per_label(result: ScopeResult) -> str:
    labels = result.labels
    width = max(len(label) for label in labels)
    lines = [f"{result.name}: per label", f"{'label':<{width}} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}"]
    predicted = np.asarray(result.confusion).sum(axis=0)
    for label, times_predicted in zip(labels, predicted):
        v = result.per_label[label]
        if v["support"] == 0 and times_predicted == 0:  # absent from these data: no figure, as in macro-F1
            lines.append(f"{label:<{width}} {'-':>6} {'-':>6} {'-':>6} {0:>5}")
            continue
        lines.append(f"{label:<{width}} {v['precision']:>6.3f} {v['recall']:>6.3f} {v['f1']:>6.3f} {v['support']:>5}")
    short = [label[:6] for label in labels]
    lines += ["", f"{result.name}: confusion (rows true, columns predicted)",
              " " * (width + 1) + " ".join(f"{s:>6}" for s in short)]
    for label, row in zip(labels, result.confusion):
        lines.append(f"{label:<{width}} " + " ".join(f"{int(c):>6}" for c in row))
    return "\n".join(lines)


def dev_not_held_out(predictor, records: list[Record]) -> bool:
    """Whether the model was refitted on its corpus's dev split and the records hold dev records: the model
    keeps no list of its own, so a user's own dev sample may be held out all the same."""
    return "dev" in predictor.spec.get("fitted_on", []) and any(r.split == "dev" for r in records)
