"""The article-context gate, shared by every model type: is this paragraph Vietnam–China coverage,
given what the paragraph says and what its article's head says?

Any model gives label scores for a paragraph read alone and for its article's head read as
one paragraph. Their relevance (1 - p(other)) is combined in the logit domain with three
weights fitted on dev at training:

    logit r = w0 + w1 * logit r_paragraph + w2 * logit r_head

and the topic scores are rescaled to the new r (their ratios are the paragraph's own):

    >>> gate = [0.0, 1.0, 1.0]
    >>> alone = np.array([[0.3, 0.2, 0.5]])                  # economy, border_sea, other
    >>> head = np.array([[0.8, 0.1, 0.1]])
    >>> apply_gate(alone, head, gate, ["economy", "border_sea", "other"]).round(3)
    array([[0.54, 0.36, 0.1 ]])

A paragraph that says enough alone (a gold-price teaser beside a Vietnam–China story, a
follow-up that names the China–Laos railway) keeps its own reading: w1 is learned against
w2, so a neighbouring story is not swept into its page's topic.
"""

from __future__ import annotations

import numpy as np

from vnzh_runtime.activations import sigmoid

EPSILON = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def gate_features(alone: np.ndarray, head: np.ndarray, labels: list[str]) -> np.ndarray:
    """(n, 2): logit relevance of each paragraph, and of its article's head."""
    other = labels.index("other")
    return np.stack([logit(1 - alone[:, other]), logit(1 - head[:, other])], axis=1)


def apply_gate(alone: np.ndarray, head: np.ndarray, gate: list[float], labels: list[str]) -> np.ndarray:
    other = labels.index("other")
    z = gate_features(alone, head, labels) @ np.asarray(gate[1:]) + gate[0]
    relevance = sigmoid(z)
    topic_mass = np.clip(1.0 - alone[:, other], EPSILON, None)
    out = alone * (relevance / topic_mass)[:, None]
    out[:, other] = 1.0 - relevance
    return out
