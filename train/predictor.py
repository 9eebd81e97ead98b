"""Texts in, one result per text out: the single prediction path that evaluation,
`serve tag`, the HTTP API and the MLflow pyfunc model all share.

    >>> predictor = Predictor.load("models/tfidf")
    >>> predictor.predict(["Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD"])
    [{'lang': 'vi', 'label': 'economy', 'scores': {'economy': 0.91, ...}}]

Below `threshold` (if set) the top score is not trusted and the label is `uncertain`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from train.langid import detect_lang
from train.modeldir import load_model

UNCERTAIN = "uncertain"
SCORE_DECIMALS = 4


class Predictor:
    def __init__(self, model, labels: list[str], meta: dict | None = None, threshold: float | None = None):
        self.model = model
        self.labels = list(labels)
        self.meta = meta or {}
        self.threshold = threshold

    @classmethod
    def load(cls, directory: str | Path, threshold: float | str | None = None) -> "Predictor":
        model, config, meta = load_model(directory)
        predictor = cls(model, config.data.labels, meta, None)
        predictor.threshold = predictor.resolve_threshold(threshold if threshold is not None else config.predict.threshold)
        return predictor

    def resolve_threshold(self, threshold: float | str | None) -> float | None:
        """A number, None (never abstain) or "auto" (the threshold chosen on dev at training)."""
        if threshold == "auto":
            return self.meta.get("threshold", {}).get("value")
        return None if threshold is None else float(threshold)

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        langs = langs or [detect_lang(t) for t in texts]
        return self.model.predict_proba(list(texts), langs)

    def predict(self, texts: list[str], threshold: float | None = None) -> list[dict]:
        threshold = self.threshold if threshold is None else threshold
        langs = [detect_lang(t) for t in texts]
        probs = self.predict_proba(texts, langs)
        results = []
        for lang, row in zip(langs, probs):
            best = int(np.argmax(row))
            label = self.labels[best] if threshold is None or row[best] >= threshold else UNCERTAIN
            scores = {name: round(float(p), SCORE_DECIMALS) for name, p in zip(self.labels, row)}
            results.append({"lang": lang, "label": label, "scores": scores})
        return results
