"""The runtime's plain-data TF-IDF against scikit-learn, the reference it replaces, and the runtime's own contracts."""

import re

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

    x = to_scipy(model.featurizer.transform([r.text for r in train]), model.featurizer.width)
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
    finder = copy("finder")  # a file browser's own file is no one's model: it loads
    (finder / "model" / ".DS_Store").write_bytes(b"Bud1")
    assert vnzh_runtime.load(finder).predict(["Giá vàng hôm nay"])[0]["label"]
    future = copy("future")
    spec = json.loads((future / "spec.json").read_text(encoding="utf-8"))
    (future / "spec.json").write_text(json.dumps({**spec, "format_version": 99}), encoding="utf-8")
    from vnzh_runtime.spec import FORMAT_VERSION

    with pytest.raises(UserError, match=f"newer than format {FORMAT_VERSION}, .* update this checkout"):
        vnzh_runtime.load(future)  # a newer checkout's model: retraining here would lose it
    (future / "spec.json").write_text(json.dumps({**spec, "format_version": 5}), encoding="utf-8")
    with pytest.raises(UserError, match=f"reads format {FORMAT_VERSION} only \\(retrain it\\)"):
        vnzh_runtime.load(future)


@pytest.mark.parametrize("field, value, says", [
    ("labels", "economy", "'labels' must list"), ("labels", ["economy", "economy", "other"], "'labels' must list"),
    ("labels", ["economy", "border_sea"], "'labels' must list"), ("task", "both", "'task' must be"),
    ("context", {"head": "3", "gate": [0, 1, 0.1]}, "'context.head'"), ("context", {"head": 3, "gate": [0, "1"]}, "'context.gate'"),
    ("threshold", {"value": 7}, "'threshold.value'"), ("label_thresholds", [1], "'label_thresholds' must map"),
    ("label_thresholds", {"economy": "high"}, "'label_thresholds' must map"),
    ("files", ["model/tfidf.json"], "'files' must map"), ("options", [1, 2], "'options' must be a mapping"),
    ("model", "tfidf", "'model' must be a mapping"),
    ("labels", ["economy", "border_sea", "people_to_people", "science_tech", "other"],
     "topic 'party_relations' is not among spec.json's labels"),
    ("format_version", "HUGE", "spec is corrupt"), ("context", "DEEP", "spec is corrupt"),
])
def test_a_hand_edited_spec_is_refused_in_one_line_not_a_traceback(tfidf_run, tmp_path, field, value, says):
    import json
    import shutil

    import vnzh_runtime
    from vnzh_runtime.errors import UserError

    edited = tmp_path / "edited"
    shutil.copytree(tfidf_run.output_dir, edited)
    spec = json.loads((edited / "spec.json").read_text(encoding="utf-8"))
    text = json.dumps({**spec, field: value})  # and what json.dumps cannot write: 5,000 digits, 100,000 brackets
    text = text.replace('"HUGE"', "9" * 5000).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)
    (edited / "spec.json").write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(says)) as err:
        vnzh_runtime.load(edited)
    assert "\n" not in str(err.value)


def corpus_texts() -> list[str]:
    import glob
    import json

    return [json.loads(line)["text"] for path in sorted(glob.glob("data/authored/*.jsonl")) + ["data/seeds.jsonl"]
            for line in open(path, encoding="utf-8")]


def test_batch_tokens_and_languages_equal_each_texts_own_on_the_corpus_and_odd_strings():
    import random

    from vnzh_runtime.langid import detect_lang
    from vnzh_runtime.textnorm import SEP, feature_tokens, tokenize_batch

    def one_by_one(texts):
        return [token for text in texts for token in feature_tokens(text) + [SEP]]

    texts = corpus_texts()
    assert tokenize_batch(texts) == one_by_one(texts)
    featurizer = Featurizer(["việt", "nam"], np.ones(2))
    assert featurizer.transform_with_langs(texts)[1] == [detect_lang(text) for text in texts]
    # Case, tones, combining marks, digits, URLs, final sigma, markup and SEP itself at every text edge.
    alphabet = list("aáàoàOÀuýUÝ中邊 \t\n,.15٣_-ΣςhttpS:/www.x\u0301\u0300\x1eİK>·|©")
    alphabet += ["&nbsp;", "&#7879;", "&#30;", "&#x1e;", "&amp", "&", ";", "<p>", "</b>", "<", "<a", "x>", "&lt;b", "&gt;",
                 "<script>", "</script>", "<!--", "-->", "\u00ad", "\u200b", "HANOI (AP) -"]  # scraper leftovers
    rng = random.Random(7)
    for _ in range(2000):
        batch = ["".join(rng.choices(alphabet, k=rng.randint(0, 14))) for _ in range(rng.randint(1, 4))]
        assert tokenize_batch(batch) == one_by_one(batch), batch
        assert featurizer.transform_with_langs(batch)[1] == [detect_lang(text) for text in batch], batch


def test_feature_tokens_equal_whole_text_normalisation_on_every_corpus_paragraph():
    """Pieces are normalised one by one for speed; on real text that must read as the whole text does
    (whose tokens have no punctuation, so the page marks are left out of the comparison)."""
    from vnzh_runtime.textnorm import MARK_TOKENS, feature_tokens, normalize, tokenize

    def words(text):
        return [token for token in feature_tokens(text) if token not in MARK_TOKENS]

    assert [t for t in corpus_texts() if words(t) != tokenize(normalize(t, True, True))] == []


def test_feature_tokens_normalise_each_piece():
    from vnzh_runtime.textnorm import feature_tokens

    assert feature_tokens("5G, 75th, 1.5km, 24℃, covid-19") == ["0g", "0th", "0km", "0", "c", "covid", "0"]

    decomposed = "Ho\u0300a Bi\u0300nh"  # combining marks stay inside their word
    assert feature_tokens(decomposed) == feature_tokens("Hoà BÌNH") == ["hòa", "bình"]
    assert feature_tokens("Năm 2.024,5 tăng ２０% https://x.vn/a_b?c=1 ＡＢＣ") == ["năm", "0", "tăng", "0", "url", "abc"]
    assert feature_tokens("中越邊界") == ["中", "越", "边", "界"]


@pytest.mark.parametrize("span, min_df", [((1, 2), 1), ((1, 1), 1), ((1, 3), 2), ((2, 3), 1)])
def test_featurizer_equals_scikit_learn_on_the_whole_corpus(span, min_df):
    """Vocabularies whose n-grams' prefixes are not entries (min_df 2, no unigrams) included."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = corpus_texts()
    reference = TfidfVectorizer(analyzer=lambda t: ngrams(t, *span), sublinear_tf=True, min_df=min_df).fit(texts[::2])
    vocabulary = sorted(reference.vocabulary_, key=reference.vocabulary_.get)
    indptr, indices, data = Featurizer(vocabulary, reference.idf_, span, True).transform(texts)
    expected = reference.transform(texts).tocsr()
    expected.sort_indices()
    assert np.array_equal(indptr, expected.indptr) and np.array_equal(indices, expected.indices)
    assert np.allclose(data, expected.data, atol=1e-12)


def test_token_shortcuts_equal_the_full_rewrite_on_every_corpus_piece_and_odd_ones():
    import random

    from vnzh_runtime.textnorm import PAGE_MARKS, RAW_TOKEN, full_normalize_token, normalize_token

    pieces = {piece for text in corpus_texts() for piece in RAW_TOKEN.findall(text)} - set(PAGE_MARKS)  # not words
    alphabet = list("aAáÁàÀoOòÒuUýÝyYđĐİIıK中邊丽乾\u0301\u0300０１2٣ＡΣσς")
    rng = random.Random(5)
    pieces |= {p for _ in range(20000) for p in RAW_TOKEN.findall("".join(rng.choices(alphabet, k=rng.randint(1, 6))))}
    assert [p for p in pieces if normalize_token(p) != full_normalize_token(p)] == []


def test_piece_caches_stay_bounded_and_right_when_they_empty_mid_batch(monkeypatch):
    """A piece of several tokens ("½" -> "1⁄2") cached before the cache empties must still expand."""
    from vnzh_runtime.textnorm import TOKEN_CACHE

    featurizer = Featurizer(["0", "a", "0 0", "a b"], np.ones(4), (1, 2))
    monkeypatch.setattr(featurizer.codes, "entries", 50)
    texts = ["½ a b"] + [" ".join(f"w{i}x{j}" for j in range(40)) for i in range(5)] + ["½ a b", "x" * 10_000]
    indptr, indices, _ = featurizer.transform(texts)
    assert indices[indptr[0]:indptr[1]].tolist() == indices[indptr[-3]:indptr[-2]].tolist() == [0, 1, 2, 3]
    assert len(featurizer.codes) <= 51 and max(map(len, featurizer.codes)) <= 64
    assert max(map(len, TOKEN_CACHE)) <= 64


def test_the_gate_reads_the_next_paragraph_only_where_there_is_one():
    from vnzh_runtime.context import following
    from vnzh_runtime.relevance import apply_gate

    labels = ["economy", "border_sea", "other"]
    alone = np.array([[0.2, 0.1, 0.7], [0.2, 0.1, 0.7]])
    head = np.array([[0.8, 0.1, 0.1], [0.8, 0.1, 0.1]])
    body, teasers = np.array([[0.9, 0.05, 0.05]] * 2), np.array([[0.02, 0.01, 0.97]] * 2)
    none = np.full((2, 3), np.nan)
    gate = [0.0, 1.0, 0.2, 0.3]
    # no next paragraph (an article's last, a placed sidebar) reads as the three-weight gate
    assert np.allclose(apply_gate(alone, head, gate, labels, none), apply_gate(alone, head, gate[:3], labels))
    assert np.allclose(apply_gate(alone, head, gate, labels), apply_gate(alone, head, gate[:3], labels))
    # a three-weight gate (no next-paragraph term) ignores it
    assert np.allclose(apply_gate(alone, head, gate[:3], labels, body), apply_gate(alone, head, gate[:3], labels))
    # followed by body text of the topic, a subhead is more likely coverage than followed by teasers
    by_body, by_teasers = apply_gate(alone, head, gate, labels, body), apply_gate(alone, head, gate, labels, teasers)
    assert (by_body[:, 2] < by_teasers[:, 2]).all() and np.allclose(by_body.sum(axis=1), 1.0)
    assert by_body[0, 0] / by_body[0, 1] == pytest.approx(2.0)  # the topic ratios stay the paragraph's own
    # the next paragraph is the next text of the same document only
    assert following(["a", "b", "c", "d"], ["x", "x", "y", None]) == ["b", None, None, None]
    assert following(["a", "b"], None) == [None, None]


def test_asking_for_cuda_where_there_is_none_is_one_line_naming_the_fix(monkeypatch):
    """torch's own "Torch not compiled with CUDA enabled" came out as a traceback and 'a bug'."""
    import torch

    from vnzh_runtime.errors import UserError
    from vnzh_runtime.transformer import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match=r"device cuda \(--device, or spec.json's options.device\): no CUDA device here .*fix: --device cpu"):
        pick_device("cuda")
    assert pick_device("auto") == "cpu" and pick_device("cpu") == "cpu"


def test_a_sqlite_store_with_a_query_string_is_the_database_file_it_names(tmp_path, monkeypatch):
    """`sqlite:///m.db?timeout=60` is a store MLflow and training accept: loading from it looked for
    a file named `m.db?timeout=60` and said there was none."""
    from vnzh_runtime.stores import missing_files_fix, sqlite_path

    assert sqlite_path(f"sqlite:///{tmp_path}/m.db?timeout=60") == tmp_path / "m.db"
    assert "files are missing" in missing_files_fix("No such artifact: ''")
    assert "check the name and alias" in missing_files_fix("Registered Model with name=x not found")
