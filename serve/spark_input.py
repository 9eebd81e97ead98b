"""Reading `serve spark`'s input: every format becomes rows of (_row, _id as JSON, _doc as JSON or null,
_key: the document's name as every tagging path gives it, text, error).

JSONL is read line by line with `serve tag`'s own parser (`vnzh_runtime.jsonl`), so a line that
is not JSON is that line's error; Hadoop's line reader decodes a byte that is not UTF-8 as U+FFFD
before Python sees it, so a line holding U+FFFD is that line's "not UTF-8" error. CSV files are
read whole, each by `serve tag`'s own CSV reader, so every row gets `serve tag`'s record; parquet
needs a `text` column and keeps the types of `id` and `doc_id`:

    >>> rows, id_types = read_input(spark, "feed/day.jsonl")
    >>> rows.columns
    ['_row', '_id', '_doc', '_key', 'text', 'error']
"""

from __future__ import annotations

import json
from pathlib import Path

from serve.feeds import XML_SUFFIXES
from vnzh_runtime.context import document_key
from vnzh_runtime.errors import UserError
from vnzh_runtime.fix_commands import ARCHIVE_SUFFIXES

FORMATS = {".parquet": "parquet", ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}  # by suffix; else JSONL
# Documents `serve tag` reads whole (a feed item by item, a page by its blocks), which line-split input cannot
NOT_READ = (*XML_SUFFIXES, ".html", ".htm", ".xhtml", ".shtml")
REPLACEMENT = "\ufffd".encode("utf-8")
ROW_SCHEMA = "_row long, _id string, _doc string, _key string, text string, error string"


def as_row(index: int, record) -> tuple:
    """An InputRecord as a row; ids travel as JSON text so that 7, "7" and true are written back as
    they came, and the document is named by `document_key` (7 and "7" one article, 7.0 another)."""
    doc = None if record.doc_id is None else json.dumps(record.doc_id)
    return (index, json.dumps(record.id), doc, document_key(record.doc_id),
            record.text if record.error is None else None, record.error)


def jsonl_rows(name: str):
    def parse(pairs):
        from serve.readers import READ_KEYS, jsonl_record
        from serve.tagging import InputRecord
        from vnzh_runtime.jsonl import parse_line

        for raw, index in pairs:
            if not raw.strip():
                continue  # a blank line is not a record (serve tag skips it too)
            record = jsonl_record(parse_line(raw, name, index + 1, READ_KEYS), name)
            if REPLACEMENT in raw:  # Hadoop's reader has already turned each bad byte into U+FFFD
                record = InputRecord(record.id, None, record.doc_id, f"{name}:{index + 1}: not UTF-8; re-save the file as UTF-8")
            yield as_row(index, record)
    return parse


def csv_file_records(names: dict[str, str]):
    """A CSV file's records as `serve tag` reads them (`serve.readers.read_csv_records`: stray quotes,
    extra fields, line numbers past quoted line breaks, bad bytes), from the file's bytes."""
    def read(item):
        import io

        from serve.readers import read_csv_records

        uri, content = item
        return list(read_csv_records(io.BytesIO(content), names.get(uri, uri.removeprefix("file:"))))
    return read


def parquet_rows(name: str):
    def parse(pairs):
        from serve.tagging import checked

        for row, index in pairs:
            yield as_row(index, checked(row.asDict(), f"{name}:row {index + 1}"))
    return parse


def input_format(path: str) -> str:
    """parquet, csv or jsonl, by the name's suffix: `feed.csv.gz` is CSV (which the head check then
    refuses, compressed), not JSON Lines because it ends in `.gz`."""
    suffixes = [suffix.lower() for suffix in Path(path.rstrip("/")).suffixes[-2:]]
    if suffixes and suffixes[-1] in NOT_READ:  # else each of its lines an error record "not valid JSON"
        raise UserError(f"{path}: serve spark reads JSON Lines, CSV (or TSV) and parquet, not a {suffixes[-1]} page or "
                        "feed; tag it with python -m serve tag, which reads it whole")
    if len(suffixes) == 2 and suffixes[-1] in ARCHIVE_SUFFIXES:
        return FORMATS.get(suffixes[0], "jsonl")
    return FORMATS.get(suffixes[-1] if suffixes else "", "jsonl")


def input_parts(input_path: str) -> list[str]:
    """The paths of a comma-separated --input, split as Hadoop splits it: not inside a {a,b} glob.

    >>> input_parts("feeds/{a,b}.jsonl,more.jsonl")
    ['feeds/{a,b}.jsonl', 'more.jsonl']
    """
    parts, depth, start = [], 0, 0
    for i, char in enumerate(input_path):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth <= 0:
            parts.append(input_path[start:i])
            start = i + 1
    parts.append(input_path[start:])
    if any(not part.strip() for part in parts):  # Hadoop: "Can not create a Path from an empty string"
        raise UserError(f"{input_path}: an empty name between commas; remove the extra comma")
    return parts


def read_input(spark, path: str, names: dict[str, str] | None = None):
    """(rows, source id/doc_id types or None): one row per input record, numbered in input order.
    `names`: each CSV file's name in errors, by its URI (`spark_paths.shown_names`)."""
    kind = input_format(path)
    types = None
    try:
        if kind == "jsonl":
            pairs = spark.sparkContext.textFile(path, use_unicode=False).zipWithIndex()
            rows = pairs.mapPartitions(jsonl_rows(path))
        elif kind == "csv":
            # Whole files, as Spark's own multi-line CSV reading splits them too, read by serve tag's reader.
            records = spark.sparkContext.binaryFiles(path).flatMap(csv_file_records(names or {}))
            rows = records.zipWithIndex().map(lambda pair: as_row(pair[1], pair[0]))
        else:
            frame = spark.read.parquet(*input_parts(path))  # it takes the list, where textFile splits at commas
            if "text" not in frame.columns:
                raise UserError(f"{path}: no 'text' column (found {frame.columns}); add one")
            types = {c: frame.schema[c].dataType for c in ("id", "doc_id") if c in frame.columns}
            frame = frame.select(*[c for c in ("id", "doc_id", "text") if c in frame.columns])
            rows = frame.rdd.zipWithIndex().mapPartitions(parquet_rows(path))
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - Spark reports a missing path as an AnalysisException/Py4JJavaError
        raise UserError(f"{path}: cannot read input ({first_line(err)})") from None
    return spark.createDataFrame(rows, ROW_SCHEMA), types


def first_line(err: Exception) -> str:
    text = str(getattr(err, "desc", None) or err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]
