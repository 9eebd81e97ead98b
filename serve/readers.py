"""`serve tag`'s input readers, one per format, picked by the file's name (in any case): JSONL
(`.jsonl`, `.json`, `.ndjson`), CSV (`.csv`, a header with a `text` column), and anything else
as a raw article (every non-blank line a paragraph of one document, id `<stem>:<line>`).

    >>> records = list(read_records(open("feed.jsonl", "rb"), "feed.jsonl"))

Every input record gives exactly one `InputRecord`: what cannot be tagged (a line that is not
UTF-8, not JSON, a CSV row the CSV reader cannot parse, a record with no text) carries an
`error` naming the file, line and fix. A CSV row that cannot be parsed (a stray quote) is one
error record on its first line, and reading starts again at the next line, so the rows a stray
quote would have pulled into that field are read as the rows they are: none is lost. (The broken
field's own next lines are read as rows too, as no reader can tell them apart; one that does not
fit the header is an error record of its own.)

Only a whole file in the wrong encoding stops the read: a UTF-16 or UTF-32 file is one
`UserError` ("re-save as UTF-8"), not a record of junk per line. Decoding is decided on the
bytes, so a real U+FFFD in the text is text. Raw articles and CSV end lines at `\\n`, `\\r\\n`
or a bare `\\r` alike (`article_paragraphs` splits the API's articles the same way); in a raw
article a U+2029, form feed and the like also end a paragraph, within its line (`article_lines`).
"""

from __future__ import annotations

import csv
import json
import re
from collections import deque
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

from serve.html_pages import opens_as_html, page_article, read_html_records
from serve.lines import ARTICLE_BREAK, LINE_END, decode, split_bare_cr
from serve.tagging import InputRecord, checked, plain_id
from vnzh_runtime.errors import UserError
from vnzh_runtime.filekind import first_filled, head_lines, opens_records, whole_file_problem
from vnzh_runtime.jsonl import JsonlRow, clean_id, read_jsonl
from vnzh_runtime.markup import is_blank

csv.field_size_limit(1 << 24)  # a long paragraph is not an error; the API caps length, the batch tagger needn't


def read_jsonl_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    for row in read_jsonl(lines, name):
        yield jsonl_record(row, name)


def jsonl_record(row: JsonlRow, name: str) -> InputRecord:
    """One JSONL line's record (also `serve spark`'s, so both keep the same ids and errors)."""
    if row.error is None:
        return checked(row.value, f"{name}:{row.line}")
    # a line with a bad byte keeps the ids the rest of it holds: its error joins back to the input
    ids = row.salvaged if isinstance(row.salvaged, dict) else {}
    return InputRecord(plain_id(clean_id(ids.get("id"))), None, plain_id(clean_id(ids.get("doc_id"))), row.error)


class CsvLines:
    """The CSV file's decoded lines for `csv.reader`, numbered, keeping the lines of the row being read
    (`row`: (number, text, first bad byte or None) each) so that the lines after the first of a row
    the reader refuses can be read again (`read_again_after_first`)."""

    def __init__(self, lines: Iterable[bytes]):
        self.lines = enumerate(split_bare_cr(lines), start=1)
        self.again: deque[tuple[int, str, int | None]] = deque()
        self.row: list[tuple[int, str, int | None]] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.again:
            line = self.again.popleft()
        else:
            number, raw = next(self.lines)
            line = (number, *decode(raw, number))
        self.row.append(line)
        return line[1]

    def read_again_after_first(self) -> None:
        """Read the refused row's lines again from the one after its first. No reader can tell a line the
        stray quote swallowed from the broken field's own next line: each is read as the row it looks
        like (an error record where it does not fit the header), so that no row is lost."""
        self.again.extendleft(reversed(self.row[1:]))


def loose_fields(text: str, separator: str = ",") -> list[str]:
    """A line's fields read leniently, alone ([] where even that fails)."""
    try:
        return next(csv.reader([text], delimiter=separator, strict=False), [])
    except csv.Error:
        return []


# The separators a spreadsheet saves CSV with: a comma, a semicolon (Excel where the comma is the decimal mark,
# as in Vietnamese), a tab (a TSV named .csv). Excel's own `sep=;` first line says which.
SEPARATORS = (",", ";", "\t")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_EXCEL_SEP = re.compile(r"\ufeff?sep=(.)\s*$")
KNOWN_COLUMNS = ("id", "text", "doc_id")


def csv_separator(source: "CsvLines", name: str) -> tuple[str, int]:
    """(the separator of a CSV file, its header's line) from its first line (read, and left for the
    header when it is the header): Excel's `sep=X` line, else the separator under which the header
    names a text column.

    >>> csv_separator(CsvLines([b"sep=;\\n", b"id;text\\n"]), "a.csv"), csv_separator(CsvLines([b"ID\\tText\\n"]), "b.csv")
    ((';', 2), ('\\t', 1))
    """
    try:
        first = next(source)
    except StopIteration:
        raise UserError(f"{name}: the file is empty (a CSV needs a header line with a 'text' column)") from None
    declared = _EXCEL_SEP.match(first.rstrip("\r\n"))
    if declared:
        source.row = []
        return declared.group(1), 2
    source.again.appendleft(source.row.pop())
    return next((sep for sep in SEPARATORS if "text" in header_names(loose_fields(first, sep))), ","), 1


def header_names(header: list[str]) -> list[str]:
    """The header's column names, `Text`, ` TEXT ` and `text` alike for the columns the tagger reads."""
    return [column.strip().lower() if column.strip().lower() in KNOWN_COLUMNS else column for column in header]


def csv_header(reader, name: str, line: int = 1) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise UserError(f"{name}:{line}: the CSV header cannot be read ({err}); fix the first line") from None
    if header is None:
        raise UserError(f"{name}: the file is empty (a CSV needs a header line with a 'text' column)")
    header = header_names(header)
    if not header or "text" not in header:
        raise UserError(f"{name}:{line}: the CSV header has no 'text' column (found {header}); add one")
    for column in KNOWN_COLUMNS:
        if header.count(column) > 1:
            places = " and ".join(str(i) for i, c in enumerate(header, start=1) if c == column)
            raise UserError(f"{name}:{line}: the CSV header has {header.count(column)} '{column}' columns "
                            f"(columns {places}); rename or remove all but one")
    return header


def ids_of_broken_row(text: str, header: list[str], separator: str) -> tuple:
    """The id and doc_id of a row the strict reader refused, as far as a lenient reading of its first line shows."""
    values = {k: v for k, v in zip(header, loose_fields(text, separator)) if v != ""}
    return clean_id(values.get("id")), clean_id(values.get("doc_id"))


def csv_record(header: list[str], fields: list[str], lines: list, name: str, separator: str = ",") -> InputRecord:
    """One parsed row as DictReader would make it (a missing field None, empty extra fields ignored).
    A row with more non-empty fields than the header has columns is an error: an unquoted comma
    in the text shifts every field after it, so neither its text nor its ids can be trusted."""
    if any(fields[len(header):]):
        return InputRecord(None, None, None, f"{name}:{lines[0][0]}: {len(fields)} fields where the header has "
                                             f"{len(header)} (a {SEPARATOR_NAMES.get(separator, repr(separator))} in a field that is not "
                                             "quoted?); quote that field")
    values = dict(zip(header, fields))
    bad = next(((number, offset) for number, _, offset in lines if offset is not None), None)
    if bad:
        return InputRecord(clean_id(values.get("id") or None), None, clean_id(values.get("doc_id") or None),
                           f"{name}:{bad[0]}: not UTF-8 (byte {bad[1]}); re-save the file as UTF-8")
    return checked({k: v for k, v in values.items() if k in ("id", "text", "doc_id") and v != ""}
                   | {"text": values.get("text")}, f"{name}:{lines[0][0]}")


def read_csv_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    source = CsvLines(lines)
    separator, line = csv_separator(source, name)
    reader = csv.reader(source, delimiter=separator, strict=True)
    header = csv_header(reader, name, line)
    while True:
        source.row = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # e.g. a stray quote: this row is the error, the rows after it go on
            number, text, _ = source.row[0]
            record_id, doc_id = ids_of_broken_row(text, header, separator)
            yield InputRecord(record_id, None, doc_id,
                              f"{name}:{number}: CSV error ({err}); close the quote or escape it as \"\"")
            source.read_again_after_first()
            continue
        if fields:  # [] is a blank line, not a record
            yield csv_record(header, fields, source.row, name, separator)


def article_lines(text: str, first: int = 1) -> Iterator[tuple[int | str, str]]:
    """(line, paragraph) for each non-blank line of a raw article's text, lines numbered from `first`
    as `grep -n` numbers them. A break a word processor or PDF converter writes inside a line
    (U+2029, a form feed, ...: `ARTICLE_BREAK`) starts another paragraph on that line, numbered
    `<line>.2`, `<line>.3` as a page's HTML paragraphs are."""
    for number, line in enumerate(LINE_END.split(text), start=first):
        pieces = [piece.strip() for piece in ARTICLE_BREAK.split(line) if not is_blank(piece)]
        for k, piece in enumerate(pieces, start=1):
            yield (number if k == 1 else f"{number}.{k}"), piece


def read_article_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    """A raw article: every non-blank line is a paragraph of one document, id `<stem>:<line>`."""
    stem = Path(name).stem
    for number, raw in enumerate(split_bare_cr(lines), start=1):
        text, bad = decode(raw, number)
        if bad is not None:
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: not UTF-8 (byte {bad}); re-save as UTF-8")
            continue
        for line, paragraph in article_lines(text.rstrip("\r\n"), first=number):  # this line's paragraphs
            yield InputRecord(f"{stem}:{line}", paragraph, stem)


def article_paragraphs(text: str) -> list[tuple[int | str, str]]:
    """(line number, paragraph) of an article already decoded (the API's), split, stripped and
    numbered as `read_article_records` (or, for a page's HTML, `read_html_records`) reads the same
    article from a UTF-8 file."""
    text = text.removeprefix("\ufeff")  # a file's BOM is not text: utf-8-sig drops it
    first = next((line for _, line in article_lines(text)), "")
    return page_article(text) if opens_as_html(first) else list(article_lines(text))


READERS = {".jsonl": read_jsonl_records, ".json": read_jsonl_records, ".ndjson": read_jsonl_records,
           ".csv": read_csv_records}  # files of records; any other file is one document
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp")  # pages as a site served them


def document_reader(suffix: str, first: bytes):
    """The reader of a file no records suffix names, by its suffix or its first non-blank line: a
    page's HTML source; JSON Lines under a name with no suffix at all (`/dev/stdin`, `feed`, a file
    named `.jsonl`: read as text, each record's braces would be tagged and its ids lost); else a
    raw article (a `.txt` always: it is what /tag/article reads)."""
    text = first.decode("utf-8", "replace")
    if suffix in HTML_SUFFIXES or opens_as_html(text):
        return read_html_records
    if not suffix and text.lstrip("\ufeff \t").startswith("{"):
        try:
            if isinstance(json.loads(text.lstrip("\ufeff")), dict):
                return read_jsonl_records
        except (ValueError, RecursionError):  # not one object: an article
            pass
    return read_article_records


STDIN = "-"  # --input -: JSON Lines on standard input, named "stdin" in errors


def read_records(handle: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    """The records of a binary file (any iterable of its lines), read by the reader its name picks."""
    suffix = ".jsonl" if name == STDIN else Path(name).suffix.lower()
    name = "stdin" if name == STDIN else name
    lines = iter(handle)
    head = head_lines(lines)  # up to the first non-blank line, which tells an article from a page, and one more
    jsonl = suffix in (".json", ".jsonl", ".ndjson") or (not suffix and opens_records(head))  # `feed`, /dev/stdin
    problem = whole_file_problem(head, name, jsonl=jsonl)
    if problem:
        raise UserError(problem)
    reader = READERS.get(suffix) or document_reader(suffix, first_filled(head)[1])
    yield from reader(chain(head, lines), name)
