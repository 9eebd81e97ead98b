"""Files in and out of `serve tag`: one reader per input format, one writer per output format,
and an output that replaces its target only when the run completes.

    >>> stats = tag_file(predictor, "in.jsonl", "out.jsonl")   # out.jsonl appears whole, or not at all

Every input record gives exactly one output record, whatever is in it: a line that is not
UTF-8, not JSON, or JSON this reader refuses becomes an error record; ids JSON can't carry
(NaN, Infinity) are kept as strings. An interrupted run keeps what it wrote as
`<output>.partial` and says how many records that holds; the old output is untouched.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

try:  # a native encoder, 2-3x json's speed; where it is missing (a bare Spark executor) json does the same job
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

from serve.tagging import InputRecord, TagStats, checked, tag_batches
from vnzh_runtime.errors import UserError
from vnzh_runtime.jsonl import read_jsonl
from vnzh_runtime.predictor import Predictor

csv.field_size_limit(1 << 24)  # a long paragraph is not an error; the API caps length, the batch tagger needn't


def read_jsonl_records(handle: IO[bytes], name: str) -> Iterator[InputRecord]:
    for row in read_jsonl(handle, name):
        yield InputRecord(None, None, error=row.error) if row.error else checked(row.value, f"{name}:{row.line}")


def read_csv_records(handle: IO[bytes], name: str) -> Iterator[InputRecord]:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text, strict=True)
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise UserError(f"{name}:1: the CSV header has no 'text' column (found {reader.fieldnames}); add one")
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # e.g. an unclosed quote: report it instead of swallowing the rows after it
            yield InputRecord(None, None, error=f"{name}:{line}: CSV error ({err}); close the quote or escape it as \"\"")
            return
        if "\ufffd" in "".join(v for v in row.values() if isinstance(v, str)):
            yield InputRecord(row.get("id"), None, row.get("doc_id"), f"{name}:{line}: not UTF-8; re-save the file as UTF-8")
            continue
        yield checked({k: v for k, v in row.items() if k in ("id", "text", "doc_id") and v != ""} | {"text": row.get("text")},
                      f"{name}:{line}")


def read_article_records(handle: IO[bytes], name: str) -> Iterator[InputRecord]:
    """A raw article: every non-blank line is a paragraph of one document, id `<stem>:<line>`."""
    stem = Path(name).stem
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError as err:
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: not UTF-8 (byte {err.start}); re-save as UTF-8")
            continue
        if line:
            yield InputRecord(f"{stem}:{number}", line, stem)


READERS = {".jsonl": read_jsonl_records, ".json": read_jsonl_records, ".csv": read_csv_records}


def read_records(handle: IO[bytes], name: str) -> Iterator[InputRecord]:
    return READERS.get(Path(name).suffix.lower(), read_article_records)(handle, name)


def jsonl_line(row: dict) -> bytes:
    """One output line. orjson is the fast path; what it refuses (an integer id past 64 bits, a
    lone surrogate) goes through json, escaped where needed: the same JSON value either way."""
    if orjson is not None:
        try:
            return orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    try:
        return line.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(row, separators=(",", ":")).encode("ascii") + b"\n"


def jsonl_lines(rows: list[dict]) -> tuple[bytes, int, int]:
    """(the rows as UTF-8 JSON lines, how many rows, how many are errors): what a worker sends back for a JSONL output."""
    return b"".join([jsonl_line(row) for row in rows]), len(rows), sum("error" in row for row in rows)


class JsonlWriter:
    encode = staticmethod(jsonl_lines)

    def __init__(self, handle: IO[str], labels: list[str]):
        self.handle = handle

    def write(self, row: dict) -> None:
        self.handle.write(jsonl_line(row).decode("utf-8"))

    def write_encoded(self, lines: bytes) -> None:
        self.handle.flush()
        self.handle.buffer.write(lines)


class CsvWriter:
    encode = None  # rows come back as they are

    def __init__(self, handle: IO[str], labels: list[str]):
        self.writer = csv.writer(handle)
        self.writer.writerow(["id", "doc_id", "lang", "label", "labels", *(f"score_{label}" for label in labels), "error"])
        self.labels = labels

    def write(self, row: dict) -> None:
        scores = row.get("scores", {})
        cells = [row.get("id"), row.get("doc_id"), row.get("lang"), row.get("label"), "|".join(row.get("labels", [])),
                 *(scores.get(label, "") for label in self.labels), row.get("error", "")]
        self.writer.writerow(["" if c is None else str(c).encode("utf-8", "backslashreplace").decode("utf-8") for c in cells])


def check_paths(input_path: str, output_path: str) -> None:
    source, target = Path(input_path), Path(output_path)
    if source.resolve() == target.resolve() or (target.exists() and source.exists() and os.path.samefile(source, target)):
        raise UserError(f"{output_path}: the output is the input file; write the tags to another file")
    if target.is_dir():
        raise UserError(f"{output_path}: is a directory; name an output file, e.g. {target / 'tags.jsonl'}")
    if not target.parent.is_dir():
        raise UserError(f"{output_path}: the directory {target.parent} does not exist; create it first")


def tag_file(predictor: Predictor, input_path: str, output_path: str, batch_size: int = 512,
             progress: bool = True, workers: int = 1) -> TagStats:
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: forking worker processes while a thread runs can deadlock

    check_paths(input_path, output_path)
    try:
        source = open(input_path, "rb")
    except OSError as err:
        raise UserError(f"{input_path}: cannot read input ({err.strerror})") from None
    target = Path(output_path)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    stats = TagStats()
    try:
        with source, open(fd, "w", encoding="utf-8", newline="") as sink:
            writer = (CsvWriter if output_path.lower().endswith(".csv") else JsonlWriter)(sink, predictor.labels)
            batches = tag_batches(predictor, read_records(source, input_path), batch_size, workers, writer.encode)
            with tqdm(desc="tagging", unit=" para", file=sys.stderr, disable=not progress, mininterval=0.5) as bar:
                for batch in batches:
                    if writer.encode:
                        text, done, errors = batch
                        writer.write_encoded(text)
                    else:
                        for row in batch:
                            writer.write(row)
                        done, errors = len(batch), sum("error" in row for row in batch)
                    stats.records += done
                    stats.errors += errors
                    bar.update(done)
        os.replace(partial, target)
    except BaseException as err:
        if stats.records == 0:  # e.g. a CSV with no 'text' column: nothing to keep, and the error says why
            os.unlink(partial)
            raise
        kept = f"{output_path}.partial"
        os.replace(partial, kept)
        why = "interrupted" if isinstance(err, KeyboardInterrupt) else "stopped"
        print(f"{why}: {stats.records} records written to {kept}; {output_path} is untouched", file=sys.stderr)
        raise
    stats.tagged = stats.records - stats.errors
    return stats
