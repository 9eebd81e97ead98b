"""Naive Bayes feature scaling for a binary logistic-regression head (NBSVM: Wang & Manning, 2012,
"Baselines and Bigrams"), folded back into plain weights.

Each feature column j gets the log-count ratio of the documents it occurs in,

    r_j = log( (a + n_j+) / |a + n+| ) - log( (a + n_j-) / |a + n-| )

(n_j+ : positive documents holding feature j, |.| the sum over all features, a = 1 smoothing),
and the head is fitted on x * s with s_j = |r_j| ** power, scaled to a mean of 1. An n-gram that
occurs alike in Vietnam–China coverage and in look-alike stories ("hợp tác", 合作, "cooperation")
gets a small s and so a large L2 penalty; one that tells them apart gets room to weigh more.
Since (x * s) · w = x · (s * w), the fitted head is the ordinary linear head with weights s * w:
the model format and the runtime do not change.

    >>> x = csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]))
    >>> np.round(log_count_ratio(x, np.array([True, False])), 3)
    array([ 0.   ,  0.693, -0.693])

`keep` columns (the named-country features, whose values are set by the model, not counted)
keep s = 1. bench/RESULTS.md has the measured choice of `power`.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix  # noqa: F401  (the docstring's example)
from scipy.sparse import diags

SMOOTHING = 1.0


def log_count_ratio(x, positive: np.ndarray) -> np.ndarray:
    """r_j over the documents (rows of `x`) holding feature j, positive rows against the others."""
    present = (x > 0).astype(np.float64)
    p = SMOOTHING + np.asarray(present[positive].sum(axis=0)).ravel()
    q = SMOOTHING + np.asarray(present[~positive].sum(axis=0)).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def column_scale(x, positive: np.ndarray, power: float, keep: int = 0) -> np.ndarray:
    """s = |r| ** power with a mean of 1 over the counted columns; the last `keep` columns 1."""
    scale = np.abs(log_count_ratio(x, positive)) ** power
    counted = scale[:len(scale) - keep] if keep else scale
    scale = scale / max(float(counted.mean()), 1e-12)
    if keep:
        scale[-keep:] = 1.0
    return scale


def fit_scaled(fit, x, positive: np.ndarray, power: float, keep: int = 0):
    """(coef, intercept) of `fit(x * s)`, the coef folded to the unscaled columns (coef * s)."""
    scale = column_scale(x, positive, power, keep)
    coef, intercept = fit(x @ diags(scale))
    return coef * scale, intercept
