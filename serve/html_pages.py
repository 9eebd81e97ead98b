"""A saved web page as the paragraphs a browser shows: the reader of `.html` files and of raw
articles that begin with markup (`serve tag`, `POST /tag/article`, `POST /tag/file`, the page).

Read line by line, a page would tag its scripts, style sheets and comments wherever they span
lines, and a minified page would be one paragraph. Here block elements (`<p>`, `<div>`, `<br>`,
`<li>`, `<h1>`, ...) end a paragraph, inline ones (`<a>`, `<b>`, `<span>`) do not, what a browser
does not show (`<script>`, `<style>`, `<noscript>`, `<template>`, `<svg>`, comments) is dropped
whatever lines it spans, entities are decoded and whitespace runs become one space. Each
paragraph is numbered by the line its text starts on; a second one on that line gets `.2`:

    >>> list(page_paragraphs(["<script>\\n", "var t = 'Biển Đông';\\n", "</script><p>Việt Nam &amp; Trung\\n",
    ...                       "Quốc</p><p>Hai bên</p><p>ký kết</p>\\n"]))
    [('3', 'Việt Nam & Trung Quốc'), ('4', 'Hai bên'), ('4.2', 'ký kết')]
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Iterable, Iterator

from vnzh_runtime.markup import is_blank

BLOCKS = frozenset(("address article aside blockquote body br caption center dd details dialog div dl dt fieldset "
                    "figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html li main nav ol p pre "
                    "section summary table tbody td tfoot th thead title tr ul").split())
HIDDEN = frozenset(("script", "style", "noscript", "template", "svg"))
# A raw article that opens with one of these is a page's source, not text copied from a page.
_OPENS_AS_HTML = re.compile(r"\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<!--|<(?:p|div|script|style|meta"
                            r"|article|section|h[1-6])[\s>/])", re.IGNORECASE)


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

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1
        elif tag in BLOCKS:
            self.flush()

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.flush()

    def handle_data(self, data):
        if self.hidden:
            return
        if self.line is None and data.strip():
            start = len(data) - len(data.lstrip())
            self.line = self.getpos()[0] + data.count("\n", 0, start)
        self.parts.append(data)

    def flush(self):
        text = " ".join("".join(self.parts).split())
        if not is_blank(text):
            self.done.append((self.line, text))
        self.parts, self.line = [], None


def page_paragraphs(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(number, paragraph) for each paragraph of a page fed as decoded lines (line ends kept):
    number is the line its text starts on, `"<line>.<k>"` for the k-th paragraph starting there."""
    parser, seen = _Paragraphs(), {}
    for line in lines:
        parser.feed(line)
        yield from _numbered(parser, seen)
    parser.close()
    parser.flush()
    yield from _numbered(parser, seen)


def _numbered(parser: _Paragraphs, seen: dict[int, int]) -> Iterator[tuple[str, str]]:
    for line, text in parser.done:
        seen[line] = seen.get(line, 0) + 1
        yield (str(line) if seen[line] == 1 else f"{line}.{seen[line]}"), text
    parser.done.clear()
