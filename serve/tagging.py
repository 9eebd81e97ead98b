"""Batch tagging: a file of paragraphs in, one tagged record per input record out, in order.

Inputs, by file name:
  *.jsonl / *.json / *.ndjson   one JSON object per line with `text` (and optional `id`, `doc_id`, kept)
  *.csv              a `text` column (and optional `id`, `doc_id`)
  anything else      a raw article: every non-blank line is a paragraph of one document

    >>> tag_file(predictor, "articles.jsonl", "tags.jsonl")
    TagStats(records=1200, tagged=1198, errors=2)

Paragraphs that share a `doc_id` (or the lines of a raw article) are read with their
article's head (`vnzh_runtime.context`). A record that cannot be tagged gets an `error`
field and the rest go on. Input is streamed in batches (a batch runs on to the end of its
current document), so memory stays flat; `workers` > 1 tags batches in forked processes,
still writing results in input order.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from serve.workers import OrderedWorkers, start_method
from vnzh_runtime.context import DocumentHeads
from vnzh_runtime.predictor import Predictor


@dataclass
class InputRecord:
    id: object
    text: str | None
    doc_id: object = None
    error: str | None = None


@dataclass
class TagStats:
    records: int = 0
    tagged: int = 0
    errors: int = 0


def plain_id(value):
    """An id that JSON can carry as it is, else its string form (NaN, Infinity, nested values)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def checked(row, where: str) -> InputRecord:
    if not isinstance(row, dict):
        return InputRecord(None, None, error=f"{where}: expected an object like {{\"text\": \"...\"}}")
    record_id, doc_id, text = plain_id(row.get("id")), plain_id(row.get("doc_id")), row.get("text")
    if text is None:
        return InputRecord(record_id, None, doc_id, f"{where}: no 'text' field")
    if not isinstance(text, str):
        return InputRecord(record_id, None, doc_id, f"{where}: 'text' must be a string, got {type(text).__name__}")
    if not text.strip():
        return InputRecord(record_id, None, doc_id, f"{where}: 'text' is empty")
    return InputRecord(record_id, text, doc_id)


def with_threshold(predictor: Predictor, threshold) -> Predictor:
    """The predictor, or for one request's threshold a shallow copy abstaining there (the model is shared)."""
    if threshold is None:
        return predictor
    view = copy.copy(predictor)
    view.threshold = predictor.resolve_threshold(threshold)
    return view


def document_batches(records: Iterable[InputRecord], batch_size: int) -> Iterator[list[InputRecord]]:
    """Batches of about `batch_size`, each run on to the end of its last document (up to 4x)."""
    batch: list[InputRecord] = []
    for record in records:
        full = len(batch) >= batch_size
        if full and (record.doc_id is None or record.doc_id != batch[-1].doc_id or len(batch) >= 4 * batch_size):
            yield batch
            batch = []
        batch.append(record)
    if batch:
        yield batch


def tag_batch(predictor: Predictor, batch: list[InputRecord], contexts: list[str] | None) -> list[dict]:
    good = [i for i, r in enumerate(batch) if r.error is None]
    own = [contexts[i] for i in good] if contexts is not None else None
    results = iter(predictor.predict([batch[i].text for i in good], contexts=own))
    rows = []
    for record in batch:
        row = {"id": record.id} | ({"doc_id": record.doc_id} if record.doc_id is not None else {})
        rows.append(row | (next(results) if record.error is None else {"error": record.error}))
    return rows


# The predictor that forked workers inherit (copy-on-write), so it is never pickled per batch.
_WORKER_PREDICTOR: Predictor | None = None


def pack(batch: list[InputRecord]) -> tuple[list, ...]:
    """A batch as four columns: pickled to a worker at a third of the cost of the records."""
    return [r.id for r in batch], [r.text for r in batch], [r.doc_id for r in batch], [r.error for r in batch]


def _tag_in_worker(job: tuple[tuple[list, ...], list[str] | None, Callable | None]):
    columns, contexts, encode = job
    rows = tag_batch(_WORKER_PREDICTOR, list(map(InputRecord, *columns)), contexts)
    return encode(rows) if encode else rows


def _set_worker_predictor(predictor: Predictor | None) -> None:
    """Worker set-up: a forked worker has the model already; a spawned one gets it once here."""
    global _WORKER_PREDICTOR
    if predictor is not None:
        _WORKER_PREDICTOR = predictor


def worker_processes(predictor: Predictor, workers: int) -> OrderedWorkers:
    method = start_method()
    if method == "fork":  # the children inherit the loaded model (copy-on-write): nothing pickled
        global _WORKER_PREDICTOR
        _WORKER_PREDICTOR = predictor
    return OrderedWorkers(workers, _tag_in_worker, _set_worker_predictor, None if method == "fork" else predictor, method)


def with_contexts(predictor: Predictor, batches: Iterable[list[InputRecord]]):
    """(batch, contexts) with each document's head remembered across batches."""
    heads = DocumentHeads(predictor.context_head)
    for batch in batches:
        if not predictor.context_head or all(r.doc_id is None for r in batch):
            yield batch, None
            continue
        good = [r for r in batch if r.error is None]
        heads.add([r.text for r in good], [r.doc_id for r in good])
        yield batch, [heads.context(r.text, r.doc_id) if r.error is None else "" for r in batch]


def tag_records(predictor: Predictor, records: Iterable[InputRecord], batch_size: int = 512,
                workers: int = 1) -> Iterator[dict]:
    """Tagged rows in input order; with workers > 1, batches are tagged in worker processes."""
    for rows in tag_batches(predictor, records, batch_size, workers):
        yield from rows


def tag_batches(predictor: Predictor, records: Iterable[InputRecord], batch_size: int = 512, workers: int = 1,
                encode: Callable[[list[dict]], object] | None = None) -> Iterator:
    """Each batch's tagged rows in input order, or `encode(rows)` (run in the worker: e.g. the output
    lines, so neither the rows nor their encoding cost the parent process anything)."""
    jobs = with_contexts(predictor, document_batches(records, batch_size))
    if workers <= 1:
        for batch, contexts in jobs:
            rows = tag_batch(predictor, batch, contexts)
            yield encode(rows) if encode else rows
        return
    with worker_processes(predictor, workers) as pool:
        yield from pool.imap((pack(batch), contexts, encode) for batch, contexts in jobs)  # in order, streamed
