"""Two models on the same labelled records, paired: `python -m train.evaluate --against OTHER`.

Two fits that differ in little disagree on some paragraphs each way (churn): a net difference is
worth something only when it is well beyond that. So per scope, beside both macro-F1s, the
paragraphs only one model gets right and a two-sided sign test on them (scipy's `binomtest`).

    table = comparison_table(records, results, right, other_results, other_right, "models:/x@champion")
"""

from __future__ import annotations

import numpy as np

from train.data import Record
from train.scores import ScopeResult, dev_not_held_out, evaluate_records, scope_members
from vnzh_runtime.errors import UserError


def paired_counts(first: np.ndarray, other: np.ndarray) -> tuple[int, int, float]:
    """(right only by `other`, right only by `first`, two-sided sign-test p-value).

    >>> paired_counts(np.array([True, True, False, False]), np.array([True, False, True, True]))
    (2, 1, 1.0)
    """
    from scipy.stats import binomtest

    gained, lost = int((other & ~first).sum()), int((first & ~other).sum())
    return gained, lost, float(binomtest(gained, gained + lost).pvalue) if gained + lost else 1.0


def right_answers(records: list[Record], probs: np.ndarray, labels: list[str]) -> np.ndarray:
    return np.asarray(labels)[probs.argmax(axis=1)] == np.array([r.label for r in records])


def check_same_labels(model: list[str], other: list[str], other_name: str) -> None:
    """Two models are compared on the same labels; in another order is the same labels."""
    if sorted(model) != sorted(other):
        raise UserError(f"--against {other_name}: its labels ({', '.join(other)}) are not the model's "
                        f"({', '.join(model)}); compare models trained on the same labels")


def comparison_table(records: list[Record], results: dict[str, ScopeResult], right: np.ndarray,
                     other_results: dict[str, ScopeResult], other_right: np.ndarray, other_name: str) -> str:
    """Per scope: size, both macro-F1s, paragraphs right only by each, and the sign test's p."""
    lines = [f"against {other_name} (the same records, paired):",
             f"{'scope':<10} {'n':>5} {'macro_f1':>9} {'against':>8} {'only this':>10} {'only that':>10} {'p':>6}"]
    for name, members in scope_members(records).items():
        only_other, only_this, p = paired_counts(right[members], other_right[members])
        lines.append(f"{name:<10} {len(members):>5} {results[name].macro_f1:>9.3f} {other_results[name].macro_f1:>8.3f} "
                     f"{only_this:>10} {only_other:>10} {p:>6.2f}")
    return "\n".join(lines)


def load_against(name: str):
    import vnzh_runtime

    try:
        return vnzh_runtime.load(name)
    except UserError as err:  # which of the two models it is
        raise UserError(f"--against: {err}") from None


def against_table(records: list[Record], results: dict, probs: np.ndarray, labels: list[str], other, other_name: str) -> str:
    """The paired comparison with `--against`'s model, scored on the same records as `serve tag` tags them."""
    other_results, other_probs = evaluate_records(other, records)
    table = comparison_table(records, results, right_answers(records, probs, labels), other_results,
                             right_answers(records, other_probs, other.labels), other_name)
    if dev_not_held_out(other, records):
        table += (f"\nnote: {other_name} was fitted on its corpus's train + dev (refit_on_dev): on dev records of that "
                  "corpus its figures are not held out")
    return table
