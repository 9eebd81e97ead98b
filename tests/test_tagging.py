"""`serve tag`: every input record gives one output record, in order; bad records carry an error."""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from serve.__main__ import main as serve_main
from serve.files import tag_file
from serve.readers import article_paragraphs
from vnzh_runtime.predictor import Predictor, shown_scores

LINES = [
    json.dumps({"id": "a", "text": "Kim ngạch thương mại Việt Nam - Trung Quốc đạt 200 tỷ USD"}, ensure_ascii=False),
    "{broken json",
    json.dumps({"id": 7}),
    json.dumps({"id": "n", "text": 12}),
    json.dumps(["not", "an", "object"]),
    "",
    json.dumps({"text": "中越陆地边界联合委员会举行会议"}, ensure_ascii=False),
    json.dumps({"id": "e", "text": "   "}),
]


def test_jsonl_one_output_per_record_in_order(tfidf_predictor, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    stats = tag_file(tfidf_predictor, str(src), str(out), batch_size=2, progress=False)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == stats.records == 7 and stats.errors == 5
    assert [r["id"] for r in rows] == ["a", None, 7, "n", None, None, "e"]
    assert rows[0]["lang"] == "vi" and rows[0]["label"] in tfidf_predictor.labels
    assert set(rows[0]["scores"]) == set(tfidf_predictor.labels)
    assert rows[5]["lang"] == "zh" and "error" not in rows[5]
    assert f"{src}:2: not valid JSON" in rows[1]["error"]
    assert "no 'text' field" in rows[2]["error"] and "must be a string" in rows[3]["error"]
    assert "expected an object" in rows[4]["error"] and "empty" in rows[6]["error"]


def test_same_results_whatever_the_batch_size_and_workers(tfidf_predictor, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(LINES * 5), encoding="utf-8")
    outputs = []
    for size, workers in ((1, 1), (3, 1), (512, 1), (2, 2)):
        out = tmp_path / f"out{size}-{workers}.jsonl"
        tag_file(tfidf_predictor, str(src), str(out), batch_size=size, progress=False, workers=workers)
        outputs.append(out.read_text(encoding="utf-8"))
    assert len(outputs[0].splitlines()) == 35
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3]


ARTICLE = [  # three substantive paragraphs make the head before the subhead, which ends a batch of 4
    {"id": 1, "doc_id": "a", "text": "Việt Nam và Trung Quốc nhất trí đưa kim ngạch thương mại song phương vượt 200 tỷ USD"},
    {"id": 2, "doc_id": "a", "text": "Hai bên cam kết tạo thuận lợi cho hàng nông sản qua các cửa khẩu biên giới"},
    {"id": 3, "doc_id": "a", "text": "Lãnh đạo hai nước đánh giá cao kết quả hợp tác kinh tế thời gian qua"},
    {"id": 4, "doc_id": "a", "text": "Giữ nhịp giao thương"},
    {"id": 5, "doc_id": "a", "text": 12},  # an error record between a subhead and its section
    '{"id": 55, "doc_id": "a", "text": ',  # and a broken line: a batch of errors only at batch size 1
    {"id": 6, "doc_id": "a", "text": "Mỗi ngày hơn 1.200 xe nông sản qua cửa khẩu Hữu Nghị sang Trung Quốc."},
    {"id": 7, "doc_id": "a", "text": "Số hóa cửa khẩu"},
    {"id": 8, "doc_id": "b", "text": "Giá vàng SJC hôm nay tăng 300.000 đồng mỗi lượng, giá USD tự do giảm nhẹ"},
    {"id": 9, "doc_id": "b", "text": "Thị trường chờ tín hiệu"},
    {"id": 10, "text": "中越陆地边界联合委员会举行会议"},
]


def test_articles_read_with_their_next_paragraph_whatever_the_batch_size_and_workers(tfidf_predictor, tmp_path):
    records = [r if isinstance(r, str) else r | ({"doc_id": f"{r['doc_id']}{copy}"} if "doc_id" in r else {})
               for copy in range(3) for r in ARTICLE]
    src = tmp_path / "in.jsonl"
    src.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
                   encoding="utf-8")
    outputs = []
    for size, workers in ((1, 1), (2, 1), (3, 1), (512, 1), (1, 2), (3, 2)):  # size 1: batches end inside an article
        out = tmp_path / f"out{size}-{workers}.jsonl"
        tag_file(tfidf_predictor, str(src), str(out), batch_size=size, progress=False, workers=workers)
        outputs.append(out.read_text(encoding="utf-8"))
    assert all(output == outputs[0] for output in outputs)
    rows = [json.loads(line) for line in outputs[0].splitlines()]
    good = [r for r in records if isinstance(r, dict) and isinstance(r["text"], str)]
    # the error record is skipped: the subhead's next paragraph is the section's body, as the predictor reads it
    expected = tfidf_predictor.predict([r["text"] for r in good], doc_ids=[r.get("doc_id") for r in good])
    assert [r["scores"] for r in rows if "error" not in r] == [e["scores"] for e in expected]
    # the broken line keeps the doc_id it shows before it breaks off, as its id
    assert [r.get("doc_id") for r in rows] == [r.get("doc_id") if isinstance(r, dict) else "a" for r in records]
    assert [r["id"] for r in rows if "error" in r] == [5, 55] * 3
    assert "error" in rows[4] and "error" in rows[5]
    alone = tfidf_predictor.predict([r["text"] for r in good])
    assert expected[3]["scores"]["other"] < alone[3]["scores"]["other"]  # the subhead, read with its article


def test_csv_in_and_out(tfidf_predictor, tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('id,text\n1,"Ngư dân Quảng Ngãi bị tàu lạ xua đuổi gần Hoàng Sa"\n2,\n', encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(out), progress=False)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["label"] and float(rows[0]["score_border_sea"]) >= 0 and rows[0]["error"] == ""
    assert "empty" in rows[1]["error"]


def test_input_dash_reads_json_lines_from_standard_input(tfidf_run):
    import subprocess
    import sys

    feed = json.dumps({"id": "a", "text": "Kim ngạch thương mại Việt - Trung tăng mạnh"}, ensure_ascii=False) + "\nnot json\n"
    done = subprocess.run([sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", "-",
                           "--output", "-", "--quiet", "--workers", "1"], input=feed.encode(), capture_output=True, timeout=120)
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert done.returncode == 0 and [r["id"] for r in rows] == ["a", None] and rows[0]["label"]
    assert rows[1]["error"].startswith("stdin:2: not valid JSON")


def test_raw_article_is_split_into_paragraphs(tfidf_predictor, tmp_path):
    article = "Tiêu đề bài báo\n\nĐoạn thứ nhất về thương mại.\n   \nĐoạn thứ hai về biên giới.\n"
    assert [n for n, _ in article_paragraphs(article)] == [1, 3, 5]
    src, out = tmp_path / "bai.txt", tmp_path / "out.jsonl"
    src.write_text(article, encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(out), progress=False)
    assert [json.loads(l)["id"] for l in out.read_text(encoding="utf-8").splitlines()] == ["bai:1", "bai:3", "bai:5"]


def test_an_existing_output_is_refused_without_overwrite_before_the_model_loads(tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "precious.csv"
    src.write_text(json.dumps({"text": "Kim ngạch thương mại Việt - Trung"}) + "\n", encoding="utf-8")
    out.write_text("years of work\n", encoding="utf-8")
    # no such model: the output is refused first, in one line, and left as it was
    assert serve_main(["tag", "--model", str(tmp_path / "no-model"), "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists" in err[0] and "--overwrite" in err[0]
    assert out.read_text(encoding="utf-8") == "years of work\n"


def test_a_folder_or_a_quoted_glob_as_input_is_the_loop_that_tags_each_file(tfidf_run, tmp_path, capsys):
    """A newcomer's `--input seeds/` was "cannot read input (Is a directory)"; the line now is a loop that runs,
    keeps the flags given, tags every file (a.txt and a.html both), and reads a file's name as text, not code."""
    import subprocess

    folder = tmp_path / "my articles"
    folder.mkdir()
    for name, text in (("a.txt", "Kim ngạch thương mại Việt - Trung tăng\n\nHai bên ký kết"), ("a.html", "<p>中越边境贸易</p>"),
                       ("n.$(touch PWNED)", "Hai nước tuần tra chung")):
        (folder / name).write_text(text, encoding="utf-8")
    model = str(tfidf_run.output_dir)
    for given in (str(folder), str(folder / "*.txt")):
        assert serve_main(["tag", "--model", model, "--input", given, "--output", str(tmp_path / "o.csv"),
                           "--threshold", "0.6", "--quiet"]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"error: {given}: a ") and "serve tag reads one file, so tag each: mkdir -p -- " in error
        assert "--threshold 0.6 --quiet --input=" in error and '"$(basename -- "$f")".csv; done' in error
    assert serve_main(["tag", "--model", model, "--input", str(tmp_path / "*.none"), "--output", "o.jsonl"]) == 2
    assert "a pattern that matches no file; check the path" in capsys.readouterr().err
    assert serve_main(["tag", "--model", model, "--input", str(folder), "--output", "o.jsonl"]) == 2
    loop = capsys.readouterr().err.split("so tag each: ", 1)[1].split(" (or python -m serve spark", 1)[0]
    done = subprocess.run(["bash", "-c", loop], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert done.returncode == 0, done.stderr
    tagged = tmp_path / "my articles-tags"
    assert sorted(p.name for p in tagged.iterdir()) == ["a.html.jsonl", "a.txt.jsonl", "n.$(touch PWNED).jsonl"]
    assert len((tagged / "a.txt.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert not (tmp_path / "PWNED").exists() and len(list(folder.iterdir())) == 3  # nothing run, nothing written there
    # flags are passed on as given, so argparse takes no abbreviation (--inp for --input: "given twice" in every run)
    with pytest.raises(SystemExit):
        serve_main(["tag", "--model", model, "--input", str(folder), "--inp", str(folder), "--output", "o.jsonl"])
    assert "unrecognized arguments: --inp" in capsys.readouterr().err


def test_cli_exit_codes(tfidf_run, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(LINES), encoding="utf-8")
    model = str(tfidf_run.output_dir)
    assert serve_main(["tag", "--model", model, "--input", str(src), "--output", str(tmp_path / "o.jsonl"), "--quiet"]) == 0
    assert serve_main(["tag", "--model", model, "--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o2.jsonl")]) == 2
    assert "cannot read input" in capsys.readouterr().err
    nocol = tmp_path / "bad.csv"
    nocol.write_text("body\nhello\n", encoding="utf-8")
    assert serve_main(["tag", "--model", model, "--input", str(nocol), "--output", str(tmp_path / "o3.jsonl")]) == 2
    assert "no 'text' column" in capsys.readouterr().err
    assert serve_main(["tag", "--model", str(tmp_path / "nomodel"), "--input", str(src), "--output", str(tmp_path / "o4.jsonl")]) == 2


def test_registered_model_uri_tags_like_the_directory(tfidf_run, tfidf_predictor):
    import vnzh_runtime

    texts = ["Hai nước ký kết 14 văn kiện hợp tác", "中越两党理论研讨会在河内举行"]
    assert vnzh_runtime.load(tfidf_run.model_uri).predict(texts) == tfidf_predictor.predict(texts)


def test_threshold_abstains(tfidf_predictor):
    texts = ["Hai nước ký kết 14 văn kiện hợp tác"]
    assert tfidf_predictor.predict(texts, threshold=1.0)[0]["label"] == "uncertain"
    assert tfidf_predictor.predict(texts, threshold=0.0)[0]["label"] != "uncertain"


class FixedScores:
    """A model whose every paragraph scores economy 0.51996 (printed 0.52) and other 0.48004."""

    def predict_with_langs(self, texts):
        return ["vi"] * len(texts), np.array([[0.51996, 0.48004]] * len(texts)), None


def test_a_printed_score_and_its_label_agree_at_the_threshold():
    predictor = Predictor(FixedScores(), {"labels": ["economy", "other"]})
    result = predictor.predict(["a"], threshold=0.52)[0]
    # cut, not rounded: it was printed 0.52 and labelled uncertain at a threshold of 0.52
    assert result["scores"] == {"economy": 0.5199, "other": 0.48} and result["label"] == "uncertain"
    assert predictor.predict(["a"], threshold=0.5199)[0]["label"] == "economy"


def test_sigterm_mid_run_keeps_the_old_output_and_the_partial_one(tfidf_run, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    src, out = tmp_path / "big.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"Kim ngạch thương mại tăng {i}%"}) + "\n" for i in range(400_000)),
                   encoding="utf-8")
    out.write_text("the user's old output\n", encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", str(src),
                              "--output", str(out), "--quiet", "--workers", "1", "--overwrite"], stderr=subprocess.PIPE, text=True)
    partial = tmp_path / "out.jsonl.partial"
    deadline = time.time() + 60
    while not any(p.name.startswith(".out.jsonl.") for p in tmp_path.iterdir()) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert out.read_text(encoding="utf-8") == "the user's old output\n"
    written = partial.read_text(encoding="utf-8").splitlines()
    assert f"{len(written)} records written to {partial}" in err
    assert all(json.loads(line)["id"] == i for i, line in enumerate(written))
    os.remove(partial)


def test_serve_tag_scores_equal_the_evaluation_paths_on_every_corpus_paragraph(tfidf_run, tmp_path):
    """What was evaluated is what is served: the whole corpus, articles read with their context."""
    from train.data import DEFAULT_FILES, load_records
    from train.scores import evaluate_records

    records = load_records(DEFAULT_FILES)
    src, out = tmp_path / "corpus.jsonl", tmp_path / "tags.jsonl"
    src.write_text("".join(json.dumps({"id": r.id, "text": r.text} | ({"doc_id": r.doc_id} if r.doc_id else {}),
                                      ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    model = str(tfidf_run.output_dir)
    assert serve_main(["tag", "--model", model, "--input", str(src), "--output", str(out), "--quiet", "--workers", "2"]) == 0
    served = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    predictor = Predictor.load(model)
    _, evaluated = evaluate_records(predictor, records)
    assert [row["id"] for row in served] == [r.id for r in records]
    for row, probs in zip(served, evaluated):
        assert list(row["scores"].values()) == shown_scores(probs).tolist(), row["id"]
        assert row["label"] == predictor.labels[int(np.argmax(probs))]


def test_doc_ids_name_documents_alike_in_serve_tag_and_evaluate(tfidf_predictor, tmp_path):
    """7 and "7" are one article, 7.0 and true two more: the same documents for every path."""
    from train.scores import evaluate_records
    from train.samples import load_labelled

    head = "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác trong chuyến thăm cấp Nhà nước của Tổng Bí thư"
    follow = "Hai bên nhất trí tăng cường trao đổi đoàn các cấp và thúc đẩy hợp tác thực chất"
    rows = [{"id": "a", "doc_id": 7, "text": head}, {"id": "b", "doc_id": "7", "text": follow},
            {"id": "c", "doc_id": 7.0, "text": follow}, {"id": "d", "doc_id": True, "text": follow}]
    src, out, labelled = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "labelled.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    labelled.write_text("".join(json.dumps(r | {"labels": ["party_relations"]}, ensure_ascii=False) + "\n"
                                for r in rows), encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(out), batch_size=1, progress=False)
    served = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["doc_id"] for r in served] == [7, "7", 7.0, True]  # echoed as the user wrote them
    expected = tfidf_predictor.predict([r["text"] for r in rows], doc_ids=["7", "7", "7.0", "true"])
    assert [r["scores"] for r in served] == [e["scores"] for e in expected]
    assert served[1]["scores"] != served[2]["scores"]  # read with the head of article 7, and alone
    _, evaluated = evaluate_records(tfidf_predictor, load_labelled([str(labelled)]))
    assert [list(r["scores"].values()) for r in served] == shown_scores(evaluated).tolist()


def test_evaluate_reads_each_splits_articles_apart_as_training_scores_them(tfidf_predictor, tmp_path):
    """An article with dev and test paragraphs: training scored the test ones with a head of test paragraphs,
    train.evaluate with the dev ones in it, and their figures differed for the same model and records."""
    from train.samples import load_labelled
    from train.scores import evaluate_records

    head = "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác trong chuyến thăm cấp Nhà nước của Tổng Bí thư"
    follow = "Hai bên nhất trí tăng cường trao đổi đoàn các cấp và thúc đẩy hợp tác thực chất"
    rows = [{"id": "a", "doc_id": "d", "text": head, "split": "dev"}, {"id": "b", "doc_id": "d", "text": follow, "split": "test"}]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps(r | {"labels": ["party_relations"]}, ensure_ascii=False) + "\n"
                                for r in rows), encoding="utf-8")
    _, evaluated = evaluate_records(tfidf_predictor, load_labelled([str(labelled)]))
    alone = tfidf_predictor.predict_proba([follow], doc_ids=["d"])
    assert np.allclose(evaluated[1], alone[0])
    assert not np.allclose(alone[0], tfidf_predictor.predict_proba([head, follow], doc_ids=["d", "d"])[1])  # a head counts


def test_a_documents_head_is_whole_however_the_batches_are_cut(tfidf_predictor, tmp_path):
    """Menus and short lines first, the head paragraphs later, a broken line in between: the head is
    the document's own at any batch size, as the predictor reads the whole file."""
    lines = ["Trang chủ", "Kinh tế", "Giữ nhịp giao thương", "Thúc đẩy nông sản", "Xe hàng nối đuôi",
             "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác kinh tế, thương mại trong chuyến thăm cấp nhà nước",
             "Kim ngạch thương mại song phương năm nay dự kiến vượt 200 tỷ USD, hai bên mở thêm cửa khẩu",
             "Hai bên nhất trí thúc đẩy xuất khẩu nông sản, mở rộng danh mục trái cây được cấp phép"]
    doc = [json.dumps({"id": i, "doc_id": "D", "text": t}, ensure_ascii=False) for i, t in enumerate(lines)]
    fill = [json.dumps({"id": f"f{i}", "text": f"Giá vàng hôm nay {i} tăng nhẹ"}, ensure_ascii=False) for i in range(5)]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(fill + doc[:3] + ['{"id": "oops", "text": "broken'] + doc[3:]) + "\n", encoding="utf-8")
    expected = tfidf_predictor.predict([f"Giá vàng hôm nay {i} tăng nhẹ" for i in range(5)] + lines,
                                       doc_ids=[None] * 5 + ["D"] * len(lines))
    for size in (1, 2, 3, 6, 512):
        out = tmp_path / f"out{size}.jsonl"
        tag_file(tfidf_predictor, str(src), str(out), batch_size=size, progress=False)
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["scores"] for r in rows if "error" not in r] == [e["scores"] for e in expected], size
    alone = tfidf_predictor.predict(lines)
    assert expected[5 + 2]["scores"]["other"] < alone[2]["scores"]["other"]  # the subhead read with the head


def test_held_batches_past_the_limit_are_released_and_every_record_still_comes_out(tfidf_predictor, tmp_path,
                                                                                  monkeypatch):
    import serve.tagging

    monkeypatch.setattr(serve.tagging, "MAX_HELD", 3)
    lines = [json.dumps({"id": i, "doc_id": "D", "text": f"Mục {i}"}, ensure_ascii=False) for i in range(6)]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(lines + ["{broken", "{broken", json.dumps({"id": "z"})]) + "\n", encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(out), batch_size=1, progress=False)  # a head that never completes
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows][:6] == list(range(6)) and len(rows) == 9
    assert sum("error" in r for r in rows) == 3


def test_a_doc_id_that_comes_back_starts_a_new_document_in_serve_tag(tfidf_predictor, tmp_path):
    """serve tag reads a document as a run of consecutive records: article A, another document, then
    A's id again reads the returning paragraph with its own run's head, at any batch size (the
    predictor, given the whole list at once, reads all of A's records as one article)."""
    head = "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác kinh tế, thương mại trong chuyến thăm cấp nhà nước"
    follow = "Hai bên nhất trí thúc đẩy xuất khẩu nông sản, mở rộng danh mục trái cây được cấp phép"
    rows = [{"id": 1, "doc_id": "A", "text": head}, {"id": 2, "doc_id": "A", "text": follow},
            {"id": 3, "doc_id": "B", "text": "Giá vàng hôm nay tăng nhẹ ở phiên sáng"},
            {"id": 4, "doc_id": "A", "text": follow}]
    texts = [r["text"] for r in rows]
    as_runs = tfidf_predictor.predict(texts, doc_ids=["A", "A", "B", "A again"])
    assert as_runs[3]["scores"] != as_runs[1]["scores"]  # the first run's head is not carried over
    assert tfidf_predictor.predict(texts, doc_ids=[r["doc_id"] for r in rows])[3]["scores"] == as_runs[1]["scores"]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for size in (1, 2, 512):
        out = tmp_path / f"out{size}.jsonl"
        tag_file(tfidf_predictor, str(src), str(out), batch_size=size, progress=False)
        served = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["scores"] for r in served] == [e["scores"] for e in as_runs], size


def test_the_predictor_reads_a_documents_records_as_one_wherever_other_records_sit(tfidf_predictor):
    """POST /tag, the pyfunc and train.evaluate pass whole lists: a document's next paragraph is its
    own next record, not whatever record comes next in the list."""
    head = "Kim ngạch thương mại Việt Nam Trung Quốc tăng mạnh trong năm nay, đạt 150 tỷ USD"
    second, third = "Hai bên nhất trí tăng cường hợp tác trong thời gian tới", "Giữ nhịp giao thương qua các cửa khẩu"
    together = tfidf_predictor.predict_proba([head, second, third], doc_ids=["A", "A", "A"])
    apart = tfidf_predictor.predict_proba([head, "Other story about football", second, third], doc_ids=["A", "B", "A", "A"])
    assert np.allclose(apart[[0, 2, 3]], together)
    heads = tfidf_predictor.contexts([head, second, third], ["A", "A", "A"])
    without_next = tfidf_predictor.predict_proba([head, second, third], contexts=heads, following=[None, third, None])
    assert not np.allclose(without_next[0], together[0])  # the next paragraph counts: the test can fail


def test_serve_tag_keeps_only_the_heads_it_still_needs(tfidf_predictor, monkeypatch):
    """A feed of many documents holds a few heads at a time, not one per document seen."""
    import serve.tagging as tagging
    from vnzh_runtime.context import DocumentHeads

    most = []

    class Counted(DocumentHeads):
        def add(self, texts, doc_ids):
            runs = super().add(texts, doc_ids)
            most.append(len(self.heads))
            return runs

    monkeypatch.setattr(tagging, "DocumentHeads", Counted)
    records = [tagging.InputRecord(i, f"Bài {i}: Việt Nam và Trung Quốc ký văn kiện hợp tác số {i}", f"d{i // 2}")
               for i in range(3000)]
    rows = list(tagging.tag_records(tfidf_predictor, records, batch_size=64))
    assert [row["id"] for row in rows] == list(range(3000))
    assert len(most) > 40 and max(most) <= 128  # 1,500 documents; the heads of two batches at most (it was 1,500)


def test_a_record_object_given_twice_is_read_in_each_of_its_places(tfidf_predictor):
    """tag_records takes any records: the same object in two documents gets each one's head, at any batch size."""
    from serve.tagging import InputRecord, tag_records

    head = "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác kinh tế, thương mại trong chuyến thăm cấp nhà nước"
    shared = InputRecord("s", "Hai bên nhất trí thúc đẩy xuất khẩu nông sản, mở rộng danh mục trái cây", "A")
    records = [InputRecord(1, head, "A"), shared, InputRecord(2, "Giá vàng hôm nay tăng nhẹ ở phiên sáng nay", "B"), shared]
    as_runs = tfidf_predictor.predict([r.text for r in records], doc_ids=["A", "A", "B", "A again"])
    for size in (1, 2, 512):
        rows = list(tag_records(tfidf_predictor, records, batch_size=size))
        assert [row["scores"] for row in rows] == [e["scores"] for e in as_runs], size


def test_records_that_name_their_article_under_another_key_get_a_note_and_are_still_tagged(tfidf_predictor, tmp_path,
                                                                                          capsys):
    rows = [{"id": 1, "article_id": "a1", "text": "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác"},
            {"id": 2, "article_id": "a1", "text": "Hai bên nhất trí thúc đẩy thương mại song phương"}]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert tag_file(tfidf_predictor, str(src), str(out), batch_size=8, progress=False).tagged == 2
    err = capsys.readouterr().err
    assert err.count("note:") == 1 and f"note: {src}: its records have 'article_id' but no 'doc_id', so each " \
        "paragraph is read without its article (fix: name the article in doc_id, e.g. " \
        "jq -c '.doc_id = .[\"article_id\"]')" in err
    src.write_text("".join(json.dumps(r | {"doc_id": r["article_id"]}, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(tmp_path / "out2.jsonl"), batch_size=8, progress=False)
    assert "note:" not in capsys.readouterr().err  # with a doc_id there is nothing to say
    csv_src = tmp_path / "in.csv"
    csv_src.write_text("id,URL,text\n1,http://x/a,Việt Nam và Trung Quốc ký 14 văn kiện hợp tác\n", encoding="utf-8")
    tag_file(tfidf_predictor, str(csv_src), str(tmp_path / "out.csv"), batch_size=8, progress=False)
    assert "its records have 'URL' but no 'doc_id'" in capsys.readouterr().err
