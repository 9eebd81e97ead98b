"""`train.evaluate --predictions FILE`: each evaluated record with the label the tables scored it by,
so that a user who labelled a sample sees which paragraphs the model gets wrong, not only how many.

One JSON line per evaluated record, in the order read (train records are left out, as in the tables):

    {"id": "mine.jsonl:3", "doc_id": "a1", "lang": "vi", "labels": ["economy"], "label": "other",
     "right": false, "scores": {"economy": 0.41, ..., "other": 0.52}, "text": "..."}

`label` is the top score with the article's context, exactly what the tables count (no abstention
threshold); `labels` is the sample's own, dominant topic first. The file must not exist yet: it
is written beside its name and renamed into place when whole (nothing of the user's is replaced).

    >>> prediction_row(Record("r1", "en", ("economy",), "Trade rose.", "user", "test"), [0.7, 0.3], ["economy", "other"])
    {'id': 'r1', 'lang': 'en', 'labels': ['economy'], 'label': 'economy', 'right': True, 'scores': {'economy': 0.7, 'other': 0.3}, 'text': 'Trade rose.'}
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from train.data import Record, doc_id_as_written
from vnzh_runtime.errors import UserError

FLAG = "--predictions"


def check_predictions_path(path: str) -> Path:
    """The target, refused in one line before any work: standard output (the tables go there), an existing
    file, a missing folder, or a name that promises another format."""
    if path in ("-", "/dev/stdout"):
        raise UserError(f"{FLAG} {path}: the tables are printed on standard output; name a .jsonl file")
    target = Path(path).expanduser()
    if os.path.lexists(target):
        raise UserError(f"{FLAG} {path}: already exists, and evaluation replaces nothing (fix: another name, or "
                        "move the old file away)")
    if not target.parent.is_dir():
        raise UserError(f"{FLAG} {path}: no folder {target.parent} (fix: create it, or name a file in an existing one)")
    if target.suffix.lower() not in (".jsonl", ".ndjson", ".json", ""):
        raise UserError(f"{FLAG} {path}: written as JSON Lines, one record per line (fix: name it "
                        f"{target.with_suffix('.jsonl').name})")
    return target


def prediction_row(record: Record, scores, labels: list[str]) -> dict:
    scores = [float(p) for p in scores]
    predicted = labels[max(range(len(labels)), key=scores.__getitem__)]  # before rounding: as the tables count
    row = {"id": record.id}
    if record.doc_id is not None:
        row["doc_id"] = doc_id_as_written(record)
    return row | {"lang": record.lang, "labels": list(record.labels), "label": predicted,
                  "right": predicted == record.label, "scores": {label: round(p, 4) for label, p in zip(labels, scores)}, "text": record.text}


def write_predictions(target: Path, records: list[Record], probs, labels: list[str]) -> int:
    """Write the file; how many records are wrong."""
    from serve.partial import move_into_place, open_partial

    fd, partial, wrong = *open_partial(target), 0
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as handle:
            for record, scores in zip(records, probs):
                row = prediction_row(record, scores, labels)
                wrong += not row["right"]
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    except BaseException as err:
        os.unlink(partial)  # the tables are printed: a half file would only pass for the whole
        if isinstance(err, OSError):  # a full disk, a quota
            raise UserError(f"{FLAG} {target}: cannot write it ({err.strerror}); the tables above stand "
                            "(fix: free space, or name a file elsewhere)") from None
        raise
    move_into_place(partial, target, str(target), replaces=None)  # never over a file that appeared meanwhile
    return wrong
