"""Lines of an input file: where they end and how they decode, shared by every reader.

`\\n`, `\\r\\n` and a bare `\\r` (an old Mac's) all end a line; a line that is not UTF-8 keeps each
bad byte as a lone surrogate, so that a reader can name the line and `clean_id` can drop an id
a bad byte fell in:

    >>> list(split_bare_cr([b"a\\rb\\r\\n", b"c\\n"]))
    [b'a\\r', b'b\\r\\n', b'c\\n']
    >>> decode(b"Vi\\xffet", 2)
    ('Vi\\udcffet', 2)
"""

from __future__ import annotations

import codecs
import re
from typing import Iterable, Iterator

_BARE_CR = re.compile(rb"(?<=\r)(?!\n)")  # after a \r that no \n follows: an old Mac line end
LINE_END = re.compile(r"\r\n|\r|\n")
# Within a line of an article's text, the breaks a word processor or PDF converter writes end a
# paragraph: line and paragraph separators (U+2028, U+2029), form feed (pdftotext's page break),
# vertical tab and NEL. Not in a page's HTML source, where a browser shows them as a space.
ARTICLE_BREAK = re.compile("[\v\f\x85\u2028\u2029]")


def split_bare_cr(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Binary lines (split at \\n) split again after each bare \\r, each piece keeping its line end.
    A UTF-8 multi-byte character never holds a \\r or \\n byte, so splitting bytes is safe."""
    for raw in lines:
        if b"\r" in raw:
            yield from (piece for piece in _BARE_CR.split(raw) if piece)
        else:
            yield raw


def _as_a_browser(err: UnicodeError):
    """The euro sign where a browser reads one and Python's codec has none: GBK's byte 0x80 and Big5's
    A3 E1 (the WHATWG Encoding Standard's gbk and big5); any other bad byte stays an error."""
    if isinstance(err, UnicodeDecodeError):
        bad = err.object[err.start:err.start + 2]
        if err.encoding == "gb18030" and bad[:1] == b"\x80":
            return "\u20ac", err.start + 1
        if err.encoding == "big5hkscs" and bad == b"\xa3\xe1":
            return "\u20ac", err.start + 2
    raise err


codecs.register_error("vnzh-as-a-browser", _as_a_browser)


def decode(raw: bytes, number: int, charset: str = "utf-8") -> tuple[str, int | None]:
    """(the line's text, None), or, when it is not UTF-8 (or the `charset` a page declares), (its text
    with each bad byte as a lone surrogate, the first bad byte's offset). Decided by strict decoding
    of the bytes, so a real U+FFFD is text like any other; the surrogates let `clean_id` drop an id
    that a bad byte fell in."""
    codec = "utf-8-sig" if number == 1 and charset == "utf-8" else charset
    try:
        return raw.decode(codec, "vnzh-as-a-browser"), None
    except UnicodeDecodeError as err:
        return raw.decode(codec, "surrogateescape"), err.start
