"""TF-IDF + logistic regression baseline as one scikit-learn Pipeline.

normalise -> [syllable/character n-grams (+ optional char_wb n-grams)] -> LogisticRegression.
The normaliser is the first step, so the saved pipeline carries its own preprocessing:

    >>> model = TfidfModel(config)                      # config.model.type == "tfidf"
    >>> model.fit(train_records, dev_records)
    >>> model.predict_proba(["Kim ngạch thương mại tăng 20%"]).shape
    (1, 6)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from train.config import Config, TfidfConfig
from train.data import Record
from train.textnorm import TextNormalizer, tokenize

PIPELINE_FILE = "pipeline.joblib"


def build_pipeline(cfg: TfidfConfig, seed: int) -> Pipeline:
    # Syllables (vi/en) and single Han characters (zh) are the tokens, so word
    # n-grams here are syllable n-grams and character n-grams at once.
    features = [("tokens", TfidfVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=tuple(cfg.word_ngrams),
        min_df=cfg.min_df, max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, dtype=np.float32))]
    if cfg.char_ngrams:
        features.append(("chars", TfidfVectorizer(
            analyzer="char_wb", lowercase=False, ngram_range=tuple(cfg.char_ngrams),
            min_df=cfg.min_df, max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, dtype=np.float32)))
    classifier = LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=seed)
    return Pipeline([("normalize", TextNormalizer()), ("features", FeatureUnion(features)), ("classify", classifier)])


class TfidfModel:
    def __init__(self, config: Config, pipeline: Optional[Pipeline] = None):
        self.labels = list(config.data.labels)
        self.pipeline = pipeline or build_pipeline(config.model.tfidf, config.seed)

    def fit(self, train: list[Record], dev: list[Record], on_epoch: Callable | None = None) -> "TfidfModel":
        self.pipeline.fit([r.text for r in train], [r.label for r in train])
        return self

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        probs = self.pipeline.predict_proba(texts)
        # Columns in config label order; a label never seen in training scores 0.
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        for column, label in enumerate(self.pipeline.classes_):
            out[:, self.labels.index(label)] = probs[:, column]
        return out

    def save(self, directory: Path) -> None:
        joblib.dump(self.pipeline, Path(directory) / PIPELINE_FILE)

    @classmethod
    def load(cls, directory: Path, config: Config) -> "TfidfModel":
        return cls(config, pipeline=joblib.load(Path(directory) / PIPELINE_FILE))
