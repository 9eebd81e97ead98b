"""Hostile input: whatever is thrown at `serve tag`, the API, training or the model loader,
the answer is one record per input record, a 4xx, or one line saying why; never a
traceback, a lost record, a destroyed file or code run from a model directory."""

import csv
import json
import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from serve.__main__ import build_parser
from serve.__main__ import main as serve_main
from serve.files import tag_file
from vnzh_runtime.errors import UserError
from vnzh_runtime.predictor import Predictor
from vnzh_runtime.spec import FORMAT_VERSION, SPEC_FILE, read_spec

ROOT = Path(__file__).resolve().parents[1]
VI = "Kim ngạch thương mại Việt Nam - Trung Quốc đạt 200 tỷ USD"
ZH = "中越陆地边界联合委员会举行会议"
EN = "Vietnam and China agree to boost youth exchanges"
SUMMARY = re.compile(r"^tagged (\d+) of (\d+) records \((\d+) errors\) -> .+$")


def strict_json(line: str):
    """json.loads that refuses NaN / Infinity, which strict JSON readers (and other languages) reject."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(line, parse_constant=refuse)


def read_output(path: Path) -> list:
    """Output records; the file must be strict UTF-8 and every line strict JSON (split on \\n only:
    an id may hold U+2028, which str.splitlines would wrongly split on)."""
    text = path.read_bytes().decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [strict_json(line) for line in text.split("\n")[:-1]]


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def jsonl(row) -> bytes:
    return json.dumps(row, ensure_ascii=False).encode("utf-8")


# (raw line, expected): ("ok", id) is tagged with that id; ("error", id, words) is an error record.
HOSTILE = [
    (b"\xef\xbb\xbf" + jsonl({"id": "bom", "text": VI}), ("ok", "bom")),
    (b"{broken json", ("error", None, "not valid JSON")),
    (b'["not", "an", "object"]', ("error", None, "expected an object")),
    (b"null", ("error", None, "expected an object")),
    (b'"just a string"', ("error", None, "expected an object")),
    (b"42", ("error", None, "expected an object")),
    (jsonl({"id": "missing"}), ("error", "missing", "no 'text' field")),
    (jsonl({"id": "null-text", "text": None}), ("error", "null-text", "'text' is null")),
    (jsonl({"id": "empty", "text": ""}), ("error", "empty", "empty")),
    (jsonl({"id": "blank", "text": " \t\u3000 "}), ("error", "blank", "empty")),
    (jsonl({"id": "int-text", "text": 12}), ("error", "int-text", "must be a string")),
    (jsonl({"id": "list-text", "text": ["a"]}), ("error", "list-text", "must be a string")),
    (b'{"id": "bad-utf8", "text": "abc \xff def"}', ("error", "bad-utf8", "not UTF-8")),  # the id is kept
    (b"[" * 100_000 + b"]" * 100_000, ("error", None, "refuses")),
    (b'{"id": ' + b"9" * 5000 + b', "text": "x"}', ("error", None, "refuses")),
    (b'{"id": "\\ud800", "text": "' + ZH.encode() + b'"}', ("ok", "\ud800")),
    (b'{"id": NaN, "text": "' + EN.encode() + b'"}', ("ok", "nan")),
    (b'{"id": Infinity, "text": "' + EN.encode() + b'"}', ("ok", "inf")),
    (b'{"id": -Infinity, "text": "' + EN.encode() + b'"}', ("ok", "-inf")),
    (b'{"id": 1e999, "text": "' + EN.encode() + b'"}', ("ok", "inf")),
    (b'{"id": {"deep": [1, NaN]}, "text": "' + EN.encode() + b'"}', ("ok", '{"deep":[1,NaN]}')),  # an object id as its JSON text
    (b'{"id": "nan-doc", "doc_id": NaN, "text": "' + EN.encode() + b'"}', ("ok", "nan-doc")),
    (jsonl({"id": "u2028\u2028\x85x", "text": VI}), ("ok", "u2028\u2028\x85x")),
    (b'{"id": "lone-surrogate-text", "text": "abc \\udc00 ' + VI.encode() + b'"}', ("ok", "lone-surrogate-text")),
    (jsonl({"id": "nul", "text": "a\x00b " + ZH}), ("ok", "nul")),
    (b'{"id": "raw-control", "text": "a\x00b\tc"}', ("ok", "raw-control")),  # JSON wants \u0000 and \t: read as text
    (jsonl({"id": "crlf", "text": EN}) + b"\r", ("ok", "crlf")),
    # a line that is not JSON keeps the ids it shows before its text: its error joins back to the input
    (jsonl({"id": "extra"}) + b" trailing", ("error", "extra", "not valid JSON (Extra data at column 17)")),
    (b'{"id": "u", "text": "unterminated', ("error", "u", "(Unterminated string starting at column 21)")),  # not "at at"
    (jsonl({"id": True, "text": EN}), ("ok", True)),
    (jsonl({"id": 10**40, "text": EN}), ("ok", 10**40)),
    (jsonl({"id": "long", "text": (VI + " ") * 2000}), ("ok", "long")),
    # a key the reader reads, given twice, is refused (json would keep the last); another key is not read
    (b'{"id": "dup", "text": "a", "text": "' + VI.encode() + b'"}', ("error", "dup", 'key "text" is given twice')),
    # spelled with an escape, it is the same key to json
    (b'{"id": "esc", "text": "a", "t\\u0065xt": "' + EN.encode() + b'"}', ("error", "esc", 'key "text" is given twice')),
    (b'{"id": "dup-tag", "tag": 1, "tag": 2, "text": "' + EN.encode() + b' \\"text\\""}', ("ok", "dup-tag")),
    (jsonl({"id": "last", "text": ZH}), ("ok", "last")),  # written without a final newline
]


def check_rows(rows: list, expected: list, name: str) -> None:
    assert len(rows) == len(expected)
    for number, (row, want) in enumerate(zip(rows, expected), start=1):
        assert row["id"] == want[1], (number, row)
        if want[0] == "ok":
            assert "error" not in row and row["label"] and row["lang"], (number, row)
        else:
            assert row["error"].startswith(f"{name}:{number}: ") and want[2] in row["error"], (number, row)
            assert "label" not in row


def test_jsonl_every_bad_record_kind_gives_one_strict_json_record_in_order(tfidf_run, tfidf_predictor, tmp_path,
                                                                          capsys):
    src, out = tmp_path / "hostile.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\n".join(line for line, _ in HOSTILE))
    expected = [want for _, want in HOSTILE]
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(out),
                       "--batch-size", "3", "--workers", "2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    rows = read_output(out)
    check_rows(rows, expected, str(src))
    errors = sum(want[0] == "error" for want in expected)
    summary = SUMMARY.match(err.strip())
    assert summary and summary.groups() == (str(len(rows) - errors), str(len(rows)), str(errors)), err
    assert next(r for r in rows if r["id"] == "nan-doc")["doc_id"] == "nan"
    assert not list(tmp_path.glob("*.partial"))
    # One process, other batch sizes: the very same bytes.
    again = tmp_path / "again.jsonl"
    tag_file(tfidf_predictor, str(src), str(again), batch_size=1000, progress=False, workers=1)
    assert again.read_bytes() == out.read_bytes()
    # CSV output: the same records, one row each, still strict UTF-8.
    as_csv = tmp_path / "out.csv"
    tag_file(tfidf_predictor, str(src), str(as_csv), batch_size=7, progress=False)
    with open(as_csv, encoding="utf-8", errors="strict", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(HOSTILE)
    assert [bool(r["error"]) for r in table] == [want[0] == "error" for want in expected]
    object_id = next(r["id"] for r in table if r["id"].startswith("{"))
    assert json.loads(object_id.replace("NaN", "null")) == {"deep": [1, None]}  # JSON text, not a Python repr
    assert "true" in [r["id"] for r in table] and "True" not in [r["id"] for r in table]


def test_twenty_thousand_records_with_bad_ones_sprinkled(tfidf_run, tmp_path, capsys):
    bad = [b"{oops", b"[1, 2]", b'{"text": 3}', b'{"text": ""}', b'{"id": "x", "text": "\xc3("}',
           b"[" * 5000 + b"]" * 5000, b'{"id": ' + b"1" * 4400 + b"}"]
    texts = [VI, ZH, EN, "Hai nước ký kết 14 văn kiện hợp tác", "中越两党理论研讨会在河内举行"]
    lines, good = [], []
    for i in range(20_000):
        if i % 13 == 5:
            lines.append(bad[i % len(bad)])
            good.append(False)
        else:
            row = {"id": f"s{i}", "text": texts[i % len(texts)]}
            if i % 3 == 0:
                row["doc_id"] = f"d{i // 30}"
            lines.append(jsonl(row))
            good.append(True)
    src, out = tmp_path / "big.jsonl", tmp_path / "big.out.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(out),
                       "--batch-size", "256", "--workers", "2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    rows = read_output(out)
    assert len(rows) == 20_000
    for i, (row, ok) in enumerate(zip(rows, good)):
        if ok:
            assert row["id"] == f"s{i}" and "error" not in row, (i, row)
        else:
            assert row["error"].startswith(f"{src}:{i + 1}: "), (i, row)
    assert SUMMARY.match(err.strip()).groups() == (str(sum(good)), "20000", str(20_000 - sum(good)))


def test_csv_with_excel_bom_keeps_ids(tfidf_predictor, tmp_path):
    src = tmp_path / "excel.csv"
    src.write_bytes("\ufeffid,text\r\nA1,\"" .encode() + VI.encode() + b'"\r\nA2,' + ZH.encode() + b"\r\n")
    for out in (tmp_path / "excel.jsonl", tmp_path / "excel.out.csv"):
        stats = tag_file(tfidf_predictor, str(src), str(out), progress=False)
        assert stats.records == 2 and stats.errors == 0
    rows = read_output(tmp_path / "excel.jsonl")
    assert [r["id"] for r in rows] == ["A1", "A2"] and [r["lang"] for r in rows] == ["vi", "zh"]
    assert (tmp_path / "excel.out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("A1,")


def test_csv_unclosed_quote_is_an_error_record_not_silently_swallowed(tfidf_predictor, tmp_path):
    src, out = tmp_path / "quote.csv", tmp_path / "quote.jsonl"
    src.write_text(f'id,text\n1,{VI}\n2,"unclosed {EN}\n3,{ZH}\n4,{EN}\n', encoding="utf-8")
    stats = tag_file(tfidf_predictor, str(src), str(out), progress=False)
    rows = read_output(out)
    # The unclosed quote would swallow the rest of the file into one field: its row is an error record
    # that names the line and the fix, and reading goes on from the next line, so no row is lost.
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"] and stats.records == 4 and stats.errors == 1
    assert "error" not in rows[0] and "error" not in rows[2] and "error" not in rows[3]
    assert rows[1]["error"].startswith(f"{src}:3: CSV error") and "quote" in rows[1]["error"]


def test_csv_invalid_utf8_row_is_an_error_record(tfidf_predictor, tmp_path):
    src, out = tmp_path / "latin.csv", tmp_path / "latin.jsonl"
    src.write_bytes(b"id,text\n1," + EN.encode() + b"\n2,caf\xe9 Trung Qu\xf4c\n3," + ZH.encode() + b"\n")
    tag_file(tfidf_predictor, str(src), str(out), progress=False)
    rows = read_output(out)
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert "error" not in rows[0] and "error" not in rows[2]
    assert rows[1]["error"].startswith(f"{src}:3: not UTF-8")


def test_raw_article_with_invalid_utf8_line(tfidf_predictor, tmp_path):
    src, out = tmp_path / "bai.txt", tmp_path / "bai.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + "Tiêu đề bài báo\n\n".encode() + VI.encode() + b"\nD\xf2ng h\xe2ng\n  \n"
                    + ZH.encode() + b"\n")
    stats = tag_file(tfidf_predictor, str(src), str(out), progress=False)
    rows = read_output(out)
    assert [r["id"] for r in rows] == ["bai:1", "bai:3", "bai:4", "bai:6"]
    assert stats.records == 4 and stats.errors == 1
    assert rows[2]["error"].startswith(f"{src}:4: not UTF-8") and "label" not in rows[2]
    assert all("error" not in r and r["label"] for i, r in enumerate(rows) if i != 2)
    assert {r["doc_id"] for r in rows} == {"bai"}


def tag_cli(model, src, out, capsys):
    code = serve_main(["tag", "--model", str(model), "--input", str(src), "--output", str(out), "--quiet"])
    return code, capsys.readouterr().err


def test_output_equal_to_input_is_refused(tfidf_run, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    content = jsonl({"id": "a", "text": VI}) + b"\n"
    src.write_bytes(content)
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    for same in (src, tmp_path / "sub" / ".." / "in.jsonl", link):
        code, err = tag_cli(tfidf_run.output_dir, src, same, capsys)
        assert code == 2 and "is the input file" in one_line_error(err)
        assert src.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "link.jsonl", "sub"]


def test_existing_output_untouched_when_input_is_unreadable(tfidf_run, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"precious\n")
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("body\nhello\n", encoding="utf-8")
    for bad in (tmp_path / "missing.jsonl", tmp_path, nocol):
        code, err = tag_cli(tfidf_run.output_dir, bad, out, capsys)
        one_line_error(err)
        assert code == 2 and out.read_bytes() == b"precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nocol.csv", "out.jsonl"]  # no .partial left behind


def test_output_directory_missing_or_a_directory(tfidf_run, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl({"text": VI}) + b"\n")
    code, err = tag_cli(tfidf_run.output_dir, src, tmp_path / "nowhere" / "out.jsonl", capsys)
    assert code == 2 and "does not exist" in one_line_error(err)
    assert not (tmp_path / "nowhere").exists()
    code, err = tag_cli(tfidf_run.output_dir, src, tmp_path, capsys)
    assert code == 2 and "is a directory" in one_line_error(err)
    code, err = tag_cli(tfidf_run.output_dir, src, f"{tmp_path / 'results'}/", capsys)  # a folder yet to be made
    assert code == 2 and "ends in a slash, so names a folder" in one_line_error(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize("argv", [
    ["tag", "--batch-size", "0"],
    ["tag", "--workers", "0"],
    ["tag", "--threshold", "5"],
    ["tag", "--threshold", "nan"],
    ["tag", "--threshold", "-inf"],
    ["api", "--port", "0"],
    ["api", "--port", "70000"],
    ["api", "--workers", "0"],
])
def test_bad_numbers_are_rejected_by_argparse(argv, capsys):
    required = ["--input", "in.jsonl", "--output", "out.jsonl"] if argv[0] == "tag" else []
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([argv[0], "--model", "m", *required, *argv[1:]])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_option_given_twice_is_refused_not_replaced(tmp_path, capsys):
    """`--input a.jsonl --input b.jsonl` tagged b alone: a's records had no output and nothing said so."""
    first, second, out = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "out.jsonl"
    for path in (first, second):
        path.write_text('{"text": "Hai nước ký kết"}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        serve_main(["tag", "--model", "m", "--input", str(first), "--input", str(second), "--output", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and not out.exists()
    assert f"argument --input: given twice ('{first}', then '{second}'); give it once (tag each file" in err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["api", "--model", "m", "--port", "8001", "--port=8002"])
    assert "argument --port: given twice (8001, then 8002); give it once (see" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a batch is held in memory whole: 100,000,000 took 5 GB
        build_parser().parse_args(["tag", "--model", "m", "--input", "a", "--output", "b", "--batch-size", "100001"])
    assert "--batch-size: 100001 is over 100,000: a batch is held in memory whole" in capsys.readouterr().err
    assert build_parser().parse_args(["tag", "--model", "m", "--input", "a", "--output", "b", "--threshold", "AUTO"]).threshold == "auto"


# --- training output directories -----------------------------------------------------------------

def small_corpus(path: Path) -> Path:
    texts = {"economy": [VI, "Xuất khẩu sầu riêng sang Trung Quốc tăng mạnh", "中越贸易额创新高"],
             "border_sea": [ZH, "Tàu cá Quảng Ngãi bị xua đuổi gần Hoàng Sa", "中越海警开展北部湾联合巡逻"],
             "people_to_people": [EN, "Giao lưu thanh niên Việt - Trung tại Lào Cai", "中越青年友好交流活动"],
             "science_tech": ["Hợp tác khoa học công nghệ Việt - Trung", "中越科技合作委员会会议", "Vietnam, China sign AI research pact"],
             "party_relations": ["Hai Đảng Cộng sản Việt Nam - Trung Quốc hội đàm", "中越两党理论研讨会在河内举行",
                                 "Communist parties of Vietnam and China hold talks"],
             "other": ["Giá vàng hôm nay tăng nhẹ", "今日天气晴朗", "Stock markets in Europe fell on Monday"]}
    rows = []
    for label, items in texts.items():
        for j, text in enumerate(items):
            lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else ("en" if text.isascii() else "vi")
            rows.append({"id": f"{label}-{j}", "lang": lang, "labels": [label], "text": text, "source": "authored",
                         "split": "dev" if j == 2 else "train"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_training_never_replaces_what_it_did_not_write(tfidf_run, tmp_path, monkeypatch, capsys):
    from train.__main__ import main as train_main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    data = small_corpus(tmp_path / "small.jsonl")
    base = ["--config", "configs/tfidf.yaml", "--set", f"data.files=[{data}]", "--set", "mlflow.log_model=false",
            "--set", "mlflow.experiment=hostile"]

    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.md").write_text("years of work", encoding="utf-8")
    for overwrite in ([], ["--overwrite"]):
        assert train_main([*base, "--set", f"output_dir={precious}", *overwrite]) == 2
        assert "not a model directory" in one_line_error(capsys.readouterr().err)
        assert [p.name for p in precious.iterdir()] == ["chapter1.md"]
        assert (precious / "chapter1.md").read_text(encoding="utf-8") == "years of work"

    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep", encoding="utf-8")
    assert train_main([*base, "--set", f"output_dir={a_file}"]) == 2
    assert "is a file" in one_line_error(capsys.readouterr().err) and a_file.read_text(encoding="utf-8") == "keep"

    model = tmp_path / "model"
    shutil.copytree(tfidf_run.output_dir, model)
    spec_before = (model / SPEC_FILE).read_bytes()
    assert train_main([*base, "--set", f"output_dir={model}"]) == 2
    said = one_line_error(capsys.readouterr().err)  # both fixes work for an output_dir given outright
    assert "pass --overwrite to replace it, or --set output_dir=<a new directory>" in said
    assert (model / SPEC_FILE).read_bytes() == spec_before
    own_data = model / "train_sample.jsonl"  # a user's file in the model directory, even the run's own data
    shutil.copy(data, own_data)
    (model / "NOTES.md").write_text("why this model", encoding="utf-8")
    assert train_main([*base, "--set", f"data.files=[{own_data}]", "--set", f"output_dir={model}", "--overwrite"]) == 2
    said = one_line_error(capsys.readouterr().err)
    assert "holds NOTES.md, train_sample.jsonl, which training did not write" in said and "move them out" in said
    assert (model / "NOTES.md").read_text(encoding="utf-8") == "why this model" and own_data.exists()
    assert (model / SPEC_FILE).read_bytes() == spec_before
    (model / "NOTES.md").unlink()
    own_data.unlink()
    (model / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # a file browser's: no one's work, replaced with the rest
    assert train_main([*base, "--set", f"output_dir={model}", "--overwrite"]) == 0
    assert json.loads((model / "meta.json").read_text(encoding="utf-8"))["train_size"] == 18  # the small corpus, train + dev (refit_on_dev)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".model.")]  # no staging or old copy left
    assert stat.S_IMODE(model.stat().st_mode) == 0o777 & ~current_umask()  # not mkdtemp's 0700
    capsys.readouterr()
    for nested in (model / "model" / "nested", model / "elsewhere"):  # an unlisted file would make `model` unloadable
        assert train_main([*base, "--set", f"output_dir={nested}", "--overwrite"]) == 2
        assert f"inside the model directory {model}" in one_line_error(capsys.readouterr().err)
        assert not nested.exists()
    Predictor.load(model)


def test_scratch_left_by_a_killed_training_is_named_not_removed(tmp_path, monkeypatch, capsys):
    from train.__main__ import main as train_main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    data = small_corpus(tmp_path / "small.jsonl")
    stale = tmp_path / ".m.partial-k1ll3d"  # what SIGKILL leaves: no handler runs to remove it
    stale.mkdir()
    assert train_main(["--config", "configs/tfidf.yaml", "--set", f"data.files=[{data}]", "--set", "mlflow.log_model=false",
                       "--set", f"output_dir={tmp_path / 'm'}"]) == 0
    err = capsys.readouterr().err
    assert "note: 1 scratch directory of an interrupted training beside" in err and ".m.partial-k1ll3d" in err
    assert stale.is_dir()  # another training may be using it


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])  # SIGHUP: the terminal or ssh session closed
def test_sigterm_and_sighup_stop_a_command_like_ctrl_c_so_its_clean_up_runs(name):
    import os
    import signal

    from vnzh_runtime.errors import run_cli

    number = getattr(signal, name)
    cleaned = []

    def job():
        try:
            os.kill(os.getpid(), number)
            time.sleep(5)
        finally:
            cleaned.append(True)

    before = signal.getsignal(number)
    assert run_cli(job) == 130 and cleaned == [True]
    assert signal.getsignal(number) == before  # put back: main() may run in-process


def test_a_signal_the_caller_ignores_stays_ignored():
    """`nohup` ignores SIGHUP so that a run outlives its terminal: run_cli must not undo that."""
    import os
    import signal

    from vnzh_runtime.errors import run_cli

    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        assert run_cli(lambda: (os.kill(os.getpid(), signal.SIGHUP), time.sleep(0.2))) == 0
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.parametrize("stop_in", ["tuning", "refit"])
def test_interrupted_training_leaves_the_earlier_model_or_the_new_one_whole(tfidf_run, tmp_path, monkeypatch, stop_in,
                                                                            capsys):
    import train.run as run_module
    from train.__main__ import main as train_main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    model = tmp_path / "model"
    shutil.copytree(tfidf_run.output_dir, model)
    before = {p.name: p.read_bytes() for p in model.rglob("*") if p.is_file()}
    if stop_in == "tuning":  # Ctrl-C (or SIGTERM, see above) while the train-only model is tuned beside the target
        monkeypatch.setattr(run_module, "fit_gate", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    else:  # ... or just after the refitted model has been moved into place
        tune, tuned = run_module.tune_on_dev, []
        monkeypatch.setattr(run_module, "tune_on_dev", lambda *a: tuned.append(tune(*a)[1]) or tune(*a))
        load = run_module.Predictor.load
        monkeypatch.setattr(run_module.Predictor, "load", lambda d, *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
                            if Path(d) == model else load(d, *a, **k))
    overrides = [f"output_dir={model}", f"data.files=[{small_corpus(tmp_path / 's.jsonl')}]", "mlflow.log_model=false",
                 "mlflow.experiment=hostile"]
    assert train_main(["--config", "configs/tfidf.yaml", "--overwrite", *(f for o in overrides for f in ("--set", o))]) == 130
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model.")] == []  # no tuning or staging left
    spec = read_spec(model)
    said = capsys.readouterr().err.strip().splitlines()[-1]  # one line that says which model the directory holds
    if stop_in == "tuning":
        assert said == f"error: interrupted; {model} still holds the previous model, untouched"
        assert {p.name: p.read_bytes() for p in model.rglob("*") if p.is_file()} == before
    else:  # the new model, already carrying the settings tuned on dev
        assert said.startswith(f"error: interrupted after the new model was saved in {model}; its evaluation")
        assert spec["fitted_on"] == ["train", "dev"] and json.loads((model / "meta.json").read_text())["train_size"] == 18
        assert {k: spec[k] for k in tuned[0]} == tuned[0] and set(tuned[0]) >= {"context", "threshold"}


def test_an_interrupted_training_with_no_model_yet_says_none_was_saved(tmp_path):
    from train.modeldir import interrupted_note

    assert interrupted_note(str(tmp_path / "new"), time.time()) == f"interrupted; no model was saved in {tmp_path / 'new'}"


# --- untrusted model directories -----------------------------------------------------------------

class Touch:
    """A pickle that creates `path` when it is unpickled (what a hostile model file would do)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.fixture
def crafted(tfidf_run, tmp_path):
    directory = tmp_path / "model"
    shutil.copytree(tfidf_run.output_dir, directory)
    return directory


def load(directory):
    import vnzh_runtime

    return vnzh_runtime.load(directory)


def test_payload_would_fire_if_unpickled(tmp_path):
    """The crafted pickles below are live: unpickling one does create its marker."""
    pickle.loads(pickle.dumps(Touch(tmp_path / "fired")))
    assert (tmp_path / "fired").exists()
    np.savez(tmp_path / "obj.npz", idf=np.array([Touch(tmp_path / "fired2")], dtype=object))
    with np.load(tmp_path / "obj.npz", allow_pickle=True) as arrays:
        arrays["idf"]
    assert (tmp_path / "fired2").exists()


def test_one_changed_byte_in_the_weights_is_refused(crafted):
    weights = crafted / "model" / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(UserError, match="sha256"):
        load(crafted)


def test_an_unlisted_pickle_is_refused_and_never_unpickled(crafted, tmp_path):
    marker = tmp_path / "pwned"
    (crafted / "model" / "pipeline.joblib").write_bytes(pickle.dumps(Touch(marker)))
    with pytest.raises(UserError, match="not listed") as err:
        load(crafted)
    assert "pipeline.joblib" in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()

    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl({"text": VI}) + b"\n")
    out = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "serve", "tag", "--model", str(crafted), "--input", str(src),
                           "--output", str(out), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "not listed" in one_line_error(done.stderr)
    assert not marker.exists() and not out.exists()


def test_a_pickled_npz_with_matching_digest_is_refused(crafted, tmp_path):
    from vnzh_runtime.spec import file_digests

    marker = tmp_path / "pwned"
    weights = crafted / "model" / "weights.npz"
    with np.load(weights) as arrays:
        original = {name: arrays[name] for name in arrays.files}
    np.savez(weights, **{**original, "idf": np.array([Touch(marker)], dtype=object)})
    spec = json.loads((crafted / SPEC_FILE).read_text(encoding="utf-8"))
    spec["files"] = file_digests(crafted)  # the attacker recomputes the digest: the sha256 check passes
    (crafted / SPEC_FILE).write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(UserError, match="cannot read the weights") as err:
        load(crafted)
    assert "\n" not in str(err.value)
    assert not marker.exists()


def test_a_future_format_version_is_one_line_naming_the_supported_one(crafted):
    spec = json.loads((crafted / SPEC_FILE).read_text(encoding="utf-8"))
    (crafted / SPEC_FILE).write_text(json.dumps({**spec, "format_version": 99}), encoding="utf-8")
    with pytest.raises(UserError) as err:
        load(crafted)
    message = str(err.value)
    assert "\n" not in message and "99" in message and f"format {FORMAT_VERSION}" in message


# --- HTTP API ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tfidf_predictor):
    from fastapi.testclient import TestClient

    from serve.api import create_app

    with TestClient(create_app(tfidf_predictor)) as client:
        yield client


@pytest.mark.parametrize("threshold", [-1, 2, True, "high", [0.5], 1.0000001])
@pytest.mark.parametrize("path, body", [("/tag", {"texts": [VI]}), ("/tag/article", {"text": VI})])
def test_api_bad_thresholds_are_422(client, path, body, threshold):
    assert client.post(path, json={**body, "threshold": threshold}).status_code == 422


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_api_nan_threshold_in_raw_body_is_422(client, constant):
    response = client.post("/tag", content=b'{"texts":["a"],"threshold":' + constant + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize("path, body, key", [
    ("/tag", '{"texts": ["a"], "texts": ["Biên giới Việt - Trung"]}', "texts"),
    ("/tag", '{"texts": ["a"], "threshold": 0.2, "threshold": 0.9}', "threshold"),
    ("/tag/article", '{"text": "a", "text": "中越边境"}', "text"),
    ("/tag/article", '{"text": "a", "t\\u0065xt": "中越边境"}', "text"),
])
def test_api_a_body_key_given_twice_is_422_not_the_last_silently(client, path, body, key):
    response = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == f"{key}: given twice in the body, and only the last would count; give it once"
    # a text that holds a key's quoted name is no key
    quoted = client.post("/tag", json={"texts": ['the "texts" key', "texts"]})
    assert quoted.status_code == 200 and len(quoted.json()["results"]) == 2


@pytest.mark.parametrize("body", [
    json.dumps({"texts": "x" * 2_000_000}),
    json.dumps({"texts": [1] * 100_000}),
    json.dumps({"texts": ["a"], "extra": "y" * 2_000_000}),
    '{"texts": ["' + "z" * 2_000_000,  # not even JSON
], ids=["texts-a-string", "100k-ints", "extra-key", "not-json"])
def test_api_huge_invalid_body_is_not_echoed(client, body):
    response = client.post("/tag", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert len(response.content) < 5_000


@pytest.mark.parametrize("texts", [[""], ["   "], [VI, "\n\t"]])
def test_api_empty_text_is_422(client, texts):
    response = client.post("/tag", json={"texts": texts})
    assert response.status_code == 422 and "empty" in response.text


def test_closed_standard_streams_and_an_empty_or_foreign_output_name_are_one_line(tfidf_run, tmp_path):
    model, src = str(tfidf_run.output_dir), tmp_path / "in.jsonl"
    src.write_text(jsonl({"id": 1, "text": VI}).decode() + "\n", encoding="utf-8")
    tag = f"{sys.executable} -m serve tag --model {model} --quiet"
    cases = {f"{tag} --input - --output {tmp_path / 'o.jsonl'} <&-": "--input -: standard input is closed",
             f"{tag} --input {src} --output - >&-": "--output -: standard output is closed",
             f"{tag} --input {src} --output ''": "--output is empty",
             f"{tag} --input {src} --output {tmp_path / 'o.parquet'}": "serve tag writes JSON Lines, CSV or TSV, not .parquet",
             f"{sys.executable} -m train.evaluate --model {model} --data - <&-": "--data -: standard input is closed"}
    for command, says in cases.items():
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=os.getcwd())
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, (command, done.stderr)
    assert not (tmp_path / "o.parquet").exists()
    # standard error closed: the run completes and says so by its exit code alone (it was 1, the summary line failing)
    done = subprocess.run(["bash", "-c", f"{tag} --input {src} --output {tmp_path / 'quiet.jsonl'} 2>&-"], cwd=os.getcwd())
    assert done.returncode == 0 and len((tmp_path / "quiet.jsonl").read_text(encoding="utf-8").splitlines()) == 1
