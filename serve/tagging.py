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
import json
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from serve.workers import OrderedWorkers, start_method
from vnzh_runtime.context import DocumentHeads, document_key, following_in_run
from vnzh_runtime.markup import is_blank
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
    """An id that JSON can carry as it is, else its string form: NaN and Infinity as Python spells them,
    an object or a list as compact JSON text (`{"a": 1}` -> '{"a":1}'), which reads back with json.loads."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return str(value)


def no_text(row: dict) -> str:
    """The error of an object with no `text` key, naming the key that may hold the paragraph."""
    keys = [key for key in row if isinstance(key, str)]
    near = next((key for key in keys if key.strip().lower() in ("text", "content", "body", "paragraph")), None)
    if near is not None:
        why = ", as JSON keys are case-sensitive" if near.strip().lower() == "text" else ""
        return f"no 'text' field (it has {near!r}: rename it 'text'{why})"
    shown = ", ".join(repr(key[:30]) for key in keys[:6]) or "none"
    return f"no 'text' field (its fields: {shown}); put the paragraph in 'text'"


def checked(row, where: str) -> InputRecord:
    if not isinstance(row, dict):
        return InputRecord(None, None, error=f"{where}: expected an object like {{\"text\": \"...\"}}")
    record_id, doc_id, text = plain_id(row.get("id")), plain_id(row.get("doc_id")), row.get("text")
    if text is None:
        return InputRecord(record_id, None, doc_id, f"{where}: " + ("'text' is null" if "text" in row else no_text(row)))
    if not isinstance(text, str):
        return InputRecord(record_id, None, doc_id, f"{where}: 'text' must be a string, got {type(text).__name__}")
    if is_blank(text):
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
        if full and (record.doc_id is None or document_key(record.doc_id) != document_key(batch[-1].doc_id)
                     or len(batch) >= 4 * batch_size):
            yield batch
            batch = []
        batch.append(record)
    if batch:
        yield batch


def tag_batch(predictor: Predictor, batch: list[InputRecord], contexts: list[str] | None,
              following: list[str | None] | None = None) -> list[dict]:
    good = [i for i, r in enumerate(batch) if r.error is None]
    own = [contexts[i] for i in good] if contexts is not None else None
    own_following = [following[i] for i in good] if following is not None else None
    results = iter(predictor.predict([batch[i].text for i in good], contexts=own, following=own_following))
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


def _tag_in_worker(job: tuple[tuple[list, ...], list[str] | None, list[str | None] | None, Callable | None]):
    columns, contexts, following, encode = job
    rows = tag_batch(_WORKER_PREDICTOR, list(map(InputRecord, *columns)), contexts, following)
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


MAX_HELD = 100_000  # records held at most for a late head or a next paragraph (pathological inputs only)


def with_contexts(predictor: Predictor, batches: Iterable[list[InputRecord]]):
    """(batch, contexts, following) for each batch, in order: each paragraph read with its document's
    head and the next paragraph of its document, as the predictor reads a whole file whose
    documents' records are consecutive.

    A batch is held until what it needs has been read: a taggable record after its last one (the
    next paragraph; batches of error records only wait behind it) and, for the document being read,
    its head (its first `head` substantive paragraphs) or its end. A streamed document is a run of
    consecutive records (`DocumentHeads`: a doc_id that comes back after other records starts
    another), so the results are the same for any batch size, however the batches were cut (up to
    MAX_HELD held records), and only the heads of runs not yet released are kept."""
    if not predictor.context_head:
        yield from ((batch, None, None) for batch in batches)
        return
    heads = DocumentHeads(predictor.context_head)
    held: list[tuple[list[InputRecord], list[int | None]]] = []  # each held batch with its records' runs
    count = 0  # records held
    last_taggable = -1  # the held batch with the last taggable record
    current, current_start = None, 0  # the run of the last taggable record, and the held batch it began in
    for batch in batches:
        runs = record_runs(heads, batch)
        held.append((batch, runs))
        count += len(batch)
        taggable = [run for record, run in zip(batch, runs) if record.error is None]
        if taggable:
            last_taggable = len(held) - 1
            if taggable[-1] != current:
                current, current_start = taggable[-1], len(held) - 1
        ready = max(last_taggable, 0)
        if not heads.complete(current):
            ready = min(ready, current_start)
        if count > MAX_HELD:
            ready = len(held)
        yield from release(heads, held[:ready], (batch for batch, _ in held[ready:]))
        count -= sum(len(batch) for batch, _ in held[:ready])
        held = held[ready:]
        last_taggable, current_start = max(last_taggable - ready, -1), max(current_start - ready, 0)
        if ready:  # runs only grow along the stream: the first held one is the oldest still needed
            heads.forget(next((run for _, runs in held for run in runs if run is not None), heads.runs - 1))
    yield from release(heads, held, [])


def record_runs(heads: DocumentHeads, batch: list[InputRecord]) -> list[int | None]:
    """The document run of each record of a batch (None for an error record or one without a document)."""
    good = [i for i, r in enumerate(batch) if r.error is None]
    runs: list[int | None] = [None] * len(batch)
    for i, run in zip(good, heads.add([batch[i].text for i in good], [batch[i].doc_id for i in good])):
        runs[i] = run
    return runs


def release(heads: DocumentHeads, batches: list[tuple[list[InputRecord], list[int | None]]],
            rest: Iterable[list[InputRecord]]):
    """The batches with their contexts and next paragraphs (the last one's looked up in `rest`)."""
    if not batches:
        return
    records = [r for batch, _ in batches for r in batch]
    nexts = following_paragraphs(records, (r for batch in rest for r in batch))  # read up to its first taggable one
    start = 0
    for batch, runs in batches:
        contexts = batch_contexts(heads, batch, runs)
        yield batch, contexts, nexts[start:start + len(batch)] if contexts else None
        start += len(batch)


def batch_contexts(heads: DocumentHeads, batch: list[InputRecord], runs: list[int | None]) -> list[str] | None:
    if all(r.doc_id is None for r in batch):
        return None
    return [heads.context(r.text, run) if r.error is None else "" for r, run in zip(batch, runs)]


def following_paragraphs(batch: list[InputRecord], after: Iterable[InputRecord]) -> list[str | None]:
    """Each record's next taggable record's text when it is of the same document (None otherwise)."""
    good = [i for i, r in enumerate(batch) if r.error is None]
    nexts = [batch[i] for i in good] + next(([r] for r in after if r.error is None), [])
    texts = following_in_run([r.text for r in nexts], [r.doc_id for r in nexts])
    out: list[str | None] = [None] * len(batch)
    for i, text in zip(good, texts):
        out[i] = text
    return out


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
        for batch, contexts, following in jobs:
            rows = tag_batch(predictor, batch, contexts, following)
            yield encode(rows) if encode else rows
        return
    with worker_processes(predictor, workers) as pool:
        yield from pool.imap((pack(batch), contexts, following, encode)  # in order, streamed
                             for batch, contexts, following in jobs)
