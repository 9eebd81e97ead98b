"""Training the TF-IDF baseline; the model it writes is plain data read by `vnzh_runtime.tfidf`.

scikit-learn fits the vocabularies and idf (`TfidfVectorizer`, over the runtime's own
n-grams) and the linear heads (`LogisticRegression`); the training matrix is built by the
runtime `Featurizer`, so the features trained on are the features served (with the
country names of `train/countries.py` matched by `vnzh_runtime.countries`):

    >>> trainer = TfidfTrainer(config)                  # config.model.type == "tfidf"
    >>> trainer.fit(train_records, dev_records)
    >>> trainer.predict_proba(["Kim ngạch thương mại tăng 20%"]).shape
    (1, 6)

`heads: factored` (the default) fits a relevance head (Vietnam–China coverage or `other`)
on every record and a topic head on the relevant ones; `joint` fits one softmax over all
labels. bench/RESULTS.md has the measured comparison. The relevance head is fitted on
Naive-Bayes-scaled features (`nb_scale`, `train/nb_scaling.py`) and saved as plain weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Optional

import numpy as np
from pydantic import Field, field_validator

from train.countries import country_names
from train.data import Record
from train.nb_scaling import fit_scaled
from train.schema import Strict
from vnzh_runtime.errors import UserError
from vnzh_runtime.tfidf import Featurizer, TfidfModel, ngrams

if TYPE_CHECKING:
    from train.config import Config


class TfidfSettings(Strict):
    word_ngrams: list[int] = [1, 2]  # syllable n-grams (vi/en), character n-grams (zh)
    min_df: int = Field(1, ge=1)
    max_features: Optional[int] = Field(None, ge=1)
    sublinear_tf: bool = True
    C: float = Field(20.0, gt=0)
    class_weight: Optional[Literal["balanced"]] = "balanced"
    max_iter: int = Field(2000, ge=10)
    heads: Literal["factored", "joint"] = "factored"
    # value of the 7 named-country features (vnzh_runtime/countries.py) beside the l2-normalised
    # n-grams; 0: none. bench/RESULTS.md has the measured choice.
    country_features: float = Field(0.25, ge=0, le=10)  # past 10 they drown the n-grams (a unit vector)
    # the relevance head's features scaled by |Naive Bayes log-count ratio| ** nb_scale (train/nb_scaling.py),
    # folded into its weights; 0: plain logistic regression. Only `heads: factored` has a relevance head: `joint`
    # and multi-label one-vs-rest heads are not scaled. bench/RESULTS.md has the measured choice.
    nb_scale: float = Field(0.5, ge=0, le=2)

    @field_validator("word_ngrams")
    @classmethod
    def _span(cls, span: list[int]) -> list[int]:
        if len(span) != 2 or not 1 <= span[0] <= span[1] <= 5:
            raise ValueError(f"{span} must be [low, high] with 1 <= low <= high <= 5")
        return span


class TfidfModelConfig(Strict):
    type: Literal["tfidf"] = "tfidf"
    tfidf: TfidfSettings = TfidfSettings()


def check_min_df(settings: TfidfSettings, paragraphs: int) -> None:
    if settings.min_df > paragraphs:
        raise UserError(f"model.tfidf.min_df {settings.min_df} is more than the {paragraphs} training paragraphs: "
                        "no n-gram would be kept (fix: lower it)")


def fit_featurizer(texts: list[str], settings: TfidfSettings, relevant: list[bool]) -> Featurizer:
    """The featuriser of the training texts (`relevant`: which are VN–China coverage, for the country names)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    span = tuple(settings.word_ngrams)
    vectorizer = TfidfVectorizer(analyzer=lambda text: ngrams(text, *span), min_df=settings.min_df,
                                 max_features=settings.max_features, sublinear_tf=settings.sublinear_tf)
    check_min_df(settings, len(texts))
    try:
        vectorizer.fit(texts)
    except ValueError as err:  # no n-gram kept for another reason, e.g. max_features or texts with no tokens
        raise UserError(f"model.tfidf: {err} over {len(texts)} training paragraphs (fix: check the data, or lower "
                        "min_df)") from None
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    countries = None
    if settings.country_features:
        countries = country_names(texts, relevant) | {"value": settings.country_features}
    return Featurizer(vocabulary, vectorizer.idf_, span, settings.sublinear_tf, countries=countries)


def to_scipy(csr, width: int):
    from scipy.sparse import csr_matrix

    indptr, indices, data = csr
    return csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, width))


YES_NO = ["no", "yes"]  # the classes of a binary head read through a sigmoid: relevance, one-vs-rest labels


def fit_head(x, y: list[str], classes: list[str], settings: TfidfSettings, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) of a logistic regression: for YES_NO one row, for "yes"; otherwise one row per
    class in `classes` order, read through a softmax (a class never seen scores -inf)."""
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression(C=settings.C, class_weight=settings.class_weight, max_iter=settings.max_iter,
                              random_state=seed).fit(x, y)
    if classes == YES_NO:
        return head.coef_.astype(np.float64), head.intercept_.astype(np.float64)
    rows, biases = head.coef_, head.intercept_
    if len(head.classes_) == 2:  # scikit-learn's one row z for the second class: softmax([-z/2, z/2]) is sigmoid(z)
        rows, biases = np.vstack([-rows[0] / 2, rows[0] / 2]), np.array([-biases[0] / 2, biases[0] / 2])
    coef = np.zeros((len(classes), x.shape[1]))
    intercept = np.full(len(classes), -1e9)
    for row, name in enumerate(head.classes_):
        coef[classes.index(name)], intercept[classes.index(name)] = rows[row], biases[row]
    return coef, intercept


class TfidfTrainer:
    Config = TfidfModelConfig

    def __init__(self, config: "Config"):
        self.config = config
        self.settings: TfidfSettings = config.model.tfidf
        self.labels = list(config.data.labels)
        self.model: TfidfModel | None = None

    def check_data(self, train: list[Record]) -> None:
        check_min_df(self.settings, len(train))

    def fit(self, train: list[Record], dev: list[Record], on_epoch: Callable | None = None) -> "TfidfTrainer":
        texts, y = [r.text for r in train], [r.label for r in train]
        topics = [label for label in self.labels if label != "other"]
        featurizer = fit_featurizer(texts, self.settings, [label != "other" for label in y])
        x = to_scipy(featurizer.transform(texts), featurizer.width)
        seed = self.config.seed
        if self.settings.heads == "joint":
            coef, intercept = fit_head(x, y, self.labels, self.settings, seed)
            weights = {"joint_coef": coef, "joint_intercept": intercept}
        else:
            relevant = [i for i, label in enumerate(y) if label != "other"]
            r_coef, r_intercept = self.fit_relevance(x, y, featurizer)
            t_coef, t_intercept = fit_head(x[relevant], [y[i] for i in relevant], topics, self.settings, seed)
            weights = {"relevance_coef": r_coef, "relevance_intercept": r_intercept,
                       "topic_coef": t_coef, "topic_intercept": t_intercept}
        if self.config.task == "multilabel":  # one-vs-rest heads over whole label sets: independent p(label)
            heads = [fit_head(x, ["yes" if l in r.labels else "no" for r in train], YES_NO, self.settings, seed)
                     for l in self.labels]
            weights["ovr_coef"] = np.concatenate([coef for coef, _ in heads])
            weights["ovr_intercept"] = np.concatenate([intercept for _, intercept in heads])
        self.model = TfidfModel(self.labels, topics, featurizer, weights)
        return self

    def fit_relevance(self, x, y: list[str], featurizer: Featurizer) -> tuple[np.ndarray, np.ndarray]:
        """The relevance head: Vietnam–China coverage ("yes") or `other`, NB-scaled where `nb_scale` is set."""
        yes_no = ["no" if label == "other" else "yes" for label in y]
        if not self.settings.nb_scale:
            return fit_head(x, yes_no, YES_NO, self.settings, self.config.seed)
        keep = featurizer.width - len(featurizer.vocabulary)  # the named-country columns
        return fit_scaled(lambda scaled: fit_head(scaled, yes_no, YES_NO, self.settings, self.config.seed),
                          x, np.array([label == "yes" for label in yes_no]), self.settings.nb_scale, keep)

    def predict_proba(self, texts: list[str], langs: list[str] | None = None):
        return self.model.predict_proba(texts, langs)

    def save(self, directory: Path) -> dict:
        return self.model.save(directory)
