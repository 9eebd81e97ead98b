"""A saved web page as the paragraphs a browser shows: the reader of `.html` files and of raw
articles that begin with markup (`serve tag`, `POST /tag/article`, `POST /tag/file`, the page).

Read line by line, a page would tag its scripts, style sheets and comments wherever they span
lines, and a minified page would be one paragraph. Here block elements (`<p>`, `<div>`, `<br>`,
`<li>`, `<h1>`, ...) end a paragraph, inline ones (`<a>`, `<b>`, `<span>`) do not, what a browser
does not show (`<script>`, `<style>`, `<noscript>`, `<template>`, `<svg>`, comments) is dropped
whatever lines it spans, entities are decoded and whitespace runs become one space (inside
`<pre>`, where a browser keeps line breaks, each line is a paragraph). Each
paragraph is numbered by the line its text starts on; a second one on that line gets `.2`:

    >>> list(page_paragraphs(["<script>\\n", "var t = 'Biển Đông';\\n", "</script><p>Việt Nam &amp; Trung\\n",
    ...                       "Quốc</p><p>Hai bên</p><p>ký kết</p>\\n"]))
    [('3', 'Việt Nam & Trung Quốc'), ('4', 'Hai bên'), ('4.2', 'ký kết')]
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Iterator

from serve.lines import LINE_END, split_bare_cr
from serve.page_charset import ESCAPED_BYTE, page_line, page_reading
from serve.script_articles import IN_SCRIPTS, article_only_in_scripts
from serve.tagging import InputRecord
from vnzh_runtime.errors import UserError
from vnzh_runtime.markup import is_blank

BLOCKS = frozenset(("address article aside blockquote body br caption center dd details dialog div dl dt fieldset "
                    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p pre "
                    "section summary table tbody td tfoot th thead tr ul").split())
# Not shown on the page: scripts and styles, fallbacks of embedded media, a form's text box and
# list box, ruby's readings, and the <title> (the tab's, a copy of the headline the page shows)
HIDDEN = frozenset(("script style noscript template svg title iframe video audio object canvas textarea select "
                    "rt rp").split())
READINGS = frozenset(("rt", "rp"))
# Boxes a page lays out apart, though inline: tag chips, share buttons, breadcrumb links (a gap, not a break)
APART = frozenset(("a", "button", "label", "img", "input"))
# A raw article that opens with one of these is a page's source, or a part of one copied from the browser's
# inspector: a block element opened and followed by another tag or nothing (`<div class="detail-content">`,
# `<div class="x"><p>...`, `<table class="tbl">`, an opening tag that runs on to the next line); a text that
# opens with "<p>", or "<div>Title</div>", may be an article with a tag left in, read line by line (each line a
# paragraph) as any other.
_CONTAINERS = "div|article|section|main|table|figure|ul|ol|blockquote|header|footer|aside|nav"
_OPENS_AS_HTML = re.compile(r"\s*(?:<!doctype\s|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<\?xml\s|<!--|"
                            rf"<(?:{_CONTAINERS})(?:\s[^<>]*)?(?:>\s*(?:<|$)|$))", re.IGNORECASE)
# A DOCTYPE up to its internal subset's `[` (outside quoted names) or its end, and the subset's end.
_DOCTYPE_HEAD = re.compile(r"""<!doctype(?:[^"'\[>]|"[^"]*"|'[^']*')*[\[>]""", re.IGNORECASE)
_SUBSET_END = re.compile(r"\]\s*>")
_COMMENT_END = re.compile(r"--!?>")
CHUNK = 1 << 16  # fed in chunks, not lines: HTMLParser rescans an unclosed comment on every feed
UNCLOSED = ("a <script>, <style>, <noscript>, <svg> or other element that hides its content, or a comment, opened "
            "on this line is never closed, so the page shows nothing after it; close it")


NO_TEXT = ("the page shows no text: its article is put on the page by scripts (a JSON-LD articleBody, "
           "__NEXT_DATA__), which no reader runs; open it in a browser and copy the article's text into a .txt "
           "file, one paragraph per line")


def opens_as_html(first_line: str) -> bool:
    """Whether a raw article's first non-blank line shows it is a page's HTML source."""
    return bool(_OPENS_AS_HTML.match(first_line.removeprefix("\ufeff")))


class _Paragraphs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.done: list[tuple[int, str]] = []
        self.parts: list[str] = []
        self.line: int | None = None
        self.hidden = 0
        self.hidden_from = 0  # the line where the outermost hidden element opened
        self.comment_left: int | None = None  # the line of a comment that is never closed
        self.pre = 0  # inside <pre>, where a line break shows as one
        self.reading = False  # inside a ruby reading (<rt>, <rp>), whose end tag HTML lets a page leave out

    def handle_starttag(self, tag, attrs):
        self.pre += tag == "pre"
        if tag in READINGS and self.reading:  # <rt>a<rt>b: the end tag of a ruby reading may be left out
            return
        self.reading = self.reading or tag in READINGS
        if tag in HIDDEN:
            self.hidden_from = self.hidden_from if self.hidden else self.getpos()[0]
            self.hidden += 1
        elif tag in BLOCKS:
            self.flush()
        elif tag in APART:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        self.pre = max(0, self.pre - (tag == "pre"))
        if tag in READINGS or (tag == "ruby" and self.reading):  # </ruby> ends a reading left open
            if self.reading:
                self.reading, self.hidden = False, max(0, self.hidden - 1)
            return
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.flush()
        elif tag in APART:
            self.parts.append(" ")

    def handle_data(self, data):
        if self.hidden:
            return
        if self.pre and "\n" in data:
            self.preformatted(data)
            return
        if self.line is None and data.strip():
            start = len(data) - len(data.lstrip())
            self.line = self.getpos()[0] + data.count("\n", 0, start)
        self.parts.append(data)

    def preformatted(self, data):
        """A <pre> block's lines, each a paragraph numbered by its own line."""
        first = self.getpos()[0]
        for offset, piece in enumerate(data.split("\n")):
            if offset:
                self.flush()
            if self.line is None and piece.strip():
                self.line = first + offset
            self.parts.append(piece)

    def parse_html_declaration(self, i):
        """A DOCTYPE with an internal subset (`<!DOCTYPE html [ <!ENTITY nbsp "&#160;"> ]>`, in XHTML) ends at
        its `]>`, not at the first `>` inside it, which left `]>` on the page as text."""
        if self.rawdata[i:i + 9].lower() == "<!doctype":
            bracket = _DOCTYPE_HEAD.match(self.rawdata, i)  # up to a `[` outside quotes ("a[1].dtd" is a name)
            if bracket and self.rawdata[bracket.end() - 1] == "[":
                end = _SUBSET_END.search(self.rawdata, bracket.end())
                return end.end() if end else -1  # -1: wait for the rest of the page
        return super().parse_html_declaration(i)

    def parse_comment(self, i, report=1):
        """A comment as a browser ends it (the HTML standard): `<!-->` and `<!--->` are empty ones, and
        `--!>` closes one too. Python's parser (before 3.13) read on to the next `-->`, hiding the text between."""
        for empty in ("<!-->", "<!--->"):
            if self.rawdata.startswith(empty, i):
                return i + len(empty)
        end = _COMMENT_END.search(self.rawdata, i + 4)
        return end.end() if end else -1  # -1: wait for the rest of the page

    def parse_marked_section(self, i, report=1):
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:  # `<![ endif]>`, `<![foo[ x ]]>`: a bogus comment to a browser, not a crash
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def flush(self):
        text = " ".join("".join(self.parts).split())
        if not is_blank(text):
            self.done.append((self.line, text))
        self.parts, self.line = [], None

    def left_open(self) -> int | None:
        """The line of a script, style sheet or comment still open at the end, or None."""
        return self.hidden_from if self.hidden else self.comment_left


def page_paragraphs(lines: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """(number, paragraph) for each paragraph of a page fed as decoded lines, each ending in "\\n":
    number is the line its text starts on, `"<line>.<k>"` for the k-th paragraph starting there.
    A script, style sheet or comment never closed hides the rest of the page, as in a browser;
    it ends the paragraphs with (its line, None), which the callers report."""
    parser, seen, chunk, size = _Paragraphs(), {}, [], 0
    for line in lines:
        chunk.append(line)
        size += len(line)  # a running count: summing the chunk at every line is quadratic in its lines
        if size >= CHUNK:
            parser.feed("".join(chunk))
            chunk, size = [], 0
            yield from _numbered(parser, seen)
    parser.feed("".join(chunk))
    left = parser.rawdata  # what the parser holds back: close() would hand a comment never closed over as text
    if left.lstrip().startswith("<!--"):
        parser.comment_left = parser.getpos()[0] + left.count("\n", 0, len(left) - len(left.lstrip()))
        parser.rawdata = ""
    else:  # no "<" after the last ">" can open a tag: text, as a browser shows it. close() would rescan
        last = left.rfind(">") + 1  # the rest of the page from each such "<" (18 KB of "<a " took 8 s)
        parser.rawdata = left[:last] + left[last:].replace("<", "&lt;")
    parser.close()
    parser.flush()
    if parser.left_open() is not None:
        parser.done.append((parser.left_open(), None))
    yield from _numbered(parser, seen)


def _numbered(parser: _Paragraphs, seen: dict[int, int]) -> Iterator[tuple[str, str]]:
    for line, text in parser.done:
        seen[line] = seen.get(line, 0) + 1
        yield (str(line) if seen[line] == 1 else f"{line}.{seen[line]}"), text
    parser.done.clear()


def read_html_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    """A page's HTML source as `serve tag` reads it, in the encoding it declares (a browser's reading):
    each paragraph a record of one document, id `<stem>:<line>`; a paragraph holding a byte that
    does not decode, or a block never closed, an error record."""
    lines = list(split_bare_cr(lines))  # a page is read whole: its bytes decide its encoding
    page = b"".join(lines)
    stem, reading = Path(name).stem, page_reading(page)
    decoded = [LINE_END.sub("\n", page_line(raw, number, reading)) for number, raw in enumerate(lines, start=1)]
    paragraphs = list(page_paragraphs(decoded))
    if not paragraphs and not is_blank(page.decode("utf-8", "replace")):  # else "tagged 0 of 0 records" and exit 0
        raise UserError(f"{name}: {NO_TEXT if b'<script' in page.lower() else 'the page shows no text, only markup'}")
    if article_only_in_scripts("".join(decoded), [paragraph or "" for _, paragraph in paragraphs]):
        raise UserError(f"{name}: {IN_SCRIPTS}")
    for number, paragraph in paragraphs:
        if paragraph is None:
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: {UNCLOSED}")
        elif ESCAPED_BYTE.search(paragraph):  # decode's marks of bad bytes
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: {reading.failed}; re-save as UTF-8")
        else:
            yield InputRecord(f"{stem}:{number}", paragraph, stem)


def page_article(text: str) -> list[tuple[int | str, str | None]]:
    """/tag/article's paragraphs of a page's HTML, numbered as `read_html_records` numbers them
    (None: a block never closed from that line, UNCLOSED)."""
    lines = [line + "\n" for line in LINE_END.split(text)]
    paragraphs = list(page_paragraphs(lines))
    if article_only_in_scripts("".join(lines), [paragraph or "" for _, paragraph in paragraphs]):
        raise UserError(f"text: {IN_SCRIPTS}")  # as `serve tag` and /tag/file refuse the page
    return [(int(number) if number.isdigit() else number, paragraph) for number, paragraph in paragraphs]
