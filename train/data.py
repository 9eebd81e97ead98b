"""Corpus records: one JSON object per line, as ../shared/LABELS.md defines them.

    {"id": "vi-a-0001", "lang": "vi", "labels": ["economy", "border_sea"],
     "text": "...", "source": "authored", "split": "train"}

`parse_record` checks one line and raises `DataError` naming the file, the line and
the fix; `load_records` reads the config's globs and stops at the first bad line,
which is what training wants (the corpus check in `train.corpus` collects them all).
The split is a field of each record, so adding data never reshuffles old records.
"""

from __future__ import annotations

import glob
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from train.config import LABELS
from train.errors import UserError
from train.langid import LANGS

SPLITS = ("train", "dev", "test")
REQUIRED = ("id", "lang", "labels", "text", "source", "split")


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
        return json.dumps(row, ensure_ascii=False)


def parse_record(line: str, where: str) -> Record:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataError(f"{where}: not valid JSON ({err.msg} at column {err.colno}); fix the line or remove it")
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [key for key in REQUIRED if key not in row]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}; every record needs {', '.join(REQUIRED)}")
    for key in ("id", "text", "source"):
        if not isinstance(row[key], str) or not row[key].strip():
            raise DataError(f"{where}: field '{key}' must be a non-empty string")
    if row["lang"] not in LANGS:
        raise DataError(f"{where}: lang {row['lang']!r} is not one of {', '.join(LANGS)}")
    if row["split"] not in SPLITS:
        raise DataError(f"{where}: split {row['split']!r} is not one of {', '.join(SPLITS)}")
    labels = row["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise DataError(f"{where}: labels must be a non-empty list of strings, dominant topic first")
    unknown = [x for x in labels if x not in LABELS]
    if unknown:
        raise DataError(f"{where}: unknown label(s) {unknown}; use {', '.join(LABELS)} (see LABELS.md)")
    if len(set(labels)) != len(labels):
        raise DataError(f"{where}: a label is repeated in {labels}")
    if "other" in labels and len(labels) > 1:
        raise DataError(f"{where}: 'other' always stands alone, got {labels}")
    if row["source"].startswith("seed:") and row["split"] != "test":
        raise DataError(f"{where}: seed paragraphs are real text kept for testing; set split to 'test'")
    return Record(row["id"], row["lang"], tuple(labels), row["text"], row["source"], row["split"])


def iter_file(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def resolve_files(patterns: list[str]) -> list[Path]:
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise DataError(f"data.files: {pattern!r} matches no file (run from the project root or give an absolute path)")
        files.extend(Path(m) for m in matches if Path(m) not in files)
    return files


def load_records(patterns: list[str]) -> list[Record]:
    records: list[Record] = []
    seen: dict[str, str] = {}
    for path in resolve_files(patterns):
        for number, line in iter_file(path):
            where = f"{path}:{number}"
            record = parse_record(line, where)
            if record.id in seen:
                raise DataError(f"{where}: id {record.id!r} already used at {seen[record.id]}; ids must be unique")
            seen[record.id] = where
            records.append(record)
    return records


def by_split(records: list[Record], labels: list[str]) -> dict[str, list[Record]]:
    """Records per split, keeping only those whose dominant label the config trains on."""
    kept = [r for r in records if r.label in labels]
    return {split: [r for r in kept if r.split == split] for split in SPLITS}
