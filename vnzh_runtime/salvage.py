"""What a record that cannot be read still shows: its ids, so that its error record joins back to
the input (`serve tag` writes one output record per input record, good or bad).

    >>> ids_of_broken_line('{"id": "a4", "text": "cut off')
    {'id': 'a4'}
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder(strict=False)


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def ids_of_broken_line(text: str) -> dict:
    """The top-level `id` and `doc_id` a line that is not valid JSON still shows before it breaks, so
    that its error record joins back to the input (a nested `"source": {"id": ...}` is no record's id).

    >>> ids_of_broken_line('{"source": {"id": 5}, "id": "a4", "doc_id": 7, "text": "cut off')
    {'id': 'a4', 'doc_id': 7}
    """
    text = text.lstrip("\ufeff \t")
    if not text.startswith("{"):
        return {}
    ids, at = {}, 1
    while True:
        try:
            key, at = _DECODER.raw_decode(text, _skip_space(text, at))
            at = _skip_space(text, at)
            if not isinstance(key, str) or text[at:at + 1] != ":":
                break
            value, at = _DECODER.raw_decode(text, _skip_space(text, at + 1))
        except (ValueError, RecursionError):
            break
        if key in ("id", "doc_id") and not isinstance(value, (dict, list)):
            ids.setdefault(key, value)
        at = _skip_space(text, at)
        if text[at:at + 1] != ",":
            break
        at += 1
    return ids


def read_past_bad_bytes(raw: bytes) -> Any:
    """The line's value with each bad byte as a lone surrogate (U+DC80-U+DCFF), or None. Those
    code points mark exactly the bad bytes, so `clean_id` can tell an id they touched."""
    try:
        return json.loads(raw.decode("utf-8-sig", "surrogateescape"))
    except (RecursionError, ValueError):
        return None


def clean_id(value: Any) -> Any:
    """An id from `salvaged`, or None where a bad byte fell inside it (a mangled id would join wrongly)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return None if any("\udc80" <= c <= "\udcff" for c in text) else value
