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

from vnzh_runtime.activations import sigmoid, softmax
from vnzh_runtime.countries import FEATURES as COUNTRY_FEATURES, CountryNames, piece_shapes
from vnzh_runtime.errors import UserError
from vnzh_runtime.langid import kind_langs, token_kind
from vnzh_runtime.ngram_index import NgramIndex
from vnzh_runtime.piece_cache import PieceCache
from vnzh_runtime.textnorm import RAW_TOKEN, feature_tokens, join_batch

SETTINGS_FILE = "tfidf.json"
WEIGHTS_FILE = "weights.npz"


def ngrams(text: str, low: int, high: int) -> list[str]:
    """Normalised tokens joined into n-grams (as scikit-learn's word n-grams join them)."""
    tokens = feature_tokens(text)
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams += map(" ".join, zip(*(tokens[i:] for i in range(n))))  # C-level loops, no per-token bytecode
    return grams


_EXPAND = -(1 << 40)  # the code of a piece that normalises to no token or to several (rare: "½" -> "1⁄2")


class _Codes(PieceCache):
    """raw piece (`textnorm.RAW_TOKEN`) -> token id << 5 | name syllable << 4 | capitalised << 3
    | token kind of its normalised token.

    One dict hit per piece gives the features their ids, the country names the two shapes they
    check (`vnzh_runtime.countries`) and language id its kinds; each distinct
    piece is normalised once. A piece of zero or several tokens maps to _EXPAND and is expanded
    by `of`."""

    def __init__(self, index: NgramIndex):
        super().__init__(self.code)
        self.index = index

    def codes(self, raw: str) -> tuple[int, ...]:
        return tuple(self.index.token_id(token) << 5 | syllable << 4 | capital << 3 | token_kind(token)
                     for token, capital, syllable in piece_shapes(raw))

    def code(self, raw: str) -> int:
        codes = self.codes(raw)
        return codes[0] if len(codes) == 1 else _EXPAND

    def of(self, pieces: list[str]) -> np.ndarray:
        """The codes of every piece's tokens, in order."""
        codes = np.fromiter(map(self.__getitem__, pieces), dtype=np.int64, count=len(pieces))
        expand = np.flatnonzero(codes == _EXPAND)
        if not len(expand):
            return codes
        parts = [self.codes(pieces[i]) for i in expand.tolist()]  # rare: worked out again, never cached
        lengths = np.ones(len(codes), dtype=np.int64)
        lengths[expand] = [len(part) for part in parts]
        out = np.repeat(codes, lengths)
        starts = np.cumsum(lengths) - lengths
        for start, part in zip(starts[expand].tolist(), parts):
            out[start:start + len(part)] = part
        return out


class Featurizer:
    """Texts -> a CSR matrix (indptr, indices, data) of l2-normalised sublinear tf-idf, then the
    named-country features (`vnzh_runtime.countries`) in the last 7 columns when the model has them.

    A batch is cut into raw pieces by one regex pass over its joined texts; one dict hit per
    piece (`_Codes`) gives its normalised tokens' ids; n-grams are found as id arrays
    (`NgramIndex`) and counts, tf, idf and norms computed in numpy: no per-text or per-token
    Python work. Its columns are exactly those `ngrams` gives (tests/test_runtime.py).
    """

    def __init__(self, vocabulary: list[str], idf: np.ndarray, ngram_range=(1, 2), sublinear_tf: bool = True,
                 index: NgramIndex | None = None, countries: dict | None = None):
        self.vocabulary = list(vocabulary)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = sublinear_tf
        self.countries = CountryNames(**countries) if countries else None  # the keys of CountryNames.settings()
        extra_tokens = self.countries.tokens if self.countries else []
        self.index = index or NgramIndex.build(self.vocabulary, self.ngram_range, extra_tokens)
        if self.countries:
            self.countries.bind(self.index.tokens)
        self.width = len(self.vocabulary) + (len(COUNTRY_FEATURES) if self.countries else 0)
        self.codes = _Codes(self.index)

    def transform(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.transform_with_langs(texts)[0]

    def transform_with_langs(self, texts: list[str]) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], list[str]]:
        """(the CSR matrix, each text's language as `langid.detect_lang` gives it)."""
        csr, countries, langs = self.transform_parts(texts)
        if countries is not None:
            csr = append_columns(csr, countries, len(self.vocabulary))
        return csr, langs

    def transform_parts(self, texts: list[str]) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray | None, list[str]]:
        """(the n-gram CSR matrix, the (n, 7) country features or None, the languages): the matrix in two parts."""
        pieces = RAW_TOKEN.findall(join_batch(list(texts)))
        codes = self.codes.of(pieces)
        ids = codes >> 5
        rows, columns = self.index.lookup(ids)
        countries = self.countries.features(ids, (codes & 8) > 0, (codes & 16) > 0, len(texts)) if self.countries else None
        return self.tfidf(len(texts), rows, columns), countries, kind_langs(codes & 7)

    def tfidf(self, n_texts: int, rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        width = max(len(self.vocabulary), 1)
        # One sort of (row, column) keys counts every n-gram of every paragraph at once.
        keys, tf = np.unique(rows * width + columns, return_counts=True)
        rows, indices = np.divmod(keys, width)
        indptr = np.zeros(n_texts + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_texts), out=indptr[1:])
        tf = tf.astype(np.float64)
        values = (np.log(tf) + 1.0 if self.sublinear_tf else tf) * self.idf[indices]
        norms = np.sqrt(np.bincount(rows, values * values, minlength=n_texts))
        values /= np.where(norms > 0, norms, 1.0)[rows]
        return indptr, indices, values


def append_columns(csr: tuple[np.ndarray, np.ndarray, np.ndarray], dense: np.ndarray,
                   offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR matrix with `dense`'s non-zero entries as columns offset, offset + 1, ... after each row's own."""
    indptr, indices, data = csr
    rows, columns = np.nonzero(dense)  # row-major: each row's entries together, in column order
    own = np.diff(indptr)
    added = np.bincount(rows, minlength=len(own))
    out_indptr = np.zeros_like(indptr)
    np.cumsum(own + added, out=out_indptr[1:])
    out_indices = np.empty(out_indptr[-1], dtype=indices.dtype)
    out_data = np.empty(out_indptr[-1], dtype=np.float64)
    own_rows = np.repeat(np.arange(len(own)), own)
    at = np.arange(len(indices)) - indptr[own_rows] + out_indptr[own_rows]
    out_indices[at], out_data[at] = indices, data
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)  # place of each added entry within its row
    at = out_indptr[rows] + own[rows] + rank
    out_indices[at], out_data[at] = columns + offset, dense[rows, columns]
    return out_indptr, out_indices, out_data


def sparse_dot(csr: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """(n, features) CSR @ (features, k) dense (C-contiguous), in numpy alone."""
    indptr, indices, data = csr
    out = np.zeros((len(indptr) - 1, weights.shape[1]))
    filled = np.flatnonzero(np.diff(indptr))
    if len(filled):  # reduceat over the non-empty rows only: their starts strictly increase
        out[filled] = np.add.reduceat(weights[indices] * data[:, None], indptr[filled], axis=0)
    return out


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
        if self.stacked.shape[0] != featurizer.width:
            raise ValueError(f"weights for {self.stacked.shape[0]} features, {featurizer.width} expected")

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        return self.predict_both(texts, langs)[0]

    def predict_both(self, texts: list[str], langs: list[str] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(scores of the dominant label, summing to 1; independent p(label) of multi-label models, or None)."""
        return self.predict_with_langs(texts)[1:]

    def predict_with_langs(self, texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """(languages, dominant-label scores, independent scores or None) from one pass over the batch."""
        csr, countries, langs = self.featurizer.transform_parts(texts)
        width = len(self.featurizer.vocabulary)
        z = sparse_dot(csr, self.stacked[:width]) + self.intercepts
        if countries is not None:  # the last rows of the weights: a dense product, no matrix rebuilt
            z += countries @ self.stacked[width:]
        independent = None
        if "ovr_coef" in self.weights:
            z, independent = z[:, :-len(self.labels)], sigmoid(z[:, -len(self.labels):])
        if "joint_coef" in self.weights:  # one softmax over all labels, columns already in label order
            return langs, softmax(z), independent
        relevance = sigmoid(z[:, 0])
        return langs, combine(relevance, softmax(z[:, 1:]), self.labels, self.topics), independent

    def save(self, directory: Path) -> dict:
        """Write the plain-data files; returns the spec's `model` section."""
        directory.mkdir(parents=True, exist_ok=True)
        featurizer = self.featurizer
        settings = {"ngram_range": list(featurizer.ngram_range), "sublinear_tf": featurizer.sublinear_tf,
                    "topics": self.topics, "vocabulary": featurizer.vocabulary, "tokens": featurizer.index.tokens}
        if featurizer.countries:
            settings["countries"] = featurizer.countries.settings()
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
        np.savez(directory / WEIGHTS_FILE, idf=featurizer.idf, **featurizer.index.arrays(), **self.weights)
        return {"settings": SETTINGS_FILE, "weights": WEIGHTS_FILE}


def load(directory: Path, spec: dict, options: dict) -> TfidfModel:
    from vnzh_runtime.spec import SPEC_FILE as SPEC, read_json

    settings = read_json(directory / SETTINGS_FILE, "TF-IDF settings")
    try:
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            weights = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError) as err:
        raise UserError(f"{directory / WEIGHTS_FILE}: cannot read the weights ({err}); retrain or re-copy the model") from None
    try:
        span = tuple(settings["ngram_range"])
        arrays = {name: weights.pop(name) for name in list(weights) if name.startswith("ngram_")}
        index = NgramIndex.from_arrays(settings["tokens"], arrays, span)  # shipped as arrays: loading builds nothing
        featurizer = Featurizer(settings["vocabulary"], weights.pop("idf"), span, settings["sublinear_tf"], index,
                                settings.get("countries"))
        unknown = [topic for topic in settings["topics"] if topic not in spec["labels"] or topic == "other"]
        if unknown:  # else every prediction would fail on it
            raise UserError(f"{directory}: the model's topic {unknown[0]!r} is not among {SPEC}'s labels "
                            f"{spec['labels']}; retrain or re-copy the model")
        return TfidfModel(spec["labels"], settings["topics"], featurizer, weights)
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"{directory}: TF-IDF files lack or garble {err}; retrain or re-copy the model") from None
