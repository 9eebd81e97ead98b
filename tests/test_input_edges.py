"""Input edges a hostile review found: every input record still gives exactly one output record,
a whole file in the wrong encoding is one line, and the API tags an article as `serve tag` does.

  - a badly quoted CSV row is one error record; the rows after it are tagged
  - U+FFFD is text; only bytes that are not UTF-8 make a "not UTF-8" error (CSV, JSONL)
  - a JSONL line with a bad byte keeps its id
  - .ndjson is JSONL; a bare \\r ends a line of a raw article; UTF-16 is one clear error
  - POST /tag/article equals `serve tag` on the same article, past 256 paragraphs too
  - POST /tag/file refuses a multipart form upload (curl -F)
"""

import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serve.__main__ import main as serve_main
from serve.api import MAX_CHARS, MAX_TEXTS, create_app
from serve.files import tag_file
from serve.readers import article_paragraphs, read_records
from vnzh_runtime.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
VI = "Kim ngạch thương mại Việt Nam - Trung Quốc đạt 200 tỷ USD"
ZH = "中越陆地边界联合委员会举行会议"
EN = "Vietnam and China agree to boost youth exchanges"
SEED = "seed:000_7c8904df79475a7b.txt"


def read(data: bytes, name: str) -> list:
    return list(read_records(io.BytesIO(data), name))


def tagged(predictor, tmp_path: Path, name: str, data: bytes) -> list[dict]:
    src, out = tmp_path / name, tmp_path / f"{name}.out.jsonl"
    src.write_bytes(data)
    stats = tag_file(predictor, str(src), str(out), progress=False)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert stats.records == len(rows)
    return rows


@pytest.fixture(scope="module")
def client(tfidf_predictor):
    with TestClient(create_app(tfidf_predictor)) as client:
        yield client


# --- CSV: a bad quote costs one record, not the rest of the file ----------------------------

ODD_CSV = (f'id,text,doc_id\n1,{VI},d\n2,{ZH},d\n3,{EN},d\n4,"{VI}, quoted",d\n5,,d\n6,{ZH},d\n'
           f'7,"broken "quote" here about China",d\n8,{EN},d\n9,{VI},d\n').encode("utf-8")


def test_csv_badly_quoted_row_is_one_error_and_the_rows_after_it_are_tagged(tfidf_predictor, tmp_path):
    rows = tagged(tfidf_predictor, tmp_path, "odd.csv", ODD_CSV)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 10)]
    errors = {r["id"]: r["error"] for r in rows if "error" in r}
    assert set(errors) == {"5", "7"}
    assert errors["7"].startswith(f"{tmp_path / 'odd.csv'}:8: CSV error") and 'escape it as ""' in errors["7"]
    assert rows[7]["label"] and rows[8]["label"] and rows[8]["doc_id"] == "d"


def test_csv_unclosed_quote_does_not_swallow_the_rows_after_it(tfidf_predictor, tmp_path):
    rows = tagged(tfidf_predictor, tmp_path, "quote.csv",
                  f'id,text\n1,{VI}\n2,"unclosed {EN}\n3,{ZH}\n4,{EN}\n'.encode("utf-8"))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["error"].startswith(f"{tmp_path / 'quote.csv'}:3: CSV error") and "quote" in rows[1]["error"]
    assert all("error" not in rows[i] and rows[i]["label"] for i in (0, 2, 3))


def test_csv_quote_that_swallows_lines_up_to_a_later_quote_loses_none_of_them():
    # Row 2's quote runs on to row 4's; the strict reader fails there. Every row still gives one record.
    data = f'id,text\n1,{VI}\n2,"opening {EN}\n3,{ZH}\n4,said "yes" to it\n5,{VI}\n'.encode("utf-8")
    records = read(data, "s.csv")
    assert [r.id for r in records] == ["1", "2", "3", "4", "5"]
    assert [r.error is None for r in records] == [True, False, True, True, True]
    assert records[1].error.startswith("s.csv:3: CSV error") and records[3].text == 'said "yes" to it'


def test_csv_multi_line_fields_blank_lines_and_line_numbers_after_them():
    data = f'id,text\n1,"{VI}\nsecond line"\n\n2,{ZH}\n3,"bad "q" x"\n'.encode("utf-8") + b"4,caf\xe9\n"
    records = read(data, "m.csv")
    assert [r.id for r in records] == ["1", "2", "3", "4"]
    assert records[0].text == f"{VI}\nsecond line" and records[1].text == ZH
    assert records[2].error.startswith("m.csv:6: CSV error")
    assert records[3].error.startswith("m.csv:7: not UTF-8")


def test_csv_line_of_spaces_alone_is_blank_as_in_every_reader_and_a_row_of_empty_fields_is_a_record():
    records = read(f"id,text\n1,{VI}\n   \n\t\n2,{ZH}\n,\n".encode("utf-8"), "s.csv")
    assert [(r.id, r.error) for r in records] == [("1", None), ("2", None), (None, "s.csv:6: 'text' is empty")]
    # a quoted field of spaces is a row, as written: its text is empty
    assert [r.error for r in read(b'text\n   \n"  "\nabc\n', "one.csv")] == ["one.csv:3: 'text' is empty", None]


def test_csv_row_with_more_fields_than_the_header_is_an_error_not_a_shifted_record():
    # an unquoted comma in the text: the text would be cut and its id taken from the rest of it
    data = f"text,id,doc_id\n{VI}, 150 tỷ USD,p1,art1\n{ZH},p2,art1\n{VI},p3,art1,,\n".encode("utf-8")
    records = read(data, "c.csv")
    assert [(r.id, r.doc_id) for r in records] == [(None, None), ("p2", "art1"), ("p3", "art1")]
    assert records[0].error == ("c.csv:2: 4 fields where the header has 3 (a comma in a field that is not quoted?); "
                                "quote that field") and records[0].text is None
    assert records[2].error is None  # empty trailing fields (a spreadsheet's export) are no shift
    # ids in columns before the text are read before the shift: the error record keeps them
    shifted = read(f"id,doc_id,text\np1,art1,{VI}, 150 tỷ USD\n".encode("utf-8"), "c.csv")[0]
    assert (shifted.id, shifted.doc_id, shifted.text) == ("p1", "art1", None) and shifted.error.startswith("c.csv:2: 4 fields")


def test_csv_as_spreadsheets_save_it_semicolons_tabs_a_sep_line_and_any_case_of_header():
    """Excel saves `;` where the comma is the decimal mark (Vietnamese), `sep=;` first when asked, and a
    tab-separated "Unicode Text" that iconv turns into UTF-8: each reads as the CSV it is."""
    files = {"semicolon.csv": f"\ufeffid;text\r\n1;{VI}, 2025\r\n".encode(),
             "excel.csv": f"sep=;\r\nid;text\r\n1;{VI}, 2025\r\n".encode(),
             "comma.csv": f'sep=,\r\nid,text\r\n1,"{VI}, 2025"\r\n'.encode(),
             "unicode-text.csv": f"id\ttext\n1\t{VI}, 2025\n".encode(),
             "upper.csv": f'ID, Text ,DOC_ID\n1,"{VI}, 2025",d1\n'.encode()}
    for name, data in files.items():
        assert [(r.id, r.text, r.error) for r in read(data, name)] == [("1", f"{VI}, 2025", None)], name
    assert read(b"sep=;\nid;text\n1;a;b\n", "x.csv")[0].error == (
        "x.csv:3: 3 fields where the header has 2 (a semicolon in a field that is not quoted?); quote that field")
    with pytest.raises(UserError, match=re.escape("x.csv:2: the CSV header has no 'text' column")):
        read(b"sep=;\nid;body\n1;a\n", "x.csv")


def test_csv_rows_separated_otherwise_than_the_header_and_a_bom_after_excels_sep_line():
    records = read(f"id;text\n1,{VI}\n2;{VI}\n".encode(), "x.csv")
    assert [(r.id, r.error) for r in records] == [
        (None, "x.csv:2: this row is separated by ',', the header by ';'; use one separator throughout the file"), ("2", None)]
    assert [(r.id, r.text) for r in read(b"sep=;\n\xef\xbb\xbfid;text\n1;x\n", "x.csv")] == [("1", "x")]
    # a text-only row of a header that starts with text may hold a semicolon: it is the text
    assert [(r.id, r.text, r.error) for r in read(f"text,id\n{VI}; 2025\n".encode(), "x.csv")] == [(None, f"{VI}; 2025", None)]


def test_serve_spark_checks_a_csv_header_as_serve_tag_reads_it():
    from serve.csv_records import check_csv_head

    for head in ([b"id;text\n", b"1;a\n"], [b"sep=;\n", b"id;text\n"], [b"ID\tText\n", b"1\ta\n"]):
        check_csv_head(head, "h.csv")
    with pytest.raises(UserError, match=re.escape("h.csv:1: the CSV header has no 'text' column")):
        check_csv_head([b"a;b\n", b"1;2\n"], "h.csv")


def test_a_headerless_csv_whose_first_row_is_an_article_is_named_short_not_echoed(tfidf_run, tmp_path, capsys):
    src = tmp_path / "export.csv"
    src.write_text(f"{VI} " * 5000 + "\n2\n", encoding="utf-8")  # a 400 kB first row, no text column
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and len(err) < 300 and "the CSV header has no 'text' column (found ['" in err and "…']" in err


@pytest.mark.parametrize("name, body", [("e.jsonl", b""), ("blank.txt", b"\n \n"), ("h.csv", b"id,text\n"),
                                        ("e.html", b"")])
def test_serve_tag_refuses_a_file_of_no_records_as_the_api_does(tfidf_run, tmp_path, capsys, name, body):
    src, out = tmp_path / name, tmp_path / "out.jsonl"
    src.write_bytes(body)
    out.write_text("yesterday's tags\n", encoding="utf-8")
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(out), "--overwrite"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"error: {src}: no records; the file is empty or blank (or a CSV header alone)"
    assert out.read_text(encoding="utf-8") == "yesterday's tags\n" and sorted(p.name for p in tmp_path.iterdir()) == [name, "out.jsonl"]


def test_standard_input_that_carries_nothing_is_zero_records_not_an_error(tfidf_run, tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", "-",
                           "--output", "-", "--quiet"], input=b"", capture_output=True, timeout=120)
    assert done.returncode == 0 and done.stdout == b"" and b"tagged 0 of 0 records" in done.stderr


@pytest.mark.parametrize("name, body, says, fix", [
    ("feed.jsonl", b'<?xml version="1.0"?>\n<rss version="2.0"><channel><item><title>a</title></item></channel></rss>\n',
     "feed.jsonl:1: an RSS or Atom feed, not JSON Lines", "feed.xml"),
    ("page.json", b"\n<!DOCTYPE html>\n<html><body><p>a</p></body></html>\n", "page.json:2: a page's HTML, not JSON Lines",
     "page.html"),
    ("recs.html", b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n', "recs.html:1: JSON Lines, not a page's HTML",
     "recs.jsonl"),
    # CSV's suffix: a "cannot be read" or "no 'text' column" error would send the user to edit the file
    ("recs.csv", b'{"id": 1, "text": "a"}\n', "recs.csv:1: JSON Lines, not CSV", "recs.jsonl"),
    ("page.tsv", b"<html><body><p>a</p></body></html>\n", "page.tsv:1: a page's HTML, not CSV", "page.html"),
    ("rows.jsonl", b"id;Text\n1;a\n", "rows.jsonl:1: a CSV file (its header names a 'text' column), not JSON Lines",
     "rows.csv"),
    ("feed.jsonl.1", b'{"id": 1, "text": "a"}\n', "feed.jsonl.1:1: JSON Lines, not an article's text", "feed.jsonl"),
    # any other suffix is an article: its records' braces would be tagged as one article, their ids lost
    ("export.txt", b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n', "export.txt:1: JSON Lines, not an article's text",
     "export.jsonl"),
])
def test_a_file_saved_under_another_format_suffix_is_refused_with_the_copy_that_fixes_it(
        tfidf_run, client, tmp_path, capsys, name, body, says, fix):
    src = tmp_path / name
    src.write_bytes(body)
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(f"error: {tmp_path}/{says}; tag it under the suffix it needs")
    assert err.endswith(f"(cp -n {src} {tmp_path / fix}, then tag the copy)") and not (tmp_path / "o.jsonl").exists()
    answer = client.post(f"/tag/file?filename={name}", content=body)  # no record per line, nor one glued record
    assert answer.status_code == 422 and answer.json()["detail"].startswith(says)


def test_an_article_that_opens_with_a_json_object_without_text_is_still_an_article():
    records = list(read_records(io.BytesIO(b'{"a": 1}\nKim ngach tang\n'), "notes.txt"))
    assert [(r.id, r.text, r.error) for r in records] == [("notes:1", '{"a": 1}', None), ("notes:2", "Kim ngach tang", None)]


def test_json_lines_under_a_comment_line_are_still_read_as_records(tfidf_predictor):
    body = b'<!-- export 2024-05-01 -->\n{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n'
    records = list(read_records(io.BytesIO(body), "cmt.jsonl"))
    assert [r.id for r in records] == [None, 1, 2] and "cmt.jsonl:1: not valid JSON" in records[0].error


def test_csv_with_two_text_columns_is_refused_not_read_from_the_last():
    with pytest.raises(UserError, match=re.escape("t.csv:1: the CSV header has 2 'text' columns (columns 2 and 3); "
                                                  "rename or remove all but one")):
        read(f"id,text,Text\n1,{VI},translated\n".encode(), "t.csv")


def test_csv_with_bare_cr_line_ends_still_reads():
    records = read(f"id,text\r1,{VI}\r2,{ZH}\r".encode("utf-8"), "mac.csv")
    assert [(r.id, r.text, r.error) for r in records] == [("1", VI, None), ("2", ZH, None)]


# --- UTF-8 is decided on the bytes ------------------------------------------------------------

def test_csv_with_a_real_replacement_character_is_tagged(tfidf_predictor, tmp_path):
    data = b"id,text\n1,Vietnam China trade \xef\xbf\xbd rose 19 percent\n2,caf\xe9 Trung Qu\xf4c\n"
    rows = tagged(tfidf_predictor, tmp_path, "fffd.csv", data)
    assert rows[0]["id"] == "1" and "error" not in rows[0] and rows[0]["label"]
    assert rows[1]["id"] == "2" and rows[1]["error"].startswith(f"{tmp_path / 'fffd.csv'}:3: not UTF-8")


def test_csv_id_holding_a_bad_byte_is_not_passed_off_as_the_id():
    records = read(b"id,text\nab\xffc," + EN.encode() + b"\n", "x.csv")
    assert records[0].id is None and records[0].error.startswith("x.csv:2: not UTF-8")


def test_jsonl_line_with_a_bad_byte_keeps_its_ids(tfidf_predictor, tmp_path):
    data = (json.dumps({"id": "a", "text": VI}).encode() + b"\n"
            + b'{"text": "bad \xff\xfe bytes", "id": 6, "doc_id": "d1"}\n'
            + b'{"id": "x\xffy", "text": "bad id"}\n'
            + b'{"id": "z", "text": "ok \xef\xbf\xbd ' + EN.encode() + b'"}\n')
    rows = tagged(tfidf_predictor, tmp_path, "b.jsonl", data)
    assert [r["id"] for r in rows] == ["a", 6, None, "z"]
    assert rows[1]["doc_id"] == "d1" and rows[1]["error"].startswith(f"{tmp_path / 'b.jsonl'}:2: not UTF-8 (byte 14)")
    assert "label" not in rows[1]
    assert rows[2]["error"].startswith(f"{tmp_path / 'b.jsonl'}:3: not UTF-8")  # the bad byte is in the id: no id
    assert "error" not in rows[3] and rows[3]["label"]


# --- formats by name, line ends, wide encodings --------------------------------------------

@pytest.mark.parametrize("name", ["feed.ndjson", "feed.NDJSON", "feed.Json", "feed.JSONL"])
def test_json_lines_under_any_of_their_names(name):
    data = (json.dumps({"id": "p1", "text": VI}) + "\n" + json.dumps({"id": "p2", "text": ZH}) + "\n").encode()
    assert [(r.id, r.text) for r in read(data, name)] == [("p1", VI), ("p2", ZH)]


def test_raw_article_with_bare_cr_line_ends_is_split_into_paragraphs(tfidf_predictor, tmp_path):
    data = f"\ufeffTiêu đề\r\r{VI}\r{ZH}\r\n{EN}\n".encode("utf-8")
    rows = tagged(tfidf_predictor, tmp_path, "vi_cr.txt", data)
    assert [r["id"] for r in rows] == ["vi_cr:1", "vi_cr:3", "vi_cr:4", "vi_cr:5"]
    assert [r["lang"] for r in rows[1:]] == ["vi", "zh", "en"]
    assert article_paragraphs(data.decode("utf-8")) == [(1, "Tiêu đề"), (3, VI), (4, ZH), (5, EN)]


@pytest.mark.parametrize("encoding, expected", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"),
                                                ("utf-16-le", "UTF-16"), ("utf-32", "UTF-32")])
@pytest.mark.parametrize("name", ["a.txt", "a.jsonl", "a.csv"])
def test_a_utf16_file_is_one_clear_error(name, encoding, expected):
    text = "id,text\n1,x\n" if name.endswith(".csv") else json.dumps({"text": VI}) + "\n"
    data = ("\ufeff" if encoding == "utf-16-be" else "") + text
    fix = re.escape(f"(iconv -f {expected} -t UTF-8 {name} > a-utf8{Path(name).suffix})")
    with pytest.raises(UserError, match=rf"^{name}:1: the file is {expected}, not UTF-8; re-save it as UTF-8 {fix}$"):
        read(data.encode(encoding), name)


def test_excels_unicode_text_is_named_csv_by_its_fix_and_no_fix_writes_over_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=re.escape("(iconv -f UTF-16 -t UTF-8 u.txt > u-utf8.csv)")):
        read("ID\tText\r\n1\tKim ngạch\r\n".encode("utf-16"), "u.txt")
    (tmp_path / "x.jsonl").write_text("mine\n")  # what `gzip -dc x.jsonl.gz > x.jsonl` would empty
    with pytest.raises(UserError, match=re.escape("(gzip -dc x.jsonl.gz > x-2.jsonl)")):
        read(gzip.compress(b'{"text": "a"}\n'), "x.jsonl.gz")


def test_tar_archives_office_files_in_any_member_order_and_an_api_answer_on_one_line_are_refused_with_their_fix(tmp_path):
    import io
    import tarfile
    import zipfile

    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as tar:
        member = tarfile.TarInfo("feed.jsonl")
        member.size = len(b'{"text": "a"}\n')
        tar.addfile(member, io.BytesIO(b'{"text": "a"}\n'))
    with pytest.raises(UserError, match=re.escape("t/feed.tar: a tar archive, not text; unpack it first (tar -xkf t/feed.tar -C t,")):
        read(packed.getvalue(), "t/feed.tar")
    with pytest.raises(UserError, match=re.escape("f.tgz: a compressed tar archive, not text; unpack it first (tar -xkzf f.tgz")):
        read(gzip.compress(packed.getvalue()), "f.tgz")
    for member, contents, says in (("mimetype", "application/vnd.oasis.opendocument.spreadsheet", "an OpenDocument file"),
                                   ("docProps/app.xml", "<x/>", "an Office document")):  # openpyxl's first member
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as archive:
            archive.writestr(zipfile.ZipInfo(member), contents)
            archive.writestr("content.xml", "<x/>")
        with pytest.raises(UserError, match=re.escape(f"s.dat: {says}")):
            read(zipped.getvalue(), "s.dat")
    answer = json.dumps({"status": "ok", "articles": [{"id": 1, "text": VI}]}).encode() + b"\n"
    with pytest.raises(UserError, match=re.escape("api.json:1: one JSON object that holds its records in 'articles', "
                                                  "not JSON Lines; write one record per line (jq -c '.articles[]' api.json")):
        read(answer, "api.json")


def test_a_jsonl_text_with_raw_line_breaks_is_one_record_and_a_broken_line_keeps_its_id():
    data = (f'{{"id": "a1", "text": "{VI}\n\n{VI}"}}\n{{"id": "a2", "text": "{ZH}"}}\n'
            f'{{"id": "a3", "doc_id": "d", "text": "cut off\n{{"id": "a4", "text": "{EN}"}}\n').encode()
    records = read(data, "raw.jsonl")
    assert [(r.id, r.error is None) for r in records] == [("a1", True), ("a2", True), ("a3", False), ("a4", True)]
    assert records[0].text == f"{VI}\n\n{VI}" and records[2].doc_id == "d"
    assert records[2].error.startswith("raw.jsonl:5: not valid JSON (Unterminated string")


@pytest.mark.parametrize("name, fix", [("feed.jsonl.gz", "gzip -dc feed.jsonl.gz > feed.jsonl"),
                                       ("feed.jsonl", "gzip -dc feed.jsonl > feed-unpacked.jsonl"),
                                       ("feed.txt", "gzip -dc feed.txt > feed-unpacked.txt"),
                                       ("-", "pipe it through gzip -dc")])
def test_a_compressed_file_is_one_clear_error_whatever_its_name(name, fix):
    """The fix works for the name it is given (gunzip -k refuses a name without .gz) and never writes over it."""
    import gzip

    said = "stdin" if name == "-" else name
    with pytest.raises(UserError, match=re.escape(f"{said}: a gzip archive, not text; decompress it first ({fix})")):
        read(gzip.compress((json.dumps({"text": VI}) + "\n").encode()), name)


def test_a_bom_at_any_line_start_is_dropped_as_files_joined_by_cat_have_one(tmp_path):
    from train.data import load_records

    line = '\ufeff{"id": "%s", "lang": "vi", "labels": ["economy"], "text": "%s", "source": "authored", "split": "test"}\n'
    joined = "".join(line % (i, VI) for i in range(3)).encode("utf-8")  # cat bom.jsonl bom.jsonl bom.jsonl
    records = read(joined, "cat.jsonl")
    assert [r.id for r in records] == ["0", "1", "2"] and not any(r.error for r in records)
    (tmp_path / "cat.jsonl").write_bytes(joined)  # train.evaluate's and training's reader too
    assert [r.id for r in load_records([str(tmp_path / "cat.jsonl")])] == ["0", "1", "2"]


def test_a_pretty_printed_object_or_an_array_after_blank_lines_is_one_error_not_a_page_of_them(tmp_path):
    from train.data import DataError, load_records

    pretty = json.dumps({"id": 1, "text": VI, "labels": ["economy"]}, indent=2, ensure_ascii=False).encode()
    late_array = b"\n\n" + json.dumps([{"id": 1, "text": VI}], indent=2, ensure_ascii=False).encode()
    for data, said in ((pretty, "a JSON object over several lines, not JSON Lines; write one object per line "
                                "(jq -c . one.json > one-lines.jsonl; where its records are a list inside it, "
                                "as in {\"articles\": [...]}, jq -c '.articles[]' one.json > one-lines.jsonl)"),
                       (late_array, "a JSON array, not JSON Lines")):
        with pytest.raises(UserError, match=re.escape(said)):  # serve tag's reader
            read(data, "one.json")
        (tmp_path / "one.json").write_bytes(data)
        with pytest.raises(DataError, match=re.escape(said.split(" (jq")[0])):  # train.evaluate's and training's
            load_records([str(tmp_path / "one.json")])
    # a JSON Lines file whose first record is damaged down to "{" is read on: one error record, then the rest
    records = read(b"{\n" + b"".join(json.dumps({"id": i, "text": VI}).encode() + b"\n" for i in range(3)), "feed.jsonl")
    assert records[0].error and [r.id for r in records[1:]] == [0, 1, 2]
    # standard input has no file name to give jq
    with pytest.raises(UserError, match=re.escape("(pipe it through jq -c '.[]' first)")):
        read(late_array, "-")


def test_a_file_of_no_suffix_holding_pretty_printed_json_is_one_error_not_an_article_of_brackets():
    pretty = json.dumps({"id": 1, "text": VI}, indent=2, ensure_ascii=False).encode()
    array = json.dumps([{"id": 1, "text": VI}], indent=2, ensure_ascii=False).encode()
    with pytest.raises(UserError, match=re.escape("feed:1: a JSON object over several lines, not JSON Lines")):
        read(pretty, "feed")
    with pytest.raises(UserError, match=re.escape("(pipe it through jq -c '.[]' first)")):  # a stream: no file for jq
        read(b"\n" + array, "/dev/stdin")
    with pytest.raises(UserError, match=re.escape("one:1: a JSON array")):  # on one line too
        read(json.dumps([{"text": VI}]).encode(), "one")
    with pytest.raises(UserError, match=re.escape("feed:1: lines end in a bare carriage return")):
        read(b'{"id": 1, "text": "a"}\r{"id": 2, "text": "b"}\r', "feed")  # old Mac line ends, no suffix
    deep = b"[" * 100_000 + b"]" * 100_000  # nested past Python's limit: read as before, not a crash
    assert [r.text for r in read(deep + b"\n" + VI.encode(), "feed")] == [deep.decode(), VI]
    assert read(b'{"a": ' + deep + b'}\r{"text": "b"}\r', "deep.jsonl")[0].error
    # an article that opens with a bracket is still an article, each line a paragraph
    records = read(f"[Video] {VI}\n[Ảnh]\n{{\n".encode(), "feed")
    assert [r.text for r in records] == [f"[Video] {VI}", "[Ảnh]", "{"] and not any(r.error for r in records)


def test_json_lines_ending_in_bare_carriage_returns_are_one_error_naming_the_fix(tmp_path):
    from train.data import DataError, load_records

    data = b"".join(json.dumps({"id": i, "text": VI, "labels": ["economy"]}).encode() + b"\r" for i in range(3))
    said = "mac.jsonl:1: lines end in a bare carriage return (an old Mac file), not a line feed; convert them first"
    with pytest.raises(UserError, match=re.escape(said + " (tr '\\r' '\\n' < mac.jsonl > mac-lines.jsonl)")):
        read(data, "mac.jsonl")
    (tmp_path / "mac.jsonl").write_bytes(data)
    with pytest.raises(DataError, match=re.escape(said.split(":", 1)[1])):  # training's and train.evaluate's reader
        load_records([str(tmp_path / "mac.jsonl")])
    # Windows line ends, and a CR that is only whitespace inside one record, read as before
    crlf = data.replace(b"\r", b"\r\n")
    assert [r.id for r in read(crlf, "win.jsonl")] == [0, 1, 2]
    records = read(b'{"id": 1,\r"text": "x"}\n', "odd.jsonl")
    assert records[0].text == "x" and records[0].error is None


def test_a_line_of_only_a_bom_or_zero_width_spaces_is_blank_in_json_lines():
    data = ("\ufeff\n\u200b \n" + json.dumps({"id": 1, "text": VI}) + "\n\ufeff\n").encode()
    records = read(data, "feed.jsonl")
    assert [(r.id, r.error) for r in records] == [(1, None)]


def test_a_line_cut_off_mid_record_is_faulted_at_its_own_last_column():
    records = read(b'{"text": "abc", "labels": ["economy"]\n' + json.dumps({"text": VI}).encode() + b"\n", "cut.jsonl")
    assert "cut.jsonl:1: not valid JSON (Expecting ',' delimiter at column 38)" in records[0].error
    assert records[1].text == VI and not records[1].error


@pytest.mark.parametrize("indent", [2, None])
def test_a_json_array_is_one_error_naming_json_lines(indent):
    data = b"\xef\xbb\xbf" + json.dumps([{"id": 1, "text": VI}], indent=indent, ensure_ascii=False).encode()
    with pytest.raises(UserError, match=r"^a\.json:1: a JSON array, not JSON Lines; write one object per line"):
        read(data, "a.json")
    # the fix it names writes elsewhere: `> feed.jsonl` would empty the input before jq reads it
    with pytest.raises(UserError, match=r"\(jq -c '\.\[\]' feed\.jsonl > feed-lines\.jsonl\)$"):
        read(data, "feed.jsonl")
    # a first line that is a list of strings is one bad record, and the records after it are read
    records = read(f'["not", "an", "object"]\n{json.dumps({"text": VI})}\n'.encode(), "a.jsonl")
    assert records[0].error and records[1].text == VI


def test_serve_tag_refuses_a_utf16_file_in_one_line_and_writes_nothing(tfidf_run, tmp_path, capsys):
    src, out = tmp_path / "vi16.txt", tmp_path / "out.jsonl"
    src.write_bytes(f"{VI}\n{ZH}\n".encode("utf-16"))
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(out),
                       "--quiet", "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"error: {src}:1: the file is UTF-16, not UTF-8; re-save it as UTF-8 "
                                 f"(iconv -f UTF-16 -t UTF-8 {src} > {src.with_name('vi16-utf8.txt')})"]
    assert not out.exists() and not list(tmp_path.glob("*partial*"))


def test_file_endpoint_refuses_utf16_with_the_same_line(client):
    response = client.post("/tag/file?filename=vi16.txt", content=f"{VI}\n".encode("utf-16"))
    assert response.status_code == 422
    assert response.json()["detail"] == ("vi16.txt:1: the file is UTF-16, not UTF-8; re-save it as UTF-8 "
                                         "(iconv -f UTF-16 -t UTF-8 vi16.txt > vi16-utf8.txt)")


# --- /tag/article is serve tag on the article ----------------------------------------------

def long_article(lines: int = 300) -> str:
    rows = [json.loads(line) for line in (ROOT / "data/seeds.jsonl").read_text(encoding="utf-8").splitlines()]
    paragraphs = [row["text"] for row in rows if row["source"] == SEED]
    return "\n".join((paragraphs * (lines // len(paragraphs) + 1))[:lines]) + "\n"


def test_article_endpoint_equals_serve_tag_past_256_paragraphs(client, tfidf_predictor, tmp_path):
    assert tfidf_predictor.context_head  # else every paragraph stands alone and heads cannot differ
    article = long_article(300)
    rows = tagged(tfidf_predictor, tmp_path, "long_article.txt", article.encode("utf-8"))
    response = client.post("/tag/article", json={"text": article})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(rows) == 300 > MAX_TEXTS
    for result, row in zip(results, rows):
        assert row["id"] == f"long_article:{result['line']}"
        assert {k: v for k, v in result.items() if k not in ("line", "text")} == \
               {k: v for k, v in row.items() if k not in ("id", "doc_id")}, result["line"]


def test_article_endpoint_threshold_and_line_ends_as_serve_tag(client, tfidf_predictor, tmp_path):
    article = long_article(40).replace("\n", "\r", 20)
    rows = tagged(tfidf_predictor, tmp_path, "cr.txt", article.encode("utf-8"))
    results = client.post("/tag/article", json={"text": article, "threshold": 1.0}).json()["results"]
    assert [r["line"] for r in results] == [int(row["id"].split(":")[1]) for row in rows] == list(range(1, 41))
    assert {r["label"] for r in results} == {"uncertain"}
    assert [r["scores"] for r in results] == [row["scores"] for row in rows]


def test_article_endpoint_names_the_line_of_an_over_long_paragraph(client):
    article = long_article(299) + "\n" + "Việt Nam Trung Quốc " * (MAX_CHARS // 10)
    response = client.post("/tag/article", json={"text": article})
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail.startswith("line 301 of the article has ") and f"the limit is {MAX_CHARS}" in detail
    assert "texts[" not in detail


# --- /tag/file takes the file's bytes, not a form --------------------------------------------

def test_file_endpoint_refuses_a_multipart_form_upload(client):
    data = f"{VI}\n{ZH}\n".encode("utf-8")
    response = client.post("/tag/file?filename=vi.txt&format=jsonl", files={"file": ("vi.txt", data, "text/plain")})
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert "--data-binary" in detail and "multipart" in detail and "\n" not in detail
    raw = client.post("/tag/file?filename=vi.txt&format=jsonl", content=data,
                      headers={"content-type": "application/x-www-form-urlencoded"})  # curl --data-binary's type
    assert raw.status_code == 200 and [json.loads(line)["id"] for line in raw.text.splitlines()] == ["vi:1", "vi:2"]


def test_csv_lines_after_a_stray_quote_are_read_again_and_none_is_lost():
    # A multi-line quoted field with a stray quote: its second line does not fit the header (3 fields,
    # not 2) and is an error record of its own, not a tagged phantom; the real row after it is tagged.
    data = b'id,text\n1,"He said, quote:\nVietnam and China signed, at last, a deal" he "added"\n2,' + ZH.encode() + b"\n"
    records = read(data, "p.csv")
    assert [(r.id, r.error is None) for r in records] == [("1", False), (None, False), ("2", True)]
    assert records[0].error.startswith("p.csv:2: CSV error") and records[1].error.startswith("p.csv:3: 3 fields")
    # A short row (doc_id left out) after the broken one is a row, not swallowed: every row is there.
    short = read("id,text,doc_id\n1,\"Kim ngạch\n2,Hai bên nhất trí\n3,中越边界,d\n".encode("utf-8"), "s.csv")
    assert [(r.id, r.error is None) for r in short] == [("1", False), ("2", True), ("3", True)]


# --- a page's HTML source is read as the paragraphs a browser shows --------------------------

PAGE = ("<!DOCTYPE html>\n<html><head><title>Đội tuyển Việt Nam thắng Indonesia</title>\n<script>\n"
        "var tags = ['Trung Quốc', 'Biển Đông', 'tàu hải cảnh bắn vòi rồng vào tàu cá Việt Nam'];\n</script>\n"
        "<style>\np { color: red }\n</style></head><body>\n<!--\n"
        "Kim ngạch xuất khẩu sầu riêng của Việt Nam sang Trung Quốc tăng 70%\n-->\n"
        "<h1>Đội tuyển Việt Nam thắng</h1><p>Đội tuyển Việt Nam thắng Indonesia 2-0 tại vòng loại\n"
        "World Cup.</p><p>Bàn thắng của <b>Tiến Linh</b> đến ở phút 30.</p>\n<br>\n<p></p>&nbsp;\n</body></html>\n")


def test_html_hidden_blocks_over_lines_are_dropped_and_blocks_are_paragraphs():
    records = read(PAGE.encode("utf-8"), "page.html")
    assert [(r.id, r.text) for r in records] == [  # the <title> is the tab's, not the page's
        ("page:12", "Đội tuyển Việt Nam thắng"),
        ("page:12.2", "Đội tuyển Việt Nam thắng Indonesia 2-0 tại vòng loại World Cup."),
        ("page:13", "Bàn thắng của Tiến Linh đến ở phút 30.")]
    assert {r.doc_id for r in records} == {"page"}
    minified = read(PAGE.replace("\n", " ").encode("utf-8"), "min.txt")  # known by its first line, whatever its name
    assert [r.text for r in minified] == [r.text for r in records]
    assert [r.id for r in minified] == ["min:1", "min:1.2", "min:1.3"]


def test_html_paragraph_with_a_bad_byte_is_its_error_record():
    records = read(b"<p>Vi\xff\xfet Nam</p>\n<p>Trung Qu\xe1\xbb\x91c</p>\n", "bad.htm")
    assert [(r.id, r.text is None) for r in records] == [("bad:1", True), ("bad:2", False)]
    assert records[0].error == "bad.htm:1: not UTF-8; re-save as UTF-8"


def test_article_endpoint_reads_html_as_serve_tag_does(client, tfidf_predictor, tmp_path):
    rows = tagged(tfidf_predictor, tmp_path, "page.txt", PAGE.encode("utf-8"))
    results = client.post("/tag/article", json={"text": PAGE}).json()["results"]
    assert [f"page:{r['line']}" for r in results] == [row["id"] for row in rows] == \
           ["page:12", "page:12.2", "page:13"]
    assert [r["scores"] for r in results] == [row["scores"] for row in rows]
    assert article_paragraphs("Việt Nam <b>và</b> Trung Quốc\n<p>a</p>") == \
           [(1, "Việt Nam <b>và</b> Trung Quốc"), (2, "<p>a</p>")]  # text copied from a page stays lines


@pytest.mark.parametrize("name", ["/dev/stdin", "feed", ".jsonl"])
def test_json_lines_under_a_name_without_a_records_suffix_are_records(name):
    """Read as a raw article, each record's braces were tagged as text and its ids lost."""
    data = (json.dumps({"id": "a1", "text": VI}, ensure_ascii=False) + "\n" + json.dumps({"id": 7, "text": ZH}) + "\n")
    assert [(r.id, r.text) for r in read(data.encode("utf-8"), name)] == [("a1", VI), (7, ZH)]
    article = read(b"{Trung Quoc} la ten goi\n" + VI.encode("utf-8") + b"\n", "notes.txt")  # not JSON: an article
    assert [r.text for r in article] == ["{Trung Quoc} la ten goi", VI]


def test_lines_that_show_nothing_are_blank_everywhere(client):
    """Zero-width spaces or NULs alone are no paragraph (as spaces are not); a NUL inside a word is dropped."""
    article = read("Kim ngạch\n\u200b\u200b\n\x00\x00\n\ufeff \u200d\nTrung Quốc\n".encode("utf-8"), "a.txt")
    assert [(r.id, r.text) for r in article] == [("a:1", "Kim ngạch"), ("a:5", "Trung Quốc")]
    records = read((json.dumps({"text": "\u200b"}) + "\n" + json.dumps({"text": "\x00"}) + "\n").encode("utf-8"), "r.jsonl")
    assert [r.error for r in records] == ["r.jsonl:1: 'text' is empty", "r.jsonl:2: 'text' is empty"]
    for blank in ("\u200b", "\x00 ", "\u00a0\u3000"):
        response = client.post("/tag", json={"texts": [VI, blank]})
        assert response.status_code == 422 and "texts[1] is empty" in response.json()["detail"], repr(blank)
    whole, broken = client.post("/tag", json={"texts": [VI, VI.replace("Kim", "K\x00im")]}).json()["results"]
    assert whole == broken


def test_a_text_article_with_a_tag_left_in_stays_lines_and_a_block_never_closed_is_named(client):
    """Only a page's document markers make a raw article HTML: "<p>" on its first line does not."""
    records = read("<p>Kim ngạch tăng</p>\nĐoạn hai\nĐoạn ba\n".encode("utf-8"), "a.txt")
    assert [r.id for r in records] == ["a:1", "a:2", "a:3"]
    page = read(b"<html><body><p>Kim ng\xe1\xba\xa1ch</p>\n<script>\nvar x = 1\n", "p.html")
    assert [r.id for r in page] == ["p:1", "p:2"] and page[1].text is None
    assert page[1].error.startswith("p.html:2: a <script>, <style>, <noscript>, <svg> or other element")
    assert "never closed" in page[1].error
    same_line = read(b"<html><body>\n<p>Hai b\xc3\xaan</p><script>var a = 1;\n", "d.html")
    assert [r.id for r in same_line] == ["d:2", "d:2.2"] and same_line[1].text is None  # ids stay unique
    results = client.post("/tag/article", json={"text": "<html><body><p>một</p>\r<!-- \rhai"}).json()["results"]
    assert [r["line"] for r in results] == [1, 2] and results[1]["error"].startswith("line 2: a <script>")
    lines = client.post("/tag/article", json={"text": "\n<html><body>\r<p>một</p>\r<p>hai</p>"}).json()["results"]
    assert [r["line"] for r in lines] == [3, 4]  # bare \r ends a line here as in a file; the first line may be blank
    assert [r.id for r in read(b"\n<html><body>\r<p>m\xe1\xbb\x99t</p>\r<p>hai</p>", "b.txt")] == ["b:3", "b:4"]


def test_preformatted_lines_are_paragraphs():
    """<pre> keeps its line breaks on screen: each line is a paragraph, numbered by its own line."""
    page = "<html><body><pre>\nTrung Quốc\n\n  Việt <b>Nam</b></pre>\n<p>Một hai</p>\n"
    assert [(r.id, r.text) for r in read(page.encode("utf-8"), "pre.html")] == [
        ("pre:2", "Trung Quốc"), ("pre:4", "Việt Nam"), ("pre:5", "Một hai")]


def test_what_sloppy_pages_show_is_never_dropped_for_looking_hidden():
    """A conditional comment's <!--> ends it, and a `hidden` element closed only by its parent's end tag
    (a browser closes it there) does not hide the rest of the page: both were tried and lost text."""
    shown = [(r.id, r.text) for r in read("<!--[if !IE]><!-->\n<p>Chào</p>\n<!--<![endif]-->\n<p>sau</p>\n"
                                           "<div><span hidden>x</div>\n<p>cuối</p>\n".encode("utf-8"), "c.html")]
    assert [text for _, text in shown] == ["Chào", "sau", "x", "cuối"]


def test_a_page_reads_as_a_browser_shows_it_in_the_encoding_it_declares():
    page = ('<?xml version="1.0" encoding="gbk"?>\n<html><head><meta charset="gbk"><title>越中</title></head><body>\n'
            '<nav><a>首页</a><a>国际</a></nav><p>越南与中国签署<b>经贸</b>合作文件</p>\n'
            '<select><option>English</option><option>中文</option></select><ruby>越<rt>yuè</rt></ruby>\n</body></html>\n')
    records = read(page.encode("gbk"), "zh.shtml")
    assert [(r.id, r.text) for r in records] == [("zh:3", "首页 国际"), ("zh:3.2", "越南与中国签署经贸合作文件"), ("zh:4", "越")]
    assert [r.text for r in read(page.encode("gbk"), "zh.txt")] == [r.text for r in records]  # known by its first line
    mhtml = b"From: <Saved by Blink>\nSnapshot-Content-Location: https://example.vn/a\nMIME-Version: 1.0\n"
    with pytest.raises(UserError, match="a saved MHTML page, not HTML"):
        read(mhtml, "page.mhtml")


def test_a_utf8_bom_outranks_the_charset_a_page_declares_as_in_a_browser():
    page = f'<html><head><meta charset="gbk"></head>\n<body><p>{VI}</p><p>{ZH}</p></body></html>\n'.encode()
    records = read(b"\xef\xbb\xbf" + page, "saved.html")  # re-saved as UTF-8, its old <meta> left in
    assert [(r.text, r.error) for r in records] == [(VI, None), (ZH, None)]


def test_a_page_converted_to_utf8_with_its_old_meta_left_in_is_read_as_utf8():
    """`iconv -f GBK -t UTF-8` (the fix the error names) keeps the page's <meta charset="gbk">: its text
    is UTF-8 all the same, whether the head shows it or only a later line does."""
    page = f'<html><head><meta charset="gbk"></head>\n<body><p>{VI}</p><p>{ZH}</p></body></html>\n'.encode()
    assert [(r.text, r.error) for r in read(page, "converted.html")] == [(VI, None), (ZH, None)]
    ascii_head = b'<html><head><meta charset="gb2312"><style>' + b"p{}\n" * 3000 + b"</style></head>\n"
    valid_gb18030_too = ["Việt Nam và Trung Quốc", "越南", "中越两国"]  # UTF-8 bytes that GB18030 also decodes
    body = "".join(f"<p>{text}</p>\n" for text in valid_gb18030_too).encode()
    assert [r.text for r in read(ascii_head + body, "converted.html")] == valid_gb18030_too
    # and a GBK page whose head happens to be valid UTF-8 (图片 in GBK is "ͼƬ") is read as the GBK it is
    gbk_page = ('<html><head><meta charset="gbk"><title>图片</title></head>\n<p>越南和中国签署合作协议</p>\n').encode("gbk")
    assert [(r.text, r.error) for r in read(gbk_page, "p.html")] == [("越南和中国签署合作协议", None)]
    bad = read(ascii_head + "<p>越南</p>\n".encode("gbk") + b"<p>\xff\xfe</p>\n", "gbk.html")
    assert [r.text for r in bad[:1]] == ["越南"]
    assert bad[1].error == "gbk.html:3003: neither gb2312 as the page declares nor UTF-8; re-save as UTF-8"


def test_a_declared_charset_is_read_as_a_browser_reads_it():
    """gb2312 pages hold GBK characters (镕), a <meta> naming UTF-16 means UTF-8, and encodings that cannot
    be read line by line (UTF-7, HZ) are read as UTF-8: none is an error or a crash."""
    gbk = f'<html><head><meta charset="gb2312"></head>\n<body><p>朱镕基{ZH}</p></body></html>\n'.encode("gbk")
    assert [(r.text, r.error) for r in read(gbk, "zh.html")] == [(f"朱镕基{ZH}", None)]
    for label in ("utf-16", "UTF-16LE", "utf-7", "hz-gb-2312", "x-user-defined"):
        page = f'<html><head><meta charset="{label}"></head>\n<body><p>{VI}</p>\n<p>ab</p></body></html>\n'.encode()
        assert [(r.text, r.error) for r in read(page, "p.html")] == [(VI, None), ("ab", None)], label


def modern_mail() -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <a@b.vn>", "b@c.vn", "Việt Nam"
    message.set_content(VI)
    return message.as_bytes()


def test_office_documents_and_e_mails_are_one_error_naming_how_to_get_their_text():
    """A .docx unzipped is XML, a .doc binary, an .eml headers and base64: read as articles they were
    junk records tagged `other`, and the unzip fix made one record of a whole document."""
    import email.mime.text
    import zipfile

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", f"<w:t>{VI}</w:t>")
    for data, said in ((docx.getvalue(), "r.txt: an Office document (.docx, .xlsx), not text; save it from its program "
                                         "as \"Plain Text\" (UTF-8)"),
                       (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "r.txt: an Office 97-2003 document"),
                       (email.mime.text.MIMEText(VI, "plain", "utf-8").as_bytes(), "r.txt: an e-mail message"),
                       (b"Return-Path: <a@b.vn>\nReceived: from mx\n\n" + VI.encode(), "r.txt: an e-mail message"),
                       (b"From a@b.vn Mon Jan  1 00:00:00 2024\nSubject: x\n\n" + VI.encode(), "r.txt: an e-mail message"),
                       (modern_mail(), "r.txt: an e-mail message"),
                       (b"MIME-Version: 1.0\nContent-Type: text/plain\n\n" + VI.encode(), "r.txt: a MIME file (a saved MHTML page "
                                                                                        "or an e-mail)")):
        with pytest.raises(UserError, match=re.escape(said)):
            read(data, "r.txt")
    # an article may well begin with "From" or "Received:", and a feed zip is still an archive to unpack
    assert [r.text for r in read(f"From Beijing Mon to Hanoi\n{VI}\n".encode(), "a.txt")] == ["From Beijing Mon to Hanoi", VI]
    assert [r.text for r in read(f"Received: Hà Nội, 3/3/2025\n{VI}\n".encode(), "a.txt")] == ["Received: Hà Nội, 3/3/2025", VI]
    # a zip's local header may hold a line feed before the first member's name
    from vnzh_runtime.filekind import whole_file_problem
    cut = [b"PK\x03\x04\x14\x00\x00\x00\x08\x00\n", b"\x00" * 15 + b"[Content_Types].xml\x00"]
    assert whole_file_problem(cut, "r.txt", False).startswith("r.txt: an Office document (.docx, .xlsx)")
    feed = io.BytesIO()
    with zipfile.ZipFile(feed, "w") as archive:
        archive.writestr("feed.jsonl", "{}")
    with pytest.raises(UserError, match=re.escape("a zip archive, not text; decompress it first")):
        read(feed.getvalue(), "feed.jsonl")


def test_a_pdf_is_one_error_naming_how_to_get_its_text():
    join = "awk 'BEGIN { RS = \"\" } { gsub(/\\n/, \" \"); print }'"  # a paragraph per line, not pdftotext's wrapped lines
    with pytest.raises(UserError, match=re.escape("report.pdf: a PDF, not text; extract its text first "
                                                  f"(pdftotext report.pdf - | {join} > report.txt)")):
        read(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.pdf")
    with pytest.raises(UserError, match=re.escape(f"(pdftotext report.txt - | {join} > report-text.txt)")):
        read(b"%PDF-1.4\n", "report.txt")  # a renamed download: the fix never writes over it


def test_paragraph_and_line_separators_and_form_feeds_end_an_articles_lines_alike_in_files_and_the_api():
    """A word processor's U+2029, a PDF converter's form feed: each ends a paragraph, not joins two."""
    text = f"{VI}\u2029{ZH}\f{EN}\r\n\u2028\nGiá vàng hôm nay\rOld Mac\x85NEL\vVT\n\fTrang 2\nbad \udcff"
    from_file = [(r.id, r.text) for r in read(text.encode("utf-8", "surrogateescape"), "a.txt")]
    # ids name the line as `grep -n` does (a page break at a line's start moves nothing), and .2, .3 the
    # paragraphs a break starts within it, as in a page's HTML
    assert from_file == [("a:1", VI), ("a:1.2", ZH), ("a:1.3", EN), ("a:3", "Giá vàng hôm nay"), ("a:4", "Old Mac"),
                         ("a:4.2", "NEL"), ("a:4.3", "VT"), ("a:5", "Trang 2"), ("a:6", None)]
    assert [(f"a:{number}", paragraph) for number, paragraph in article_paragraphs(text.rsplit("\n", 1)[0])] == from_file[:-1]
    # in a page's HTML source a U+2028 is a space, as a browser shows it
    page = read(f"<html><body><p>{VI}\u2028{EN}</p></body></html>\n".encode(), "p.html")
    assert [r.text for r in page] == [f"{VI} {EN}"]


def test_a_lone_surrogate_in_an_article_is_named_not_pydantics_parse_message(client):
    response = client.post("/tag/article", content=b'{"text": "\\ud800 Vi\\u1ec7t Nam"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "text: holds a lone surrogate escape (\\ud800 to \\udfff), which is no character; remove it"


def test_html_that_browsers_shrug_off_reads_in_linear_time_and_never_fails():
    """`<a ` never closed took close() a rescan of the rest of the page per `<` (18 KB: 8 s); `<![ endif]>`
    was an AssertionError (a 500); an `<rt>` whose end tag is left out hid the rest of the page."""
    from serve.html_pages import page_paragraphs

    [(_, text)] = page_paragraphs(["<html><body><p>" + "<a " * 200_000 + "\n"])  # 0.4 s; quadratic: hours
    assert text.startswith("<a <a") and len(text) == 3 * 200_000 - 1
    page = ("<html><body>\n<p>Thủ đô <ruby>河内<rt>Hà Nội</ruby> hôm nay</p>\n<p>Việt Nam</p><![ endif]>"
            "<![foo[ x ]]>\n<p>Hai nước tuần tra</p>\n</body></html>\n")
    assert list(page_paragraphs(page.splitlines(keepends=True))) == [
        ("2", "Thủ đô 河内 hôm nay"), ("3", "Việt Nam"), ("4", "Hai nước tuần tra")]


def test_a_doctype_with_an_internal_subset_leaves_no_text_behind():
    """XHTML's `<!DOCTYPE html [ <!ENTITY ...> ]>` ended at the entity's `>`: `]>` was tagged as a paragraph."""
    from serve.html_pages import page_paragraphs

    page = ('<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x" [\n'
            '<!ENTITY nbsp "&#160;">\n]>\n<html><body><p>Hai nước [tin] tuần tra</p></body></html>\n')
    lines = page.splitlines(keepends=True)
    assert list(page_paragraphs(lines)) == [("5", "Hai nước [tin] tuần tra")]
    named = ('<!DOCTYPE html SYSTEM "http://x/a[1].dtd">\n<html><body><p>Hai bên</p><!--[if IE]><p>x</p>'
             '<![endif]--><p>Ba</p></body></html>\n')  # a `[` in a quoted name opens no subset
    assert list(page_paragraphs(named.splitlines(keepends=True))) == [("2", "Hai bên"), ("2.2", "Ba")]


def test_file_endpoint_refuses_empty_and_oversized_record_counts_and_a_non_object_body(client):
    from serve.page import MAX_FILE_RECORDS

    empty = client.post("/tag/file?filename=e.txt", content=b"\n \n")
    assert empty.status_code == 422 and empty.json()["detail"] == "e.txt: no records; the file is empty or blank (or a CSV header alone)"
    many = client.post("/tag/file?filename=x.txt", content=b"x\n" * (MAX_FILE_RECORDS + 1))
    assert many.status_code == 413 and "more than 50,000 records" in many.json()["detail"]
    page = "<?xml version='1.0' encoding='gbk'?>\n<html><body><p>中越海警开展北部湾联合巡逻</p></body></html>\n"
    xhtml = client.post("/tag/file?filename=x.xhtml", content=page.encode("gbk")).json()["records"]
    assert [(r.get("error"), r["label"]) for r in xhtml] == [(None, "border_sea")]
    for body, got in (("[{\"texts\": [\"a\"]}]", "an array"), ("null", "null")):
        answer = client.post("/tag", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and answer.json()["detail"].startswith(f"the body is {got}; send a JSON object")


def test_broken_jsonl_lines_in_a_row_keep_their_order_and_fixes_hold_up_to_odd_names(tmp_path, monkeypatch):
    """A reviewer's cases: 44 unterminated lines came back out of order; a 250-byte name crashed the fix
    helper; a BOM-only UTF-16 file crashed it; a nested "id" was taken as the record's; an upload's fix
    looked at this machine's files."""
    from vnzh_runtime.fix_commands import unpack_fix, uploaded

    broken = b"".join(b'{"id": %d, "text": "no end\n' % i for i in range(1, 45)) + b'{"id": 99, "text": "' + VI.encode() + b'"}\n'
    records = read(broken, "b.jsonl")
    assert [r.id for r in records] == list(range(1, 45)) + [99] and records[-1].error is None
    nested = read(b'{"source": {"id": "bbc"}, "id": "a4", "text": "cut off\n', "n.jsonl")
    assert [(r.id, r.error is not None) for r in nested] == [("a4", True)]
    with pytest.raises(UserError, match=re.escape("-unpacked.txt)")):
        read(gzip.compress(b"x"), "a" * 246 + ".txt")
    with pytest.raises(UserError, match=re.escape("(iconv -f UTF-16 -t UTF-8 e.txt > e-utf8.txt)")):
        read(b"\xff\xfe", "e.txt")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text("mine\n")
    with uploaded():
        assert unpack_fix("x.jsonl.gz", "gzip -dc") == "gzip -dc x.jsonl.gz > x.jsonl"  # the sender's machine's names
    assert unpack_fix("x.jsonl.gz", "gzip -dc") == "gzip -dc x.jsonl.gz > x-2.jsonl"
    one = b"a".ljust(100, b"\0") + b"0000644\0".ljust(157, b"\0") + b"ustar\x0000" + b"\0" * 243  # `tar cf one.tar a`
    with pytest.raises(UserError, match="a tar archive"):
        read(one + b"text\n", "one.tar")


def test_a_csv_row_shifted_before_its_id_keeps_no_id():
    shifted = read(b"title,id,text\nVietnam, China,a2,some text\n", "t.csv")[0]
    assert (shifted.id, shifted.doc_id) == (None, None) and shifted.error.startswith("t.csv:2: 4 fields")


def test_transformer_flags_on_a_tfidf_model_are_said_to_do_nothing(tfidf_run, tmp_path, capsys):
    src, out = tmp_path / "a.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": 1, "text": VI}) + "\n", encoding="utf-8")
    code = serve_main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(out),
                       "--quiet", "--workers", "1", "--device", "cuda", "--cpu-int8"])
    err = capsys.readouterr().err
    assert code == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 1
    assert "note: --device and --cpu-int8 apply to transformer models" in err and "TF-IDF model" in err


def test_threshold_auto_on_a_model_that_chose_none_says_it_never_abstains(tfidf_predictor, tmp_path, capsys,
                                                                         monkeypatch):
    import copy

    import vnzh_runtime

    def load_without_a_dev_threshold(model, threshold=None, options=None, label_thresholds=None):
        predictor = copy.copy(tfidf_predictor)
        predictor.spec = {**predictor.spec, "threshold": {"value": None}}  # as a tiny transformer run saves it
        predictor.threshold = predictor.resolve_threshold(threshold)
        return predictor

    monkeypatch.setattr(vnzh_runtime, "load", load_without_a_dev_threshold)
    src, out = tmp_path / "a.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": 1, "text": VI}) + "\n", encoding="utf-8")
    assert serve_main(["tag", "--model", "m", "--input", str(src), "--output", str(out), "--quiet", "--workers", "1",
                       "--threshold", "auto"]) == 0
    assert "note: m chose no threshold on dev" in capsys.readouterr().err
    assert json.loads(out.read_text(encoding="utf-8"))["label"] != "uncertain"


@pytest.mark.parametrize("data, said", [
    (b"{\\rtf1\\ansi\\ansicpg1258 Vi\\u7879t Nam}\n", "f.txt: an RTF document, not text"),
    (b"SQLite format 3\x00" + bytes(100), "f.txt: an SQLite database, not text"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04", "f.txt: a 7-Zip archive, not text"),
    (b"bplist00\xd1\x01\x02", "f.txt: a Safari web archive or property list, not text"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00\x9c\xfe\x01\x8f\x00\x11", "f.txt: a binary file (video, audio or data), not text"),
    (bytes(range(1, 256)) * 2, "f.txt: a binary file (video, audio or data), not text"),  # /dev/urandom's kind
])
def test_binary_files_are_one_line_not_pages_of_not_utf8_records(data, said):
    with pytest.raises(UserError, match=re.escape(said)):
        read(data, "f.txt")


def test_a_line_too_long_to_be_text_is_refused_before_it_is_read_whole():
    """/dev/zero or a 200 MB export on one line filled memory (a file iterator reads a line whole)."""
    from vnzh_runtime.bounded import MAX_LINE_BYTES

    with pytest.raises(UserError, match=re.escape("big.txt:2: a line of more than 32 MB with no line break")):
        read(f"{VI}\n".encode() + b"x" * (MAX_LINE_BYTES + 1), "big.txt")
    assert [r.text for r in read(f"{VI}\n".encode() + b"x" * 1000 + b"\n", "ok.txt")] == [VI, "x" * 1000]


def test_a_pasted_mhtml_page_or_office_file_is_no_article_and_stray_control_bytes_are_text():
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    for text, said in (("From: <Saved by Blink>\nSnapshot-Content-Location: https://x.vn\n\n<p>hi</p>", "a saved MHTML page"),
                       (docx.getvalue().decode("latin-1"), "text: an Office document (.docx, .xlsx), not text")):
        with pytest.raises(UserError, match=re.escape(said)):
            article_paragraphs(text)
    # ... and JSON Lines or an e-mail, as serve tag refuses them under .txt (a hostile user got them tagged line by line)
    for text, said in (('\n{"text": "Hợp tác", "id": 1}\n{"text": "b"}', 'text:2: JSON Lines, not an article; send its '
                        'records to /tag/file?filename=x.jsonl'),
                       ("Received: from mx.example.vn\nMessage-ID: <a@b>\n\nHợp tác", "text: an e-mail message")):
        with pytest.raises(UserError, match=re.escape(said)):
            article_paragraphs(text)
    assert article_paragraphs('Tin nhanh {"text": 1}\nFrom: Ban biên tập') == [(1, 'Tin nhanh {"text": 1}'),
                                                                            (2, "From: Ban biên tập")]
    assert article_paragraphs(f"{VI}\n{ZH}") == [(1, VI), (2, ZH)]  # an article is still one
    pdf_copy = "Hiệp định\x03Việt\x03Nam\x02Trung\x03Quốc\x1f ký kết"  # a PDF's ligatures and Word's hyphens
    assert article_paragraphs(pdf_copy) == [(1, pdf_copy)]
    # ... and in a file: UTF-8 with stray control bytes is text, as the JSON Lines reader promises
    raw = '{"id":"a1","text":"Vi\x01\x02t Nam \x03 Trung Qu\x04c"}\n'.encode()
    assert [(r.id, r.error) for r in read(raw, "export.jsonl")] == [("a1", None)]
    assert [r.text for r in read("id,text\n1,Vi\x08\x08et Nam Trung\x01 Quoc\x01\n".encode(), "t.csv")] == [
        "Vi\x08\x08et Nam Trung\x01 Quoc\x01"]


def test_utf16_without_a_byte_order_mark_is_named_even_when_it_opens_with_chinese():
    for codec, said in (("utf-16-le", "iconv -f UTF-16LE"), ("utf-16-be", "iconv -f UTF-16BE")):
        with pytest.raises(UserError, match=re.escape(f"z.txt:1: the file is UTF-16, not UTF-8; re-save it as UTF-8 ({said}")):
            read(f"{ZH} 2024\n越南\n".encode(codec), "z.txt")
    assert [r.text for r in read(b"PAR1 of the report\n", "p.txt")] == ["PAR1 of the report"]  # text that opens so
