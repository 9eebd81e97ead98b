"""Naive Bayes feature scaling of the relevance head (train/nb_scaling.py), against a plain reference."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from train.nb_scaling import column_scale, fit_scaled, log_count_ratio


def reference_ratio(dense: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Wang & Manning's r, one column at a time over binarised counts."""
    binary = dense > 0
    p = np.array([1 + binary[positive, j].sum() for j in range(dense.shape[1])], dtype=float)
    q = np.array([1 + binary[~positive, j].sum() for j in range(dense.shape[1])], dtype=float)
    return np.log(p / p.sum()) - np.log(q / q.sum())


def test_log_count_ratio_matches_the_reference_on_random_sparse_data():
    rng = np.random.default_rng(0)
    dense = rng.random((40, 12)) * (rng.random((40, 12)) < 0.3)
    positive = rng.random(40) < 0.4
    assert np.allclose(log_count_ratio(csr_matrix(dense), positive), reference_ratio(dense, positive))


def test_a_word_of_both_classes_is_scaled_down_and_one_that_separates_them_up():
    # columns: a word every row holds, a word of positives only, a country feature (kept at 1)
    dense = np.array([[1.0, 1.0, 0.25], [1.0, 1.0, 0.25], [1.0, 0.0, 0.25], [1.0, 0.0, 0.0]])
    scale = column_scale(csr_matrix(dense), np.array([True, True, False, False]), power=0.5, keep=1)
    assert scale[0] < scale[1] and scale[2] == 1.0
    assert scale[:2].mean() == pytest.approx(1.0)


def test_the_folded_weights_score_the_raw_features_as_the_head_scores_the_scaled_ones():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = csr_matrix(rng.random((60, 8)) * (rng.random((60, 8)) < 0.5))
    y = rng.random(60) < 0.5
    fitted = {}

    def fit(scaled):
        fitted["head"], fitted["x"] = LogisticRegression(C=5.0).fit(scaled, y), scaled
        return fitted["head"].coef_, fitted["head"].intercept_

    coef, intercept = fit_scaled(fit, x, y, power=1.0)
    assert np.allclose(x @ coef[0] + intercept[0], fitted["head"].decision_function(fitted["x"]))
    assert not np.allclose(coef, LogisticRegression(C=5.0).fit(x, y).coef_)  # the scaling changed the fit


def test_the_setting_is_checked_at_load_zero_is_the_plain_head_and_country_columns_keep_their_value(monkeypatch):
    import train.models.tfidf as tfidf
    from train.config import config_from_dict
    from train.data import Record
    from train.models.tfidf import YES_NO, TfidfTrainer, fit_head, to_scipy
    from vnzh_runtime.errors import UserError

    with pytest.raises(UserError, match="nb_scale"):
        config_from_dict({"model": {"type": "tfidf", "tfidf": {"nb_scale": -1}}})
    texts = ["Việt Nam Trung Quốc thương mại", "Trung Quốc Việt Nam biên giới", "giá vàng hôm nay", "bóng đá Lào"] * 3
    labels = ["economy", "border_sea", "other", "other"] * 3
    records = [Record(f"r{i}", "vi", (label,), text, "authored", "train") for i, (text, label) in enumerate(zip(texts, labels))]
    kept = []
    monkeypatch.setattr(tfidf, "fit_scaled", lambda *args: kept.append(args[-1]) or fit_scaled(*args))
    relevance = {}
    for power, countries in ((0.0, 0.25), (0.5, 0.25), (0.5, 0.0)):
        config = config_from_dict({"model": {"type": "tfidf", "tfidf": {"nb_scale": power, "country_features": countries}}})
        trainer = TfidfTrainer(config).fit(records, [])
        relevance[power, countries] = trainer.model.weights["relevance_coef"]
        if power == 0.0:  # exactly the head fitted on the raw features
            featurizer = trainer.model.featurizer
            x = to_scipy(featurizer.transform(texts), featurizer.width)
            plain = fit_head(x, ["no" if label == "other" else "yes" for label in labels], YES_NO, config.model.tfidf, 13)
            assert np.allclose(relevance[power, countries], plain[0])
    assert kept == [7, 0]  # the seven named-country columns keep their value; none without them
    assert not np.allclose(relevance[0.0, 0.25], relevance[0.5, 0.25])
