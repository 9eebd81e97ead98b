"""A raw article's paragraphs: each non-blank line one (`article_lines`), or, in a text hard-wrapped at a
fixed width, each block of lines between blank ones.

A wire story or an e-mail's body saved as text is hard-wrapped: read line by line, each piece of a paragraph
was a paragraph of its own ("...as two-way trade hit a record $185" / "billion."), tagged apart and mostly
`other`. A block is wrapped (`is_wrapped`) where every line but its last fills 60 % to 100 % of one width
(50 to 100 columns, a Han character two, or 25 to 100 characters), none is wider, and at least 80 % of its
breaks were forced: the next line's first word would not have fitted (a list of headlines, short one-sentence
paragraphs or a poem leave room at their breaks). A text is wrapped (`wrap_width`) where, in its first lines,
two blocks or more are, holding half of its breaks or more. Then each wrapped block is one paragraph, numbered
by its first line as `grep -n` shows where it starts, and any other block (headers, a signature, a list) is read
by lines:

    >>> text = ["Vietnam and China agreed on Tuesday to expand trade through the border", "gates of Lao Cai and Huu Nghi, officials said after talks in Hanoi that", "ended late on Monday.", "",
    ...         "Two-way trade rose 19 percent in the first ten months of the year, customs", "figures showed, with fruit exports to China up by nearly a third on the", "year before."]
    >>> wrap_width(text).columns, [(line, paragraph[:30]) for line, paragraph in text_paragraphs("\\n".join(text))]
    (74, [(1, 'Vietnam and China agreed on Tu'), (5, 'Two-way trade rose 19 percent ')])
"""

from __future__ import annotations

import unicodedata
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from serve.lines import ARTICLE_BREAK, LINE_END, decode, split_bare_cr
from serve.tagging import InputRecord
from vnzh_runtime.markup import is_blank

WIDTHS = (50, 100)  # the columns a text is wrapped at: e-mail's 72 and 76, a terminal's 80, wire services' 69
FILLED = 0.6  # every wrapped line fills at least this much of the width: a ragged right edge, not short lines
FORCED = 0.8  # of the breaks inside blocks, those where the next word would not have fitted
MIN_BREAKS = 3
HEAD_LINES = 400  # a file's lines read to decide, before its paragraphs are streamed
HEAD_BYTES = 1 << 20  # the head stops at its line that passes this: no 32 MB lines held before any output
MAX_BLOCK_LINES = 200  # a wrapped paragraph is tagged in parts of this many lines: memory stays flat


def width(line: str) -> int:
    """Columns a line takes in a fixed-width font: a Han character (or a full-width form) two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def blocks(numbered: Iterable[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """The runs of non-blank (number, line) pairs, blank lines between them."""
    found: list[list[tuple[int, str]]] = [[]]
    for number, line in numbered:
        if is_blank(line):
            found.append([])
        else:
            found[-1].append((number, line.strip()))
    return [block for block in found if block]


class Wrap(NamedTuple):
    columns: int
    by_characters: bool  # Chinese is wrapped by a count of characters as often as by columns

    def measure(self, text: str) -> int:
        return len(text) if self.by_characters else width(text)


def fits(line: str, following: str, wrap: Wrap) -> bool:
    """Whether the next line's first word (a Han character: no space before it) had room on this line."""
    if width(following[0]) == 2:
        return wrap.measure(line + following[0]) <= wrap.columns
    return wrap.measure(line) + 1 + wrap.measure(following.split()[0]) <= wrap.columns


def wrap_width(lines: list[str]) -> Wrap | None:
    """The width a text's lines are hard-wrapped at (see the module's docstring), in columns or in characters,
    or None. Blocks of other shapes beside the wrapped ones (a forwarded mail's headers, a signature, a list, a
    URL wider than any wrap) are read by lines, and do not decide."""
    found = [block for block in blocks(enumerate(lines, start=1)) if len(block) > 1 and all(
        len(line) <= WIDTHS[1] + 2 and not ARTICLE_BREAK.search(line) for _, line in block)]  # cheap before width()
    for by_characters, least in ((False, WIDTHS[0]), (True, WIDTHS[0] // 2)):
        inner = [Wrap(0, by_characters).measure(line) for block in found for _, line in block[:-1]]
        wrap = Wrap(max(inner, default=0), by_characters)
        wrapped = [block for block in found if is_wrapped(block, wrap)]
        if least <= wrap.columns <= WIDTHS[1] and len(wrapped) >= 2 and \
                sum(len(block) - 1 for block in wrapped) >= max(MIN_BREAKS, len(inner) / 2):
            return wrap
    return None


def is_wrapped(block: list[tuple[int, str]], wrap: Wrap) -> bool:
    """Whether a block of two lines or more is a paragraph wrapped at `wrap`: every line but its last fills 60 % of
    it or more, none overruns it, no line is padded like a table's row, and 80 % of its breaks were forced (a list
    of short items leaves room at its breaks)."""
    lines = [line for _, line in block]
    if len(lines) < 2 or any("   " in line for line in lines) or wrap.measure(lines[-1]) > wrap.columns + 2:
        return False
    if not all(FILLED * wrap.columns <= wrap.measure(line) <= wrap.columns for line in lines[:-1]):
        return False
    return sum(not fits(line, following, wrap) for line, following in zip(lines, lines[1:])) >= FORCED * (len(lines) - 1)


def block_paragraphs(block: list[tuple[int, str]], wrap: Wrap | None) -> Iterator[tuple[int | str, str]]:
    """(line, paragraph) of a block: one paragraph where it is wrapped at the text's width, else a line each."""
    if wrap is None or not is_wrapped(block, wrap):
        for number, line in block:
            yield from article_lines(line, first=number)
        return
    chinese = is_chinese([line for _, line in block])
    pieces = [block[0][1]]
    for _, line in block[1:]:  # Chinese runs on without a space ("20" / "21年" is 2021年), but for Latin names
        broken_word = pieces[-1].endswith("-") and pieces[-1][-2:-1].isalpha()  # ("To" / "Lam"); a hyphen's word too
        latin = pieces[-1][-1:].isascii() and pieces[-1][-1:].isalpha() and line[:1].isascii() and line[:1].isalpha()
        pieces.append(line if (chinese and not latin) or broken_word else " " + line)
    yield block[0][0], "".join(pieces)


def is_chinese(lines: list[str]) -> bool:
    """Whether most of a block's characters are Han (or full-width forms), as a Chinese paragraph's are."""
    characters = "".join("".join(lines).split())
    return sum(width(c) == 2 for c in characters) * 2 > len(characters)


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
    hard-wrapped at a fixed width, every block of lines between blank ones that keeps to it. A line that is not
    UTF-8 is an error record, and ends its block."""
    stem, head, size, block = Path(name).stem, [], 0, []
    decoded = ((number, len(raw), *decode(raw, number)) for number, raw in enumerate(split_bare_cr(lines), start=1))
    for line in decoded:  # the head decides; a line not UTF-8 counts there as a blank one
        head.append(line)
        size += line[1]
        if len(head) == HEAD_LINES or size > HEAD_BYTES:
            break
    wrap = wrap_width(["" if bad is not None else text.rstrip("\r\n") for _, _, text, bad in head])

    def flush():
        for line, paragraph in block_paragraphs(block, wrap):
            yield InputRecord(f"{stem}:{line}", paragraph, stem)
        block.clear()

    for number, _, text, bad in chain(head, decoded):
        if bad is not None:
            yield from flush()
            yield InputRecord(f"{stem}:{number}", None, stem, f"{name}:{number}: not UTF-8 (byte {bad}); re-save as UTF-8")
        elif wrap is None:  # by lines, as every article that is not hard-wrapped
            for line, paragraph in article_lines(text.rstrip("\r\n"), first=number):
                yield InputRecord(f"{stem}:{line}", paragraph, stem)
        else:
            if is_blank(text) or len(block) == MAX_BLOCK_LINES:
                yield from flush()
            if not is_blank(text):
                block.append((number, text.strip()))
    yield from flush()


def text_paragraphs(text: str) -> list[tuple[int | str, str]]:
    """(line, paragraph) of an article's decoded text (the API's), as `read_article_records` reads the same text
    from a file: decided on the same first lines."""
    lines, size, head = LINE_END.split(text), 0, []
    for line in lines[:HEAD_LINES]:  # as the file's head stops
        head.append(line)
        size += len(line.encode("utf-8", "surrogatepass")) + 1
        if size > HEAD_BYTES:
            break
    wrap = wrap_width(head)
    if wrap is None:
        return list(article_lines(text))
    parts = [block[k:k + MAX_BLOCK_LINES] for block in blocks(enumerate(lines, start=1))
             for k in range(0, len(block), MAX_BLOCK_LINES)]  # as the file's reader tags a long block
    return [pair for part in parts for pair in block_paragraphs(part, wrap)]
