"""Real-world inputs a hostile analyst fed the tagger (twentieth session):

  - RSS and Atom feeds are read item by item (titles and descriptions kept, one document per
    item); other XML and XML that is not well-formed are one line; XHTML stays a page
  - a page that shows no text is one line, not "tagged 0 of 0"
  - "From:"/"Date:" lines alone are no e-mail; a raw message still is, and no line is lost deciding
  - .tsv in and out; GBK's and Big5's euro sign; the browser's other names of their encodings
  - a page piped into `--input -` is read as a page; other text there is one line
  - an over-deep JSON line keeps its ids; /tag/article caps its paragraphs; a dropped upload is a 400
"""

import io
import json
import re
from pathlib import Path

import anyio
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from starlette.requests import Request

from serve.api import create_app
from serve.csv_records import read_csv_records
from serve.feeds import entity_chars
from serve.files import tag_file
from serve.lines import decode
from serve.page import MAX_FILE_RECORDS, read_body
from serve.page_charset import declared_charset
from serve.readers import read_records
from vnzh_runtime.errors import UserError

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Tin biên giới</title>
<item><title>Tuần tra chung biên giới Việt Nam - Trung Quốc</title><link>https://x.vn/a.html</link>
<description><![CDATA[<p>Lực lượng biên phòng hai nước tuần tra chung.</p><p>Hai bên trao đổi tình hình.</p>]]></description>
</item>
<item><title>Sinh viên Quảng Tây học tiếng Việt</title><guid>urn:x:2</guid>
<description>Hơn 200 sinh viên tham gia.
Chương trình kéo dài hai tuần.</description></item>
</channel></rss>
"""
ATOM = """<feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title>
<entry><id>tag:x,2026:1</id><title type="html">Viet Nam &amp;amp; China open &lt;b&gt;rail&lt;/b&gt; link</title>
<content type="html">&lt;p&gt;Trains run daily.&lt;/p&gt;&lt;p&gt;Freight doubles.&lt;/p&gt;</content></entry>
<entry><id>tag:x,2026:2</id><title>Rice lab</title>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Joint lab opens.</p><p>Seeds tested.</p></div></content>
</entry></feed>
"""


def read(data: bytes, name: str) -> list:
    return list(read_records(io.BytesIO(data), name))


def texts(records) -> list[tuple]:
    return [(r.id, r.text, r.doc_id) for r in records]


def test_rss_items_are_documents_of_their_title_and_description():
    assert texts(read(RSS.encode(), "tin.xml")) == [
        ("tin:item1.1", "Tuần tra chung biên giới Việt Nam - Trung Quốc", "https://x.vn/a.html"),
        ("tin:item1.2", "Lực lượng biên phòng hai nước tuần tra chung.", "https://x.vn/a.html"),
        ("tin:item1.3", "Hai bên trao đổi tình hình.", "https://x.vn/a.html"),
        ("tin:item2.1", "Sinh viên Quảng Tây học tiếng Việt", "urn:x:2"),
        # an RSS description is HTML: a line break in it is a space, not a paragraph's end
        ("tin:item2.2", "Hơn 200 sinh viên tham gia. Chương trình kéo dài hai tuần.", "urn:x:2")]


def test_atom_entries_html_and_xhtml_content_and_a_feed_in_gbk():
    assert [r.text for r in read(ATOM.encode(), "desk.atom")] == [
        "Viet Nam & China open rail link", "Trains run daily.", "Freight doubles.", "Rice lab", "Joint lab opens.",
        "Seeds tested."]
    gbk = ('<?xml version="1.0" encoding="gb2312"?><rss><channel><item><title>中越边境贸易增长</title>'
           '<description>价格上涨</description></item></channel></rss>').encode("gbk")
    assert [r.text for r in read(gbk, "zh.rss")] == ["中越边境贸易增长", "价格上涨"]


def test_other_xml_and_broken_xml_are_one_line_and_xhtml_is_a_page():
    with pytest.raises(UserError, match=r"doc.xml: an XML document \(<w:wordDocument>\)"):
        read(b'<?xml version="1.0"?>\n<w:wordDocument xmlns:w="urn:w"><w:body/></w:wordDocument>\n', "doc.xml")
    with pytest.raises(UserError, match=r"bad.xml:3: not well-formed XML"):
        read(b'<?xml version="1.0"?>\n<rss><channel><item><title>A</title>\n</channel></rss>\n', "bad.xml")
    page = b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hai b\xc3\xaan</p></body></html>\n'
    assert texts(read(page, "p.xhtml")) == texts(read(page, "p.xml")) == [("p:2", "Hai bên", "p")]


def test_a_page_that_shows_no_text_is_one_line():
    spa = b'<!DOCTYPE html><html><body><div id="root"></div><script>window.__NEXT_DATA__={"a":1}</script></body></html>'
    with pytest.raises(UserError, match="spa.html: the page shows no text: its article is put on the page by scripts"):
        read(spa, "spa.html")
    with pytest.raises(UserError, match="e.html: the page shows no text, only markup"):
        read(b"<html><body><div></div></body></html>\n", "e.html")


def test_header_lines_alone_are_an_article_and_a_raw_message_is_refused():
    note = b"Date: 12 March 2026\nAuthor: Lena Park\nSection: Asia\n\nViet Nam and China agreed.\nSecond.\n"
    assert [(r.id, r.text) for r in read(note, "note.txt")] == [
        ("note:1", "Date: 12 March 2026"), ("note:2", "Author: Lena Park"), ("note:3", "Section: Asia"),
        ("note:5", "Viet Nam and China agreed."), ("note:6", "Second.")]
    mail = b"From: a@x.vn\nTo: b@x.vn\nSubject: Tin\nMessage-ID: <1@x.vn>\n\nBody\n"
    with pytest.raises(UserError, match="an e-mail message"):
        read(mail, "m.eml")


def test_tsv_in_and_out(tfidf_predictor, tmp_path):
    src, out = tmp_path / "feed.tsv", tmp_path / "tags.tsv"
    src.write_text("id\ttext\tdoc_id\nA-17\tTuần tra chung biên giới Việt - Trung\td1\n", encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(out), progress=False)
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header.split("\t")[:3] == ["id", "doc_id", "lang"] and row.split("\t")[:2] == ["A-17", "d1"]


def test_a_tsv_field_opening_with_a_quote_is_text_and_quoted_fields_still_read():
    lines = [b"id\ttext\n", '1\t"Hà Nội" là thủ đô\n'.encode(), b'2\t"no closing quote\n', b"3\tplain\n",
             b'4\t"""quoted"" and\ttab"\n']
    assert [(r.id, r.text, r.error) for r in read_csv_records(lines, "a.tsv")] == [
        ("1", '"Hà Nội" là thủ đô', None), ("2", '"no closing quote', None), ("3", "plain", None),
        ("4", '"quoted" and\ttab', None)]
    broken = [r.error for r in read_csv_records([b"id,text\n", b'1,"Ha Noi" la\n'], "a.csv")]
    assert broken[0].startswith("a.csv:2: CSV error")  # a comma CSV keeps its quoting rules
    more = [b"id\ttext\tdoc_id\tnote\n", '"5"\t"Hà Nội" là\t\n'.encode(), b'6\t"Hai nuoc\tky ket"\t"d1" x\n']
    five, six = read_csv_records(more, "b.tsv")
    assert (five.id, five.text, five.error) == ("5", '"Hà Nội" là', None)  # a quoted id unquoted, an empty tail
    assert six.error.startswith("b.tsv:3: CSV error")  # a quoted field across a tab is CSV quoting gone wrong
    later = [b"id\ttext\tsource\n", '1\t"Hà Nội" là thủ đô\t"VnExpress"\n'.encode()]
    assert [r.text for r in read_csv_records(later, "c.tsv")] == ['"Hà Nội" là thủ đô']
    alone = [b"text\n", '"Hà Nội" là thủ đô\n'.encode(), "Hà Nội, thủ đô\n".encode()]  # one column: tabs, not commas
    assert [(r.text, r.error) for r in read_csv_records(alone, "d.tsv")] == [
        ('"Hà Nội" là thủ đô', None), ("Hà Nội, thủ đô", None)]


def test_euro_sign_in_gbk_and_big5_and_the_browsers_other_labels():
    assert decode("价格".encode("gbk") + b"\x80", 2, "gb18030") == ("价格€", None)
    assert decode("價格".encode("big5") + b"\xa3\xe1", 2, "big5hkscs") == ("價格€", None)
    assert decode(b"\xff", 2, "gb18030")[1] == 0  # any other bad byte stays an error
    labels = ("gb_2312", "csgb2312", "x-x-big5", "cn-big5", "x-cp1258")
    assert [declared_charset(f'<meta charset="{label}">'.encode()) for label in labels] == [
        "gb18030", "gb18030", "big5hkscs", "big5hkscs", "cp1258"]


def test_stdin_reads_a_piped_page_and_refuses_other_text():
    page = b"<!DOCTYPE html>\n<html><body><p>Hai b\xc3\xaan k\xc3\xbd k\xe1\xba\xbft</p></body></html>\n"
    assert texts(read(page, "-")) == [("stdin:2", "Hai bên ký kết", "stdin")]
    with pytest.raises(UserError, match=r"stdin:2: standard input is not JSON Lines"):
        read(b"\nKim ngach tang\n", "-")
    assert [r.text for r in read(b'{"text": "a"}\n', "-")] == ["a"]


def test_an_over_deep_json_line_keeps_its_ids():
    line = b'{"id": "big", "doc_id": "d1", "deep": ' + b"[" * 5000 + b"]" * 5000 + b', "text": "x"}\n'
    (record,) = read(line, "f.jsonl")
    assert (record.id, record.doc_id, record.text) == ("big", "d1", None) and "refuses" in record.error


@pytest.fixture(scope="module")
def client(tfidf_predictor):
    with TestClient(create_app(tfidf_predictor)) as client:
        yield client


def test_api_feed_to_tag_file_and_not_to_tag_article(client):
    answer = client.post("/tag/file?filename=tin.xml&format=jsonl", content=RSS.encode())
    assert answer.status_code == 200
    assert [json.loads(line)["id"] for line in answer.text.splitlines()][:2] == ["tin:item1.1", "tin:item1.2"]
    refused = client.post("/tag/article", json={"text": RSS})
    assert refused.status_code == 422 and "news feed" in refused.json()["detail"]


def test_api_article_paragraph_cap(client):
    answer = client.post("/tag/article", json={"text": "a\n" * (MAX_FILE_RECORDS + 1)})
    assert answer.status_code == 413 and f"the limit is {MAX_FILE_RECORDS:,}" in answer.json()["detail"]


def test_an_upload_cut_off_by_the_client_is_a_400_not_a_traceback():
    async def receive():
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(HTTPException) as refused:
        anyio.run(read_body, request, 1000)
    assert refused.value.status_code == 400


def test_rows_and_objects_without_their_text_say_what_to_fix():
    short = read(b"id,doc_id,note,text\n1,a,x,Hai ben\n2,a\n", "f.csv")
    assert (short[1].id, short[1].doc_id) == ("2", "a")
    assert "f.csv:3: 2 fields where the header has 4: the row ends before its 'text' column (column 4)" in short[1].error
    wrong_keys = read(b'{"id": 1, "Text": "a"}\n{"id": 2, "x": 1}\n', "f.jsonl")
    assert "it has 'Text': rename it 'text'" in wrong_keys[0].error
    assert "its fields: 'id', 'x'" in wrong_keys[1].error


def test_the_python_api_refuses_calls_that_would_tag_nonsense(tfidf_predictor):
    with pytest.raises(UserError, match=r"texts: one string, not a list of texts; pass \[text\]"):
        tfidf_predictor.predict("中越陆地边界联合委员会举行会议")
    with pytest.raises(UserError, match="doc_ids: 1 for 2 texts"):
        tfidf_predictor.predict(["a", "b"], doc_ids=["x"])
    with pytest.raises(UserError, match="threshold: '0.5' is not a threshold"):
        tfidf_predictor.predict(["a"], threshold="0.5")
    with pytest.raises(UserError, match=r"texts\[1\]: int, not a string"):
        tfidf_predictor.predict_proba(["a", 3])
    with pytest.raises(UserError, match=r"texts\[2\]: empty \(or only spaces\); leave it out"):
        tfidf_predictor.predict(["a", "b", " \u200b "])  # it was tagged `other`
    import vnzh_runtime

    with pytest.raises(UserError, match=r"runs:/0a1b/: a run's URI names the model logged in it \(fix: runs:/0a1b/model\)"):
        vnzh_runtime.load("runs:/0a1b/")  # MLflow's "Not a proper runs:/ URI", and a hint about names and aliases
    # a registered name alone: MLflow looked it up as a logged model's id ("Logged model with ID ... not found")
    with pytest.raises(UserError, match=re.escape("models:/topics: names no version or alias of the registered model "
                                                  "(fix: models:/topics@champion, or models:/topics/<version>)")):
        vnzh_runtime.load("models:/topics")
    # a missing model directory names the config that trains it, where one is named after it
    with pytest.raises(UserError, match=re.escape("/no/models/tfidf-multilabel: no such model directory (fix: train one "
                                                  "with python -m train --config configs/tfidf-multilabel.yaml")):
        vnzh_runtime.load("/no/models/tfidf-multilabel")
    with pytest.raises(UserError, match=re.escape("README.md: a file, not a model directory; pass the directory")):
        vnzh_runtime.load(Path(__file__).parent.parent / "README.md")  # was "no such model directory", of a file that is there
    from serve.spark_model import download_model

    with pytest.raises(UserError, match=re.escape("models:/topics: names no version or alias")):
        download_model("models:/topics")  # serve spark's model, read the same way


def test_pyfunc_columns_spread_a_single_value_and_refuse_unequal_lengths():
    import pandas as pd

    from vnzh_runtime.pyfunc import spread_columns

    spread = spread_columns(pd.DataFrame([{"text": ["a", "b"], "doc_id": "d"}]))
    assert spread.to_dict("records") == [{"text": "a", "doc_id": "d"}, {"text": "b", "doc_id": "d"}]
    with pytest.raises(UserError, match="doc_id: 1 values for 2 texts"):
        spread_columns(pd.DataFrame([{"text": ["a", "b"], "doc_id": ["d"]}]))


def test_feed_details_a_reviewer_found():
    media = ('<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>Cửa khẩu Hữu Nghị</title>'
             '<media:content url="x.jpg"><media:title>Ảnh</media:title><media:description>Chú thích</media:description>'
             '</media:content><description>Hàng hóa thông quan nhanh.</description></item><item><title> </title>'
             '</item></channel></rss>').encode()
    records = read(media, "m.rss")  # a photo's caption is not the body; an empty item says so
    assert [r.text for r in records[:2]] == ["Cửa khẩu Hữu Nghị", "Hàng hóa thông quan nhanh."]
    assert records[2].text is None and "item 2 has no title and no text" in records[2].error
    doctype = b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "b">]>\n<rss><channel><item><title>T &a;</title></item></channel></rss>\n'
    assert [r.text for r in read(doctype, "d.xml")] == ["T b"]
    # a flat entity bomb (1.9 MB used 95 times: 3.4 GB of memory, within expat's own 100x budget) or a loop
    flat = b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY e "' + b"x" * 20_000 + b'">]>\n<rss><channel><item><title>'
    with pytest.raises(UserError, match=r"f.xml: its DOCTYPE declares entities that would add 1,019,847 characters "
                                        r"\(the limit is 1,000,000\); remove the <!ENTITY> declarations"):
        read(flat + b"&e;" * 51 + b"</title></item></channel></rss>\n", "f.xml")
    assert len(read(flat + b"&e;" * 50 + b"</title></item></channel></rss>\n", "f.xml")[0].text) == 1_000_000
    with pytest.raises(UserError, match=r"l.xml: its DOCTYPE declares an entity that refers to itself"):
        read(b'<!DOCTYPE rss [<!ENTITY a "&b;"><!ENTITY b "1&a;">]><rss>&a;</rss>', "l.xml")
    # a reviewer's: the first declaration of a name counts (expat's), and a chain of 1,500 is measured, not a traceback
    with pytest.raises(UserError, match=r"r.xml: its DOCTYPE declares entities that would add 1,019,847 characters"):
        read(flat.replace(b">]>", b"><!ENTITY e \"\">]>") + b"&e;" * 51 + b"</title></item></channel></rss>\n", "r.xml")
    chain = "".join(f'<!ENTITY a{i + 1} "&a{i};">' for i in range(1500))
    deep = f'<!DOCTYPE rss [<!ENTITY a0 "x">{chain}]><rss><channel><item><title>&a1500;</title></item></channel></rss>'
    assert [r.text for r in read(deep.encode(), "c.xml")] == ["x"]
    nbsp = '<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]><rss><channel><item><title>' + "Việt&nbsp;Nam " * 200_000
    assert entity_chars(nbsp) < 0  # each use is shorter than its reference: nothing added, nothing refused
    euro = ('<?xml version="1.0" encoding="gb2312"?><rss><channel><item><title>价格'.encode("gbk") + b"\x80"
            + b"</title></item></channel></rss>")
    assert [r.text for r in read(euro, "e.rss")] == ["价格€"]
    with pytest.raises(UserError, match=r"b.xml:5: not well-formed XML"):
        read(b'<?xml version="1.0"?>\n<rss><channel>\n<item>\n<title>A\n</item></channel></rss>\n', "b.xml")


def test_a_paper_and_a_file_named_stdin_are_articles(tmp_path):
    paper = b"A study of border trade\nReceived: 3 January 2024\nAccepted: 9 May 2024\n\nViet Nam and China...\n"
    assert len(read(paper, "paper.txt")) == 4
    assert [r.id for r in read(b"Kim ngach tang\n", "stdin")] == ["stdin:1"]  # a file, not standard input


def test_generators_tuples_and_spark_part_names():
    import pandas as pd

    from serve.spark_paths import SPARK_WRITES
    from vnzh_runtime.pyfunc import spread_columns

    assert spread_columns(pd.DataFrame([{"text": ("a", "b"), "doc_id": ("d", "e")}]))["doc_id"].tolist() == ["d", "e"]
    assert all(SPARK_WRITES.fullmatch(name) for name in (
        "part-100000-3f2a9b1c-1234-4abc-9def-0123456789ab-c000.txt",
        "part-00000-tid-42-3f2a9b1c-1234-4abc-9def-0123456789ab-93-1-c000.snappy.parquet"))
    # a hostile user's own files, deleted by --overwrite while the uuid was optional
    assert not any(SPARK_WRITES.fullmatch(name) for name in ("part-1-labels.jsonl", "part-20240501.jsonl",
                                                             "part-00001-2024-05.jsonl", "part-00000.csv"))


def test_the_python_api_takes_a_generator(tfidf_predictor):
    assert len(tfidf_predictor.predict(text for text in ["Viet Nam", "China"])) == 2


@pytest.mark.parametrize("data, kind", [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"), (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
                                        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "WebP")])
def test_an_image_is_one_line_not_a_page_of_binary_records(data, kind):
    with pytest.raises(UserError, match=rf"photo.png: an image \({kind}\), not text"):
        read(data, "photo.png")


def test_feed_items_a_second_hostile_reader_found():
    deep = ('<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>d</id><title>T</title><content type="xhtml">'
            + "<div>" * 5000 + "x" + "</div>" * 5000 + "</content></entry></feed>").encode()
    (record,) = read(deep, "deep.atom")  # was a RecursionError traceback, and a 500 from the API
    assert record.id == "deep:item1" and "nested too deep" in record.error
    raw = (b'<rss><channel><item><guid>r</guid><title>Raw</title><description><p>A.</p><script>LEAK()</script>'
           b'<p>B.</p></description></item><item><guid>r</guid><title>Again</title></item></channel></rss>')
    records = read(raw, "raw.rss")
    assert [r.text for r in records] == ["Raw", "A.", "B.", "Again"]  # no script text, <p>s apart
    assert [r.doc_id for r in records] == ["r", "r", "r", "raw:item2"]  # a repeated guid is another article
    links = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>T</title><link rel="replies" href="https://x/c"/>'
             b'<link href="https://x/1"/></entry></feed>')
    assert read(links, "l.atom")[0].doc_id == "https://x/1"
    old = b'<rss xmlns="http://backend.userland.com/rss2"><channel><item><title>Userland</title></item></channel></rss>'
    assert [r.text for r in read(old, "u.rss")] == ["Userland"]
    commented = b"<!-- feed -->\n<rss><channel><item><title>Commented</title></item></channel></rss>\n"
    assert [r.text for r in read(commented, "c.txt")] == ["Commented"]
    with pytest.raises(UserError, match=r"j.xml: not XML \(it opens '\{\"id\": 1"):
        read(b'{"id": 1, "text": "Viet Nam"}\n', "j.xml")


def test_mail_headers_after_a_blank_line_or_as_x_headers_are_still_mail():
    for mail in (b"X-Account-Key: account1\nFrom: a@x.vn\nSubject: Tin\n\nBody\n",
                 b"\nFrom: a@x.vn\nTo: b@x.vn\nMessage-ID: <1@x.vn>\n\nBody\n",
                 b"From: a@x.vn\n" + b"".join(b"X-H%d: v\n" % i for i in range(45)) + b"MIME-Version: 1.0\n\nBody\n"):
        with pytest.raises(UserError, match="an e-mail message"):
            read(mail, "m.eml")
    assert len(read(b"From: Desk\nDate: 3 May\nReferences: none\n\nViet Nam and China agreed.\n", "p.txt")) == 4


def test_spark_refuses_what_serve_tag_reads_whole_and_reads_tsv_as_csv():
    from serve.spark_input import input_format

    assert input_format("a.tsv") == "csv"
    with pytest.raises(UserError, match="serve spark reads JSON Lines, CSV \\(or TSV\\) and parquet, not a .rss"):
        input_format("feed.rss")


def test_a_json_feed_is_one_line_naming_a_jq_program_that_works():
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "content_text": "Viet Nam"}]})
    with pytest.raises(UserError, match=r"feed.json:1: a JSON Feed \(jsonfeed.org\), not JSON Lines; .*jq -c '.items\[\]"):
        read(feed.encode() + b"\n", "feed.json")
