"""The shipped corpus passes its own check, and the check catches what it claims to."""

import json

from train.corpus import check, main, near_duplicates
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


def test_the_labelling_guide_in_the_repository_is_the_shared_one():
    from pathlib import Path

    import pytest

    root = Path(__file__).resolve().parents[1]
    shared = root.parent / "shared" / "LABELS.md"
    if not shared.exists():
        pytest.skip("no ../shared/LABELS.md beside this checkout")
    assert (root / "data" / "LABELS.md").read_text(encoding="utf-8") == shared.read_text(encoding="utf-8")
