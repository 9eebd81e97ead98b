"""A raw article's paragraphs: each non-blank line one (`article_lines`), or, in a text hard-wrapped at a
fixed width, each block of lines between blank ones.

A plain-text article hard-wrapped at a fixed width (a wire story or an e-mail's body saved as text): its
paragraphs are the blocks between blank lines, each line a piece of one. Read line by line, each piece was
a paragraph of its own ("...as two-way trade hit a record $185" / "billion."), tagged apart and mostly `other`.

A text is taken as wrapped only where every line but a block's last is within a fixed width (50 to 100
columns, a Han character two) and at least 60 % of it, with at least three such lines in two blocks or
more; an article of one paragraph per line (blank lines between, or none) never is, nor a headline over
its lead. A wrapped block is numbered by its first line, as `grep -n` shows where it starts:

    >>> text = ["Vietnam and China agreed on Tuesday to expand trade through the border gates", "of Lao Cai and Huu Nghi, officials said after talks in Hanoi that ended late", "on Monday.", "",
    ...         "Two-way trade rose 19 percent in the first ten months of the year, customs", "figures showed, with fruit exports to China up by nearly a third on the", "year before."]
    >>> is_hard_wrapped(text), [(line, paragraph[:40]) for line, paragraph in wrapped_paragraphs(enumerate(text, 1), False)]
    (True, [(1, 'Vietnam and China agreed on Tuesday to e'), (5, 'Two-way trade rose 19 percent in the fir')])
"""

from __future__ import annotations

import unicodedata
from functools import reduce
from itertools import chain, islice
from pathlib import Path
from typing import Iterable, Iterator

from serve.lines import ARTICLE_BREAK, LINE_END, decode, split_bare_cr
from serve.tagging import InputRecord
from vnzh_runtime.markup import is_blank

WIDTHS = (50, 100)  # the columns a text is wrapped at: e-mail's 72 and 76, a terminal's 80, wire services' 69
FILLED = 0.6  # every wrapped line fills at least this much of the width: a ragged right edge, not short lines
MIN_WRAPPED_LINES = 3
HEAD_LINES = 400  # a file's lines read to decide, before its paragraphs are streamed


def width(line: str) -> int:
    """Columns a line takes in a fixed-width font: a Han character (or a full-width form) two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    """The runs of non-blank lines (numbered from 1), blank lines between them."""
    found: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(lines, start=1):
        if is_blank(line):
            found.append([])
        else:
            found[-1].append((number, line.strip()))
    return [block for block in found if block]


def is_hard_wrapped(lines: list[str]) -> bool:
    """Whether a text's lines are paragraphs hard-wrapped at one width (see the module's docstring)."""
    found = blocks(lines)
    inner = [width(line) for block in found for _, line in block[:-1]]
    if len(found) < 2 or len(inner) < MIN_WRAPPED_LINES:
        return False
    widest = max(inner)
    longest = max(width(line) for block in found for _, line in block)
    return WIDTHS[0] <= widest <= WIDTHS[1] and longest <= widest + 2 and min(inner) >= FILLED * widest


def joined(first: str, second: str, chinese: bool) -> str:
    """Two pieces of a wrapped paragraph as one: Chinese runs on without a space (numbers and quotes within it
    too: "20" / "21年" is 2021年), other text with one, but for a word broken at its hyphen ("Chinese-" / "owned")."""
    if chinese or (first.endswith("-") and first[-2:-1].isalpha()):
        return first + second
    return f"{first} {second}"


def is_chinese(lines: list[str]) -> bool:
    """Whether most of a text's characters are Han (or full-width forms), as a Chinese article's are."""
    characters = "".join("".join(lines).split())
    return sum(width(c) == 2 for c in characters) * 2 > len(characters)


def wrapped_paragraphs(numbered: Iterable[tuple[int, str]], chinese: bool) -> Iterator[tuple[int, str]]:
    """(first line's number, paragraph) for each block of a wrapped text's (number, line) pairs, read as they
    come (a block ends at a blank line)."""
    start, pieces = None, []
    for number, line in numbered:
        if is_blank(line):
            if pieces:
                yield start, reduce(lambda a, b: joined(a, b, chinese), pieces)
            start, pieces = None, []
            continue
        start = start if pieces else number
        pieces.append(line.strip())
    if pieces:
        yield start, reduce(lambda a, b: joined(a, b, chinese), pieces)


def head_language(head: list[tuple[int, bytes]]) -> str | None:
    """For a file's first (number, raw line) pairs: "zh" or "other" where they are a hard-wrapped UTF-8 text, else None
    (a line in another encoding, or a break a word processor writes inside a line, keeps the reading by lines)."""
    lines = []
    for number, raw in head:
        text, bad = decode(raw, number)
        if bad is not None or ARTICLE_BREAK.search(text.rstrip("\r\n")):
            return None
        lines.append(text.rstrip("\r\n"))
    if not is_hard_wrapped(lines):
        return None
    return "zh" if is_chinese(lines) else "other"


def wrapped_records(numbered: Iterable[tuple[int, bytes]], name: str, language: str) -> Iterator[InputRecord]:
    """A hard-wrapped article's records: a block of lines each, id `<stem>:<first line>`; a line that is not UTF-8
    is its own error record, and ends its block."""
    stem, pending = Path(name).stem, []

    def flush():
        for line, paragraph in wrapped_paragraphs(pending, language == "zh"):
            yield InputRecord(f"{stem}:{line}", paragraph, stem)
        pending.clear()

    for number, raw in numbered:
        text, bad = decode(raw, number)
        if bad is not None:
            yield from flush()
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: not UTF-8 (byte {bad}); re-save as UTF-8")
        elif is_blank(text):
            yield from flush()
        else:
            pending.append((number, text.rstrip("\r\n")))
    yield from flush()


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
    """A raw article: every non-blank line is a paragraph of one document, id `<stem>:<line>`; in a text
    hard-wrapped at a fixed width, every block of lines between blank ones."""
    stem = Path(name).stem
    numbered = enumerate(split_bare_cr(lines), start=1)
    head = list(islice(numbered, HEAD_LINES))
    language = head_language(head)
    if language is not None:
        yield from wrapped_records(chain(head, numbered), name, language)
        return
    for number, raw in chain(head, numbered):
        text, bad = decode(raw, number)
        if bad is not None:
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: not UTF-8 (byte {bad}); re-save as UTF-8")
            continue
        for line, paragraph in article_lines(text.rstrip("\r\n"), first=number):  # this line's paragraphs
            yield InputRecord(f"{stem}:{line}", paragraph, stem)


def text_paragraphs(text: str) -> list[tuple[int | str, str]]:
    """(line, paragraph) of an article's decoded text (the API's), as `read_article_records` reads the same text
    from a file: decided on the same first lines."""
    lines = LINE_END.split(text)
    head = lines[:HEAD_LINES]
    if is_hard_wrapped(head) and not any(ARTICLE_BREAK.search(line) for line in head):
        return list(wrapped_paragraphs(enumerate(lines, start=1), is_chinese(head)))
    return list(article_lines(text))
