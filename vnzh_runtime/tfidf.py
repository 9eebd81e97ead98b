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
        grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return grams


class Featurizer:
    """Texts -> a CSR matrix (indptr, indices, data) of l2-normalised sublinear tf-idf."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray, ngram_range=(1, 2), sublinear_tf: bool = True):
        self.vocabulary = list(vocabulary)
        self.index = {gram: i for i, gram in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = sublinear_tf

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        index = self.index
        for gram in ngrams(text, *self.ngram_range):
            column = index.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        tf = np.array([counts[c] for c in columns], dtype=np.float64)
        values = (np.log(tf) + 1.0 if self.sublinear_tf else tf) * self.idf[columns]
        norm = np.sqrt(values @ values)
        return columns, values / norm if norm else values

    def transform(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return to_csr([self.row(text) for text in texts])


def to_csr(rows: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(columns) for columns, _ in rows])
    if not rows:
        return indptr, np.zeros(0, np.int64), np.zeros(0)
    return indptr, np.concatenate([c for c, _ in rows]), np.concatenate([v for _, v in rows])


def sparse_dot(csr: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """(n, features) CSR @ (features, k) dense, in numpy alone."""
    indptr, indices, data = csr
    n = len(indptr) - 1
    rows = np.repeat(np.arange(n), np.diff(indptr))
    contributions = weights[indices] * data[:, None]
    return np.stack([np.bincount(rows, contributions[:, k], minlength=n) for k in range(weights.shape[1])], axis=1)


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

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        x = self.featurizer.transform(texts)
        w = self.weights
        if "joint_coef" in w:  # one softmax over all labels, columns already in label order
            return softmax(sparse_dot(x, w["joint_coef"].T) + w["joint_intercept"])
        relevance = 1.0 / (1.0 + np.exp(-(sparse_dot(x, w["relevance_coef"].T)[:, 0] + w["relevance_intercept"][0])))
        topic = softmax(sparse_dot(x, w["topic_coef"].T) + w["topic_intercept"])
        return combine(relevance, topic, self.labels, self.topics)

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
