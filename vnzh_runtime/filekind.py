"""What a whole input file is when it is not UTF-8 text: a wide Unicode encoding, a compressed
archive, or (for JSON Lines) one JSON array. Read line by line, each would be a page of errors
("not UTF-8" per line); decided once on the first line, it is one message that names the fix.
`serve tag` and the training and evaluation data readers both ask it.

    >>> whole_file_problem(b"\\x1f\\x8b\\x08\\x00", "feed.jsonl", jsonl=True)
    'feed.jsonl: a gzip archive, not text; decompress it first (gunzip -k feed.jsonl)'
    >>> whole_file_problem(b'{"text": "Kim ngach"}\\n', "feed.jsonl", jsonl=True) is None
    True
"""

from __future__ import annotations

import json
from pathlib import Path

# Byte order marks of the encodings a Windows editor saves as "Unicode"; the UTF-32 ones first (FF FE 00 00 begins with FF FE).
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
              (b"\xfe\xff", "UTF-16"))
# Magic bytes of the archives a feed comes in
_COMPRESSED = ((b"\x1f\x8b", "gzip", "gunzip -k"), (b"PK\x03\x04", "zip", "unzip"), (b"BZh", "bzip2", "bunzip2 -k"),
               (b"\xfd7zXZ\x00", "xz", "unxz -k"), (b"\x28\xb5\x2f\xfd", "zstd", "unzstd"))


def wide_encoding(first: bytes) -> str | None:
    """"UTF-16"/"UTF-32" when the file's first line shows one (a BOM, or a NUL beside an ASCII byte:
    no UTF-8 input of ours starts with NUL), else None."""
    for bom, encoding in _WIDE_BOMS:
        if first.startswith(bom):
            return encoding
    return "UTF-16" if len(first) >= 2 and (first[0] == 0) != (first[1] == 0) else None


def is_json_array(first: bytes) -> bool:
    """Whether a JSON file's first line opens an array of records (pretty-printed, or all on one line),
    rather than being one bad JSON Lines record (a list of strings is an error record of its own)."""
    text = first.lstrip(b"\xef\xbb\xbf \t")
    if not text.startswith(b"["):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return True  # the array goes on over the next lines
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def is_spread_object(line: bytes) -> bool:
    """Whether a line opens a JSON object pretty-printed over the next lines: "{" alone is no record."""
    return line.lstrip(b"\xef\xbb\xbf").strip() == b"{"


def first_filled(lines: list[bytes]) -> bytes:
    """The first line with more than whitespace (a file may open with blank lines), else b""."""
    return next((line for line in lines if line.strip(b" \t\r\n\xef\xbb\xbf")), b"")


def whole_file_problem(first: bytes, name: str, jsonl: bool, filled: bytes | None = None) -> str | None:
    """The one-line error for a file whose first line is `first` (and whose first non-blank line is
    `filled`, where blank lines come first), or None when it reads as text."""
    encoding = wide_encoding(first)
    if encoding:
        return f"{name}:1: the file is {encoding}, not UTF-8; re-save it as UTF-8"
    for magic, kind, command in _COMPRESSED:
        if first.startswith(magic):
            return f"{name}: a {kind} archive, not text; decompress it first ({command} {name})"
    if first.startswith((b"MIME-Version:", b"From: <Saved by")):  # a browser's "single file" page, images and all
        return f"{name}: a saved MHTML page, not HTML; save the page as \"Webpage, HTML only\" instead"
    filled = first if filled is None else filled
    if jsonl and is_json_array(filled):
        return (f"{name}:1: a JSON array, not JSON Lines; write one object per line "
                f"(jq -c '.[]' {name} > {Path(name).stem}-lines.jsonl)")  # never the input's own name: > empties it first
    if jsonl and is_spread_object(filled):  # else each of its lines would be an error record of its own
        return (f"{name}: a JSON object over several lines, not JSON Lines; write one object per line "
                f"(jq -c . {name} > {Path(name).stem}-lines.jsonl)")
    return None
