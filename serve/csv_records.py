"""`serve tag`'s CSV reader (`serve spark` reads CSV files with it too): a header with a `text`
column, rows of records, as spreadsheets save them.

The separator is a comma, a semicolon (Excel where the comma is the decimal mark, as in
Vietnamese) or a tab (Excel's "Unicode Text" once iconv has made it UTF-8): Excel's own `sep=;`
first line, else whichever the header names a `text` column under. Column names are read in any
case (`Text`, ` ID `):

    >>> [(r.id, r.text) for r in read_csv_records([b"sep=;\\n", b"ID;Text\\n", b"1;Viet Nam, 2025\\n"], "a.csv")]
    [('1', 'Viet Nam, 2025')]

Every row gives one record; a row that cannot be parsed (a stray quote) is one error record on
its first line, and reading starts again at the next line, so that no row is lost.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from typing import Iterable, Iterator

from serve.lines import decode, split_bare_cr
from serve.tagging import InputRecord, checked
from vnzh_runtime.context import note_document_lookalike
from vnzh_runtime.errors import UserError
from vnzh_runtime.markup import is_blank
from vnzh_runtime.salvage import clean_id

csv.field_size_limit(1 << 24)  # a long paragraph is not an error; the API caps length, the batch tagger needn't


class CsvLines:
    """The CSV file's decoded lines for `csv.reader`, numbered, keeping the lines of the row being read
    (`row`: (number, text, first bad byte or None) each) so that the lines after the first of a row
    the reader refuses can be read again (`read_again_after_first`)."""

    def __init__(self, lines: Iterable[bytes]):
        self.lines = enumerate(split_bare_cr(lines), start=1)
        self.again: deque[tuple[int, str, int | None]] = deque()
        self.row: list[tuple[int, str, int | None]] = []
        self.reread: set[int] = set()  # numbers of lines read again: maybe the rest of a broken field

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
        self.reread.update(number for number, _, _ in self.row[1:])


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
EMPTY = "the file is empty (a CSV needs a header line with a 'text' column)"


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
        raise UserError(f"{name}: {EMPTY}") from None
    declared = _EXCEL_SEP.match(first.rstrip("\r\n"))
    if declared:
        source.row = []
        return declared.group(1), 2
    source.again.appendleft(source.row.pop())
    tsv = name.lower().endswith(".tsv")  # a one-column header ("text") reads alike under every separator
    order = ("\t", ",", ";") if tsv else SEPARATORS
    return next((sep for sep in order if "text" in header_names(loose_fields(first, sep))), order[0]), 1


def header_names(header: list[str]) -> list[str]:
    """The header's column names, `Text`, ` TEXT ` and `text` alike for the columns the tagger reads."""
    def known(column: str) -> str:  # a BOM before a header under Excel's `sep=` line (`cat sep.txt excel.csv`)
        return column.replace("\ufeff", "").strip().lower()

    return [known(column) if known(column) in KNOWN_COLUMNS else column for column in header]


def shown_header(header: list[str], columns: int = 6, width: int = 40) -> str:
    """The header as an error names it: its first columns, each cut short (a headerless export's first
    row may be a whole article, which a one-line error must not repeat).

    >>> shown_header(["id", "Việt Nam và Trung Quốc " * 10, "a", "b", "c", "d", "e", "f"])
    "['id', 'Việt Nam và Trung Quốc Việt Nam và Trung…', 'a', 'b', 'c', 'd', ... 2 more]"
    """
    cut = [column if len(column) <= width else column[:width] + "…" for column in header[:columns]]
    more = f", ... {len(header) - columns} more" if len(header) > columns else ""
    return repr(cut)[:-1] + more + "]"


def header_below(reader, rows: int = 10) -> int | None:
    """How many lines below the first a header with a `text` column is (under any separator): a row whose
    filled fields are all column names (no spaces, 40 characters at most), a report's title rows above it
    (a data row holding the word "text" is not a header)."""
    start = reader.line_num
    for _ in range(rows):
        try:
            row = next(reader, None)
        except csv.Error:
            return None
        if row is None:
            return None
        line = reader.dialect.delimiter.join(row)
        for fields in (line.split(separator) for separator in SEPARATORS):
            names = [field.strip() for field in fields if field.strip()]
            if "text" in header_names(names) and len(names) > 1 and all(_COLUMN_NAME.fullmatch(n) for n in names):
                return reader.line_num - start
    return None


_COLUMN_NAME = re.compile(r"[^\s,;]{1,40}")


def csv_header(reader, name: str, line: int = 1) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise UserError(f"{name}:{line}: the CSV header cannot be read ({err}); fix line {line}") from None
    if header is None:
        raise UserError(f"{name}: {EMPTY}")  # Excel's `sep=` line alone
    header = header_names(header)
    if not header or "text" not in header:
        below = header_below(reader)
        if below:  # a report's title rows above the table, as spreadsheets export it
            raise UserError(f"{name}:{line}: the CSV header is on line {line + below}, with a 'text' column; delete the "
                            f"{below} line{'s' if below > 1 else ''} above it")
        raise UserError(f"{name}:{line}: the CSV header has no 'text' column (found {shown_header(header)}); add one")
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


def csv_record(header: list[str], fields: list[str], lines: list, name: str, separator: str = ",",
               reread: bool = False) -> InputRecord:
    """One parsed row as DictReader would make it (a missing field None, empty extra fields ignored).
    A row with more non-empty fields than the header has columns is an error: an unquoted comma
    in the text (or any column) shifts every field after it, so only the ids in the row's first
    columns, before any other column, are kept (none where the row was `reread` after a broken
    one: it may be the rest of that row's field)."""
    if any(fields[len(header):]):
        leading = len(header) if reread else next(i for i, column in enumerate(header) if column not in ("id", "doc_id"))
        before_text = {} if reread else dict(zip(header[:leading], fields))
        return InputRecord(clean_id(before_text.get("id") or None), None, clean_id(before_text.get("doc_id") or None),
                           f"{name}:{lines[0][0]}: {len(fields)} fields where the header has "
                           f"{len(header)} (a {SEPARATOR_NAMES.get(separator, repr(separator))} in a "
                           "field that is not quoted?); quote that field")
    if len(fields) == 1 < len(header) and header.index("text") > 0:  # no text: an error however it is told
        other = next((sep for sep in SEPARATORS if sep != separator and len(loose_fields(fields[0], sep)) > 1), None)
        if other:  # else every such row reads as one field, `'text' is null`, its id the whole line
            return InputRecord(None, None, None, f"{name}:{lines[0][0]}: this row is separated by {other!r}, the header "
                                                 f"by {separator!r}; use one separator throughout the file")
    values = dict(zip(header, fields))
    if len(fields) <= header.index("text"):  # else "'text' is null", for a row cut short
        return InputRecord(clean_id(values.get("id") or None), None, clean_id(values.get("doc_id") or None),
                           f"{name}:{lines[0][0]}: {len(fields)} field{'s' * (len(fields) != 1)} where the header has "
                           f"{len(header)}: the row ends before its 'text' column (column {header.index('text') + 1}); "
                           "complete the row")
    bad = next(((number, offset) for number, _, offset in lines if offset is not None), None)
    if bad:
        return InputRecord(clean_id(values.get("id") or None), None, clean_id(values.get("doc_id") or None),
                           f"{name}:{bad[0]}: not UTF-8 (byte {bad[1]}); re-save the file as UTF-8")
    return checked({k: v for k, v in values.items() if k in KNOWN_COLUMNS and v != ""}
                   | {"text": values.get("text")}, f"{name}:{lines[0][0]}")


def open_csv(lines: Iterable[bytes], name: str) -> tuple["CsvLines", Iterator[list[str]], list[str], str]:
    """(the file's lines, a reader of its rows, its header, its separator): the header read and checked."""
    source = CsvLines(lines)
    separator, line = csv_separator(source, name)
    reader = csv.reader(source, delimiter=separator, strict=True)
    return source, reader, csv_header(reader, name, line), separator


def check_csv_head(head: list[bytes], name: str) -> None:
    """A CSV file's first lines as `read_csv_records` checks them (`serve spark`, before its executors read)."""
    open_csv(iter(head), name)


def plain_tsv_fields(text: str, header: list[str], separator: str) -> list[str]:
    """A tab-separated line the quoting reader refused, split at its tabs as TSV without quoting is
    ([] where the file is not tab-separated or the line has more fields than the header).

    >>> plain_tsv_fields('"7"\\t"Hà Nội" là thủ đô\\t\\n', ["id", "text"], "\\t")
    ['7', '"Hà Nội" là thủ đô', '']
    """
    pieces = text.rstrip("\r\n").split("\t") if separator == "\t" else []
    odd = [piece.replace('""', "").count('"') % 2 == 1 for piece in pieces]
    if any(piece.startswith('"') and odd[i] and any(odd[i + 1:]) for i, piece in enumerate(pieces)):
        return []  # a CSV-quoted field open at a tab and closed after it: it holds the tab, and its quoting went wrong
    fields = [unquoted(piece) for piece in pieces]
    return fields if len(fields) <= len(header) or not any(fields[len(header):]) else []


def unquoted(field: str) -> str:
    """A field quoted whole as CSV quotes it (`"7"`, a doubled `""` inside) without its quotes; any other as it is."""
    if len(field) >= 2 and field[0] == field[-1] == '"' and '"' not in field[1:-1].replace('""', ""):
        return field[1:-1].replace('""', '"')
    return field


def read_csv_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    source, reader, header, separator = open_csv(lines, name)
    note_document_lookalike(header, name, fix=lambda key: f"a doc_id column, e.g. a copy of {key!r}")
    while True:
        source.row = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # e.g. a stray quote: this row is the error, the rows after it go on
            number, text, _ = source.row[0]
            plain = plain_tsv_fields(text, header, separator)
            if plain:  # a TSV field that opens with a quote ("Hà Nội" là …) is text, as in IANA's TSV
                yield csv_record(header, plain, source.row[:1], name, separator, number in source.reread)
                source.read_again_after_first()
                continue
            record_id, doc_id = ids_of_broken_row(text, header, separator)
            yield InputRecord(record_id, None, doc_id,
                              f"{name}:{number}: CSV error ({err}); close the quote or escape it as \"\"")
            source.read_again_after_first()
            continue
        if fields and not (len(source.row) == 1 and is_blank(source.row[0][1])):
            # [] is a blank line, not a record; so is a line of spaces alone, as in every other reader ('"  "' is a record)
            yield csv_record(header, fields, source.row, name, separator, source.row[0][0] in source.reread)
