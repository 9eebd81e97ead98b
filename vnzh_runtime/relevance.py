"""The article-context gate, shared by every model type: is this paragraph Vietnam–China coverage,
given what the paragraph says, what its article's head says and what the next paragraph says?

Any model gives label scores for a paragraph read alone, for its article's head read as one
paragraph, and for the paragraph that follows it in the article. Their relevance (1 - p(other))
is combined in the logit domain with weights fitted on dev at training:

    logit r = w0 + w1 * logit r_paragraph + w2 * logit r_head + w3 * logit r_next

(`logit r_next` is 0 for an article's last paragraph), and the topic scores are rescaled to the
new r (their ratios are the paragraph's own):

    >>> gate = [0.0, 1.0, 1.0]
    >>> alone = np.array([[0.3, 0.2, 0.5]])                  # economy, border_sea, other
    >>> head = np.array([[0.8, 0.1, 0.1]])
    >>> apply_gate(alone, head, gate, ["economy", "border_sea", "other"]).round(3)
    array([[0.54, 0.36, 0.1 ]])

A paragraph that says enough alone (a gold-price teaser beside a Vietnam–China story, a
follow-up that names the China–Laos railway) keeps its own reading: w1 is learned against
w2, so a neighbouring story is not swept into its page's topic. The next paragraph is what
tells a subhead ("Giữ nhịp giao thương", 推动技术转移与人才培养) from a sidebar teaser under the
same head: a subhead is followed by the body text of its section, a teaser by more teasers.
A gate of three weights (no next-paragraph term) is read as w3 = 0.
"""

from __future__ import annotations

import numpy as np

from vnzh_runtime.activations import sigmoid

EPSILON = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def gate_features(alone: np.ndarray, head: np.ndarray, labels: list[str], following: np.ndarray | None = None) -> np.ndarray:
    """(n, 2), or (n, 3) with `following`: logit relevance of each paragraph, of its article's head,
    and of the next paragraph (`following`: its label scores, a row of NaN where there is none)."""
    other = labels.index("other")
    columns = [logit(1 - alone[:, other]), logit(1 - head[:, other])]
    if following is not None:
        columns.append(np.nan_to_num(logit(1 - following[:, other]), nan=0.0))
    return np.stack(columns, axis=1)


def apply_gate(alone: np.ndarray, head: np.ndarray, gate: list[float], labels: list[str],
               following: np.ndarray | None = None) -> np.ndarray:
    other = labels.index("other")
    if len(gate) > 3 and following is None:
        following = np.full_like(alone, np.nan)
    features = gate_features(alone, head, labels, following if len(gate) > 3 else None)
    z = features @ np.asarray(gate[1:]) + gate[0]
    relevance = sigmoid(z)
    topic_mass = np.clip(1.0 - alone[:, other], EPSILON, None)
    out = alone * (relevance / topic_mass)[:, None]
    out[:, other] = 1.0 - relevance
    return out
