import gzip
import json

import pytest

from train.data import DataError, load_records, parse_record

GOOD = {"id": "x1", "lang": "vi", "labels": ["economy"], "text": "Kim ngạch tăng", "source": "authored", "split": "train"}


def line(**changes):
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def test_good_record():
    record = parse_record(line(labels=["economy", "border_sea"]), "f:1")
    assert record.label == "economy" and record.labels == ("economy", "border_sea") and not record.is_seed


@pytest.mark.parametrize("bad, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    (json.dumps({"id": "x"}), "missing field"),
    # what to write: a hostile user's sample (text and label) and an id or labels of the wrong type
    (json.dumps({"text": "a", "label": "economy"}), r"missing field\(s\) id, lang, labels, source, split \('label' is "
     r"train.evaluate's shorthand: write \"labels\": \[...\]\); every training record needs .*, e.g. \{\"id\": "),
    (line(id=17), r"field 'id' must be a non-empty string, got 17 \(write it as a string: \"id\": \"17\"\)"),
    (line(id=True), r"field 'id' must be a non-empty string, got true$"),
    (line(labels="economy|border_sea"), r"\(a list: \"labels\": \[\"economy\", \"border_sea\"\]\)"),
    (line(labels="economy"), r"labels must be a non-empty list of strings, dominant topic first \(a list: \"labels\": \[\"economy\"\]\)"),
    (line(lang="fr"), "lang 'fr'"),
    (line(labels=["sports"]), "unknown label"),
    (line(labels=[]), "non-empty list"),
    (line(labels=["other", "economy"]), "stands alone"),
    (line(labels=["economy", "economy"]), r"repeated .* \(fix: list each once"),
    (json.dumps({**json.loads(line(labels=["border_sea"])), "label": "economy"}), "'label' 'economy' is not the first of"),
    (line(split="validation"), "split"),
    (line(text="  "), "non-empty string"),
    (line(source="seed:001.txt"), "seed paragraphs"),
])
def test_bad_records_name_the_place(bad, message):
    with pytest.raises(DataError, match=message) as err:
        parse_record(bad, "data/x.jsonl:7")
    assert str(err.value).startswith("data/x.jsonl:7: ")


def test_load_stops_at_first_bad_line_with_file_and_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(line() + "\n\n" + line(id="x2") + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{path}:4: not valid JSON"):
        load_records([str(path)])


def test_duplicate_ids_and_missing_files(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(line() + "\n" + line() + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="already used"):
        load_records([str(path)])
    with pytest.raises(DataError, match="matches no file"):
        load_records([str(tmp_path / "none*.jsonl")])


@pytest.mark.parametrize("encode, message", [
    (lambda text: gzip.compress(text.encode("utf-8")), "a gzip archive, not text; decompress it first"),
    (lambda text: text.encode("utf-16"), "the file is UTF-16, not UTF-8; re-save it as UTF-8"),
    (lambda text: ("[" + text.strip() + "]").encode("utf-8"), "a JSON array, not JSON Lines"),
])
def test_a_whole_file_in_the_wrong_form_is_one_line_naming_the_fix(tmp_path, encode, message):
    path = tmp_path / "d.jsonl"
    path.write_bytes(encode(line() + "\n"))
    with pytest.raises(DataError, match=message):  # not "d.jsonl:1: not UTF-8 (byte 1)"
        load_records([str(path)])


def test_a_text_in_train_and_in_test_is_refused_at_load(tmp_path):
    """A copied test paragraph marked train made every test figure a training figure, without a word."""
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join([line(id="a"), line(id="b", text="  KIM ngạch   tăng ", split="test"),
                               line(id="c", text="Kim ngạch giảm", split="dev")]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{path}:2: the same text as {path}:1, a train record here in test"):
        load_records([str(path)])
    path.write_text("\n".join([line(id="a", split="dev"), line(id="b", split="test")]) + "\n", encoding="utf-8")
    assert [r.split for r in load_records([str(path)])] == ["dev", "test"]  # no training figure at stake


def test_the_corpus_check_says_a_file_it_cannot_read_in_one_line_and_still_checks_the_others(tmp_path, capsys):
    from train.corpus import main as corpus_main
    from vnzh_runtime.bounded import MAX_LINE_BYTES

    path, other = tmp_path / "huge.jsonl", tmp_path / "other.jsonl"
    path.write_bytes(b"x" * (MAX_LINE_BYTES + 1))
    other.write_text(line(id="a") + "\n" + line(id="a") + "\n", encoding="utf-8")
    assert corpus_main(["--no-min-counts", str(path), str(other)]) == 1
    said = capsys.readouterr().out
    assert said.count(f"error: {path}:1: a line of more than 32 MB") == 1
    assert f"error: {other}:2: duplicate id 'a'" in said  # was hidden: the first file's error stopped the check


def test_a_numeric_doc_id_names_an_article_as_train_evaluate_reads_it():
    """Training refused `doc_id: 7` that train.evaluate and serve tag read as the article "7"."""
    assert parse_record(line(doc_id=7), "f:1").doc_id == parse_record(line(doc_id="7"), "f:2").doc_id == "7"
    for bad in ([1], "  "):
        with pytest.raises(DataError, match=r"f:3: doc_id .* names no article \(fix: a string or a number"):
            parse_record(line(doc_id=bad), "f:3")


def test_a_key_given_twice_in_a_data_line_is_refused_on_its_line(tmp_path):
    from train.samples import load_labelled

    good = {"id": "a", "lang": "vi", "labels": ["economy"], "text": "Kim ngạch tăng", "source": "authored", "split": "train"}
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(good | {"id": "b"})[:-1] + ', "labels": ["other"]}\n',
                    encoding="utf-8")  # json would keep the second labels without a word
    with pytest.raises(DataError, match=f'{path}:2: key "labels" is given twice, and only the last would count'):
        load_records([str(path)])
    with pytest.raises(DataError, match=f'{path}:2: key "labels" is given twice'):
        load_labelled([str(path)])
    # a record whose text runs over two lines (an exporter that left a raw line break) is read whole, and refused
    path.write_text(json.dumps(good)[:-1].replace("Kim ngạch", "Kim\nngạch") + ', "labels": ["other"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=f'{path}:1: key "labels" is given twice'):
        load_records([str(path)])
    # keys of a nested object nothing reads are left as JSON reads them
    path.write_text(json.dumps(good | {"meta": {"x": 1}})[:-2] + ', "x": 2}}\n', encoding="utf-8")
    assert load_records([str(path)])[0].labels == ("economy",)
