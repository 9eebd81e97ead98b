"""What shape of JSON a JSON Lines file's first lines open, when it is not one object per line: one
array, a JSON Feed, one object holding its records under a key, one object spread over lines, or
records joined by old Mac line ends. Each would read as a page of error records; each is one
message that names the `jq` (or `tr`) command that writes it as JSON Lines.
"""

from __future__ import annotations

import json
import re

from vnzh_runtime.fix_commands import cr_fix, jq_fix
from vnzh_runtime.markup import is_blank


def is_json_array(first: bytes) -> bool:
    """Whether a JSON file's first line opens an array of records (pretty-printed, or all on one line),
    rather than being one bad JSON Lines record (a list of strings is an error record of its own)."""
    text = first.lstrip(b"\xef\xbb\xbf \t")
    if not text.startswith(b"["):
        return False
    try:
        value = json.loads(text)
    except RecursionError:  # nested past Python's limit: a bad record, which the line reader says so of
        return False
    except ValueError:
        return True  # the array goes on over the next lines
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def records_key(line: bytes) -> str | None:
    """The key of a one-line JSON object that holds a list of records (`{"articles": [{"text": ...}]}`,
    an API's answer saved whole), or None: such a line is no record, and its records are inside it."""
    try:
        value = json.loads(line.lstrip(b"\xef\xbb\xbf"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or "text" in value:
        return None
    return next((key for key, items in value.items() if isinstance(items, list)
                 and any(isinstance(item, dict) and "text" in item for item in items)), None)


# A JSON Feed's items as records: the item's id, and its text (plain, else its HTML, else its summary or title)
JSON_FEED_ITEMS = ".items[] | {id, doc_id: .id, text: (.content_text // .content_html // .summary // .title)}"


def is_json_feed(line: bytes) -> bool:
    if b"jsonfeed.org" not in line:  # a plain record's first line is not parsed here once more
        return False
    try:
        value = json.loads(line.lstrip(b"\xef\xbb\xbf"))
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and str(value.get("version", "")).startswith("https://jsonfeed.org/")


def jq_path(key: str) -> str:
    return f".{key}[]" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f".[{json.dumps(key, ensure_ascii=False)}][]"


def is_spread_object(line: bytes, after: bytes) -> bool:
    """Whether a line opens a JSON object pretty-printed over the next lines: "{" alone, then a key
    ("  \"id\": 7,") rather than a record (a JSON Lines file whose first record is damaged)."""
    return line.lstrip(b"\xef\xbb\xbf").strip() == b"{" and after.lstrip().startswith(b'"')


def ends_lines_in_cr(line: bytes) -> bool:
    """Whether a JSON Lines "line" is records joined by bare carriage returns: a line whose text up
    to its first CR is a whole object was cut there (a CR inside a record's string, which this
    reader allows, leaves an unclosed string before it).

    >>> ends_lines_in_cr(b'{"text": "a"}\\r{"text": "b"}\\r'), ends_lines_in_cr(b'{"text": "a"}\\r\\n')
    (True, False)
    """
    first, cr, rest = line.rstrip(b"\r\n").partition(b"\r")
    if not cr:
        return False
    try:
        return isinstance(json.loads(first.lstrip(b"\xef\xbb\xbf")), dict)
    except (ValueError, RecursionError):
        return False


def json_lines_problem(number: int, filled: bytes, after: bytes, name: str) -> str | None:
    """The one-line error for a JSON Lines file whose first non-blank line (`number`, `filled`) and the line
    after it are not records one per line, or None.

    >>> json_lines_problem(1, b'{"articles": [{"text": "Kim ngach"}]}\\n', b"", "feed.jsonl")
    "feed.jsonl:1: one JSON object that holds its records in 'articles', not JSON Lines; write one record per line (jq -c '.articles[]' feed.jsonl > feed-lines.jsonl)"
    """
    if is_json_array(filled):
        return f"{name}:{number}: a JSON array, not JSON Lines; write one object per line ({jq_fix(name, '.[]')})"
    if ends_lines_in_cr(filled):
        return (f"{name}:{number}: lines end in a bare carriage return (an old Mac file), not a line feed; "
                f"convert them first ({cr_fix(name)})")
    if is_json_feed(filled):  # else one record, "no 'text' field"
        return (f"{name}:{number}: a JSON Feed (jsonfeed.org), not JSON Lines; write one item per line "
                f"({jq_fix(name, JSON_FEED_ITEMS)})")
    key = records_key(filled) if is_blank(after.decode("utf-8", "replace")) else None  # the whole file: one object
    if key is not None:
        return (f"{name}:{number}: one JSON object that holds its records in {key!r}, not JSON Lines; write one "
                f"record per line ({jq_fix(name, jq_path(key))})")
    if is_spread_object(filled, after):  # else each of its lines would be an error record of its own
        return (f"{name}:{number}: a JSON object over several lines, not JSON Lines; write one object per line "
                f"({jq_fix(name, '.')}; where its records are a list inside it, as in {{\"articles\": [...]}}, "
                f"{jq_fix(name, '.articles[]')})")
    return None
