"""Named-country features: CLDR and ISO 3166 names chosen at training, matched over a batch at tagging."""

import functools

import numpy as np

from tests.test_runtime import corpus_texts
from train.countries import country_names, tokens_and_shapes
from vnzh_runtime.countries import vietnamese_syllable
from vnzh_runtime.countries import FEATURES
from vnzh_runtime.tfidf import Featurizer, append_columns


def featurizer_with(names, sides, vocabulary=("việt", "nam", "việt nam"), value=0.5, capitalised=(), blocked=()) -> Featurizer:
    countries = {"names": list(names), "sides": list(sides), "value": value, "capitalised": list(capitalised),
                 "blocked": list(blocked)}
    return Featurizer(list(vocabulary), np.ones(len(vocabulary)), (1, 2), True, countries=countries)


def featurizer_of(settings: dict) -> Featurizer:
    return featurizer_with(settings["names"], settings["sides"], capitalised=settings["capitalised"], blocked=settings["blocked"])


def third_named(featurizer: Featurizer, texts: list[str]) -> list[bool]:
    from scipy.sparse import csr_matrix

    indptr, indices, data = featurizer.transform(texts)
    dense = csr_matrix((data, indices, indptr), shape=(len(texts), featurizer.width)).toarray()
    return (dense[:, -len(FEATURES) + FEATURES.index("names_third")] > 0).tolist()


@functools.cache
def name_sets(names: tuple, sides: tuple):
    """The names by side, the one-word names, the tokens of names, and the longest name's length in tokens."""
    side_of = dict(zip(names, sides))
    one_word = {name for name in side_of if " " not in name}
    name_tokens = one_word | {token for name, side in side_of.items() if side != "third" or one_word & set(name.split(" "))
                              for token in name.split(" ")}
    return side_of, one_word, name_tokens, max(len(name.split(" ")) for name in side_of)


def reference_features(text: str, settings: dict, value: float) -> list[float]:
    """One text, by brute force: a lower-case `capitalised` name, a name beside a blocked neighbour
    and a one-syllable name beside a capitalised syllable of no name are no names; then every
    token span is looked up in the names."""
    names, one_word, name_tokens, longest = name_sets(tuple(settings["names"]), tuple(settings["sides"]))
    tokens, capital, syllable = tokens_and_shapes([text])
    tokens = tokens[:-1]
    blocked = {tuple(pair.split(" ")) for pair in settings["blocked"]}
    for i, token in enumerate(list(tokens)):
        near = [j for j in (i - 1, i + 1) if 0 <= j < len(tokens) and capital[j]]
        beside = {(tokens[j], token) if j < i else (token, tokens[j]) for j in near}
        in_longer = i > 0 and syllable[i - 1] and tokens[i - 1] not in name_tokens
        syllable_name = token in one_word and token in settings["capitalised"] and vietnamese_syllable(token)
        if (token in settings["capitalised"] and not capital[i] or token in one_word and beside & blocked
                or syllable_name and in_longer):
            tokens[i] = "\x00"
    spans = (" ".join(tokens[i:j]) for i in range(len(tokens))
             for j in range(i + 1, min(i + longest, len(tokens)) + 1))  # a longer span names nothing
    found = {names[span] for span in spans if span in names}
    china, vietnam, third = "china" in found, "vietnam" in found, "third" in found
    row = [china, vietnam, third, third and not china, third and not vietnam, china and vietnam, not found]
    return [value * flag for flag in row]


def test_cldr_names_give_both_sides_and_third_countries_in_three_languages_and_skip_common_words():
    settings = country_names(["Biện pháp mới", "các biện pháp", "Pháp và Đức"], [False] * 3)
    side = dict(zip(settings["names"], settings["sides"]))
    assert side["trung quốc"] == side["china"] == side["中 国"] == "china"
    assert side["việt nam"] == side["vietnam"] == side["越 南"] == "vietnam"
    assert side["hoa kỳ"] == side["timor leste"] == side["老 挝"] == side["laos"] == "third"
    assert side["pháp"] == "third" and "pháp" in settings["capitalised"]  # France only where written "Pháp"
    assert len(settings["names"]) > 500
    assert third_named(featurizer_of(settings), ["Các biện pháp mới của Việt Nam", "Pháp và Việt Nam ký thỏa thuận",
                                                 "PHÁP TĂNG ĐẦU TƯ", "Biện pháp"]) == [False, True, True, False]


def test_iso_translations_add_the_names_vietnamese_press_uses_but_cldr_lacks():
    """CLDR's Vietnamese name of the United States is "Hoa Kỳ"; the press mostly writes "Mỹ",
    also a common syllable ("thẩm mỹ", beauty): counted only where written capitalised."""
    settings = country_names(["Việt Nam và Mỹ", "Ý kiến", "ý nghĩa", "ý tưởng"], [False] * 4)
    side = dict(zip(settings["names"], settings["sides"]))
    assert side["mỹ"] == side["nam dương"] == side["老 挝"] == "third" and "寮 国" not in side and "mỹ" in settings["capitalised"]
    assert "islands" not in side and side["cocos islands"] == "third"  # "Cocos (Keeling) Islands": an aside, no alternative
    assert "ý" not in side  # Italy, in these translations only: above all "ý" (idea), which starts sentences ("Ý kiến")
    assert third_named(featurizer_of(settings), ["Việt Nam và Mỹ ký thỏa thuận", "Thẩm mỹ viện ở Hà Nội", "Ba Tư cổ đại",
                                                 "ba tư vấn viên"]) == [True, False, True, False]


def test_every_third_countrys_standard_spelling_is_found_as_written():
    """The capital rule reads how each standard spelling writes its tokens: "Quần đảo Solomon",
    "Bosnia and Herzegovina", "Trinidad và Tobago" and "Ả Rập Xê-út" hold lower-case tokens."""
    import re

    from train.countries import MAX_TOKENS, NOT_COUNTRIES, SIDE_OF, standard_names
    from vnzh_runtime.textnorm import feature_tokens

    settings = country_names(["Việt Nam"], [False])
    side = dict(zip(settings["names"], settings["sides"]))
    spellings = set()
    for code, name in standard_names():
        if code in NOT_COUNTRIES or code in SIDE_OF or not code.isalpha():
            continue
        for part in re.split(r"[()]", re.sub(r"\(.*?\)(?!\s*$)", " ", name.split(",")[0])):
            if side.get(" ".join(feature_tokens(part)[-MAX_TOKENS:])) == "third" and len(feature_tokens(part)) <= MAX_TOKENS:
                spellings.add(part.strip())
    assert len(spellings) > 500 and {"Quần đảo Solomon", "Bosnia and Herzegovina", "Mỹ"} <= spellings
    found = third_named(featurizer_of(settings), sorted(spellings))
    assert [spelling for spelling, hit in zip(sorted(spellings), found) if not hit] == []


def test_a_one_syllable_name_beside_a_capitalised_syllable_is_part_of_a_persons_or_places_name():
    """Vietnamese writes names syllable by syllable, each capitalised: "Mỹ", "Đức", "Nhật" are also
    the last syllables of people's and places' names. After a foreign word or another country's
    name, or before a capitalised word (mostly the next sentence), they are the country."""
    featurizer = featurizer_of(country_names(["Việt Nam và Mỹ"], [False]))
    longer = ["ngư dân Võ Văn Mỹ", "Chủ tịch nước Lê Đức Anh", "quận Thủ Đức", "Quảng Tây Nhật báo", "Chủ Nhật, 12/3"]
    country = ["Tổng thống Pháp Emmanuel Macron", "Ngoại trưởng Mỹ Marco Rubio", "quan hệ Việt – Mỹ", "đường sắt Trung – Lào",
               "Nga, Pháp", "Nhật Bản", "Liên Bang Nga", "Thủ tướng Campuchia Hun Manet", "Japan Times",
               "Việt Nam ký với Mỹ. Theo đó", "PHÁP TĂNG ĐẦU TƯ", "HỢP TÁC VỚI PHÁP", "Đại học Harvard (Mỹ)"]
    assert third_named(featurizer, longer + country) == [False] * len(longer) + [True] * len(country)


def test_a_name_beside_a_capitalised_neighbour_of_vn_china_stories_is_part_of_a_longer_name():
    """"Lào Cai" is a Vietnamese border province in VN–China coverage; "Lào" beside any other word,
    or beside a capitalised word that VN–China stories do not use with it, is Laos."""
    texts = ["Cửa khẩu Lào Cai đón xe hàng Trung Quốc"] * 3 + ["Lào Cai và Vân Nam hợp tác"] * 2 + \
            ["Việt Nam và Lào ký hiệp định", "Thủ tướng Lào Sonexay thăm Hà Nội", "Lào xây đập thủy điện", "Thời tiết"]
    settings = country_names(texts, [True] * 5 + [False] * 4)
    assert settings["blocked"] == ["lào cai"] and "lào" in settings["capitalised"]
    featurizer = featurizer_of(settings)
    assert third_named(featurizer, ["Tỉnh Lào Cai giáp Vân Nam", "Thủ tướng Lào Sonexay Siphandone", "Trung Quốc – Lào"]) == \
        [False, True, True]
    assert country_names(texts, [True] * 9)["blocked"] == []  # every "Lào" in VN–China stories: the name is dropped


def test_iso_names_add_the_spellings_cldr_lacks_without_their_qualifiers():
    """Vietnam's own English-language press writes "Viet Nam" (ISO 3166's name): spelled so, 23 of
    the English test paragraphs that name Vietnam changed their tag before these names were added."""
    settings = country_names(["Viet Nam and Korea"], [False])
    side = dict(zip(settings["names"], settings["sides"]))
    assert side["viet nam"] == "vietnam" and side["korea"] == "third"  # "Korea, Republic of"
    assert "dutch part" not in side and "people s democratic republic" not in side  # "Sint Maarten (Dutch part)", a long formal name


def test_batch_features_equal_each_texts_own_on_the_whole_corpus():
    texts = corpus_texts()
    labels = [i % 3 == 0 for i in range(len(texts[::2]))]  # some blocked neighbours, some names dropped
    settings = country_names(texts[::2], labels)
    assert settings["blocked"] and settings["capitalised"]
    featurizer = featurizer_of(settings)
    indptr, indices, data = featurizer.transform(texts)
    width = featurizer.width
    from scipy.sparse import csr_matrix

    got = csr_matrix((data, indices, indptr), shape=(len(texts), width)).toarray()[:, -len(FEATURES):]
    expected = np.array([reference_features(text, settings, 0.5) for text in texts])
    assert np.array_equal(got, expected)
    assert got[:, FEATURES.index("third_not_china")].sum() > 100  # the corpus's look-alikes are found


def test_a_country_the_training_text_never_names_is_still_a_third_country():
    featurizer = featurizer_of(country_names(["Kim ngạch thương mại Việt Nam - Trung Quốc"], [True]))
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
    """关岛 (Guam) in 有关岛礁 ("the islands and reefs concerned") of VN–China sea stories; "Hàn Quốc"
    seen in look-alikes stays. "Đức" in given names is no longer counted at all (a syllable after
    a capitalised syllable), so Germany stays a name."""
    texts = ["中越双方就有关岛礁问题举行磋商", "越方对有关岛礁的立场", "中国海警在有关岛礁附近巡逻",
             "Chủ tịch nước Trần Đức Lương tiếp Đại sứ Trung Quốc", "Việt Nam và Hàn Quốc ký hiệp định",
             "Hàn Quốc đầu tư vào Bắc Ninh", "Đoàn Hàn Quốc thăm Đà Nẵng"]
    settings = country_names(texts, [True] * 4 + [False] * 3)
    names, sides = settings["names"], settings["sides"]
    assert "关 岛" not in names and ("hàn quốc", "third") in zip(names, sides)
    assert ("trung quốc", "china") in zip(names, sides)  # the two sides are never dropped this way
    assert "关 岛" in country_names(texts, [False] * 7)["names"]
    assert "đức" in names and third_named(featurizer_of(settings), texts[3:4] + ["Đức và Việt Nam"]) == [False, True]


def test_a_country_named_beside_the_pair_in_some_vn_china_stories_stays_a_third_country():
    """The United States, Singapore, South Korea: named in 35-41 % of VN–China training paragraphs,
    against 58 % of paragraphs at large; dropped at half the base rate, a Vietnam–US story read as
    VN–China coverage."""
    texts = ["Biển Đông: Trung Quốc, Việt Nam và Singapore", "Singapore và Việt Nam ký hiệp định", "Singapore đầu tư",
             "Việt Nam - Trung Quốc hội đàm", "Hai nước Việt Nam, Trung Quốc", "Thời tiết"]
    settings = country_names(texts, [True, False, False, True, True, False])  # a third of "Singapore"'s, half at large
    assert ("singapore", "third") in zip(settings["names"], settings["sides"])


def test_a_name_is_counted_once_per_paragraph_in_the_share_of_vn_china_coverage():
    """Six "Singapore"s in one VN–China paragraph are one paragraph: 1 of 5 paragraphs naming it is
    VN–China coverage (0.2, under 3/4 of the base rate 0.5); counted by occurrence it would be 6 of 10."""
    texts = ["Singapore, Singapore, Singapore, Singapore, Singapore, Singapore và Việt Nam – Trung Quốc"] + \
            ["Việt Nam – Trung Quốc hội đàm"] * 3 + [f"Singapore đầu tư {i}" for i in range(4)]
    settings = country_names(texts, [True] * 4 + [False] * 4)
    assert ("singapore", "third") in zip(settings["names"], settings["sides"])


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
    with pytest.raises(ValueError, match="tokens of the names"):
        CountryNames(["hoa kỳ"], ["third"], 0.5, capitalised=["hoa kỳ"])
    for blocked in (["lào"], ["tỉnh lào cai"], ["biên giới"], "lào cai"):
        with pytest.raises(ValueError, match="blocked neighbours"):
            CountryNames(["lào"], ["third"], 0.5, blocked=blocked)
    with pytest.raises(ValueError, match="not in the token list"):  # a blocked neighbour needs an id too
        CountryNames(["lào"], ["third"], 0.5, blocked=["lào cai"]).bind(["lào"])


def test_on_the_shipped_corpus_lao_cai_is_blocked_and_laos_the_us_and_singapore_are_third_countries():
    """On the records the shipped model is fitted on (train + dev): "Lào" is in 49 % VN–China
    paragraphs, above the 3/4 limit (0.44), only because of Lào Cai; with that pair blocked Laos is a
    third country, as are "Mỹ" (the United States; 23 %), France and Germany (given names and
    places such as Trần Đức Lương blocked). "singapore" and "united states" sit at 0.39: the margins
    are thin (on train alone "united states" is at 0.444 and dropped), so a data round that moves
    a name across should be a decision, not an accident."""
    from pathlib import Path

    from train.samples import load_labelled

    root = Path(__file__).resolve().parents[1]
    records = [r for r in load_labelled([str(p) for p in sorted((root / "data/authored").glob("*.jsonl"))]) if r.split in ("train", "dev")]
    settings = country_names([r.text for r in records], [r.label != "other" for r in records])
    side = dict(zip(settings["names"], settings["sides"]))
    assert side["lào"] == side["mỹ"] == side["pháp"] == side["đức"] == "third"
    assert {"lào cai", "trần đức", "barque canada"} <= set(settings["blocked"])
    assert side["singapore"] == side["united states"] == side["hàn quốc"] == "third"
    texts = ["Tỉnh Lào Cai giáp Vân Nam", "Nguyên Chủ tịch nước Trần Đức Lương", "Việt Nam và Lào ký hiệp định",
             "Tổng thống Pháp thăm Hà Nội", "các biện pháp mới", "Hàng Việt xuất sang Mỹ", "mỹ phẩm Hàn Quốc"]
    assert third_named(featurizer_of(settings), texts) == [False, False, True, True, False, True, True]
