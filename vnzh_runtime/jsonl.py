"""The project's one JSONL reader: every non-blank line gives one row, good or bad.

Lines are decoded one by one, so a stray invalid UTF-8 byte costs only its own line,
and any parse failure (bad JSON, nesting too deep, an integer too long to convert)
becomes an error row instead of ending the file. A line whose only fault is a bad byte
is still an error row, but its `salvaged` value (the line read past the bad bytes) keeps
its ids, so the error record can be joined back to the input:

    >>> import io
    >>> rows = list(read_jsonl(io.BytesIO(b'{"text": "a"}\\n\\n{bad\\n'), "in.jsonl"))
    >>> [(r.line, r.value, r.error is not None) for r in rows]
    [(1, {'text': 'a'}, False), (3, None, True)]
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import IO, Any, Iterator

from vnzh_runtime.markup import is_blank
from vnzh_runtime.repeated_keys import RepeatedKey, loads, may_repeat, repeated_key_error
from vnzh_runtime.salvage import ids_of_broken_line, read_past_bad_bytes

try:  # a native parser, 2-3x faster; a saved model's own environment need not have it
    from orjson import OPT_APPEND_NEWLINE
    from orjson import dumps as fast_dumps
    from orjson import loads as fast_loads
except ImportError:  # pragma: no cover - exercised in the portable-model venv
    fast_dumps = fast_loads = None


@dataclass
class JsonlRow:
    line: int
    value: Any = None
    error: str | None = None  # "<name>:<line>: why; the fix", when the line could not be read
    salvaged: Any = None  # an error row's value read past its bad bytes: for its ids only, never its text


# The fast path takes only lines whose reading json and orjson agree on: no 19+ digit run (an
# integer past 64 bits, which some orjson versions read as a float) and little nesting (orjson
# reads nesting that json refuses). Anything orjson refuses (NaN, a BOM, a lone surrogate)
# goes the long way too, so every line reads as json reads it.
_LONG_NUMBER = re.compile(rb"\d{19}")


def parse_line(raw: bytes, name: str, number: int, unique_keys: bool | frozenset = False) -> JsonlRow:
    """One line's row. `unique_keys` (labelled data, where a second "labels" would silently win):
    a key given twice in an object is an error row, read on the slow path; a set of keys (what
    `serve tag` reads) keeps the fast path for lines that hold none of them twice."""
    if unique_keys is not True and fast_loads is not None and raw.count(b"[") + raw.count(b"{") < 32 \
            and not _LONG_NUMBER.search(raw) and not may_repeat(raw, unique_keys):
        try:
            return JsonlRow(number, fast_loads(raw))
        except ValueError:
            pass
    where = f"{name}:{number}"
    try:
        text = raw.decode("utf-8-sig")  # a BOM on any line: `cat a.jsonl b.jsonl` puts b's at a line's start
    except UnicodeDecodeError as err:
        return JsonlRow(number, error=f"{where}: not UTF-8 (byte {err.start}); re-save the file as UTF-8",
                        salvaged=read_past_bad_bytes(raw))
    try:
        # without its line end, a line cut off mid-record is faulted at its last column, not at "column 1" past it
        return JsonlRow(number, loads(text.rstrip("\r\n"), unique_keys))
    except RepeatedKey as err:
        return JsonlRow(number, error=repeated_key_error(where, err.args[0]), salvaged=err.salvaged)
    except json.JSONDecodeError as err:
        return JsonlRow(number, error=f"{where}: not valid JSON ({err.msg.removesuffix(' at')} at column {err.colno}); "
                                      "fix the line", salvaged=ids_of_broken_line(text))
    except (RecursionError, ValueError) as err:  # nesting too deep; an integer over Python's digit limit
        return JsonlRow(number, error=f"{where}: JSON this reader refuses ({type(err).__name__}: "
                                      f"{str(err)[:60]}); simplify the line", salvaged=ids_of_broken_line(text))


CONTINUATION_LINES = 20  # the most lines one record's string may run over with raw line breaks in it


def is_filled(raw: bytes) -> bool:
    # a record starts with "{"; anything else is looked at closer: a line of only a BOM or
    # zero-width spaces is blank here too, as in every other reader
    stripped = raw.strip()
    return bool(stripped) and (stripped[:1] == b"{" or not is_blank(raw.decode("utf-8", "replace")))


def read_jsonl(handle: IO[bytes], name: str, unique_keys: bool | frozenset = False) -> Iterator[JsonlRow]:
    """Rows of a binary handle, skipping blank lines. A record whose text holds raw line breaks
    (an exporter that did not escape them as \\n) is one row, as long as no line it runs over is a
    record of its own:

        >>> import io
        >>> [(r.line, r.value) for r in read_jsonl(io.BytesIO(b'{"id": 1, "text": "a\\nb"}\\n{"id": 2}\\n'), "in.jsonl")]
        [(1, {'id': 1, 'text': 'a\\nb'}), (3, {'id': 2})]
    """
    lines = Lines(enumerate(handle, start=1))
    for number, raw in lines:
        if is_filled(raw):
            row = parse_line(raw, name, number, unique_keys)
            if row.error is not None and "Unterminated string" in row.error:
                row = read_broken_string(row, raw, lines, f"{name}:{number}", unique_keys)
            yield row


class Lines:
    """Numbered lines with a push-back: the lines read ahead for a broken string, read again in order
    when it never ends (at most CONTINUATION_LINES held at once)."""

    def __init__(self, numbered: Iterator[tuple[int, bytes]]):
        self.numbered, self.again = numbered, deque()

    def __iter__(self):
        return self

    def __next__(self) -> tuple[int, bytes]:
        return self.again.popleft() if self.again else next(self.numbered)

    def push_back(self, taken: list) -> None:
        self.again.extendleft(reversed(taken))


def read_broken_string(row: JsonlRow, raw: bytes, lines: Lines, where: str, unique_keys: bool | frozenset = False) -> JsonlRow:
    """The record that `raw` starts, read on over the next lines (its string's raw line breaks), or
    `row` (the error) with those lines left to be read again."""
    taken = []
    for number, more in lines:
        taken.append((number, more))
        if more.strip()[:1] == b"{" and not parse_line(more, "", number).error:  # a record: the string never ended
            break
        raw += more
        try:
            value = loads(raw.decode("utf-8-sig").rstrip("\r\n"), unique_keys)
        except RepeatedKey as err:  # the whole record read, and refused for itself
            return JsonlRow(row.line, error=repeated_key_error(where, err.args[0]), salvaged=err.salvaged)
        except (UnicodeDecodeError, RecursionError, ValueError):
            if len(taken) < CONTINUATION_LINES:
                continue
            break
        if isinstance(value, dict):
            return JsonlRow(row.line, value)
        break
    lines.push_back(taken)
    return row


def read_jsonl_file(path, name: str | None = None) -> Iterator[JsonlRow]:
    with open(path, "rb") as handle:
        yield from read_jsonl(handle, name or str(path))


def jsonl_line(row: dict) -> bytes:
    """One output line. orjson is the fast path; what it refuses (an integer id past 64 bits, a
    lone surrogate) goes through json, escaped where needed: the same JSON value either way.

    >>> jsonl_line({"text": "Việt \\ud800"})
    b'{"text":"Vi\\\\u1ec7t \\\\ud800"}\\n'
    """
    if fast_dumps is not None:
        try:
            return fast_dumps(row, option=OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    try:
        return line.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(row, separators=(",", ":")).encode("ascii") + b"\n"
