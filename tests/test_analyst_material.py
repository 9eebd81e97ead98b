"""What a hostile analyst's real material showed the readers got wrong (twenty-seventh session):

  - a page's encoding is decided once for the page: a UTF-8 page with a stray byte under a wrong
    <meta> is UTF-8, not Windows-1252 mojibake line by line; a page saved without its charset (or
    declaring UTF-8 that its bytes are not) is read in the encoding its bytes show
  - HTML comments end where a browser ends them (`<!-->`, `<!--->`, `--!>`)
  - a feed with a bare `&` or an HTML entity is read as feed readers read it
"""

import io
import os

import pytest

from serve.readers import read_records
from vnzh_runtime.errors import UserError

VI = "Kim ngạch thương mại Việt Nam – Trung Quốc tăng mạnh, đạt mức kỷ lục mới theo số liệu hải quan."
ZH = "中越双边贸易额再创新高，两国领导人同意深化全面战略合作伙伴关系，推动陆地边境口岸建设。"


def read(data: bytes, name: str) -> list:
    return list(read_records(io.BytesIO(data), name))


def test_a_utf8_page_with_a_stray_byte_under_a_wrong_meta_is_read_as_utf8():
    page = (f'<html><head><meta charset="windows-1252"></head><body>\n<h1>{VI}</h1>\n<p>{VI}</p>\n'.encode()
            + b"<footer>\xa9 2025 B\xe1o</footer>\n</body></html>\n")
    records = read(page, "vn.html")
    assert [r.text for r in records[:2]] == [VI, VI]  # was "Kim ngáº¡ch ..." for the headline and lead
    assert records[2].text == "© 2025 Báo"  # the stray line is in the encoding the page declares


@pytest.mark.parametrize("head", ["<html><head><title>x</title></head>", '<html><head><meta charset="utf-8"></head>'])
def test_a_gbk_page_without_its_charset_or_under_a_utf8_meta_is_read_as_gbk(head):
    page = f"{head}<body>\n<h1>中越陆地边界联合委员会举行会议</h1>\n" + f"<p>{ZH}</p>\n" * 4 + "</body></html>\n"
    records = read(page.encode("gbk"), "zh.html")
    assert [r.error for r in records] == [None] * 5  # each line was "not UTF-8"
    assert [r.text for r in records] == ["中越陆地边界联合委员会举行会议"] + [ZH] * 4


def test_a_page_too_short_to_tell_its_encoding_keeps_its_error_records():
    records = read("<html><body>\n<p>越南</p>\n<p>Hanoi</p>\n</body></html>\n".encode("gbk"), "zh.html")
    assert [r.error for r in records] == ["zh.html:2: not UTF-8; re-save as UTF-8", None]


def test_comments_end_where_a_browser_ends_them():
    page = b"<html><body>\n<p>One</p><!-->\n<p>Two</p><!--->\n<p>Three</p><!-- gone --!>\n<p>Four</p><!-- x -- >\n<p>hidden</p>-->\n<p>Five</p></body></html>\n"
    assert [(r.id, r.text) for r in read(page, "c.html")] == [
        ("c:2", "One"), ("c:3", "Two"), ("c:4", "Three"), ("c:5", "Four"), ("c:7", "Five")]


def test_a_feed_with_a_bare_ampersand_or_an_html_entity_is_read_as_feed_readers_read_it():
    feed = ("<rss><channel><item><title>Việt&nbsp;Nam &ndash; Trung Quốc</title><link>https://x.vn/?id=1&cat=2</link>"
            "<description>Lào &amp; Campuchia &copy; &zz;</description></item></channel></rss>\n")
    assert [r.text for r in read(feed.encode(), "f.rss")] == ["Việt Nam – Trung Quốc", "Lào & Campuchia © &zz;"]
    with pytest.raises(UserError, match=r"^b.rss:1: not well-formed XML \(.*\); fix the feed there$"):
        read(b"<rss><channel><item><title>A &nbsp;</item></channel></rss>\n", "b.rss")


def test_a_runs_uri_leaves_no_copy_of_the_model_behind_and_takes_a_trailing_slash(tfidf_run, tfidf_predictor,
                                                                                 tmp_path, monkeypatch):
    import tempfile

    import vnzh_runtime

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where MLflow (and the load) make temporary folders
    texts = ["Hai bên nhất trí tăng cường tin cậy chính trị", "越南留学生在广西参加中越青年联欢"]
    for uri in (f"runs:/{tfidf_run.run_id}/model", f"runs:/{tfidf_run.run_id}/model/", tfidf_run.model_uri):
        assert vnzh_runtime.load(uri).predict(texts) == tfidf_predictor.predict(texts)
        assert list(tmp_path.iterdir()) == []  # a 21 MB copy was left in /tmp by every runs:/ load


def test_the_pyfunc_takes_the_dev_chosen_threshold_and_refuses_what_it_would_misread(tfidf_run, tfidf_predictor):
    import mlflow
    import pandas as pd

    texts = ["Hai bên nhất trí tăng cường tin cậy chính trị", "Giá vàng hôm nay tăng", "Hợp tác"]
    model = mlflow.pyfunc.load_model(tfidf_run.model_uri)
    auto = model.predict(pd.DataFrame({"text": texts}), params={"auto_threshold": True})
    assert auto["label"].tolist() == [row["label"] for row in tfidf_predictor.predict(texts, threshold="auto")]
    with pytest.raises(Exception, match=r"params: threshold and auto_threshold both given"):
        model.predict(pd.DataFrame({"text": texts}), params={"threshold": 0.6, "auto_threshold": True})
    with pytest.raises(Exception, match=r"text: an empty list; give at least one text"):
        model.predict(pd.DataFrame({"text": [[]]}))  # was no row out for the row in
    inner = model.unwrap_python_model()
    with pytest.raises(Exception, match=r"model input: a str; give a DataFrame with a 'text' column, or a list"):
        inner.predict(None, "中越贸易额创新高")  # was one row per character
    with pytest.raises(Exception, match=r"model input: no 'text' column \(found \['Text'\]\)"):
        inner.predict(None, pd.DataFrame({"Text": texts}))
    series = inner.predict(None, pd.Series(texts, index=[9, 4, 7]))
    assert list(series.index) == [9, 4, 7] and series["label"].tolist() == [r["label"] for r in tfidf_predictor.predict(texts)]


def test_an_evaluation_names_a_directory_trained_against_another_store_by_its_directory(tfidf_run, tmp_path,
                                                                                       monkeypatch, capsys):
    import json
    import shutil

    import mlflow

    from train.evaluate import main as evaluate_main
    import vnzh_runtime
    from vnzh_runtime.provenance import model_info

    copy = tmp_path / "their_tfidf"
    shutil.copytree(tfidf_run.output_dir, copy)
    sample = tmp_path / "s.jsonl"
    sample.write_text(json.dumps({"text": "Hai bên nhất trí tăng cường tin cậy chính trị", "label": "party_relations"},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'other.db'}")
    assert evaluate_main(["--model", str(copy), "--data", str(sample), "--log"]) == 0
    out = capsys.readouterr().out
    assert f"note: {copy} was trained against another MLflow store: its run {tfidf_run.run_id} is not in" in out
    tags = mlflow.MlflowClient().get_run(out.strip().splitlines()[-1].split()[-1]).data.tags
    assert tags["mlflow.runName"] == "evaluate their_tfidf" and "evaluated_model_name" not in tags
    monkeypatch.undo()  # the run's own store: a registered URI names its logged model too (/health showed null)
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])  # the evaluation set MLflow's own to the other store
    info = model_info(vnzh_runtime.load(tfidf_run.model_uri), tfidf_run.model_uri)
    assert info["model_id"] and info["model_id"].startswith("m-")


def test_a_page_whose_article_is_only_in_its_json_ld_is_one_line_and_one_that_shows_it_is_read():
    body = "Chiều 13/10, Thủ tướng Phạm Minh Chính và Thủ tướng Lý Cường chứng kiến lễ ký 14 văn kiện hợp tác."
    ld = f'<script type="application/ld+json">{{"articleBody": "{body}"}}</script>'
    spa = f'<html><body><nav>Trang chủ | Thời sự</nav>\n<div id="__next"></div>{ld}\n<footer>© 2025</footer></body></html>\n'
    with pytest.raises(UserError, match=r"^spa.html: its article is in the page's script data \(a JSON-LD articleBody\)"):
        read(spa.encode(), "spa.html")
    shown = spa.replace('<div id="__next"></div>', f"<p>{body}</p>")
    assert body in [r.text for r in read(shown.encode(), "ok.html")]


def test_a_fragment_from_the_inspector_is_read_as_html_and_a_title_row_above_a_csv_header_is_named():
    fragment = ('<div class="detail-content">\n<p>Kim ngạch thương mại Việt Nam - Trung Quốc tăng.</p>\n<script>\n'
                'var vi = "Việt Nam Trung Quốc";\n</script>\n<!--\n<p>Bài cũ đã gỡ</p>\n-->\n</div>\n')
    assert [r.text for r in read(fragment.encode(), "a.txt")] == ["Kim ngạch thương mại Việt Nam - Trung Quốc tăng."]
    titled = "Báo cáo tin tức tháng 12;;\n;;\nid;doc_id;text\n1;a;Hai bên\n".encode()
    with pytest.raises(UserError, match=r"^r.csv:1: the CSV header is on line 3, with a 'text' column; delete the 2 "
                                        r"lines above it$"):
        read(titled, "r.csv")


def test_an_output_named_json_is_refused_and_tag_file_writes_tsv(tfidf_predictor, tmp_path):
    from fastapi.testclient import TestClient

    from serve.api import create_app
    from serve.output import check_paths

    with pytest.raises(UserError, match=r"x.json: serve tag writes JSON Lines, CSV or TSV, not .json"):
        check_paths(str(tmp_path / "in.jsonl"), str(tmp_path / "x.json"))
    with TestClient(create_app(tfidf_predictor)) as client:
        answer = client.post("/tag/file?filename=a.txt&format=tsv", content="Hai bên\n".encode())
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/tab-separated-values")
    assert answer.text.splitlines()[0].split("\t")[:4] == ["id", "doc_id", "lang", "label"]


def test_what_a_reviewer_found_in_the_page_readers():
    """Sniffing survives a stray byte; a UTF-8 menu in a GBK page keeps the GBK article; a page that shows its
    article through links, or holds a related story's body in __NEXT_DATA__, is read; CDATA keeps its `&`;
    a data row holding the word "text" is no header; "<div>Title</div>" over plain lines stays lines."""
    page = ("<html><body>\n" + f"<p>{ZH}</p>\n" * 8 + "</body></html>\n").encode("gbk")
    for stray in (b"<p>\x80 5</p>\n", b"<p>\xff</p>\n", "<p>Việt Nam – ©</p>\n".encode()):
        assert sum(r.text == ZH for r in read(page + stray, "z.html")) == 8  # each stray byte made all 8 errors
    menu = "<nav>" + "".join(f"<a>中越新闻{i}</a>" for i in range(300)) + "</nav>\n"
    mixed = b'<html><head><meta charset="gbk"></head><body>\n' + menu.encode() + f"<p>{ZH}</p>\n".encode("gbk")
    assert read(mixed + b"</body></html>\n", "m.html")[-1].text == ZH
    body = ZH * 3
    ld = f'<script type="application/ld+json">{{"articleBody": "{body}"}}</script>'
    linked = body.replace("贸易", "<a>贸易</a>").replace("越", "<a>越</a>")
    assert len(read(f"<html><body>{ld}<p>{linked}</p></body></html>\n".encode(), "l.html")) == 1
    related = '<script id="__NEXT_DATA__">{"articleBody": "' + "另一篇文章的正文。" * 20 + '"}</script>'
    assert len(read(f"<html><body>{related}<p>{ZH}</p></body></html>\n".encode(), "r.html")) == 1
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title type="text"><![CDATA[AT&T và Việt Nam]]>'
            "</title><content type=\"html\">Việt&nbsp;Nam ?a=1&b=2</content></entry></feed>\n")
    assert [r.text for r in read(atom.encode(), "a.atom")] == ["AT&T và Việt Nam", "Việt Nam ?a=1&b=2"]
    with pytest.raises(UserError, match=r"^d.csv:1: the CSV header has no 'text' column \(found \['id', 'content'"):
        read("id,content,type\n1,Hai bên,text\n".encode(), "d.csv")
    lines = "<div>Tiêu đề</div>\nĐoạn một về thương mại.\nĐoạn hai về biên giới.\n"
    assert len(read(lines.encode(), "t.txt")) == 3


WIRE = """Vietnam, China agree to speed up rail link

HANOI, Dec 3 (Reuters) - Vietnam and China agreed on Tuesday to speed up
construction of a standard-gauge railway linking Lao Cai and Haiphong, as
two-way trade between the neighbours hit a record $185 billion last year.

Officials said a new border gate at Huu Nghi would cut customs clearance
times for durian exports, which have doubled in two years.
"""


def test_a_hard_wrapped_article_is_read_by_its_blocks_in_a_file_and_over_the_api(tfidf_predictor):
    from fastapi.testclient import TestClient

    from serve.api import create_app

    records = read(WIRE.encode(), "wire.txt")
    assert [r.id for r in records] == ["wire:1", "wire:3", "wire:7"]  # was 6 records, half-sentences apart
    assert records[1].text.startswith("HANOI, Dec 3 (Reuters) - Vietnam and China agreed on Tuesday to speed up "
                                      "construction of a standard-gauge") and records[1].text.endswith("last year.")
    with TestClient(create_app(tfidf_predictor)) as client:
        answer = client.post("/tag/article", json={"text": WIRE}).json()["results"]
    assert [(r["line"], r["text"]) for r in answer] == [(1, records[0].text), (3, records[1].text), (7, records[2].text)]
    chinese = "\n".join(ZH[i:i + 30] for i in range(0, len(ZH), 30))
    wrapped = "\n\n".join([chinese] * 3) + "\n"
    assert [r.text for r in read(wrapped.encode(), "zh.txt")] == [ZH] * 3  # Chinese runs on without a space
    one_per_line = "Tiêu đề bài báo\n\n" + "\n\n".join([VI] * 3) + "\n"
    assert len(read(one_per_line.encode(), "vi.txt")) == 4


def test_records_named_by_an_id_lookalike_get_a_note(capsys):
    records = read(b'{"ID": 5, "text": "Hai b\xc3\xaan"}\n{"ID": 6, "text": "Trung Qu\xe1\xbb\x91c"}\n', "db.jsonl")
    assert [r.id for r in records] == [None, None]
    err = capsys.readouterr().err
    assert err.count("note: db.jsonl: its records have 'ID' but no 'id', so their tags carry no id (fix: jq -c "
                     "'.id = (.[\"ID\"][\"$oid\"]? // .[\"ID\"] | tostring)')") == 1


def test_what_a_second_review_found_in_wrapped_text_and_encodings():
    from serve.articles import text_paragraphs, wrap_width

    digest = ["Vietnam, China agree to expand border trade at Lao Cai gate this year",
              "Hanoi and Beijing sign deal on standard-gauge railway feasibility",
              "China's annual fishing ban in the South China Sea draws protest", "",
              "Chinese tourists return to Ha Long Bay as flights resume in spring",
              "Vietnamese students win scholarships to Guangxi universities",
              "Joint lab on rice genetics opens in Can Tho with Chinese partners"]
    assert wrap_width(digest) is None  # room at every break: headlines, not a wrapped paragraph
    story = WIRE.split("\n\n", 1)[1]  # two wrapped paragraphs, 5 lines and a blank
    wrapped_then_lines = (story + "\n") * 70 + "A short closing line.\nAnother one that stands alone.\n"
    read_so = [line for line, _ in text_paragraphs(wrapped_then_lines)]
    last = wrapped_then_lines.count("\n")
    assert read_so[:3] == [1, 5, 8] and read_so[-2:] == [last - 1, last]  # past the first 400 lines, still by lines
    assert [r.id for r in read(wrapped_then_lines.encode(), "w.txt")][-2:] == [f"w:{last - 1}", f"w:{last}"]
    english = ("<p>The delegation from São Paulo met Niccolò Rossi — “trade” rose, officials said in Hanoi’s café.</p>\n"
               * 30).encode("cp1252")
    assert read(english, "en.html")[0].text.startswith("The delegation from São Paulo met Niccolò")  # not "Săo"
    one_line = ("<p>" + "</p><p>".join([ZH] * 6) + "</p>").encode("gbk")  # minified: one line of GBK
    assert [r.text for r in read(one_line, "m.html")] == [ZH] * 6
    menu = "<li>Kinh tế · Thế giới · Văn hóa</li>\n".encode()
    vi_page = menu + (f"<p>{VI}</p>\n" * 6).encode("cp1258", errors="ignore")  # precomposed where cp1258 has them
    assert read(vi_page, "v.html")[0].text == "Kinh tế · Thế giới · Văn hóa"  # a UTF-8 menu in a cp1258 page
    broken = '<meta charset="gb2312"><p>两国海军</p>\n'.encode() * 20 + "<p>两国海".encode()[:-1] + b"</p>\n"
    assert read(broken, "b.html")[-1].error.endswith("neither UTF-8 nor gb2312 as the page declares; re-save as UTF-8")
    typographic = f'<script type="application/ld+json">{{"articleBody": "{VI.replace("–", "--")} {VI}"}}</script>'
    assert len(read(f"<html><body>{typographic}<p>{VI} {VI}</p></body></html>\n".encode(), "q.html")) == 1
    copied = '<div class="detail-content"><p>Một</p><p>Hai</p><script>var x = 1;</script></div>\n'
    assert [r.text for r in read(copied.encode(), "c.txt")] == ["Một", "Hai"]
    pandas = ",id,text\n0,a,Hai bên\n"
    with pytest.raises(UserError, match=r"the CSV header is on line 2, with a 'text' column; delete the 1 line"):
        read(("Report: Hanoi, Beijing, May 2024\n" + pandas).encode(), "p.csv")


def test_what_a_third_hostile_reader_found():
    """Headers, a signature, a URL or a Latin-1 byte beside a wrapped story no longer switch block reading off; a
    list or a table inside one is not glued; a Chinese paragraph keeps the space of a Latin name broken at it;
    the API cuts a long wrapped paragraph as the file's reader does; a paginated or traditional-character page
    that shows its text passes the JSON-LD check; a GBK article beside a larger UTF-8 sidebar is read; a short
    Windows-1252 page is read; a table from the inspector is HTML."""
    from serve.articles import text_paragraphs

    story = WIRE.split("\n\n", 1)[1]
    header = "---------- Forwarded message ---------\nFrom: Desk <desk@example.com>\nSubject: Vietnam, China trade\n\n"
    for text in (header + story, story + "\n--\nNguyen Van An\nTel: +84 24 3825 0000\n",
                 story + "\nhttps://www.reuters.com/world/asia-pacific/vietnam-china-agree-expand-border-trade-2025-03-03/\n"):
        paragraphs = [p for _, p in text_paragraphs(text)]
        assert any(p.startswith("HANOI, Dec 3 (Reuters)") and p.endswith("last year.") for p in paragraphs), paragraphs
    latin1 = read((story + "\n\xa9 2025 Reuters\n").encode("latin-1", errors="ignore"), "l.txt")
    assert latin1[0].text.endswith("last year.") and latin1[-1].error is not None
    listed = story + "\nCác văn kiện được ký kết gồm:\n1. Bản ghi nhớ hợp tác xây dựng đường sắt Lào Cai - Hà Nội\n" \
                     "2. Thỏa thuận về kiểm dịch thực vật đối với sầu riêng xuất khẩu\n"
    assert len(text_paragraphs(listed)) == 2 + 3
    paragraph = "新华社河内电越共中央总书记苏林（To Lam）" + ZH * 2  # wrapped at 30 characters, broken at its space
    cut = paragraph.index(" Lam")
    lines = [paragraph[:cut]] + [paragraph[k:k + 30] for k in range(cut + 1, len(paragraph), 30)]
    lines[0] = "新华社" * ((30 - len(lines[0])) // 3) + lines[0]  # its first line filled to the width too
    read_back = [p for _, p in text_paragraphs("\n\n".join(["\n".join(lines)] * 3))]
    assert len(read_back) == 3 and "（To Lam）" in read_back[0]
    long = "\n".join([WIRE.splitlines()[2], WIRE.splitlines()[3]] * 130) + "\n\n" + story
    assert [line for line, _ in text_paragraphs(long)][:2] == [1, 201]  # was one 260-line paragraph over the API
    assert [r.id for r in read(long.encode(), "long.txt")][:2] == ["long:1", "long:201"]
    body = " ".join([VI] * 12)
    ld = f'<script type="application/ld+json">{{"articleBody": "{body}"}}</script>'
    assert len(read(f"<html><body>{ld}<h1>Trang 3</h1><p>{VI}</p></body></html>\n".encode(), "p3.html")) == 2
    traditional = "中越雙邊貿易額再創新高，兩國領導人同意深化全面戰略合作夥伴關係，推動陸地邊境口岸建設。" * 3  # ZH, converted
    ld_zh = f'<script type="application/ld+json">{{"articleBody": "{ZH * 3}"}}</script>'
    assert len(read(f"<html><body>{ld_zh}<p>{traditional}</p></body></html>\n".encode(), "hant.html")) == 1
    sidebar = "".join(f"<li><a>Tin liên quan số {i} về quan hệ Việt – Trung</a></li>\n" for i in range(160))
    gbk = b'<meta charset="gbk">\n' + f"<p>{ZH}</p>\n".encode("gbk") + sidebar.encode()
    assert read(gbk, "g.html")[0].text == ZH
    curly = '<p>Vietnam’s exports to China “rose” 12% — officials said.</p>\n' * 4
    assert read(curly.encode("cp1252"), "e.html")[0].text == "Vietnam’s exports to China “rose” 12% — officials said."
    table = '<table class="tbl">\n<tr><td>Xuất khẩu</td><td>61,2 tỷ USD</td></tr>\n</table>\n'
    assert [r.text for r in read(table.encode(), "t.txt")] == ["Xuất khẩu", "61,2 tỷ USD"]  # cells, no markup


def test_a_feed_with_a_control_character_or_an_undeclared_prefix_is_read_as_feed_readers_read_it():
    feed = ("<rss><channel><item><title>Tuần tra chung</title><description>Hai bên\x0b trao đổi</description>"
            '<media:thumbnail url="x.jpg"/><media:description>Ảnh minh họa</media:description></item></channel></rss>\n')
    assert [r.text for r in read(feed.encode(), "f.rss")] == ["Tuần tra chung", "Hai bên trao đổi"]  # was refused whole
