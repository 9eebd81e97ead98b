"""Texts in, one result per text out: the single prediction path that evaluation,
`serve tag`, the HTTP API and the MLflow pyfunc model all share.

    >>> predictor = Predictor.load("models/tfidf")
    >>> predictor.predict(["Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD"])
    [{'lang': 'vi', 'label': 'economy', 'scores': {'economy': 0.91, ...}}]

Paragraphs of one article pass `doc_ids` (or ready `contexts`), so each is read with its
article's head (`vnzh_runtime.context`) through the model's context gate
(`vnzh_runtime.relevance`); without them every paragraph stands alone.
Below `threshold` (if set) the top score is not trusted and the label is `uncertain`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vnzh_runtime.context import contexts as article_contexts
from vnzh_runtime.errors import UserError
from vnzh_runtime.langid import detect_lang
from vnzh_runtime.relevance import apply_gate
from vnzh_runtime.spec import load_model

UNCERTAIN = "uncertain"
SCORE_DECIMALS = 4


def check_threshold(value, where: str = "threshold"):
    """None, "auto" or a number in [0, 1]; anything else is a user error naming the fix."""
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value <= 1:
        raise UserError(f"{where}: {value!r} is not a threshold (fix: a number from 0 to 1, or 'auto')")
    return float(value)


class Predictor:
    def __init__(self, model, spec: dict, threshold: float | None = None):
        self.model = model
        self.spec = spec
        self.labels = list(spec["labels"])
        self.threshold = threshold

    @classmethod
    def load(cls, directory: str | Path, threshold: float | str | None = None, options: dict | None = None) -> "Predictor":
        model, spec = load_model(directory, options)
        predictor = cls(model, spec)
        predictor.threshold = predictor.resolve_threshold(threshold)
        return predictor

    @property
    def context_head(self) -> int:
        """Paragraphs of an article's head read with each paragraph (0: paragraphs stand alone)."""
        return int((self.spec.get("context") or {}).get("head", 0)) if self.gate else 0

    @property
    def gate(self) -> list[float] | None:
        return (self.spec.get("context") or {}).get("gate")

    def resolve_threshold(self, threshold: float | str | None) -> float | None:
        """A number, None (never abstain) or "auto" (the threshold chosen on dev at training)."""
        threshold = check_threshold(threshold)
        if threshold == "auto":
            return (self.spec.get("threshold") or {}).get("value")
        return threshold

    def contexts(self, texts: list[str], doc_ids: list | None) -> list[str] | None:
        if not self.context_head or doc_ids is None:
            return None
        return article_contexts(texts, doc_ids, self.context_head)

    def predict_proba(self, texts: list[str], langs: list[str] | None = None, doc_ids: list | None = None,
                      contexts: list[str] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        langs = langs or [detect_lang(t) for t in texts]
        alone = self.model.predict_proba(list(texts), langs)
        contexts = contexts if contexts is not None else self.contexts(texts, doc_ids)
        if not self.gate or not contexts or not any(contexts):
            return alone
        return self.with_context(alone, contexts)

    def with_context(self, alone: np.ndarray, contexts: list[str]) -> np.ndarray:
        """Scores through the context gate, each distinct article head tagged once."""
        heads = sorted({c for c in contexts if c})
        head_probs = dict(zip(heads, self.model.predict_proba(heads, [detect_lang(h) for h in heads])))
        rows = [i for i, c in enumerate(contexts) if c]
        out = alone.copy()
        out[rows] = apply_gate(alone[rows], np.stack([head_probs[contexts[i]] for i in rows]), self.gate, self.labels)
        return out

    def predict(self, texts: list[str], threshold: float | None = None, doc_ids: list | None = None,
                contexts: list[str] | None = None) -> list[dict]:
        threshold = self.threshold if threshold is None else threshold
        langs = [detect_lang(t) for t in texts]
        probs = self.predict_proba(texts, langs, doc_ids, contexts)
        results = []
        for lang, row in zip(langs, probs):
            best = int(np.argmax(row))
            label = self.labels[best] if threshold is None or row[best] >= threshold else UNCERTAIN
            scores = {name: round(float(p), SCORE_DECIMALS) for name, p in zip(self.labels, row)}
            results.append({"lang": lang, "label": label, "scores": scores})
        return results
