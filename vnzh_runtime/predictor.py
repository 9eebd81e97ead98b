"""Texts in, one result per text out: the single prediction path that evaluation,
`serve tag`, the HTTP API and the MLflow pyfunc model all share.

    >>> predictor = Predictor.load("models/tfidf")
    >>> predictor.predict(["Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD"])
    [{'lang': 'vi', 'label': 'economy', 'scores': {'economy': 0.91, ...}}]

Paragraphs of one article pass `doc_ids` (or ready `contexts` and `following`), so each is read
with its article's head and the paragraph after it (`vnzh_runtime.context`) through the model's
context gate (`vnzh_runtime.relevance`); without them every paragraph stands alone.
Below `threshold` (if set) the top score is not trusted and the label is `uncertain`.

Every result carries `labels`, dominant first. A single-label model gives `[label]`; a
multi-label model (`task: multilabel` in its spec) adds each other topic whose independent
probability reaches its own threshold (chosen on dev, `label_thresholds` in the spec,
overridable), most probable first, with those probabilities in `label_scores`. `other`
stays alone.
"""

from __future__ import annotations

import math
from itertools import repeat
from pathlib import Path

import numpy as np

from vnzh_runtime.context import contexts as article_contexts
from vnzh_runtime.context import following as next_paragraphs
from vnzh_runtime.errors import UserError
from vnzh_runtime.langid import token_langs
from vnzh_runtime.markup import is_blank
from vnzh_runtime.relevance import apply_gate
from vnzh_runtime.spec import load_model
from vnzh_runtime.textnorm import tokenize_batch

UNCERTAIN = "uncertain"
SCORE_DECIMALS = 4


def shown_scores(probs: np.ndarray) -> np.ndarray:
    """Scores as printed: cut, not rounded, to SCORE_DECIMALS, so that no score is shown above what it is and
    a threshold of up to 4 decimals agrees with what is printed (0.51996 is shown 0.5199: below 0.52, as it is).

    >>> shown_scores(np.array([[0.51996, 0.48004]])).tolist()
    [[0.5199, 0.48]]
    """
    scale = 10 ** SCORE_DECIMALS
    # the nudge keeps a score that is a 4-decimal number in binary (0.57 is 0.56999... times 10,000) as it is
    return np.floor(probs * scale + 1e-6) / scale


def check_inputs(texts, doc_ids) -> list:
    """The texts as a list (a generator, a Series), or a user error in one line for the calls that would
    otherwise tag nonsense or fail deep inside."""
    if isinstance(texts, (str, bytes)):  # a str is a sequence: each character would be tagged as a text
        raise UserError("texts: one string, not a list of texts; pass [text] (each character would be a text)")
    texts = list(texts)
    wrong = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
    if wrong is not None:
        raise UserError(f"texts[{wrong}]: {type(texts[wrong]).__name__}, not a string; pass the paragraphs' text")
    blank = next((i for i, text in enumerate(texts) if is_blank(text)), None)
    if blank is not None:  # it was tagged `other`, where serve tag, the API and the pyfunc say it is no paragraph
        raise UserError(f"texts[{blank}]: empty (or only spaces); leave it out, or tag the file with serve tag, "
                        "which gives it an error record")
    if doc_ids is not None and len(doc_ids) != len(texts):
        raise UserError(f"doc_ids: {len(doc_ids)} for {len(texts)} texts; give one per text (None: no article)")
    return texts


def check_threshold(value, where: str = "threshold"):
    """None, "auto" or a number in [0, 1]; anything else is a user error naming the fix."""
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value <= 1:
        raise UserError(f"{where}: {value!r} is not a threshold (fix: a number from 0 to 1, or 'auto')")
    return float(value)


class Predictor:
    def __init__(self, model, spec: dict, threshold: float | None = None, label_thresholds: dict | None = None):
        self.model = model
        self.spec = spec
        self.labels = list(spec["labels"])
        self.threshold = threshold
        self.threshold_overrides = dict(label_thresholds or {})
        if self.threshold_overrides and not self.multilabel:  # they would change nothing: say so
            raise UserError("label thresholds apply to multi-label models; this model is single-label "
                            "(fix: drop --label-threshold, or train one with configs/tfidf-multilabel.yaml)")
        if "other" in self.threshold_overrides:  # it has none to override: it stands alone when no topic reaches its own
            raise UserError("label threshold other: `other` has no threshold (a paragraph is `other` when no topic "
                            "reaches its own); set the topics' thresholds instead")
        for label, value in self.label_thresholds.items():
            if label not in self.labels:
                raise UserError(f"label threshold {label}: not a topic of this model "
                                f"({', '.join(l for l in self.labels if l != 'other')})")
            if value is None or value == "auto":  # the global threshold's words; a label's own is a number
                raise UserError(f"label threshold {label}: {value!r} is not a threshold (fix: a number from 0 to 1; "
                                "leave the label out to keep the one chosen on dev)")
            check_threshold(value, f"label threshold {label}")

    @classmethod
    def load(cls, directory: str | Path, threshold: float | str | None = None, options: dict | None = None,
             label_thresholds: dict | None = None) -> "Predictor":
        model, spec = load_model(directory, options)
        predictor = cls(model, spec, label_thresholds=label_thresholds)
        predictor.threshold = predictor.resolve_threshold(threshold)
        return predictor

    @property
    def label_thresholds(self) -> dict[str, float]:
        """The dev-chosen thresholds of the spec, with the caller's overrides on top."""
        return {**(self.spec.get("label_thresholds") or {}), **self.threshold_overrides}

    @property
    def multilabel(self) -> bool:
        return self.spec.get("task") == "multilabel"

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
                      contexts: list[str] | None = None, following: list[str | None] | None = None) -> np.ndarray:
        return self.predict_both(texts, langs, doc_ids, contexts, following)[0]

    def predict_both(self, texts: list[str], langs: list[str] | None = None, doc_ids: list | None = None,
                     contexts: list[str] | None = None,
                     following: list[str | None] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(dominant-label scores, through the context gate; independent p(label) of a multi-label model or None)."""
        return self.score(texts, langs, doc_ids, contexts, following)[1:]

    def score(self, texts: list[str], langs: list[str] | None = None, doc_ids: list | None = None,
              contexts: list[str] | None = None,
              following: list[str | None] | None = None) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """(languages, dominant-label scores, independent scores or None), tokenising the batch once for both.

        `contexts` and `following` (each text's article head, and the next paragraph of its article
        or None) are what `doc_ids` gives within this batch; a stream passes them ready-made."""
        texts = check_inputs(texts, doc_ids)
        if not texts:
            return [], np.zeros((0, len(self.labels))), None
        if hasattr(self.model, "predict_with_langs"):  # TF-IDF: languages come from its own pass over the batch
            found, alone, independent = self.model.predict_with_langs(texts)
            langs = langs or found
        else:
            langs = langs or token_langs(tokenize_batch(texts))
            alone, independent = self.model.predict_both(texts, langs)
        if not self.multilabel:
            independent = None
        if contexts is None:
            contexts = self.contexts(texts, doc_ids)
            following = next_paragraphs(texts, doc_ids) if contexts else None
        if not self.gate or not contexts or not any(contexts):
            return langs, alone, independent
        return langs, self.with_context(alone, texts, contexts, following), independent

    def label_set(self, label: str, independent: np.ndarray | None) -> list[str]:
        """The dominant label first, then the other topics over their thresholds, most probable first."""
        if independent is None or label in ("other", UNCERTAIN):
            return [label]
        thresholds = self.label_thresholds
        extra = [(p, name) for name, p in zip(self.labels, independent)
                 if name not in (label, "other") and p >= thresholds.get(name, 0.5)]
        return [label] + [name for _, name in sorted(extra, reverse=True)]

    def with_context(self, alone: np.ndarray, texts: list[str], contexts: list[str],
                     following: list[str | None] | None = None) -> np.ndarray:
        """Scores through the context gate, each distinct article head tagged once."""
        heads = sorted({c for c in contexts if c})
        head_probs = dict(zip(heads, self.model.predict_proba(heads)))
        rows = [i for i, c in enumerate(contexts) if c]
        nexts = self.following_scores(alone, texts, following, rows) if following and len(self.gate) > 3 else None
        out = alone.copy()
        out[rows] = apply_gate(alone[rows], np.stack([head_probs[contexts[i]] for i in rows]), self.gate,
                               self.labels, nexts)
        return out

    def following_scores(self, alone: np.ndarray, texts: list[str], following: list[str | None],
                         rows: list[int]) -> np.ndarray:
        """The label scores of each row's next paragraph (NaN where it has none): the batch's own next
        row where it is that paragraph, else tagged here (a stream's last paragraph of a batch)."""
        out = np.full((len(rows), alone.shape[1]), np.nan)
        elsewhere = {}
        for k, i in enumerate(rows):
            text = following[i]
            if text is None:
                continue
            if i + 1 < len(texts) and texts[i + 1] == text:
                out[k] = alone[i + 1]
            else:
                elsewhere.setdefault(text, []).append(k)
        if elsewhere:
            for scores, ks in zip(self.model.predict_proba(list(elsewhere)), elsewhere.values()):
                out[ks] = scores
        return out

    def predict(self, texts: list[str], threshold: float | None = None, doc_ids: list | None = None,
                contexts: list[str] | None = None, following: list[str | None] | None = None) -> list[dict]:
        threshold = self.threshold if threshold is None else check_threshold(threshold)
        if threshold == "auto":  # as Predictor.load and the API take it
            threshold = self.resolve_threshold(threshold)
        langs, probs, independent = self.score(texts, None, doc_ids, contexts, following)
        labels, results = self.labels, []
        own_rows = independent.tolist() if independent is not None else repeat(None)
        own_shown = shown_scores(independent).tolist() if independent is not None else repeat(None)
        tops = probs.max(axis=1).tolist()
        for lang, scores, best, top, own, own_scores in zip(langs, shown_scores(probs).tolist(),
                                                             probs.argmax(axis=1).tolist(), tops, own_rows, own_shown):
            label = labels[best] if threshold is None or top >= threshold else UNCERTAIN
            result = {"lang": lang, "label": label, "labels": self.label_set(label, own), "scores": dict(zip(labels, scores))}
            if own is not None:
                result["label_scores"] = dict(zip(labels, own_scores))
            results.append(result)
        return results
