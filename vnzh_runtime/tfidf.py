"""The TF-IDF baseline at inference, from plain data: vocabulary, idf and weights, no pickle.

A paragraph becomes `sublinear tf x idf` over its syllable / Han-character n-grams,
l2-normalised. Two linear heads read it: `relevance` (is this Vietnam–China coverage at
all?) and `topic` (which of the topics, given that it is); the label scores are

    p(other) = 1 - r        p(topic) = r * q(topic)

so look-alike stories (China–Laos trade, Vietnam–Korea youth exchanges) only need the
relevance head to learn the country pair, from every topic's data at once.

    >>> model = load(Path("models/tfidf/model"), spec, options)
    >>> model.predict_proba(["Kim ngạch thương mại Việt - Trung tăng 20%"]).shape
    (1, 6)

The same `Featurizer` builds the training matrix (train/models/tfidf.py), so what is
evaluated is exactly what is served.
"""

from __future__ import annotations

import json
from itertools import repeat
from pathlib import Path

import numpy as np

from vnzh_runtime.errors import UserError
from vnzh_runtime.textnorm import normalize, tokenize

SETTINGS_FILE = "tfidf.json"
WEIGHTS_FILE = "weights.npz"


def ngrams(text: str, low: int, high: int) -> list[str]:
    """Normalised tokens joined into n-grams (as scikit-learn's word n-grams join them)."""
    tokens = tokenize(normalize(text, lowercase=True, collapse_digits=True))
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams += map(" ".join, zip(*(tokens[i:] for i in range(n))))  # C-level loops, no per-token bytecode
    return grams


class Featurizer:
    """Texts -> a CSR matrix (indptr, indices, data) of l2-normalised sublinear tf-idf.

    Per paragraph only C-implemented loops run (regex tokenising, `map` over the vocabulary);
    counts, tf, idf and the norms are computed for the whole batch at once in numpy.
    """

    def __init__(self, vocabulary: list[str], idf: np.ndarray, ngram_range=(1, 2), sublinear_tf: bool = True):
        self.vocabulary = list(vocabulary)
        self.index = dict(zip(self.vocabulary, range(len(self.vocabulary))))
        self.idf = np.asarray(idf, dtype=np.float64)
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = sublinear_tf

    def transform(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lookup, span = self.index.get, self.ngram_range
        found: list[int] = []  # every n-gram's column (-1: not in the vocabulary), the whole batch in a row
        lengths = []
        for text in texts:
            grams = ngrams(text, *span)
            found += map(lookup, grams, repeat(-1, len(grams)))
            lengths.append(len(grams))
        columns = np.array(found, dtype=np.int64)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        known = columns >= 0
        # One sort of (row, column) keys counts every n-gram of every paragraph at once.
        keys, tf = np.unique(rows[known] * len(self.vocabulary) + columns[known], return_counts=True)
        rows, indices = np.divmod(keys, len(self.vocabulary))
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        tf = tf.astype(np.float64)
        values = (np.log(tf) + 1.0 if self.sublinear_tf else tf) * self.idf[indices]
        norms = np.sqrt(np.bincount(rows, values * values, minlength=len(texts)))
        values /= np.where(norms > 0, norms, 1.0)[rows]
        return indptr, indices, values


def sparse_dot(csr: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """(n, features) CSR @ (features, k) dense (C-contiguous), in numpy alone."""
    indptr, indices, data = csr
    out = np.zeros((len(indptr) - 1, weights.shape[1]))
    filled = np.flatnonzero(np.diff(indptr))
    if len(filled):  # reduceat over the non-empty rows only: their starts strictly increase
        out[filled] = np.add.reduceat(weights[indices] * data[:, None], indptr[filled], axis=0)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def combine(relevance: np.ndarray, topic: np.ndarray, labels: list[str], topics: list[str]) -> np.ndarray:
    """Label scores in `labels` order from p(relevant) and p(topic | relevant)."""
    out = np.zeros((len(relevance), len(labels)))
    out[:, labels.index("other")] = 1.0 - relevance
    for column, name in enumerate(topics):
        out[:, labels.index(name)] = relevance * topic[:, column]
    return out


class TfidfModel:
    def __init__(self, labels: list[str], topics: list[str], featurizer: Featurizer, weights: dict[str, np.ndarray]):
        self.labels, self.topics = list(labels), list(topics)
        self.featurizer = featurizer
        self.weights = weights
        # Every head's weights side by side, features x outputs, so one gather scores them all.
        names = ["joint"] if "joint_coef" in weights else ["relevance", "topic"]
        names += ["ovr"] if "ovr_coef" in weights else []
        self.stacked = np.ascontiguousarray(np.concatenate([weights[f"{n}_coef"] for n in names]).T)
        self.intercepts = np.concatenate([weights[f"{n}_intercept"] for n in names])

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        return self.predict_both(texts, langs)[0]

    def predict_both(self, texts: list[str], langs: list[str] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(scores of the dominant label, summing to 1; independent p(label) of multi-label models, or None)."""
        z = sparse_dot(self.featurizer.transform(texts), self.stacked) + self.intercepts
        independent = None
        if "ovr_coef" in self.weights:
            z, independent = z[:, :-len(self.labels)], 1.0 / (1.0 + np.exp(-z[:, -len(self.labels):]))
        if "joint_coef" in self.weights:  # one softmax over all labels, columns already in label order
            return softmax(z), independent
        relevance = 1.0 / (1.0 + np.exp(-z[:, 0]))
        return combine(relevance, softmax(z[:, 1:]), self.labels, self.topics), independent

    def save(self, directory: Path) -> dict:
        """Write the plain-data files; returns the spec's `model` section."""
        directory.mkdir(parents=True, exist_ok=True)
        settings = {"ngram_range": list(self.featurizer.ngram_range), "sublinear_tf": self.featurizer.sublinear_tf,
                    "topics": self.topics, "vocabulary": self.featurizer.vocabulary}
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
        np.savez(directory / WEIGHTS_FILE, idf=self.featurizer.idf, **self.weights)
        return {"settings": SETTINGS_FILE, "weights": WEIGHTS_FILE}


def load(directory: Path, spec: dict, options: dict) -> TfidfModel:
    from vnzh_runtime.spec import read_json

    settings = read_json(directory / SETTINGS_FILE, "TF-IDF settings")
    try:
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            weights = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError) as err:
        raise UserError(f"{directory / WEIGHTS_FILE}: cannot read the weights ({err}); retrain or re-copy the model") from None
    try:
        featurizer = Featurizer(settings["vocabulary"], weights.pop("idf"), settings["ngram_range"], settings["sublinear_tf"])
        return TfidfModel(spec["labels"], settings["topics"], featurizer, weights)
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"{directory}: TF-IDF files lack or garble {err}; retrain or re-copy the model") from None
