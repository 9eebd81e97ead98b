"""The shipped corpus passes its own check, and the check catches what it claims to."""

import json

from train.corpus import check, main, near_duplicates, same_shingles, shingles
from train.data import parse_record


def test_shipped_corpus_passes(capsys):
    assert main([]) == 0, capsys.readouterr().out


def rec(i, text, split):
    line = json.dumps({"id": f"r{i}", "lang": "vi", "labels": ["economy"], "text": text, "source": "authored", "split": split})
    return (f"f:{i}", parse_record(line, f"f:{i}"))


def test_near_duplicate_across_splits_is_an_error(tmp_path):
    base = "Kim ngạch thương mại giữa Việt Nam và Trung Quốc trong chín tháng đầu năm đạt 150 tỷ USD, tăng 20% so với cùng kỳ"
    close = base.replace("150", "162").replace("20%", "21%") + " năm ngoái."
    far = "Lực lượng biên phòng hai nước tuần tra chung trên tuyến biên giới đất liền và trao đổi thông tin về an ninh."
    pairs = near_duplicates([rec(1, base, "train"), rec(2, close, "test"), rec(3, far, "test")])
    assert [(a, b) for a, b, *_ in pairs] == [("f:1", "f:2")]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(r.to_json() for _, r in [rec(1, base, "train"), rec(2, close, "test"), rec(3, base, "dev")]),
                    encoding="utf-8")
    errors, _, _ = check([str(path)], {})
    assert any("across splits train/test" in e for e in errors)
    assert any("duplicate text" in e for e in errors)


def test_a_template_copied_fifty_times_with_other_numbers_is_still_a_leak():
    """Past 50 copies every shingle counted as boilerplate, and no pair was found at all."""
    template = "Kim ngạch xuất khẩu nông sản sang Trung Quốc tháng {} đạt {} tỷ USD, tăng {}% so với cùng kỳ năm trước"
    records = [rec(i, template.format(i % 12 + 1, i + 3, i % 40), "test" if i == 59 else "train") for i in range(60)]
    pairs = near_duplicates(records)
    assert ("f:0", "f:59", 1.0, 1.0) in pairs
    # a time stamp is the same as any other once its digits are collapsed: no template
    assert same_shingles([shingles("09:30 | 10/05/2024"), shingles("21:15 | 02/11/2023")]) == []


def test_an_article_in_two_splits_is_an_error_in_the_corpus_check_and_at_load(tmp_path):
    """Training read a test article's head from its test paragraphs alone, train.evaluate from its dev ones too."""
    import pytest

    from train.data import DataError, load_records

    texts = ["Việt Nam và Trung Quốc ký thỏa thuận mở rộng thương mại biên giới", "Hai bên nhất trí nâng cấp cửa khẩu",
             "Xe chở sầu riêng xếp hàng dài chờ thông quan tại Lạng Sơn"]
    lines = [{"id": f"a{i}", "lang": "vi", "labels": ["economy"], "text": text, "source": "authored", "split": split,
              "doc_id": "d1"} for i, (text, split) in enumerate(zip(texts, ["dev", "dev", "test"]))]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    errors, _, _ = check([str(path)], {})
    assert errors == [f"{path}:3: its article (doc_id 'd1') is a dev article at {path}:1, a test record here; keep "
                      "each article in one split"]
    # files that each number their articles from 1: two articles, as training reads them
    other = tmp_path / "day2.jsonl"
    other.write_text(json.dumps({**lines[2], "id": "b0", "split": "dev", "text": "Giá vàng hôm nay tăng mạnh trên thị trường thế giới"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    assert check([str(path), str(other)], {})[0] == errors
    with pytest.raises(DataError, match=f"{path}:3: its article \\(doc_id 'd1'\\) is a dev article at {path}:1, a test "
                                        "record here; keep each article in one split"):
        load_records([str(path)])


def test_the_labelling_guide_in_the_repository_is_the_shared_one():
    from pathlib import Path

    import pytest

    root = Path(__file__).resolve().parents[1]
    shared = root.parent / "shared" / "LABELS.md"
    if not shared.exists():
        pytest.skip("no ../shared/LABELS.md beside this checkout")
    assert (root / "data" / "LABELS.md").read_text(encoding="utf-8") == shared.read_text(encoding="utf-8")
