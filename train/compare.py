"""Two models on the same labelled records, paired: `python -m train.evaluate --against OTHER`.

Two fits that differ in little disagree on some paragraphs each way (churn): a net difference is
worth something only when it is well beyond that. So per scope, beside both macro-F1s, the
paragraphs only one model gets right and a two-sided sign test on them (scipy's `binomtest`).

    table = comparison_table(records, results, right, other_results, other_right, "models:/x@champion")
"""

from __future__ import annotations

import numpy as np

from train.data import Record
from train.evaluate import ScopeResult, scope_members
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
