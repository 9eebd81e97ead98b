"""Checks of labelled records that neither JSON nor the schema makes: a field holding half a character
(`train.corpus` warns of it), and scored records that repeat another's text (training and `train.evaluate`
note them).

    >>> lone_surrogate({"id": "a", "text": "abc \\ud800"}, "f.jsonl:3")[:62]
    "f.jsonl:3: field 'text' holds a lone surrogate escape (\\\\ud800)"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vnzh_runtime.textnorm import normalize

if TYPE_CHECKING:
    from train.data import Record

_SURROGATE = re.compile("[\ud800-\udfff]")
LOGGED_FIELDS = ("id", "text", "source", "doc_id")  # the string fields MLflow's dataset log writes


def lone_surrogate(row: dict, where: str) -> str | None:
    """`train.corpus`'s warning for a field holding a lone surrogate escape ("\\ud800"): JSON lets one through,
    training and evaluation read it as written (MLflow's dataset log, as U+FFFD), but no writer meant it."""
    for key in LOGGED_FIELDS:
        value = row.get(key)
        found = _SURROGATE.search(value) if isinstance(value, str) else None
        if found:
            return (f"{where}: field '{key}' holds a lone surrogate escape (\\u{ord(found.group()):04x}), half of a "
                    "character (fix: remove it, or write the character itself)")
    return None


def whole_characters(value):
    """A string without lone surrogates (each a U+FFFD, as a decoder marks what it cannot read); else as it is."""
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def repeated_texts(records: list[Record], listed_by: str | None = "python -m train.corpus") -> str | None:
    """A note where scored records (dev, test) repeat another's text in their split under another id: each copy
    counts in the figures, as a repeated id would (which is refused). Kept, as real feeds repeat lines.

    >>> from train.data import Record
    >>> repeated_texts([Record("a", "vi", ("other",), "Xem thêm", "s", "test"), Record("b", "vi", ("other",), "xem thêm", "s", "test")])
    'note: 1 test record repeats the text of another (b, as a); each copy counts in the figures (python -m train.corpus lists them)'
    """
    first: dict[tuple[str, str], str] = {}
    repeats: dict[str, list[str]] = {}
    for record in records:
        if record.split in ("dev", "test"):
            key = (record.split, normalize(record.text, lowercase=True))
            if key in first:
                repeats.setdefault(record.split, []).append(f"{record.id}, as {first[key]}")
            first.setdefault(key, record.id)
    if not repeats:
        return None
    counts = " and ".join(f"{len(ids)} {split} record{'s' if len(ids) > 1 else ''}" for split, ids in repeats.items())
    example = next(iter(repeats.values()))[0]
    verb = "repeats" if sum(map(len, repeats.values())) == 1 else "repeat"
    listed = f" ({listed_by} lists them)" if listed_by else ""
    return f"note: {counts} {verb} the text of another ({example}); each copy counts in the figures{listed}"
