"""`train.evaluate --predictions FILE`: each evaluated record with the label the tables scored it by,
so that a user who labelled a sample sees which paragraphs the model gets wrong, not only how many.

One JSON line per evaluated record, in the order read (train records are left out, as in the tables):

    {"id": "mine.jsonl:3", "doc_id": "a1", "split": "test", "lang": "vi", "labels": ["economy"], "label": "other",
     "right": false, "scores": {"economy": 0.41, ..., "other": 0.52}, "text": "..."}

`label` is the top score with the article's context, exactly what the tables count (no abstention
threshold); `labels` is the sample's, as scored. The file must be new: it is checked, and a
scratch file beside it created, before any work; the scratch file is linked to the name once
whole (a file that appeared there meanwhile is left alone) and removed if the run stops.

    with PredictionsFile("scored.jsonl") as out:    # one line, before any work, where it cannot be
        wrong = out.write(records, probs, labels)
"""

from __future__ import annotations

import os
import tempfile
from itertools import repeat
from pathlib import Path

import numpy as np

from train.data import Record, doc_id_as_written
from vnzh_runtime.errors import UserError
from vnzh_runtime.folders import SCRATCH_NAME_EXTRA, name_max, rename_no_clobber
from vnzh_runtime.jsonl import jsonl_line
from vnzh_runtime.permissions import umask_mode
from vnzh_runtime.predictor import shown_scores

FLAG = "--predictions"
SCRATCH_SUFFIX = ".partial"  # .<name>.<8 random characters>.partial beside the target until it is whole


def check_target(path: str) -> Path:
    """The target, refused in one line: standard output (the tables go there), an existing name, a
    missing folder, or a name that promises another format."""
    if path in ("", "-", "/dev/stdout"):
        raise UserError(f"{FLAG} {path!r}: name a new .jsonl file (the tables are printed on standard output)")
    target = Path(path).expanduser()
    if path.endswith(("/", os.sep)):  # Path() would drop the slash and write a file of the folder's name
        raise UserError(f"{FLAG} {path}: names a folder; name a file, e.g. {path}scored.jsonl")
    if os.path.lexists(target):
        raise UserError(f"{FLAG} {path}: already exists, and evaluation replaces nothing "
                        "(fix: another name, or move the old file away)")
    if not target.parent.is_dir():
        raise UserError(f"{FLAG} {path}: no folder {target.parent} (fix: create it, or name a file in an existing one)")
    longest = name_max(target.parent) - SCRATCH_NAME_EXTRA  # the scratch file's name must fit
    if len(os.fsencode(target.name)) > longest:
        raise UserError(f"{FLAG} {path}: a name of more than {longest} bytes is too long here (fix: a shorter name)")
    if target.suffix.lower() not in (".jsonl", ".ndjson", ""):
        raise UserError(f"{FLAG} {path}: written as JSON Lines, one record per line (fix: name it "
                        f"{target.name.split('.')[0] or target.name}.jsonl)")  # x.jsonl.gz: x.jsonl
    return target


def prediction_row(record: Record, scores, labels: list[str], label_set: list[str] | None = None) -> dict:
    """One record's line: what it is, its labels, the model's, whether they agree, and the scores.

    >>> prediction_row(Record("r1", "en", ("economy",), "Trade rose.", "user", "test"), [0.7, 0.3], ["economy", "other"])
    {'id': 'r1', 'split': 'test', 'lang': 'en', 'labels': ['economy'], 'label': 'economy', 'right': True, 'scores': {'economy': 0.7, 'other': 0.3}, 'text': 'Trade rose.'}
    """
    scores = [float(p) for p in scores]
    predicted = labels[max(range(len(labels)), key=scores.__getitem__)]  # before rounding: as the tables count
    row = {"id": record.id}
    if record.doc_id is not None:
        row["doc_id"] = doc_id_as_written(record)
    row |= {"split": record.split, "lang": record.lang, "labels": list(record.labels), "label": predicted,
            "right": predicted == record.label}
    if label_set is not None:  # a multi-label model's set, as its set table counts it
        row |= {"predicted_labels": label_set, "set_right": set(label_set) == set(record.labels)}
    return row | {"scores": dict(zip(labels, shown_scores(np.array([scores]))[0].tolist())), "text": record.text}


class PredictionsFile:
    def __init__(self, path: str):
        self.target = check_target(path)
        try:  # now, not after the evaluation: a folder this user cannot write in is one line before any work
            fd, self.scratch = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=SCRATCH_SUFFIX,
                                                dir=self.target.parent)
        except OSError as err:
            raise UserError(f"{FLAG} {path}: cannot write in {self.target.parent} ({err.strerror}); "
                            "name a file elsewhere") from None
        os.close(fd)
        os.chmod(self.scratch, umask_mode(0o666))  # mkstemp's 0600 is not what the user's files get

    def __enter__(self) -> "PredictionsFile":
        return self

    def __exit__(self, *exc) -> None:
        if os.path.lexists(self.scratch):  # stopped before it was whole, or a name clash already said
            os.unlink(self.scratch)

    def write(self, records: list[Record], probs, labels: list[str], label_sets: list | None = None) -> int:
        """Write every record (with its predicted label set, for a multi-label model) and put the file in
        place; how many records are wrong."""
        wrong = 0
        try:
            with open(self.scratch, "wb") as handle:
                for record, scores, label_set in zip(records, probs, label_sets or repeat(None)):
                    row = prediction_row(record, scores, labels, label_set)
                    wrong += not row["right"]
                    handle.write(jsonl_line(row))
            if not rename_no_clobber(self.scratch, str(self.target)):
                raise FileExistsError(self.target)
        except FileExistsError:
            raise UserError(f"{FLAG} {self.target}: a file of that name appeared during the evaluation and is left "
                            "as it is; the tables above stand (fix: run again with another name)") from None
        except OSError as err:  # a full disk, a quota
            raise UserError(f"{FLAG} {self.target}: cannot write it ({err.strerror}); the tables above stand "
                            "(fix: free space, or name a file elsewhere)") from None
        return wrong
