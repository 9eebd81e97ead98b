"""Scaling out (README "Scaling out"): `serve spark` in local mode, transformer training with two
processes (torchrun, gloo on CPU), and a team MLflow server on PostgreSQL with served artifacts.

Each part skips, saying why, where its engine is missing: pyspark + a Java runtime, torch's
gloo backend, PostgreSQL's initdb/pg_ctl + psycopg2 (.ci/run installs all of them).
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL_DATA = "data.files=[data/seeds.jsonl,data/authored/vi-a.jsonl,data/authored/zh-a.jsonl,data/authored/en-a.jsonl]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def corpus_lines() -> list[str]:
    """Real paragraphs: whole articles (doc_id), paragraphs that stand alone, and records serve tag refuses."""
    records = [json.loads(line) for line in (ROOT / "data/seeds.jsonl").read_text(encoding="utf-8").splitlines()]
    records += [json.loads(line) for line in (ROOT / "data/authored/vi-g.jsonl").read_text(encoding="utf-8").splitlines()]
    lines, articles = [], {}
    for record in records[:330]:
        row = {"id": record["id"], "text": record["text"]}
        article = articles.setdefault(record.get("doc_id"), len(articles))
        if record.get("doc_id") and article % 4:  # most articles with their doc_id, some paragraphs alone
            row["doc_id"] = record["doc_id"]
        lines.append(json.dumps(row, ensure_ascii=False))
    lines[7:7] = ["{broken json", json.dumps({"id": 7}), json.dumps({"id": "n", "text": 12}), "",
                  json.dumps(["not", "an", "object"]), json.dumps({"id": 1.5, "text": "   "}),
                  json.dumps({"id": True, "doc_id": 3, "text": "中越陆地边界联合委员会举行会议"}, ensure_ascii=False),
                  '{"id": "twice", "text": "a", "text": "b"}']
    head = "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác kinh tế, thương mại trong chuyến thăm cấp nhà nước"
    lines += [json.dumps(r, ensure_ascii=False) for r in (  # 9 and "9" name one article, 9.0 another
        {"id": "m1", "doc_id": 9, "text": head}, {"id": "m2", "doc_id": "9", "text": "Giữ nhịp giao thương"},
        {"id": "m3", "doc_id": 9.0, "text": "Giữ nhịp giao thương"})]
    return lines


# An article whose two paragraphs open and close the file, every other row between them.
INTERLEAVED = [json.dumps(r, ensure_ascii=False) for r in (
    {"id": "q1", "doc_id": "Q", "text": "Giữ nhịp giao thương"},
    {"id": "q2", "doc_id": "Q", "text": "Kim ngạch thương mại Việt Nam - Trung Quốc đạt 200 tỷ USD trong năm"})]


def part_lines(folder: Path) -> list[str]:
    return [line for part in sorted(folder.glob("part-*")) for line in part.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------ serve spark

def test_logged_pyfunc_reads_doc_id(tfidf_run, tfidf_predictor):
    """doc_id is in the logged signature (MLflow drops columns it does not name), so the pyfunc, and
    with it spark_udf, reads paragraphs with their article's head, as serve tag does."""
    import mlflow
    import pandas as pd

    model = mlflow.pyfunc.load_model(tfidf_run.model_uri)
    assert "doc_id" in model.metadata.get_input_schema().input_names()
    rows = [json.loads(line) for line in (ROOT / "data/authored/vi-g.jsonl").read_text(encoding="utf-8").splitlines()[:12]]
    texts, docs = [r["text"] for r in rows], [r["doc_id"] for r in rows]
    got = model.predict(pd.DataFrame({"text": texts, "doc_id": docs})).to_dict("records")
    assert [g["scores"] for g in got] == [e["scores"] for e in tfidf_predictor.predict(texts, doc_ids=docs)]
    assert [g["scores"] for g in got] != [e["scores"] for e in tfidf_predictor.predict(texts)]
    # An integer column is an article id too, read as serve tag reads it (7 and "7" one article).
    numbered = {doc: n for n, doc in enumerate(dict.fromkeys(docs))}
    got = model.predict(pd.DataFrame({"text": texts, "doc_id": [numbered[d] for d in docs]})).to_dict("records")
    assert [g["scores"] for g in got] == [e["scores"] for e in tfidf_predictor.predict(texts, doc_ids=docs)]


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark (fix: apt-get install default-jre-headless)")
    from serve.spark import quiet_warnings, session

    quiet_warnings()
    saved = dict(os.environ)
    spark = session("local[2]", [], quiet=True)
    os.environ.clear()
    os.environ.update(saved)  # what session() set was for the Spark JVM and its workers only
    yield spark
    spark.stop()


def test_spark_udf_says_why_a_row_has_no_label(spark, tfidf_run, tfidf_predictor):
    """A direct spark_udf user got a row of nulls and no reason: `error` is a field of the logged signature."""
    import mlflow

    tagger = mlflow.pyfunc.spark_udf(spark, tfidf_run.model_uri, env_manager="local")
    frame = spark.createDataFrame([("中越贸易额创新高",), ("  ",)], "text string")
    got = [row.asDict(recursive=True) for row in frame.select(tagger("text").alias("t")).select("t.*").collect()]
    expected = tfidf_predictor.predict(["中越贸易额创新高"])[0]
    assert got[0]["label"] == expected["label"] and got[0]["error"] is None
    assert got[1]["label"] is None and got[1]["error"] == "'text' is empty"


def test_serve_spark_jsonl_equals_serve_tag(spark, tfidf_run, tfidf_predictor, tmp_path, capsys):
    from serve.__main__ import main as serve_main
    from serve.files import tag_file

    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(INTERLEAVED[:1] + corpus_lines() + INTERLEAVED[1:]) + "\n", encoding="utf-8")
    expected = tmp_path / "tag.jsonl"
    tag_file(tfidf_predictor, str(src), str(expected), batch_size=64, progress=False)

    out = tmp_path / "spark.jsonl"
    args = ["spark", "--model", tfidf_run.model_uri, "--input", str(src), "--output", str(out), "--partitions", "3"]
    assert serve_main(args) == 0
    assert "tagged 336 of 342 records (6 errors)" in capsys.readouterr().err
    # One record per input record, in input order, byte for byte what serve tag writes: ids, doc_ids,
    # errors naming file:line, and the labels and scores of paragraphs read with their article's head;
    # an article broken by another row comes back in input order (its context may differ: serve tag
    # reads a document as its consecutive records, Spark as all of them).
    full = got = part_lines(out)
    want = expected.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in got] == [json.loads(line)["id"] for line in want]
    assert got[1:-1] == want[1:-1]
    got = got[1:-1]
    rows = [json.loads(line) for line in got]
    assert sum("error" in r for r in rows) == 6 and f"{src}:9: not valid JSON" in rows[7]["error"]
    assert rows[13]["id"] == "twice" and f'{src}:16: key "text" is given twice' in rows[13]["error"]
    with_docs = [i for i, r in enumerate(rows) if "doc_id" in r and "error" not in r]
    text_of = {}  # by id: the rows after the blank input line are one place off its line's index
    for line in corpus_lines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            text_of[row.get("id")] = row.get("text")
    alone = tfidf_predictor.predict([text_of[rows[i]["id"]] for i in with_docs])  # no context
    assert any(a["scores"] != rows[i]["scores"] for a, i in zip(alone, with_docs)), "article context was not used"

    # An existing output is kept unless --overwrite; then it is replaced whole.
    assert serve_main(args) == 2 and "--overwrite" in capsys.readouterr().err
    assert part_lines(out) == full
    assert serve_main([*args, "--overwrite"]) == 0 and part_lines(out) == full  # what Spark wrote it may replace


def test_serve_spark_never_reads_over_its_input_and_checks_files_as_serve_tag(spark, tfidf_run, tmp_path):
    """A glob or file:// address names the input differently from the output: --overwrite once
    replaced the very file being read. Missing inputs, folders of folders, UTF-16 and bad bytes
    are each one line or one error record; an empty input is an empty output."""
    from serve.spark import tag
    from vnzh_runtime.errors import UserError

    feed = tmp_path / "feed.jsonl"  # a folder named as an output can be: it holds the input
    feed.mkdir()
    line = json.dumps({"id": 1, "text": "Kim ngạch thương mại Việt Nam - Trung Quốc tăng"}, ensure_ascii=False) + "\n"
    for name in ("a.jsonl", "b.jsonl"):
        (feed / name).write_text(line, encoding="utf-8")
    refusals = [(f"{feed}/*.jsonl", feed / "a.jsonl", "would replace the input file"),
                (f"file://{feed}/a.jsonl", feed / "a.jsonl", "would replace the input file"),
                (f"{feed}/a.jsonl", feed, "would replace the input file"),
                (str(feed), feed / "tags.jsonl", "lies in the input folder"),
                (f"{feed}/*.jsonl", feed / "tags.jsonl", "lies in the input folder or glob"),
                (str(tmp_path / "none.jsonl"), tmp_path / "o.jsonl", "no such file or folder")]
    (tmp_path / "link").symlink_to(feed)  # one file by two names, through a symlinked folder
    (tmp_path / "mine.jsonl").mkdir()  # a user's folder with an output's name: --overwrite would delete the notes
    (tmp_path / "mine.jsonl" / "notes.txt").write_text("thesis", encoding="utf-8")
    (tmp_path / "results.jsonl").write_text("kept\n", encoding="utf-8")  # a file, not an output folder of Spark's
    (tmp_path / "review.jsonl").mkdir()  # named as Spark names part files, but without its uuid: the user's own
    (tmp_path / "review.jsonl" / "part-20240501.jsonl").write_text("mine\n", encoding="utf-8")
    refusals += [(f"{feed}/a.jsonl", tmp_path / "review.jsonl", "holds part-20240501.jsonl, which serve spark did not write"),
                 (f"{feed}/a.jsonl", tmp_path / "o[1].jsonl", "name it without them"),  # written, then a traceback
                 (f"{feed}/a.jsonl,", tmp_path / "o.jsonl", "an empty name between commas; remove the extra comma")]
    refusals += [(f"{tmp_path}/link/a.jsonl", feed / "a.jsonl", "would replace the input file"),
                 (f"{feed}/a.jsonl", tmp_path / "mine.jsonl", "holds notes.txt, which serve spark did not write"),
                 (f"{feed}/a.jsonl", tmp_path / "results.jsonl", "is a file, not an output folder of serve spark")]
    for input_path, output_path, says in refusals:
        with pytest.raises(UserError, match=says):
            tag(spark, tfidf_run.model_uri, input_path, str(output_path), overwrite=True)
    assert (feed / "a.jsonl").read_text(encoding="utf-8") == line
    assert (tmp_path / "mine.jsonl" / "notes.txt").is_file() and (tmp_path / "results.jsonl").read_text() == "kept\n"
    assert (tmp_path / "review.jsonl" / "part-20240501.jsonl").read_text(encoding="utf-8") == "mine\n"
    import gzip

    (tmp_path / "rows.csv.gz").write_bytes(gzip.compress(b"id,text\n1,Kim ngach\n"))  # CSV, not JSONL ending in .gz
    with pytest.raises(UserError, match="a gzip archive, not text"):
        tag(spark, tfidf_run.model_uri, str(tmp_path / "rows.csv.gz"), str(tmp_path / "o.jsonl"))
    odd = {"feed 2026-01-05T10:30.jsonl": "cannot read a file whose name holds ':'",
           "[draft] feed.jsonl": "Spark reads \\[ \\] \\{ \\} \\* \\? in a name as a glob"}
    for name, says in odd.items():  # a timestamped name was a Java trace; a bracketed one "no such file"
        (tmp_path / name).write_text(line, encoding="utf-8")
        with pytest.raises(UserError, match=says):
            tag(spark, tfidf_run.model_uri, str(tmp_path / name), str(tmp_path / "o.jsonl"))
    (tmp_path / "sheets").mkdir()  # read as JSONL, every row was an error record (the header one too)
    (tmp_path / "sheets" / "a.csv").write_text("id,text\n1,Kim ngach\n", encoding="utf-8")
    with pytest.raises(UserError, match=re.escape("holds a.csv, a csv file, but a folder named so is read as jsonl")):
        tag(spark, tfidf_run.model_uri, str(tmp_path / "sheets"), str(tmp_path / "o.jsonl"))
    (tmp_path / "days" / "day=1").mkdir(parents=True)
    with pytest.raises(UserError, match="holds the folder day=1; name the files inside"):
        tag(spark, tfidf_run.model_uri, str(tmp_path / "days"), str(tmp_path / "o.jsonl"))
    from serve.spark_paths import input_files

    (tmp_path / "days" / "day=1" / "part-0.parquet").write_bytes(b"PAR1")
    assert input_files(spark, str(tmp_path / "days"), "parquet")[0] == []  # partition folders are parquet's own
    assert tag(spark, tfidf_run.model_uri, f"{feed}/a.jsonl", str(tmp_path / "feed.jsonl.out.jsonl"))["records"] == 1
    (tmp_path / "latest.jsonl").symlink_to(tmp_path / "feed.jsonl.out.jsonl")  # replaced through the link, kept
    assert tag(spark, tfidf_run.model_uri, f"{feed}/b.jsonl", str(tmp_path / "latest.jsonl"), overwrite=True)["records"] == 1
    assert (tmp_path / "latest.jsonl").is_symlink() and len(part_lines(tmp_path / "feed.jsonl.out.jsonl")) == 1
    # a {a,b} glob is one name, as Hadoop reads it (split at its comma, it was a Java trace)
    assert tag(spark, tfidf_run.model_uri, f"{feed}/{{a,b}}.jsonl", str(tmp_path / "both.jsonl"))["records"] == 2
    (tmp_path / "u16.jsonl").write_bytes(line.encode("utf-16"))
    with pytest.raises(UserError, match="the file is UTF-16, not UTF-8"):
        tag(spark, tfidf_run.model_uri, str(tmp_path / "u16.jsonl"), str(tmp_path / "o.jsonl"))
    (tmp_path / "bad.jsonl").write_bytes(line.encode("utf-8") + b'{"id": 2, "text": "Vi\xff\xfet Nam"}\n')
    assert tag(spark, tfidf_run.model_uri, str(tmp_path / "bad.jsonl"), str(tmp_path / "bad.out.jsonl"))["errors"] == 1
    rows = [json.loads(row) for row in part_lines(tmp_path / "bad.out.jsonl")]
    assert rows[1] == {"id": 2, "error": f"{tmp_path / 'bad.jsonl'}:2: not UTF-8; re-save the file as UTF-8"}
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert tag(spark, tfidf_run.model_uri, str(tmp_path / "empty.jsonl"), str(tmp_path / "e.parquet"))["records"] == 0
    # past blank lines too, and over more than one read of 4 KiB, as serve tag reads a file's head
    (tmp_path / "late.jsonl").write_text("\n" * 5000 + "[\n  " + line.strip() + "\n]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"late\.jsonl:5001: a JSON array, not JSON Lines"):
        tag(spark, tfidf_run.model_uri, str(tmp_path / "late.jsonl"), str(tmp_path / "o.jsonl"))
    (tmp_path / "notext.csv").write_text("id,body\n1,Kim ngạch\n", encoding="utf-8")
    with pytest.raises(UserError, match="notext.csv:1: the CSV header has no 'text' column"):
        tag(spark, tfidf_run.model_uri, str(tmp_path / "notext.csv"), str(tmp_path / "o.jsonl"))
    # a file under another format's suffix, as serve tag refuses it (a record of "not valid JSON" per line)
    (tmp_path / "rows.jsonl").write_text("id,text\n1,Kim ngạch\n", encoding="utf-8")
    (tmp_path / "recs.csv").write_text(line, encoding="utf-8")
    for name, says in (("rows.jsonl", "a CSV file (its header names a 'text' column), not JSON Lines"),
                       ("recs.csv", "JSON Lines, not CSV")):
        with pytest.raises(UserError, match=re.escape(f"{name}:1: {says}; tag it under the suffix it needs (cp -n")):
            tag(spark, tfidf_run.model_uri, str(tmp_path / name), str(tmp_path / "o.jsonl"))


def test_spark_output_that_appears_mid_run_is_left_alone_and_the_new_output_kept(spark, tmp_path):
    """The output is checked again when the finished one goes into place: a folder a user made there
    during the run (or a second run's output) was moved aside and deleted without --overwrite."""
    from serve.spark_output import KeptAside, filesystem, replace_output
    from serve.spark_paths import check_replaceable
    from vnzh_runtime.errors import UserError

    fs, jvm = filesystem(spark, str(tmp_path))
    staging = tmp_path / "out.jsonl.partial-1"
    staging.mkdir()
    (staging / "part-00000-3f2a9b1c-1234-4abc-9def-0123456789ab-c000.txt").write_text("{}\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    target.mkdir()
    (target / "thesis.txt").write_text("mine", encoding="utf-8")
    for overwrite, says in ((False, "appeared while tagging and is left as it is"),
                            (True, "holds thesis.txt, which serve spark did not write")):
        with pytest.raises(KeptAside, match=says):
            replace_output(fs, jvm, str(staging), str(target), overwrite)
        assert (target / "thesis.txt").read_text(encoding="utf-8") == "mine" and any(staging.iterdir())
    (target / "thesis.txt").unlink()
    (target / "part-1-labels.jsonl").write_text("mine", encoding="utf-8")  # a user's name that starts "part-"
    with pytest.raises(UserError, match="holds part-1-labels.jsonl, which serve spark did not write"):
        check_replaceable(fs, jvm.org.apache.hadoop.fs.Path(str(target)), str(target))


def test_serve_spark_stopped_by_sigterm_says_so_in_one_line_and_keeps_the_old_output(spark, tfidf_run, tmp_path,
                                                                                      mlflow_uri):
    """`kill` (SIGTERM, to the Python process alone) ended the run with no line and exit 143, and an
    interrupt printed py4j's tracebacks of every broken call."""
    src, out = tmp_path / "big.jsonl", tmp_path / "tags.jsonl"
    with src.open("w", encoding="utf-8") as handle:  # enough to be still tagging when the signal comes
        for path in sorted((ROOT / "data/authored").glob("*.jsonl")):
            handle.write(path.read_text(encoding="utf-8"))
    (out).mkdir()
    (out / "part-00000").write_text("old\n", encoding="utf-8")
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_uri}
    command = [sys.executable, "-m", "serve", "spark", "--quiet", "--model", tfidf_run.model_uri, "--input", str(src),
               "--output", str(out), "--overwrite"]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not subprocess.run(["pgrep", "-P", str(run.pid), "java"],
                                                         capture_output=True).stdout:
        time.sleep(0.5)  # the JVM is up: the run is past its start, its handlers in place
    time.sleep(4)
    run.send_signal(signal.SIGTERM)
    err = run.communicate(timeout=120)[1]
    said = [line for line in err.splitlines() if line.startswith("error:") or "Traceback" in line]
    assert run.returncode == 130 and said == ["error: interrupted; the output is untouched"], err[-2000:]
    assert part_lines(out) == ["old"] and not list(tmp_path.glob("tags.jsonl.*"))  # no staging or old copy left


@pytest.mark.parametrize("data", [
    b"", b"id,text\n1,a\n", b'{"text": "a"}\n' * 2000, b"\n" * 9000 + b"[\n  {}\n]\n", b"\r\n\xef\xbb\xbf\n" * 3000 + b"{\n",
    b"text," + b"c" * 10_000 + b"\n1,a\n",  # a header longer than one read
    b'{"text": "a"}\r{"text": "b"}\r' * 500,  # old Mac line ends: one line to serve tag, so to Spark's check
])
def test_spark_reads_a_files_head_in_pieces_as_serve_tag_reads_it_whole(data):
    from serve.spark_paths import HEAD_BYTES, read_head
    from vnzh_runtime.filekind import head_lines

    pieces = iter([data[i:i + HEAD_BYTES] for i in range(0, len(data), HEAD_BYTES)])
    assert read_head(lambda: next(pieces, b"")) == head_lines(iter(io.BytesIO(data)))  # a file's lines, as serve tag reads them


def test_serve_spark_reads_a_messy_csv_as_serve_tag_does(spark, tfidf_run, tfidf_predictor, tmp_path):
    """A quoted line break, a stray quote, an unquoted comma and a bad byte: serve tag's own records."""
    from serve.files import tag_file
    from serve.spark import tag

    src = tmp_path / "x.csv"
    src.write_bytes('id,doc_id,text\n1,d1,"Kim ngạch Việt Nam - Trung Quốc tăng"\n2,d1,"hai\ndòng"\n'
                    '4,d2,"stray " quote here\n5,d2,a,b,c\n'.encode("utf-8") + b"6,d3,Vi\xff\xfet Nam\n" +
                    "7,,中越陆地边界联合委员会举行会议\n".encode("utf-8"))
    tag_file(tfidf_predictor, str(src), str(tmp_path / "tag.jsonl"), progress=False)
    assert tag(spark, tfidf_run.model_uri, str(src), str(tmp_path / "spark.jsonl"))["errors"] == 3
    assert part_lines(tmp_path / "spark.jsonl") == (tmp_path / "tag.jsonl").read_text(encoding="utf-8").splitlines()


def test_serve_spark_parquet_and_csv(spark, tfidf_run, tfidf_predictor, tmp_path, capsys):
    import pandas as pd

    from serve.__main__ import main as serve_main
    from serve.files import tag_file
    from serve.tagging import InputRecord, tag_records

    seeds = (ROOT / "data/seeds.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in seeds[:30]] + [None, ""]
    docs = [f"d{i // 5}" if i // 5 % 2 else None for i in range(len(texts))]  # articles of 5, 5 alone between
    frame = pd.DataFrame({"id": range(100, 100 + len(texts)), "doc_id": docs, "text": texts})
    frame.to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "tags.parquet"
    assert serve_main(["spark", "--model", tfidf_run.model_uri, "--input", str(tmp_path / "in.parquet"),
                       "--output", str(out)]) == 0
    tagged = pd.read_parquet(out)
    assert tagged["id"].tolist() == frame["id"].tolist() and str(tagged["id"].dtype) == "int64"
    assert [None if pd.isna(d) else d for d in tagged["doc_id"]] == docs
    records = [InputRecord(int(i), t, d) if t and t.strip() else InputRecord(int(i), None, d, "x")
               for i, t, d in zip(frame["id"], texts, docs)]
    expected = list(tag_records(tfidf_predictor, records))
    for row, want in zip(tagged.to_dict("records"), expected):
        if "error" in want:
            assert isinstance(row["error"], str) and pd.isna(row["label"])
        else:
            assert pd.isna(row["error"]) and row["label"] == want["label"] and row["lang"] == want["lang"]
            assert list(row["scores"]) == list(want["scores"]) and row["scores"] == want["scores"]
    assert f"in.parquet:row {len(texts)}: 'text' is empty" in tagged["error"].iloc[-1]
    # a comma list of parquet files, as of JSONL ones (the parquet reader took the whole list as one path)
    frame.iloc[:3].to_parquet(tmp_path / "more.parquet")
    assert serve_main(["spark", "--model", tfidf_run.model_uri, "--input", f"{tmp_path / 'in.parquet'},{tmp_path / 'more.parquet'}",
                       "--output", str(tmp_path / "both.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "both.parquet")) == len(frame) + 3

    # CSV in (as serve tag reads it), JSONL out: again byte for byte serve tag's output.
    src = tmp_path / "in.csv"
    with open(src, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "doc_id", "text"])
        for i, (t, d) in enumerate(zip(texts, docs)):
            writer.writerow([f"c{i}", d or "", t or ""])
    tag_file(tfidf_predictor, str(src), str(tmp_path / "tag.jsonl"), progress=False)
    assert serve_main(["spark", "--model", tfidf_run.model_uri, "--input", str(src),
                       "--output", str(tmp_path / "spark.jsonl")]) == 0
    assert part_lines(tmp_path / "spark.jsonl") == (tmp_path / "tag.jsonl").read_text(encoding="utf-8").splitlines()

    # User errors are one line each.
    capsys.readouterr()
    assert serve_main(["spark", "--model", str(tfidf_run.output_dir), "--input", str(src),
                       "--output", str(tmp_path / "x.jsonl")]) == 2
    assert "not an MLflow model" in capsys.readouterr().err
    assert serve_main(["spark", "--model", tfidf_run.model_uri, "--input", str(src),
                       "--output", str(tmp_path / "x.csv")]) == 2
    assert "name the output .parquet or .jsonl" in capsys.readouterr().err
    assert serve_main(["spark", "--model", tfidf_run.model_uri, "--input", str(tmp_path / "missing.jsonl"),
                       "--output", str(tmp_path / "y.jsonl")]) == 2
    assert "missing.jsonl: no such file or folder" in capsys.readouterr().err


def test_spark_submit_runs_the_script(spark, tfidf_run, tfidf_predictor, mlflow_uri, tmp_path):
    """The cluster path: `spark-submit serve/spark.py` (its own JVM and driver; master from spark-submit)."""
    from serve.files import tag_file

    submit = shutil.which("spark-submit") or str(Path(sys.executable).with_name("spark-submit"))
    if not Path(submit).exists() and not shutil.which(submit):
        pytest.skip("no spark-submit next to this Python")
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(corpus_lines()[:40]) + "\n", encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(tmp_path / "tag.jsonl"), progress=False)
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_uri, "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run([submit, "--master", "local[2]", "serve/spark.py", "--model", tfidf_run.model_uri,
                           "--input", str(src), "--output", str(tmp_path / "spark.jsonl"), "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert part_lines(tmp_path / "spark.jsonl") == (tmp_path / "tag.jsonl").read_text(encoding="utf-8").splitlines()


# ------------------------------------------------------------------ torchrun

def test_torchrun_two_processes_train_one_run_one_model_dir(tmp_path, mlflow_uri):
    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    import mlflow

    from train.data import by_split, load_records

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    models = tmp_path / "models"
    experiment = f"ddp-{os.getpid()}-{time.time_ns()}"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "train", "--config", "configs/tiny-transformer.yaml",
               "--set", "name=tiny-ddp", "--set", f"output_dir={models / 'tiny-ddp'}",
               "--set", f"mlflow.experiment={experiment}", "--set", SMALL_DATA,
               "--set", "model.transformer.epochs=1", "--set", "model.transformer.tiny.vocab_size=200"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_uri, "TMPDIR": str(scratch), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.count("registered: models:/vn-china-topics-tiny-ddp@champion") == 1  # rank 0 alone reports

    client = mlflow.MlflowClient(mlflow_uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    run = runs[0]
    assert run.data.tags["world_size"] == "2" and "test_macro_f1" in run.data.metrics
    assert len(client.search_model_versions("name='vn-china-topics-tiny-ddp'")) == 1
    assert [p.name for p in models.iterdir()] == ["tiny-ddp"] and (models / "tiny-ddp" / "spec.json").is_file()
    assert not list(scratch.glob("vnzh-checkpoints-*"))  # the shared checkpoint folder is gone
    # Data parallelism, not two copies of one training: each process saw half of each encoder's data.
    files = SMALL_DATA.split("=", 1)[1].strip("[]").split(",")
    from train.config import load_config

    labels = load_config(ROOT / "configs/tiny-transformer.yaml").data.labels
    vi = [r for r in by_split(load_records(files), labels)["train"] if r.lang == "vi"]
    assert run.data.metrics["phobert_steps"] == math.ceil(math.ceil(len(vi) / 2) / 16)


# ------------------------------------------------------------------ team MLflow server on PostgreSQL

def pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster on a loopback port (as the `postgres` user when run as root)."""
    pytest.importorskip("psycopg2", reason="the server extra: pip install -e '.[server]'")
    initdb, pg_ctl, createdb = pg_binary("initdb"), pg_binary("pg_ctl"), pg_binary("createdb")
    if not (initdb and pg_ctl and createdb):
        pytest.skip("no PostgreSQL server binaries (fix: apt-get install postgresql)")
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="vnzh-pg-"))  # pytest's tmp folders are private to root
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user for initdb")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    subprocess.run([*run_as, initdb, "-D", str(data), "-U", "vnzh", "--auth=trust", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"],
                   check=True, capture_output=True, timeout=120)
    try:
        subprocess.run([*run_as, createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "vnzh", "mlflow"],
                       check=True, capture_output=True, timeout=60)
        yield f"postgresql://vnzh@127.0.0.1:{port}/mlflow"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def team_server(postgres, tmp_path_factory):
    """`mlflow server` on the PostgreSQL store, serving artifacts from its own folder, on loopback."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = open(folder / "server.log", "w")
    server = subprocess.Popen(
        # The driver named: SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the server extra is psycopg2.
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", postgres.replace("postgresql://", "postgresql+psycopg2://"),
         "--serve-artifacts",
         "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"mlflow server did not start:\n{(folder / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url, folder / "artifacts"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the server and its workers: the group this test started
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log.close()


def test_train_and_tag_against_a_team_server_on_postgres(team_server, postgres, tmp_path):
    import mlflow
    import psycopg2

    from serve.files import tag_file
    from vnzh_runtime.predictor import Predictor

    from vnzh_runtime.stores import database_problem

    url, artifacts = team_server
    # a database the server lacks is named as such, not "does not answer ... start it"
    missing = postgres.replace("postgresql://", "postgresql+psycopg2://").rsplit("/", 1)[0] + "/nodb"
    assert 'but not with that database (' in database_problem(missing)
    assert 'database "nodb" does not exist); create it or fix the name' in database_problem(missing)
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "PYTHONWARNINGS": "ignore"}
    out = tmp_path / "tfidf-team"
    done = subprocess.run([sys.executable, "-m", "train", "--config", "configs/tfidf.yaml", "--set", "name=tfidf-team",
                           "--set", f"output_dir={out}", "--set", "mlflow.experiment=team"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "registered: models:/vn-china-topics-tfidf-team@champion" in done.stdout

    client = mlflow.MlflowClient(url)
    runs = client.search_runs([client.get_experiment_by_name("team").experiment_id])
    assert len(runs) == 1 and runs[0].info.artifact_uri.startswith("mlflow-artifacts:")  # uploaded through the server
    assert list(artifacts.rglob("MLmodel")) and list(artifacts.rglob("spec.json"))
    with psycopg2.connect(postgres) as connection, connection.cursor() as cursor:  # the store is PostgreSQL
        cursor.execute("select count(*) from runs where run_uuid = %s", (runs[0].info.run_id,))
        assert cursor.fetchone()[0] == 1

    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(corpus_lines()[:60]) + "\n", encoding="utf-8")
    tagged = subprocess.run([sys.executable, "-m", "serve", "tag", "--model", "models:/vn-china-topics-tfidf-team@champion",
                             "--input", str(src), "--output", str(tmp_path / "tags.jsonl"), "--quiet"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert tagged.returncode == 0, tagged.stderr[-3000:]
    tag_file(Predictor.load(out), str(src), str(tmp_path / "local.jsonl"), progress=False)
    assert (tmp_path / "tags.jsonl").read_text(encoding="utf-8") == (tmp_path / "local.jsonl").read_text(encoding="utf-8")
    # the model directory knows its registered version on the team's server too (/health, evaluate --log)
    from vnzh_runtime.provenance import model_info

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", url)
        info = model_info(Predictor.load(out), str(out))
    assert (info["name"], info["version"], info["alias"]) == ("vn-china-topics-tfidf-team", "1", "champion")


def test_databricks_without_credentials_fails_in_one_line_before_any_work(tmp_path, monkeypatch):
    """It was a traceback once the training was done, and evaluate --log's after its tables."""
    from train.tracking_store import check_tracking_server
    from vnzh_runtime.errors import UserError

    for variable in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none.cfg"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "databricks")
    with pytest.raises(UserError, match=re.escape("MLFLOW_TRACKING_URI=databricks: cannot read Databricks credentials (")):
        check_tracking_server()


def test_a_server_whose_store_is_down_and_a_password_with_an_at_sign_are_one_line_each(monkeypatch, capsys):
    """A hostile user's: training hung for minutes in silence on a server whose /health answered while its
    PostgreSQL was down; a password with '@' and ':' was a traceback showing part of it."""
    import http.server
    import threading

    from vnzh_runtime.stores import database_problem, server_problem

    from vnzh_runtime import stores

    class StoreDown(http.server.BaseHTTPRequestHandler):
        slow = False

        def do_GET(self):  # noqa: N802 - http.server's name
            if self.slow and self.path != "/health":
                time.sleep(1.5)
            self.send_response(200 if self.path == "/health" else 500)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StoreDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert server_problem(url) == (f"MLFLOW_TRACKING_URI={url}: the tracking server answers but its store does not "
                                       "(HTTP 500); check the database behind the server (mlflow server --backend-store-uri)")
        # slower than the call's limit: a database waking from a pause, which MLflow's retries may outlast
        StoreDown.slow = True
        monkeypatch.setattr(stores, "API_SECONDS", 0.5)
        assert server_problem(url) is None
        assert "the tracking server took over 0.5 s to answer" in capsys.readouterr().err
    finally:
        server.shutdown()
    said = database_problem("postgresql+psycopg2://mlflow:p@ss:w0rd@127.0.0.1:15433/mlflow")
    assert said.startswith("MLFLOW_TRACKING_URI=postgresql+psycopg2://mlflow:***@127.0.0.1:15433/mlflow: the "
                           "password holds '@', which ends it in a URI; percent-encode it") and "w0rd" not in said
    # ... while a user name may hold one (a cloud login, alice@example.com), and a '?' in a password stays masked
    assert "ends it in a URI" not in database_problem("postgresql+psycopg2://alice@example.com:tok@127.0.0.1:1/db")
    assert "s3cr" not in database_problem("postgresql+psycopg2://u:s3cr?t@127.0.0.1:1/db")


def test_unreachable_tracking_server_fails_in_one_line_before_any_work(tmp_path, monkeypatch):
    from train.tracking_store import check_tracking_server
    from vnzh_runtime.errors import UserError

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    with pytest.raises(UserError, match="the tracking server does not answer"):
        check_tracking_server()

    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "train", "--config", "configs/tfidf.yaml",
                           "--set", f"output_dir={tmp_path / 'never'}"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "MLFLOW_TRACKING_URI": url, "PYTHONWARNINGS": "ignore"}, timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]  # (MLflow's import warning aside)
    assert len(lines) == 1 and lines[0].startswith(f"error: MLFLOW_TRACKING_URI={url}: the tracking server does not answer")
    assert "Traceback" not in done.stderr and "data:" not in done.stderr and not (tmp_path / "never").exists()
    assert time.monotonic() - started < 60
    # serve tag (and the API, evaluate, serve spark) reading a models:/ URI: seconds, not minutes of retries
    import vnzh_runtime

    started = time.monotonic()
    with pytest.raises(UserError, match=re.escape(f"models:/x@champion: MLFLOW_TRACKING_URI={url}: the tracking server does "
                                                  "not answer")):
        vnzh_runtime.load("models:/x@champion")
    assert time.monotonic() - started < 30
