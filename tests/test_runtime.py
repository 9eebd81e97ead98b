"""The runtime's plain-data TF-IDF against scikit-learn, the reference it replaces, and the runtime's own contracts."""

import numpy as np
import pytest

from vnzh_runtime.tfidf import Featurizer, ngrams, sparse_dot

TEXTS = ["Kim ngạch thương mại Việt Nam - Trung Quốc tăng 20%", "中越陆地边界联合委员会举行第十次会议",
         "Vietnam and China sign 14 deals", "Kim ngạch kim ngạch", "", "   ", "Hoà Bình 12 12 12"]


def test_featurizer_equals_scikit_learn_tfidf_to_1e_12():
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = TEXTS * 3 + ["Thương mại biên giới qua cửa khẩu Hữu Nghị", "中越贸易"]
    reference = TfidfVectorizer(analyzer=lambda t: ngrams(t, 1, 2), sublinear_tf=True).fit(corpus)
    vocabulary = sorted(reference.vocabulary_, key=reference.vocabulary_.get)
    ours = Featurizer(vocabulary, reference.idf_, (1, 2), True)
    indptr, indices, data = ours.transform(TEXTS + ["nothing known here"])
    from scipy.sparse import csr_matrix

    mine = csr_matrix((data, indices, indptr), shape=(len(TEXTS) + 1, len(vocabulary))).toarray()
    assert np.allclose(mine, reference.transform(TEXTS + ["nothing known here"]).toarray(), atol=1e-12)
    assert not mine[4].any() and not mine[-1].any()  # empty and unknown rows stay empty


def test_sparse_dot_equals_a_dense_product_with_empty_rows_anywhere():
    rng = np.random.default_rng(0)
    dense = rng.random((6, 9)) * (rng.random((6, 9)) > 0.6)
    dense[[0, 3, 5]] = 0.0
    from scipy.sparse import csr_matrix

    sparse = csr_matrix(dense)
    weights = rng.random((9, 4))
    assert np.allclose(sparse_dot((sparse.indptr, sparse.indices, sparse.data), weights), dense @ weights)
    empty = csr_matrix((2, 9))
    assert np.allclose(sparse_dot((empty.indptr, empty.indices, empty.data), weights), 0.0)


def test_linear_heads_equal_scikit_learn_logistic_regression(tfidf_run):
    from sklearn.linear_model import LogisticRegression

    from train.config import load_config
    from train.data import by_split, load_records
    from train.models import create_model

    config = load_config("configs/tfidf.yaml", ["model.tfidf.heads=joint"])
    splits = by_split(load_records(config.data.files), config.data.labels)
    train = splits["train"][::5]
    trainer = create_model(config).fit(train, [])
    model = trainer.model
    from train.models.tfidf import to_scipy

    x = to_scipy(model.featurizer.transform([r.text for r in train]), len(model.featurizer.vocabulary))
    reference = LogisticRegression(C=config.model.tfidf.C, class_weight="balanced", max_iter=2000,
                                   random_state=config.seed).fit(x, [r.label for r in train])
    texts = [r.text for r in splits["dev"][:200]]
    expected = reference.predict_proba(to_scipy(model.featurizer.transform(texts), x.shape[1]))
    order = [list(reference.classes_).index(label) for label in config.data.labels]
    assert np.allclose(trainer.predict_proba(texts), expected[:, order], atol=1e-6)


def test_unknown_format_tampered_and_unlisted_files_are_refused(tfidf_run, tmp_path):
    import json
    import shutil

    import vnzh_runtime
    from vnzh_runtime.errors import UserError

    def copy(name):
        target = tmp_path / name
        shutil.copytree(tfidf_run.output_dir, target)
        return target

    tampered = copy("tampered")
    weights = tampered / "model" / "weights.npz"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    weights.write_bytes(bytes(raw))
    with pytest.raises(UserError, match="sha256"):
        vnzh_runtime.load(tampered)
    extra = copy("extra")
    (extra / "model" / "pipeline.joblib").write_bytes(b"anything")
    with pytest.raises(UserError, match="not listed"):
        vnzh_runtime.load(extra)
    future = copy("future")
    spec = json.loads((future / "spec.json").read_text(encoding="utf-8"))
    (future / "spec.json").write_text(json.dumps({**spec, "format_version": 99}), encoding="utf-8")
    with pytest.raises(UserError, match="reads format 2 only"):
        vnzh_runtime.load(future)
