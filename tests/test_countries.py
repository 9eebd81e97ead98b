"""Named-country features: CLDR and ISO 3166 names chosen at training, matched over a batch at tagging."""

import numpy as np

from tests.test_runtime import corpus_texts
from train.countries import country_names
from vnzh_runtime.countries import FEATURES
from vnzh_runtime.textnorm import feature_tokens
from vnzh_runtime.tfidf import Featurizer, append_columns


def featurizer_with(names, sides, vocabulary=("việt", "nam", "việt nam"), value=0.5) -> Featurizer:
    countries = {"names": list(names), "sides": list(sides), "value": value}
    return Featurizer(list(vocabulary), np.ones(len(vocabulary)), (1, 2), True, countries=countries)


def reference_features(text: str, names: dict[str, str], value: float) -> list[float]:
    """One text, by brute force: every token span looked up in the names."""
    tokens = feature_tokens(text)
    found = {names[" ".join(tokens[i:j])] for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)
             if " ".join(tokens[i:j]) in names}
    china, vietnam, third = "china" in found, "vietnam" in found, "third" in found
    row = [china, vietnam, third, third and not china, third and not vietnam, china and vietnam, not found]
    return [value * flag for flag in row]


def test_cldr_names_give_both_sides_and_third_countries_in_three_languages_and_skip_common_words():
    names, sides = country_names(["Biện pháp mới", "các biện pháp", "Pháp và Đức"], [False] * 3)
    side = dict(zip(names, sides))
    assert side["trung quốc"] == side["china"] == side["中 国"] == "china"
    assert side["việt nam"] == side["vietnam"] == side["越 南"] == "vietnam"
    assert side["hoa kỳ"] == side["timor leste"] == side["老 挝"] == side["laos"] == "third"
    assert "pháp" not in side  # mostly "biện pháp" (measure) in this text, not France
    assert len(names) > 500


def test_iso_names_add_the_spellings_cldr_lacks_without_their_qualifiers():
    """Vietnam's own English-language press writes "Viet Nam" (ISO 3166's name): spelled so, 23 of
    the English test paragraphs that name Vietnam changed their tag before these names were added."""
    side = dict(zip(*country_names(["Viet Nam and Korea"], [False])))
    assert side["viet nam"] == "vietnam" and side["korea"] == "third"  # "Korea, Republic of"
    assert "dutch part" not in side and "people s democratic republic" not in side  # "Sint Maarten (Dutch part)", a long formal name


def test_batch_features_equal_each_texts_own_on_the_whole_corpus():
    texts = corpus_texts()
    names, sides = country_names(texts[::2], [False] * len(texts[::2]))  # no labels here: every name kept
    featurizer = featurizer_with(names, sides)
    indptr, indices, data = featurizer.transform(texts)
    width = featurizer.width
    from scipy.sparse import csr_matrix

    got = csr_matrix((data, indices, indptr), shape=(len(texts), width)).toarray()[:, -len(FEATURES):]
    side = dict(zip(names, sides))
    expected = np.array([reference_features(text, side, 0.5) for text in texts])
    assert np.array_equal(got, expected)
    assert got[:, FEATURES.index("third_not_china")].sum() > 100  # the corpus's look-alikes are found


def test_a_country_the_training_text_never_names_is_still_a_third_country():
    names, sides = country_names(["Kim ngạch thương mại Việt Nam - Trung Quốc"], [True])
    featurizer = featurizer_with(names, sides)
    indptr, indices, data = featurizer.transform(["Việt Nam và Timor-Leste thúc đẩy quan hệ hữu nghị", "Giá vàng"])
    first = dict(zip(indices[indptr[0]:indptr[1]].tolist(), data[indptr[0]:indptr[1]].tolist()))
    columns = {FEATURES[c - 3]: v for c, v in first.items() if c >= 3}
    assert columns == {"names_vietnam": 0.5, "names_third": 0.5, "third_not_china": 0.5}
    assert indices[indptr[1]:indptr[2]].tolist() == [3 + FEATURES.index("names_none")]


def test_append_columns_equals_scipy_hstack_with_empty_rows_anywhere():
    from scipy.sparse import csr_matrix, hstack

    rng = np.random.default_rng(3)
    left = rng.random((7, 5)) * (rng.random((7, 5)) > 0.5)
    left[[0, 4]] = 0.0
    right = (rng.random((7, 3)) > 0.6) * 0.5
    right[[1, 4]] = 0.0
    sparse = csr_matrix(left)
    indptr, indices, data = append_columns((sparse.indptr, sparse.indices, sparse.data), right, 5)
    got = csr_matrix((data, indices, indptr), shape=(7, 8)).toarray()
    assert np.array_equal(got, hstack([csr_matrix(left), csr_matrix(right)]).toarray())


def test_a_third_countrys_name_found_mostly_in_vn_china_paragraphs_is_not_used():
    """"Đức" in given names of VN–China stories, not Germany; "Hàn Quốc" seen in look-alikes stays."""
    texts = ["Chủ tịch nước Trần Đức Lương tiếp Đại sứ Trung Quốc", "Ông Nguyễn Minh Đức làm việc với phía Trung Quốc",
             "TS Hoàng Đức nói về hợp tác Việt - Trung", "Việt Nam và Hàn Quốc ký hiệp định", "Hàn Quốc đầu tư vào Bắc Ninh",
             "Đoàn Hàn Quốc thăm Đà Nẵng"]
    names, sides = country_names(texts, [True, True, True, False, False, False])
    assert "đức" not in names and ("hàn quốc", "third") in zip(names, sides)
    assert ("trung quốc", "china") in zip(names, sides)  # the two sides are never dropped this way
    names, _ = country_names(texts, [False] * 6)
    assert "đức" in names


def test_a_country_named_beside_the_pair_in_some_vn_china_stories_stays_a_third_country():
    """The United States, Singapore, South Korea: named in 35-41 % of VN–China training paragraphs,
    against 58 % of paragraphs at large; dropped at half the base rate, a Vietnam–US story read as
    VN–China coverage."""
    texts = ["Biển Đông: Trung Quốc, Việt Nam và Singapore", "Singapore và Việt Nam ký hiệp định", "Singapore đầu tư",
             "Việt Nam - Trung Quốc hội đàm", "Hai nước Việt Nam, Trung Quốc", "Thời tiết"]
    names, sides = country_names(texts, [True, False, False, True, True, False])  # a third of "Singapore"'s, half at large
    assert ("singapore", "third") in zip(names, sides)


def test_garbled_country_settings_are_refused_with_a_reason():
    import pytest

    for names, sides, value in [([1], ["third"], 0.5), (["x"], ["elsewhere"], 0.5), (["x"], [], 0.5),
                                (["x"], ["third"], float("nan")), (["x"], ["third"], -1.0), (["x"], ["third"], True)]:
        with pytest.raises(ValueError):
            featurizer_with(names, sides, value=value)
    from vnzh_runtime.countries import CountryNames, check_settings

    with pytest.raises(ValueError, match="list of non-empty strings"):
        check_settings("hoa kỳ", ["third"], 0.5)
    with pytest.raises(ValueError, match="not in the token list"):
        CountryNames(["hoa kỳ"], ["third"], 0.5).bind(["việt", "nam"])


def test_on_the_shipped_corpus_lao_cai_is_no_third_country_and_the_us_and_singapore_are():
    """On the records the shipped model is fitted on (train + dev), the 3/4 limit (0.44) sits between
    them: VN–China shares 0.49 for "lào", 0.39 for "singapore" and "united states". The margins are
    thin (on train alone "united states" is at 0.444 and dropped): a data round that moves a name
    across should be a decision, not an accident."""
    from pathlib import Path

    from train.evaluate import load_labelled

    root = Path(__file__).resolve().parents[1]
    records = [r for r in load_labelled([str(p) for p in sorted((root / "data/authored").glob("*.jsonl"))]) if r.split in ("train", "dev")]
    side = dict(zip(*country_names([r.text for r in records], [r.label != "other" for r in records])))
    assert "lào" not in side and "đức" not in side
    assert side["singapore"] == side["united states"] == side["hàn quốc"] == "third"
