"""A user's labelled sample, as `python -m train.evaluate --data` reads it: the files, globs and
folders named (or `-`, standard input), and each line as a corpus record.

A sample line needs `text` and `labels` (or a single `label`); `id`, `lang`, `doc_id`, `source`
and `split` are optional and filled in (split `test`, language detected, id `file:line`):

    >>> sample_row({"text": "Kim ngạch Việt - Trung tăng", "label": "economy"}, "mine.jsonl:3")["labels"]
    ['economy']
"""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path

from train.data import DataError, Record, in_file, iter_file, record_from, resolve_files, with_labels_of
from vnzh_runtime.context import document_key, note_document_lookalike
from vnzh_runtime.langid import detect_lang
from vnzh_runtime.markup import is_blank

STDIN = "-"  # --data -: labelled JSON Lines on standard input
OPTIONAL = ("id", "lang", "doc_id", "source", "split", "label")  # null: left out
SAMPLE_FIELDS = "each line needs text and labels; id, lang, doc_id, source and split are optional"


def load_labelled(files: list[str], model_labels: list[str] | None = None) -> list[Record]:
    """Labelled JSONL as the corpus defines it; a user's own sample may leave out id, lang, source and split.
    With `model_labels`, a record whose dominant label the model does not have is an error on its
    line: scikit-learn would drop it from the tables with a warning, and the figures would be wrong.
    (A second topic the model lacks is left to the caller: `trim_labels`, as training trims it.)"""
    records, seen, made_ids = [], {}, set()  # made_ids: ids made for lines without one (file:line)
    if STDIN in files and sys.stdin is None:  # `<&-`
        raise DataError("--data -: standard input is closed; pipe the records in, or give the file's name")
    for path in sample_files(files):
        stdin = path == STDIN  # `jq ... | python -m train.evaluate --data -`
        first = True
        for where, row in iter_file("stdin", sys.stdin.buffer) if stdin else iter_file(path):
            if row.error is None and isinstance(row.value, dict):
                if first:  # the first record names its article under another key: each is scored alone
                    note_document_lookalike(row.value, "stdin" if stdin else str(path))
                first = False
                made = made_id(row.value)
                row.value = sample_row(row.value, where)
            record = in_file(record_from(row, where), path)
            if model_labels is not None and record.label not in model_labels and record.split != "train":
                raise DataError(f"{where}: label {record.label!r} is not one the model has ({', '.join(model_labels)}); "
                                "evaluate a model trained on it, or leave such records out")
            if record.split != "train":  # train records are left out of the figures, so never counted twice
                if record.id in seen:  # counted twice, it would weigh twice in every figure
                    raise DataError(repeated_id(record.id, where, seen[record.id], made, record.id in made_ids))
                seen[record.id] = where
                if made:
                    made_ids.add(record.id)
            records.append(record)
    return records


def made_id(row) -> bool:
    """Whether `sample_row` makes the line's id (its `file:line`): none given, null or blank."""
    given = row.get("id") if isinstance(row, dict) else None
    return given is None or isinstance(given, str) and not given.strip()


def repeated_id(given: str, where: str, first: str, made_here: bool = False, made_first: bool = False) -> str:
    """The error for an id already used at `first`; an id made for a line without one (its `file:line`) says so.

    >>> repeated_id("s.jsonl:2", "s.jsonl:2", "s.jsonl:1", made_here=True)
    "s.jsonl:2: has no id, and the one made for it, 's.jsonl:2', is the id given at s.jsonl:1; give this line an id"
    """
    if made_here:
        return f"{where}: has no id, and the one made for it, {given!r}, is the id given at {first}; give this line an id"
    if made_first:
        return f"{where}: id {given!r} is the one made for {first}, which has no id; give that line an id"
    return f"{where}: id {given!r} already used at {first}; ids must be unique (the same records in two files? give each once)"


def sample_files(patterns: list[str]) -> list:
    """--data's files: files or globs as given, and a directory (named or matched) read as its *.jsonl files."""
    concrete, stdin = [], [STDIN] if STDIN in patterns else []
    for pattern in patterns:
        if pattern == STDIN:
            continue
        # a name that exists is that file (`sample [v2].jsonl`); `**` in a glob is any depth of folders
        matches = [pattern] if os.path.lexists(pattern) else sorted(glob.glob(pattern, recursive=True))
        if not matches:
            concrete.append(pattern)  # resolve_files says it matches no file
        for match in matches:
            if not Path(match).is_dir():
                concrete.append(glob.escape(match))
            elif glob.glob(str(Path(glob.escape(match)) / "*.jsonl")):
                concrete.append(str(Path(glob.escape(match)) / "*.jsonl"))
            else:
                raise DataError(f"--data: {match} is a directory with no *.jsonl files "
                                "(fix: name the files or a glob, e.g. --data 'samples/*.jsonl')")
    return stdin + (resolve_files(concrete, flag="--data") if concrete else [])


def sample_row(row: dict, where: str) -> dict:
    """A user's sample line as a corpus record: text and labels checked first, the optional fields filled in.

    Ids may be any JSON scalar, as `serve tag` takes them (kept as their JSON text); a singular
    `label` is read as `labels: [label]`; an optional field that is null counts as left out.
    """
    text = row.get("text")
    if text is None:
        raise DataError(f"{where}: " + ("'text' is null" if "text" in row else "no 'text' field") + f" ({SAMPLE_FIELDS})")
    if not isinstance(text, str) or is_blank(text):  # zero-width characters alone are blank, as in serve tag
        got = "an empty string" if isinstance(text, str) else f"{type(text).__name__} {json.dumps(text)[:40]}"
        raise DataError(f"{where}: 'text' must be a non-empty string, got {got}")
    given = row
    row = {key: value for key, value in row.items() if not (key in OPTIONAL and value is None)}
    if isinstance(row.get("label"), list):
        raise DataError(f"{where}: 'label' holds a list {json.dumps(row['label'], ensure_ascii=False)[:60]}; "
                        "name the list 'labels' (dominant topic first), or give 'label' one topic")
    if "labels" not in row and isinstance(row.get("label"), str):
        row["labels"] = [row["label"]]
    elif "label" in row and isinstance(row.get("labels"), list) and row["labels"][:1] != [row["label"]]:
        raise DataError(f"{where}: 'label' {row['label']!r} is not the first of 'labels' {row['labels']!r} "
                        "(fix: keep one of the two fields)")
    if "labels" not in row:
        said = "'label' is null" if "label" in given and given["label"] is None else "no 'labels' field"
        raise DataError(f"{where}: {said}, e.g. \"labels\": [\"economy\"], dominant topic first ({SAMPLE_FIELDS})")
    if "id" in row and not isinstance(row["id"], str):
        row["id"] = json.dumps(row["id"], ensure_ascii=False)  # 7 -> "7": a row's name, not a number
    if "doc_id" in row:
        row["doc_id"] = document_key(row["doc_id"])  # as every tagging path names documents (a blank one: none)
    if not str(row.get("id", "")).strip():
        row["id"] = where  # ids only name rows in an evaluation: file:line names a row as well
    return {"source": "user", "split": "test", "lang": detect_lang(text), **row}


def trim_labels(records: list[Record], labels: list[str]) -> tuple[list[Record], int]:
    """(the records with only the labels a model has, how many lost one): a multi-label model's sets
    are scored over its own labels, as training scores them (`train.data.by_split`)."""
    trimmed = [with_labels_of(record, labels) for record in records]
    return trimmed, sum(new is not old for new, old in zip(trimmed, records))
