"""Corpus records: one JSON object per line, as ../shared/LABELS.md defines them.

    {"id": "vi-a-0001", "lang": "vi", "labels": ["economy", "border_sea"],
     "text": "...", "source": "authored", "split": "train", "doc_id": "vi-g-d01"}

`record_from` checks one row of the project's JSONL reader and raises `DataError` naming
the file, the line and the fix; `load_records` reads the config's globs and stops at the
first bad line, which is what training wants (the corpus check in `train.corpus` collects
them all). The split is a field of each record, so adding data never reshuffles old records.
`doc_id` (optional) groups the consecutive paragraphs of one article; a seed paragraph's
article is its seed file.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Iterator

from vnzh_runtime.bounded import bounded_lines
from vnzh_runtime.context import contexts, document_key
from vnzh_runtime.errors import UserError
from vnzh_runtime.filekind import head_lines, whole_file_problem
from vnzh_runtime.jsonl import JsonlRow, parse_line, read_jsonl
from vnzh_runtime.langid import LANGS
from vnzh_runtime.markup import is_blank
from vnzh_runtime.textnorm import normalize

LABELS = ["economy", "border_sea", "people_to_people", "science_tech", "party_relations", "other"]
DEFAULT_FILES = ["data/seeds.jsonl", "data/authored/*.jsonl"]
SPLITS = ("train", "dev", "test")
REQUIRED = ("id", "lang", "labels", "text", "source", "split")
EXAMPLE = '{"id": "mine-1", "lang": "vi", "labels": ["economy"], "text": "...", "source": "authored", "split": "train"}'


class DataError(UserError):
    """A corpus line that cannot be used; the message names file:line and the fix."""


@dataclass(frozen=True)
class Record:
    id: str
    lang: str
    labels: tuple[str, ...]
    text: str
    source: str
    split: str
    doc_id: str | None = None

    @property
    def label(self) -> str:
        """The dominant topic, which single-label models train on."""
        return self.labels[0]

    @property
    def is_seed(self) -> bool:
        return self.source.startswith("seed:")

    def to_json(self) -> str:
        row = asdict(self)
        row["labels"] = list(self.labels)
        if row["doc_id"] is None:
            del row["doc_id"]
        return json.dumps(row, ensure_ascii=False)


def string_fix(key: str, value) -> str:
    """What a field that must be a string got instead, and for a number how to write it.

    >>> string_fix("id", 17), string_fix("id", None), string_fix("id", " ")
    (', got 17 (write it as a string: "id": "17")', ', got null', '')
    """
    if isinstance(value, str):
        return ""
    shown = json.dumps(value, ensure_ascii=False)
    got = f", got {shown if len(shown) <= 30 else shown[:27] + '...'}"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "text":  # NaN is no text to quote
        return got + f" (write it as a string: {json.dumps(key)}: {json.dumps(str(value)[:40])})"
    return got


def parse_record(line: str, where: str) -> Record:
    """One line of text (`where` is "file:line")."""
    name, _, number = where.rpartition(":")
    return record_from(parse_line(line.encode("utf-8"), name, int(number)), where)


def record_from(parsed: JsonlRow, where: str) -> Record:
    if parsed.error:
        raise DataError(parsed.error)
    row = parsed.value
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [key for key in REQUIRED if key not in row]
    if missing:
        said = " ('label' is train.evaluate's shorthand: write \"labels\": [...])" if "label" in row and "labels" in missing else ""
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}{said}; every training record needs "
                        f"{', '.join(REQUIRED)}, e.g. {EXAMPLE} (a sample only to score: python -m train.evaluate "
                        "needs text and labels alone)")
    for key in ("id", "text", "source"):
        if not isinstance(row[key], str) or is_blank(row[key]):
            raise DataError(f"{where}: field '{key}' must be a non-empty string{string_fix(key, row[key])}")
    if row["lang"] not in LANGS:
        raise DataError(f"{where}: lang {row['lang']!r} is not one of {', '.join(LANGS)}")
    if row["split"] not in SPLITS:
        raise DataError(f"{where}: split {row['split']!r} is not one of {', '.join(SPLITS)}")
    labels = row["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        named = [part.strip() for part in re.split(r"[,|;]", labels) if part.strip()] if isinstance(labels, str) else []
        got = f" (a list: \"labels\": {json.dumps(named, ensure_ascii=False)[:80]})" if named else ""
        raise DataError(f"{where}: labels must be a non-empty list of strings, dominant topic first{got}")
    unknown = [x for x in labels if x not in LABELS]
    if unknown:
        raise DataError(f"{where}: unknown label(s) {unknown}; use {', '.join(LABELS)} (see LABELS.md)")
    if len(set(labels)) != len(labels):
        raise DataError(f"{where}: a label is repeated in {labels} (fix: list each once, dominant topic first)")
    if "other" in labels and len(labels) > 1:
        raise DataError(f"{where}: 'other' always stands alone, got {labels} (fix: the topics alone, "
                        "or 'other' alone where the paragraph is not VN–China coverage)")
    if "label" in row and row["label"] != labels[0]:  # training would follow `labels` without a word
        raise DataError(f"{where}: 'label' {row['label']!r} is not the first of 'labels' {labels} "
                        "(fix: keep one of the two fields)")
    if row["source"].startswith("seed:") and row["split"] != "test":
        raise DataError(f"{where}: seed paragraphs are real text kept for testing; set split to 'test'")
    doc_id = row.get("doc_id", row["source"] if row["source"].startswith("seed:") else None)
    if isinstance(doc_id, (list, dict)) or (isinstance(doc_id, str) and not doc_id.strip()):
        raise DataError(f"{where}: doc_id {json.dumps(doc_id, ensure_ascii=False)[:40]} names no article "
                        "(fix: a string or a number, e.g. \"art-12\", or leave it out)")
    doc_id = document_key(doc_id)  # 7 and "7" one article, as every tagging path and train.evaluate read it
    return Record(row["id"], row["lang"], tuple(labels), row["text"], row["source"], row["split"], doc_id)


NOT_JSONL = (".csv", ".tsv", ".parquet", ".xlsx", ".txt")  # what a labelled sample often comes as instead


def iter_file(path: str | Path, handle: BinaryIO | None = None) -> Iterator[tuple[str, JsonlRow]]:
    """("file:line", row) for each non-blank line, through the project's one JSONL reader; `handle`
    is a stream already open (standard input, named `path`), read once."""
    if Path(path).suffix.lower() in NOT_JSONL:  # else an error per line, each saying "not valid JSON"
        raise DataError(f"{path}: a {Path(path).suffix.lower()} file; labelled data is JSON Lines, one "
                        "{\"text\": ..., \"labels\": [...]} per line (fix: convert the file to .jsonl)")
    try:
        opened = nullcontext(handle) if handle is not None else open(path, "rb")
    except OSError as err:  # a dangling link, a file removed since the glob, no permission
        raise DataError(f"{path}: cannot read it ({err.strerror})") from None
    with opened as handle:
        lines = bounded_lines(handle, str(path))
        head = head_lines(lines)
        problem = whole_file_problem(head, str(path), jsonl=True)
        if problem:  # one line that names the fix, not "not UTF-8" on line 1
            raise DataError(problem)
        for row in read_jsonl(chain(head, lines), str(path), unique_keys=True):  # a second "labels" would win
            yield f"{path}:{row.line}", row


def resolve_files(patterns: list[str], flag: str = "data.files") -> list[Path]:
    """The files the globs name, in order, each once however it is spelled (`a.jsonl`, `./a.jsonl`, a link
    to it, symbolic or hard); a name that exists is that file, `[` and all; `flag` is where the user wrote them."""
    files: list[Path] = []
    seen: set = set()
    for pattern in patterns:
        # `**` is any depth of folders, as in a shell with globstar (else one level: files left out without a word)
        matches = [pattern] if os.path.lexists(pattern) else sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise DataError(f"{flag}: {pattern!r} matches no file (run from the project root or give an absolute path)")
        folder = next((m for m in matches if Path(m).is_dir()), None)
        if folder is not None:  # opening it would stop with a raw IsADirectoryError
            raise DataError(f"{flag}: {folder!r} is a directory (fix: name its files or a glob, e.g. {folder}/*.jsonl)")
        for match in map(Path, matches):
            names = {Path(os.path.realpath(match)), file_identity(match)} - {None}  # a symbolic or a hard link: one file
            if not names & seen:
                seen |= names
                files.append(match)
    return files


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode): a hard link has its own name and path, and is the same file (None where it cannot be read:
    a link that loops is read, and refused, as named)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def in_file(record: Record, path) -> Record:
    """The record with its document named within its file: doc_id 1 of a.jsonl and of b.jsonl are two articles."""
    return record if record.doc_id is None else replace(record, doc_id=f"{path}\t{record.doc_id}")


def doc_id_as_written(record: Record) -> str | None:
    """The record's doc_id as its file names it, without the path `in_file` puts before it."""
    return record.doc_id.partition("\t")[2] if record.doc_id and "\t" in record.doc_id else record.doc_id


def article_in_two_splits(articles: dict[str, tuple[str, str]], record: Record, where: str) -> str | None:
    """The error for a record whose article (`doc_id`, within its file) is already in another split, or None;
    `articles` keeps each article's split and first place as records are read (training and `train.corpus`)."""
    if record.doc_id is None:
        return None
    split, first = articles.setdefault(record.doc_id, (record.split, where))
    if split == record.split:
        return None
    # its head would be read by a model trained on it, or a split's figures would read another split's paragraphs
    return (f"{where}: its article (doc_id {doc_id_as_written(record)!r}) is a {split} article at {first}, a "
            f"{record.split} record here; keep each article in one split")


def load_records(patterns: list[str]) -> list[Record]:
    """The records of the files, ids unique; a text in train and in dev or test is refused (its figures would
    be a training figure), and so is an article in two splits (a split's figures would read another split's
    paragraphs as context). Near copies are `python -m train.corpus`'s to find."""
    records: list[Record] = []
    seen: dict[str, str] = {}
    texts: dict[str, tuple[str, str]] = {}  # normalised text -> (split, where) of its first record
    articles: dict[str, tuple[str, str]] = {}  # doc_id -> (split, where) of its first record
    for path in resolve_files(patterns):
        for where, row in iter_file(path):
            record = in_file(record_from(row, where), path)
            if record.id in seen:
                raise DataError(f"{where}: id {record.id!r} already used at {seen[record.id]}; ids must be unique")
            problem = article_in_two_splits(articles, record, where)
            if problem:
                raise DataError(problem)
            split, first = texts.setdefault(normalize(record.text, lowercase=True), (record.split, where))
            if split != record.split and "train" in (split, record.split):
                raise DataError(f"{where}: the same text as {first}, a {split} record here in {record.split}: its "
                                "figures would be a training figure (fix: drop one; python -m train.corpus also "
                                "lists near copies)")
            seen[record.id] = where
            records.append(record)
    return records


def by_split(records: list[Record], labels: list[str]) -> dict[str, list[Record]]:
    """Records per split, keeping only those whose dominant label the config trains on, each with
    only the labels it trains on (a second topic it lacks is no class of its heads)."""
    kept = [with_labels_of(r, labels) for r in records if r.label in labels]
    return {split: [r for r in kept if r.split == split] for split in SPLITS}


def with_labels_of(record: Record, labels: list[str]) -> Record:
    """The record with only the labels a model has (its dominant one among them)."""
    if set(record.labels) <= set(labels):
        return record
    return replace(record, labels=tuple(label for label in record.labels if label in labels))


def left_out(records: list[Record], labels: list[str]) -> str | None:
    """One line on the records `by_split` leaves out for a dominant label the config does not train on."""
    counts = Counter(r.label for r in records if r.label not in labels)
    trimmed = sum(1 for r in records if r.label in labels and any(x not in labels for x in r.labels))
    said = []
    if counts:
        named = ", ".join(f"{label} {count}" for label, count in counts.most_common())
        said.append(f"{sum(counts.values())} records left out, their dominant label not in data.labels ({named})")
    if trimmed:  # as train.evaluate says it: a label set scored without a topic the model never learns
        said.append(f"{trimmed} record{'s' if trimmed > 1 else ''} kept without a second topic not in data.labels")
    return f"data: {'; '.join(said)}" if said else None


def record_contexts(records: list[Record], head: int) -> list[str]:
    """Each record's article context (its document's head), as the runtime builds it at tagging."""
    if not head:
        return [""] * len(records)
    return contexts([r.text for r in records], [r.doc_id for r in records], head)
