"""Batch tagging: a file of paragraphs in, one tagged record per input record out, in order.

Inputs, by file name:
  *.jsonl / *.json   one JSON object per line with `text` (and optional `id`, kept)
  *.csv              a `text` column (and optional `id`)
  anything else      a raw article; every non-blank line is a paragraph

    >>> tag_file(predictor, "articles.jsonl", "tags.jsonl")
    TagStats(records=1200, tagged=1198, errors=2)

A record that cannot be tagged (bad JSON, no text, text not a string) gets an
`error` field and the rest go on. The file is streamed in batches, so memory stays
flat on large inputs; `workers` > 1 tags batches in forked processes (one per core),
still writing results in input order.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import sys
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Iterable, Iterator

from serve.article import split_paragraphs
from train.errors import UserError
from train.predictor import Predictor


@dataclass
class InputRecord:
    id: object
    text: str | None
    error: str | None = None


@dataclass
class TagStats:
    records: int = 0
    tagged: int = 0
    errors: int = 0


def read_jsonl(handle: IO[str], name: str) -> Iterator[InputRecord]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            yield InputRecord(None, None, f"{name}:{number}: not valid JSON ({err.msg}); fix the line")
            continue
        if not isinstance(row, dict):
            yield InputRecord(None, None, f"{name}:{number}: expected an object like {{\"text\": \"...\"}}")
            continue
        yield checked(row.get("id"), row.get("text"), f"{name}:{number}")


def read_csv(handle: IO[str], name: str) -> Iterator[InputRecord]:
    reader = csv.DictReader(handle)
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise UserError(f"{name}:1: the CSV header has no 'text' column (found {reader.fieldnames}); add one")
    for row in reader:
        yield checked(row.get("id"), row.get("text"), f"{name}:{reader.line_num}")


def read_article(handle: IO[str], name: str) -> Iterator[InputRecord]:
    for number, paragraph in split_paragraphs(handle.read()):
        yield InputRecord(f"{Path(name).stem}:{number}", paragraph)


def checked(record_id, text, where: str) -> InputRecord:
    if text is None:
        return InputRecord(record_id, None, f"{where}: no 'text' field")
    if not isinstance(text, str):
        return InputRecord(record_id, None, f"{where}: 'text' must be a string, got {type(text).__name__}")
    if not text.strip():
        return InputRecord(record_id, None, f"{where}: 'text' is empty")
    return InputRecord(record_id, text)


def read_records(handle: IO[str], name: str) -> Iterator[InputRecord]:
    suffix = Path(name).suffix.lower()
    reader = {".jsonl": read_jsonl, ".json": read_jsonl, ".csv": read_csv}.get(suffix, read_article)
    return reader(handle, name)


def tag_batch(predictor: Predictor, batch: list[InputRecord]) -> list[dict]:
    results = iter(predictor.predict([r.text for r in batch if r.error is None]))
    return [{"id": r.id, **next(results)} if r.error is None else {"id": r.id, "error": r.error} for r in batch]


# The predictor that forked workers inherit (copy-on-write), so it is never pickled per batch.
_WORKER_PREDICTOR: Predictor | None = None


def _tag_in_worker(batch: list[InputRecord]) -> list[dict]:
    return tag_batch(_WORKER_PREDICTOR, batch)


def tag_records(predictor: Predictor, records: Iterable[InputRecord], batch_size: int = 512,
                workers: int = 1) -> Iterator[dict]:
    """Tagged rows in input order; with workers > 1, batches are tagged in forked processes."""
    records = iter(records)
    batches = iter(lambda: list(islice(records, batch_size)), [])
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for batch in batches:
            yield from tag_batch(predictor, batch)
        return
    global _WORKER_PREDICTOR
    _WORKER_PREDICTOR = predictor
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for rows in pool.imap(_tag_in_worker, batches):  # imap keeps order and streams
            yield from rows


class CsvWriter:
    def __init__(self, handle: IO[str], labels: list[str]):
        self.writer = csv.writer(handle)
        self.writer.writerow(["id", "lang", "label", *(f"score_{label}" for label in labels), "error"])
        self.labels = labels

    def write(self, row: dict) -> None:
        scores = row.get("scores", {})
        self.writer.writerow([row.get("id"), row.get("lang"), row.get("label"),
                              *(scores.get(label, "") for label in self.labels), row.get("error", "")])


class JsonlWriter:
    def __init__(self, handle: IO[str]):
        self.handle = handle

    def write(self, row: dict) -> None:
        self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def tag_file(predictor: Predictor, input_path: str, output_path: str, batch_size: int = 512,
             progress: bool = True, workers: int = 1) -> TagStats:
    from tqdm import tqdm

    stats = TagStats()
    try:
        source = open(input_path, encoding="utf-8", newline="")
    except OSError as err:
        raise UserError(f"{input_path}: cannot read input ({err.strerror})")
    with source, open(output_path, "w", encoding="utf-8", newline="") as sink:
        writer = CsvWriter(sink, predictor.labels) if output_path.lower().endswith(".csv") else JsonlWriter(sink)
        try:
            rows = tag_records(predictor, read_records(source, input_path), batch_size, workers)
            for row in tqdm(rows, desc="tagging", unit=" para", file=sys.stderr, disable=not progress, mininterval=0.5):
                writer.write(row)
                stats.records += 1
                stats.errors += "error" in row
        except UnicodeDecodeError as err:
            raise UserError(f"{input_path}: not UTF-8 text (byte {err.start}); convert it with iconv -t UTF-8")
    stats.tagged = stats.records - stats.errors
    return stats
