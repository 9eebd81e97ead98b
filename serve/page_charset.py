"""The encoding a saved page's HTML source is read in: what it declares (`<meta charset="gbk">`) as a
browser reads the label, unless its bytes say otherwise (a UTF-8 BOM, or text that is all UTF-8):

    >>> page_charset('<meta charset="gb2312"><p>越南</p>'.encode("gbk")), page_charset('<meta charset="gb2312"><p>越南</p>'.encode())
    ('gb18030', 'utf-8')
"""

from __future__ import annotations

import re

from serve.lines import decode

_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{2,40})", re.IGNORECASE)
# An XHTML page's XML declaration, its first bytes: `<?xml version="1.0" encoding="gbk"?>`
_XML_ENCODING = re.compile(rb"\s*<\?xml[^>]{0,100}?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]{2,40})[\"']", re.IGNORECASE)
HEAD_BYTES = 8192  # where a page declares its encoding

# A declared label read as a browser reads it (the WHATWG Encoding Standard), in Python's codec names:
# gb2312 pages hold GBK characters (朱镕基), big5 pages HKSCS ones, "latin-1" pages Windows-1252 quotes.
# Labels Python does not know are looked up here as written (WHATWG's: "gb_2312", "x-x-big5", "x-cp1258").
_AS_A_BROWSER_READS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs",
                       "gb_2312": "gb18030", "gb_2312-80": "gb18030", "csgb2312": "gb18030", "cn-big5": "big5hkscs",
                       "x-x-big5": "big5hkscs", "x-cp1258": "cp1258",
                       "iso8859-1": "cp1252", "ascii": "cp1252", "x-user-defined": "cp1252", "euc_kr": "cp949",
                       "shift_jis": "cp932", "tis-620": "cp874", "iso8859-11": "cp874", "windows-874": "cp874",
                       "iso8859-9": "cp1254"}
# Encodings a page cannot be read in line by line (wide or stateful): a browser reads a <meta> naming
# UTF-16 as UTF-8; UTF-7, HZ and ISO-2022 are read as UTF-8 too (none is a Vietnamese or Chinese news page's).
_NOT_BY_LINES = ("utf-16", "utf-32", "utf-7", "hz", "iso2022")


def declared_charset(head: bytes) -> str:
    """The encoding a page declares in its first bytes (`<meta charset="gbk">`), as a browser reads it
    in Python's codec names; "utf-8" where it declares none, one Python does not know, or one no page
    can be read in line by line.

    >>> [declared_charset(f'<meta charset="{label}">'.encode()) for label in ("gb2312", "big5", "utf-16", "nope")]
    ['gb18030', 'big5hkscs', 'utf-8', 'utf-8']
    """
    import codecs

    label = declared_label(head)
    if not label:
        return "utf-8"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        name = label
    name = _AS_A_BROWSER_READS.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return "utf-8"
    return "utf-8" if name.startswith(_NOT_BY_LINES) else name


def declared_label(page: bytes) -> str | None:
    """The charset label a page declares in its first 8 KB, as written (lower case), or None: a
    `<meta>`'s, else an XML declaration's (an .xhtml file's, which is all a browser reads it by).

    >>> declared_label(b'<?xml version="1.0" encoding="GBK"?>\\n<html>'), declared_label(b"<p>x</p>")
    ('gbk', None)
    """
    found = _CHARSET.search(page[:HEAD_BYTES]) or _XML_ENCODING.match(page[:HEAD_BYTES])
    return found.group(1).decode("ascii").lower() if found else None


def page_charset(page: bytes) -> str:
    """The encoding to read a page in: UTF-8 where it begins with a UTF-8 BOM (as in a browser: a page
    re-saved as UTF-8, text pasted on the page) or where all its text is UTF-8 (a page converted with
    iconv keeps its old <meta>; a GBK or Windows-1252 page's text is never valid UTF-8 for long, while
    UTF-8 text often is valid GB18030); else what it declares."""
    if page.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    declared = declared_charset(page)
    return "utf-8" if declared != "utf-8" and is_utf8_text(page) else declared


def is_utf8_text(page: bytes) -> bool:
    """Whether bytes hold non-ASCII text that is all valid UTF-8."""
    if page.isascii():
        return False
    try:
        page.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def page_line(raw: bytes, number: int, charset: str) -> str:
    """A page's line in its charset; a line that is not, but is UTF-8, in UTF-8 (a page pieced together
    from two encodings); else with its bad bytes marked (`decode`)."""
    text, bad = decode(raw, number, charset)
    if bad is not None and charset != "utf-8":
        as_utf8, bad_utf8 = decode(raw, number)
        if bad_utf8 is None:
            return as_utf8
    return text
