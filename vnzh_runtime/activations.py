"""The two squashing functions every model type's scores go through, in one place.

    >>> softmax(np.array([[0.0, 0.0]])).tolist(), sigmoid(np.array([0.0])).tolist()
    ([[0.5, 0.5]], [0.5])
"""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise, shifted by each row's maximum so that no exp overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
