"""`serve tag`'s input readers, one per format, picked by the file's name (in any case): JSONL
(`.jsonl`, `.json`, `.ndjson`), CSV (`.csv` or `.tsv`, a header with a `text` column), XML
(a feed, item by item, `serve.feeds`), a page's HTML, and anything else as a raw article
(every non-blank line a paragraph of one document, id `<stem>:<line>`).

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

import json
import re
import sys
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

from serve.articles import article_lines, read_article_records, text_paragraphs
from serve.csv_records import SEPARATORS, header_names, loose_fields, read_csv_records
from serve.feed_items import local
from serve.feeds import FEED_ROOTS, XML_SUFFIXES, opens_as_xml, read_xml_records, root_name, xml_kind
from serve.html_pages import opens_as_html, page_article, read_html_records
from serve.tagging import InputRecord, checked, plain_id
from vnzh_runtime.bounded import bounded_lines
from vnzh_runtime.context import note_document_lookalike
from vnzh_runtime.errors import UserError
from vnzh_runtime.filekind import first_filled, head_lines, opens_records, pasted_problem, whole_file_problem
from vnzh_runtime.fix_commands import suffix_fix
from vnzh_runtime.jsonl import JsonlRow, read_jsonl
from vnzh_runtime.mailfile import is_mail
from vnzh_runtime.salvage import clean_id


# the keys a record is read by: one given twice (json would keep the last without a word) is an error record
READ_KEYS = frozenset({"id", "doc_id", "text"})


def read_jsonl_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    first = True
    for row in read_jsonl(lines, name, unique_keys=READ_KEYS):
        if first and row.error is None and isinstance(row.value, dict):  # the first record shows the file's fields
            first = False
            note_document_lookalike(row.value, name)
            note_id_lookalike(row.value, name)
        yield jsonl_record(row, name)


def note_id_lookalike(record: dict, name: str) -> None:
    """One note for a file whose records name themselves under `ID` or `_id` (a database export): their tags
    would carry no id to join back on, and no error would say so."""
    near = None if "id" in record else next((key for key in record if key.strip().lower() in ("id", "_id")), None)
    if near is not None:
        key = json.dumps(near, ensure_ascii=False)  # mongoexport writes "_id": {"$oid": "..."}: its string is the id
        print(f"note: {name}: its records have {near!r} but no 'id', so their tags carry no id (fix: jq -c "
              f"'.id = (.[{key}][\"$oid\"]? // .[{key}] | tostring)')", file=sys.stderr)


def jsonl_record(row: JsonlRow, name: str) -> InputRecord:
    """One JSONL line's record (also `serve spark`'s, so both keep the same ids and errors)."""
    if row.error is None:
        return checked(row.value, f"{name}:{row.line}")
    # a line with a bad byte keeps the ids the rest of it holds: its error joins back to the input
    ids = row.salvaged if isinstance(row.salvaged, dict) else {}
    return InputRecord(plain_id(clean_id(ids.get("id"))), None, plain_id(clean_id(ids.get("doc_id"))), row.error)


def no_records(name: str) -> str:
    """What a file that gives no record at all is told, by `serve tag` and the API alike."""
    return f"{name}: no records; the file is empty or blank (or a CSV header alone)"


def article_paragraphs(text: str) -> list[tuple[int | str, str]]:
    """(line number, paragraph) of an article already decoded (the API's), split, stripped and
    numbered as `read_article_records` (or, for a page's HTML, `read_html_records`) reads the same
    article from a UTF-8 file."""
    text = text.removeprefix("\ufeff")  # a file's BOM is not text: utf-8-sig drops it
    # what `serve tag` refuses as a file (a saved MHTML page, a .docx's bytes sent as text) is no article either
    problem = pasted_problem(text) or pasted_kind(text)
    if problem:
        raise UserError(problem)
    first = next((line for _, line in article_lines(text)), "")
    if (opens_as_xml(first) or opens_as_html(first)) and xml_kind(text, "text", first.startswith("<?xml")) == "feed":
        raise UserError("text is a news feed (RSS or Atom), several articles; send it to /tag/file as feed.xml, "
                        "which reads each item as an article")
    if opens_as_html(first):
        return page_article(text)
    return text_paragraphs(text)


def pasted_kind(text: str) -> str | None:
    """What `serve tag` refuses as an article's `.txt` and a pasted text is not either: JSON Lines (each
    record would be a paragraph of braces, its id lost) or an e-mail (its headers tagged as paragraphs).

    >>> pasted_kind('{"text": "Hợp tác", "id": 1}'), pasted_kind("Việt Nam và Trung Quốc {tin nhanh}")
    ('text:1: JSON Lines, not an article; send its records to /tag/file?filename=x.jsonl, or their texts to /tag', None)
    """
    head = head_lines(iter(text[:100_000].encode("utf-8", "surrogatepass").splitlines(keepends=True)))
    number, raw = first_filled(head)
    record = json_object(raw.decode("utf-8", "replace"))
    if record is not None and "text" in record:
        return f"text:{number}: JSON Lines, not an article; send its records to /tag/file?filename=x.jsonl, or their texts to /tag"
    if is_mail(head):
        return "text: an e-mail message (headers and encoded parts), not an article; send the article's text from the mail program"
    return None


JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")
READERS = {".jsonl": read_jsonl_records, ".json": read_jsonl_records, ".ndjson": read_jsonl_records,
           ".csv": read_csv_records, ".tsv": read_csv_records}  # files of records; any other file is one document
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp")  # pages as a site served them


def document_reader(suffix: str, first: bytes):
    """The reader of a file no records suffix names, by its suffix or its first non-blank line: a
    page's HTML source; JSON Lines under a name with no suffix at all (`/dev/stdin`, `feed`, a file
    named `.jsonl`: read as text, each record's braces would be tagged and its ids lost); else a
    raw article (a `.txt` always, as /tag/article reads it; one whose first line is a JSON record
    is refused before, by `misnamed`)."""
    text = first.decode("utf-8", "replace")
    if suffix in HTML_SUFFIXES:
        return read_html_records
    if suffix in XML_SUFFIXES or opens_as_xml(text):  # a feed, an XHTML page, or XML that is neither
        return read_xml_records
    if opens_as_html(text):
        return read_html_records
    if not suffix and json_object(text) is not None:
        return read_jsonl_records
    return read_article_records


def json_object(line: str) -> dict | None:
    """The line's JSON object where it is one (a record), else None (an article's text, a page's brace of script)."""
    line = line.lstrip("\ufeff \t")
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


STDIN = "-"  # --input -: JSON Lines on standard input, named "stdin" in errors


def read_records(handle: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    """The records of a binary file (any iterable of its lines), read by the reader its name picks."""
    piped = name == STDIN  # not a file named "stdin"
    suffix = ".jsonl" if piped else Path(name).suffix.lower()
    name = "stdin" if piped else name
    lines = iter(bounded_lines(handle, name))
    head = head_lines(lines)  # up to the first non-blank line (it tells an article from a page) and one more (a mail's headers)
    jsonl = suffix in JSONL_SUFFIXES or (not suffix and opens_records(head))  # `feed`, /dev/stdin
    problem = whole_file_problem(head, name, jsonl=jsonl) or (None if piped else misnamed(suffix, head, name))
    if problem:
        raise UserError(problem)
    if piped:
        reader = stdin_reader(first_filled(head))
    else:
        reader = READERS.get(suffix) or document_reader(suffix, first_filled(head)[1])
    yield from reader(chain(head, lines), name)


def misnamed(suffix: str, head: list[bytes], name: str) -> str | None:
    """The one-line error for a file whose suffix names another format than its first line shows: a feed
    or a page saved as `.jsonl` or `.csv` (each line a "not valid JSON" record, or "no 'text' column"), a
    CSV saved as `.jsonl`, JSON Lines saved as `.csv`, as a page (its records glued into one paragraph,
    their ids lost) or under any other suffix, `.txt` or `.1` (read as one article of braces)."""
    number, raw = first_filled(head)
    text = raw.decode("utf-8", "replace").lstrip("\ufeff \t")
    holds = markup_held(head, text) if suffix in JSONL_SUFFIXES + CSV_SUFFIXES else None
    if suffix in JSONL_SUFFIXES and holds is None and is_csv_header(text):
        holds = ("a CSV file (its header names a 'text' column)", ".tsv" if "\t" in text else ".csv")
    record = json_object(text) if suffix and suffix not in JSONL_SUFFIXES + XML_SUFFIXES else None
    if record is not None and (suffix in CSV_SUFFIXES + HTML_SUFFIXES or "text" in record):
        holds = ("JSON Lines", ".jsonl")
    if holds is None:
        return None
    kind, right = holds
    wrong = "JSON Lines" if suffix in JSONL_SUFFIXES else "CSV" if suffix in CSV_SUFFIXES else \
        "a page's HTML" if suffix in HTML_SUFFIXES else "an article's text"
    return f"{name}:{number}: {kind}, not {wrong}; tag it under the suffix it needs ({suffix_fix(name, right)})"


def markup_held(head: list[bytes], text: str) -> tuple[str, str] | None:
    """(what, its suffix) for a page's HTML or a feed, by its root element only: records under a comment or
    a stray tag line stay records, their errors their own."""
    if not (opens_as_xml(text) or opens_as_html(text)):
        return None
    root = local(root_name(b"".join(head).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")) or "")
    if root.lower() == "html":
        return "a page's HTML", ".html"
    return ("an RSS or Atom feed", ".xml") if root in FEED_ROOTS else None


def is_csv_header(line: str) -> bool:
    """Whether a line is a CSV header with a `text` column (`id,text`, `"ID";"Text"`), not a JSON record.

    >>> is_csv_header('id,"Text",doc_id'), is_csv_header('{"text": "a"}'), is_csv_header("text"), is_csv_header("# id, text")
    (True, False, False, False)
    """
    if line.startswith(("{", "[", "#")) or len(line) >= 500:
        return False
    for separator in SEPARATORS:  # two columns or more, each a name: "text" alone or "# fields: id, text" is no header
        names = header_names(loose_fields(line.rstrip("\r\n"), separator))  # as the CSV reader reads its header
        if len(names) > 1 and "text" in names and all(re.fullmatch(r"[\w .-]{1,40}", name) for name in names):
            return True
    return False


def stdin_reader(first: tuple[int, bytes]):
    """JSON Lines, what `--input -` reads; a page's HTML or XML piped in is read as the page or feed it
    is; any other text is refused in one line (else each of its lines would be a "not valid JSON" record)."""
    number, raw = first
    text = raw.decode("utf-8", "replace").lstrip("\ufeff \t")
    if opens_as_xml(text):
        return read_xml_records
    if opens_as_html(text):
        return read_html_records
    if text.strip() and not text.startswith("{"):
        shown = text.strip()[:40]
        raise UserError(f"stdin:{number}: standard input is not JSON Lines (it opens {shown!r}); --input - reads one "
                        "JSON object per line: pass the file instead (--input page.html for markup, --input rows.csv "
                        "for CSV, --input article.txt for an article's text)")
    return read_jsonl_records
