"""Files in and out of `serve tag`: the input read by `serve.readers` (one reader per format), one
writer per output format, and an output that replaces its target only when the run completes.

    >>> stats = tag_file(predictor, "in.jsonl", "out.jsonl")   # out.jsonl appears whole, or not at all

Every input record gives exactly one output record, whatever is in it: a line that is not
UTF-8, not JSON, or JSON this reader refuses becomes an error record; ids JSON can't carry
(NaN, Infinity) are kept as strings. An interrupted run keeps what it wrote as
`<output>.partial` and says how many records that holds; the old output is untouched.
"""

from __future__ import annotations

import csv
import glob
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import IO

from serve.output import OUT_OF_SPACE, StreamOutput, check_paths, is_stream
from serve.partial import csv_delimiter, file_identity, keep_partial, move_into_place, open_partial
from serve.readers import STDIN, no_records, read_records
from serve.tagging import TagStats, tag_batches
from vnzh_runtime.errors import UserError
from vnzh_runtime.folders import few
from vnzh_runtime.jsonl import jsonl_line
from vnzh_runtime.predictor import Predictor


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

    def __init__(self, handle: IO[str], labels: list[str], delimiter: str = ",", label_scores: bool = False):
        """`label_scores`: a multi-label model's independent scores too (`label_score_*`), the ones its
        thresholds are read against; `score_*` are the dominant label's softmax."""
        self.writer = csv.writer(handle, delimiter=delimiter)
        independent = [f"label_score_{label}" for label in labels] if label_scores else []
        self.writer.writerow(["id", "doc_id", "lang", "label", "labels", *(f"score_{label}" for label in labels),
                              *independent, "error"])
        self.labels, self.label_scores = labels, label_scores

    def write(self, row: dict) -> None:
        kinds = ("scores", "label_scores") if self.label_scores else ("scores",)
        cells = [row.get("id"), row.get("doc_id"), row.get("lang"), row.get("label"), "|".join(row.get("labels", [])),
                 *(row.get(kind, {}).get(label, "") for kind in kinds for label in self.labels), row.get("error", "")]
        self.writer.writerow([csv_cell(c) for c in cells])


def output_writer(output_path: str, sink: IO[str], labels: list[str], label_scores: bool = False):
    """A `.csv` output's CSV writer, a `.tsv` one's with tabs, any other's JSON Lines."""
    delimiter = csv_delimiter(output_path)
    return JsonlWriter(sink, labels) if delimiter is None else CsvWriter(sink, labels, delimiter, label_scores)


def csv_cell(value) -> str:
    """A CSV cell: JSON's spelling of true and false (an id may be a JSON boolean), any text as UTF-8."""
    if value is None:
        return ""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def tag_file(predictor: Predictor, input_path: str, output_path: str, batch_size: int = 512,
             progress: bool = True, workers: int = 1, overwrite: bool = False) -> TagStats:
    """Tag a file into `output_path`, which appears whole or not at all ("-": standard output, JSONL);
    an existing output file is replaced only with `overwrite`."""
    check_paths(input_path, output_path, overwrite)
    try:  # standard input stays open for the caller
        source = nullcontext(sys.stdin.buffer) if input_path == STDIN else open(input_path, "rb")
    except OSError as err:
        raise UserError(f"{input_path}: cannot read input ({err.strerror})") from None
    stats = TagStats()
    with source as lines:
        if is_stream(output_path):
            with StreamOutput(output_path, stats) as sink:
                write_tags(predictor, lines, input_path, sink, output_path, stats, batch_size, progress, workers)
            return stats
        target = Path(output_path).resolve()  # through a symlink to the file it names, which is replaced
        shown = str(target) if Path(output_path).is_symlink() else output_path  # the .partial goes beside the file
        note_leftovers(target, shown)
        replaces = file_identity(target) if overwrite else None  # what --overwrite may replace: what is there now
        fd, partial = open_partial(target)
        try:
            with open(fd, "w", encoding="utf-8", newline="") as sink:
                write_tags(predictor, lines, input_path, sink, output_path, stats, batch_size, progress, workers)
        except BaseException as err:
            keep_partial(partial, shown, err)
            if isinstance(err, OSError) and err.errno in OUT_OF_SPACE:  # what the user fixes, not a bug: one line
                raise UserError(f"{shown}: cannot write ({err.strerror}); free space, or choose another output, "
                                "and run again") from None
            raise
        move_into_place(partial, target, shown, replaces)
    return stats


def note_leftovers(target: Path, shown: str) -> None:
    """Name the hidden partial files of earlier runs to this output: a run killed outright (SIGKILL, the
    OOM killer, a power cut) cannot set its records aside or say where they are. Named, not removed."""
    found = sorted(p.name for p in target.parent.glob(f".{glob.escape(target.name)}.*.partial") if p.is_file())
    if found:
        verb = "holds" if len(found) == 1 else "hold"
        print(f"note: {few(found)} beside {shown} {verb} the records of a run to it that was killed before it could "
              "keep them (or of one still running); look at them, then delete them", file=sys.stderr)


def write_tags(predictor: Predictor, source: IO[bytes], input_path: str, sink: IO[str], output_path: str,
               stats: TagStats, batch_size: int, progress: bool, workers: int) -> None:
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: forking worker processes while a thread runs can deadlock
    writer = output_writer(output_path, sink, predictor.labels, predictor.multilabel)
    batches = tag_batches(predictor, read_records(source, input_path), batch_size, workers, writer.encode)
    bar = None  # made at the first batch: a file refused at its first lines gets its one error line alone
    try:
        for batch in batches:
            if bar is None:
                bar = tqdm(desc="tagging", unit=" para", file=sys.stderr, disable=not progress, mininterval=0.5)
            if writer.encode:
                text, done, errors = batch
            else:
                done, errors = len(batch), sum("error" in row for row in batch)
            stats.records += done  # counted first: a reader that closes the stream does so mid-write
            stats.errors += errors
            if writer.encode:
                writer.write_encoded(text)
            else:
                for row in batch:
                    writer.write(row)
            bar.update(done)
    finally:
        if bar is not None:
            bar.close()
    # a file of no records is a failed download or save, not a silent success (the API answers 422 alike); a
    # pipe may carry none (a filter upstream that matched nothing): "tagged 0 of 0 records"
    if stats.records == 0 and input_path != STDIN:
        raise UserError(no_records(input_path))
    stats.tagged = stats.records - stats.errors
