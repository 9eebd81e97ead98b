"""The encoding a saved page's HTML source is read in: what it declares (`<meta charset="gbk">`) as a
browser reads the label, unless its bytes say otherwise (a UTF-8 BOM, or text that is all UTF-8):

    >>> page_charset('<meta charset="gb2312"><p>越南</p>'.encode("gbk")), page_charset('<meta charset="gb2312"><p>越南</p>'.encode())
    ('gb18030', 'utf-8')
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

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


class Reading(NamedTuple):
    """How a page's lines are decoded: in `charset`; a line that is not, in `fallback` (a page pieced together
    from two encodings: a UTF-8 menu included in a GBK page, or the reverse); a line in neither is an error
    record saying `failed`."""
    charset: str
    fallback: str | None
    failed: str


def page_reading(page: bytes) -> Reading:
    """The encoding to read a page in, decided once for the whole page: UTF-8 where it begins with a UTF-8 BOM
    (as in a browser: a page re-saved as UTF-8, text pasted on the page) or where its text is UTF-8 but for a
    few stray bytes (a page converted with iconv keeps its old <meta>; a GBK or Windows-1252 page's text is
    never valid UTF-8 for long, while UTF-8 text often is valid GB18030 or Windows-1252); else what it
    declares; else, where it declares none (or UTF-8, which its bytes are not), the encoding its bytes show
    (`sniffed`), as a browser guesses a page saved without its headers.

    >>> page_reading('<meta charset="gbk"><p>越南</p>'.encode("gbk"))
    Reading(charset='gb18030', fallback='utf-8', failed='neither gbk as the page declares nor UTF-8')
    """
    if page.startswith(b"\xef\xbb\xbf"):
        return Reading("utf-8", None, "not UTF-8")
    declared, label = declared_charset(page), declared_label(page)
    if mostly_utf8(page):
        if declared == "utf-8":
            return Reading("utf-8", None, "not UTF-8")
        return Reading("utf-8", declared, f"neither UTF-8 nor {label} as the page declares")
    if declared != "utf-8":
        return Reading(declared, "utf-8", f"neither {label} as the page declares nor UTF-8")
    found = sniffed(page)
    if found is None:
        return Reading("utf-8", None, "not UTF-8")
    return Reading(found, "utf-8", f"neither {found}, which its bytes show, nor UTF-8")


def page_charset(page: bytes) -> str:
    """The encoding a page is read in (`page_reading`)."""
    return page_reading(page).charset


ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte `surrogateescape` could not decode
_ASCII = bytes(range(128))


def mostly_utf8(page: bytes) -> bool:
    """Whether bytes hold non-ASCII text that is UTF-8 but for at most one bad byte in 10 good characters
    (a stray byte in a footer must not turn a UTF-8 page into Windows-1252 mojibake). Counted in C: it runs on
    every page and feed.

    >>> page = "<p>Kim ngạch thương mại Việt Nam – Trung Quốc tăng mạnh, đạt mức kỷ lục mới</p>".encode()
    >>> mostly_utf8(page + b"<p>\\xa9 2025</p>"), mostly_utf8("<p>“Trade”, Hanoi’s — and Beijing’s</p>".encode("cp1252"))
    (True, False)
    """
    good, bad = utf8_counts(page)
    return good > 0 and bad * 10 <= good


def utf8_counts(data: bytes) -> tuple[int, int]:
    """(non-ASCII characters that decode as UTF-8, bytes that do not)."""
    if data.isascii():
        return 0, 0
    text = data.decode("utf-8", "surrogateescape")
    bad = len(ESCAPED_BYTE.findall(text))
    return len(text) - len(text.encode("ascii", "ignore")) - bad, bad


_SINGLE_BYTE = ("cp1252", "cp1258")
# The legacy encodings a Vietnamese, Chinese or English news page is saved in, for `sniffed` to choose from
_LEGACY = ["gb18030", "big5hkscs", "cp1252", "cp1258"]  # in this order where scores tie: "São", not "Săo"
_SNIFF_MIN = 200  # non-ASCII bytes: fewer are too few to tell GBK from Big5 (a few Han characters read as either)
# Lines (of those holding a non-ASCII byte) an encoding may fail to read and still be chosen: a stray byte, a cut
# character or a UTF-8 include is not a verdict on the page
_UNREAD_SHARE, _UNREAD_LINES = 0.01, 2


def sniffed(page: bytes) -> str | None:
    """The legacy encoding a page's bytes show, or None where they hold too few non-ASCII bytes to tell (then its
    lines are read as UTF-8, and each one that is not is an error record). Each encoding that reads the page's
    lines of non-ASCII bytes, all but two (or 1 %) of them, as a browser reads it (GBK's 0x80 a euro sign), is
    scored by charset-normalizer on the lines it reads, as it ranks encodings (least mess, then the most coherent
    language): on the whole page, one stray byte ruled the right one out.

    >>> page = ("<p>" + "中越双边贸易额再创新高，两国同意深化合作。" * 10 + "</p>\\n").encode("gbk") * 3
    >>> sniffed(page), sniffed(page + b"<p>\\x80 \\xff</p>\\n")
    ('gb18030', 'gb18030')
    """
    from charset_normalizer import from_bytes

    # lines of UTF-8 (a menu included from elsewhere) are read as such whatever the page is in: left out here
    lines = [line for line in page.splitlines(keepends=True) if not line.isascii() and not reads(line, "utf-8")]
    if len(page.translate(None, _ASCII)) < _SNIFF_MIN:  # too short to tell GBK from Big5, but not from a single byte's
        neither = all(any(not reads(line, multi, "vnzh-as-a-browser") for line in lines) for multi in _LEGACY[:2])
        utf8_text = utf8_counts(page)[0] > 0  # a UTF-8 page with a bad byte or two: its lines' error records
        return single_byte(lines) if lines and neither and not utf8_text else None
    scores = []
    for candidate in _LEGACY:
        unread = sum(not reads(line, candidate, "vnzh-as-a-browser") for line in lines)
        sample = b"".join(line for line in lines if reads(line, candidate))  # charset-normalizer stops at an error
        if unread > max(_UNREAD_LINES, _UNREAD_SHARE * len(lines)) or not sample:
            continue
        match = from_bytes(sample, cp_isolation=[candidate], threshold=1.0).best()  # a score for each, however messy
        if match is not None and codecs.lookup(match.encoding).name == codecs.lookup(candidate).name:
            scores.append((match.chaos, -match.coherence, _LEGACY.index(candidate), candidate))
    if not scores:
        return None
    best = min(scores)[-1]
    if best in _SINGLE_BYTE and all(encoding in {found for *_, found in scores} for encoding in _SINGLE_BYTE):
        return single_byte(lines)
    return best


def single_byte(lines: list[bytes]) -> str:
    """Windows-1258 where a fifth of the non-ASCII bytes are its tone marks, else Windows-1252."""
    return "cp1258" if tone_marks_share(lines) >= _TONE_SHARE else "cp1252"


_TONE_MARKS = b"\xcc\xec\xd2\xde\xf2"  # Windows-1258's combining tone marks (in Windows-1252: Ì ì Ò Þ ò)
_TONE_SHARE = 0.2


def tone_marks_share(lines: list[bytes]) -> float:
    """The share of non-ASCII bytes that are Windows-1258's tone marks: most Vietnamese words carry one, while
    charset-normalizer scores an English or Portuguese page in Windows-1258 as well ("Săo Paulo")."""
    high = b"".join(lines).translate(None, _ASCII)
    return len(high) and (len(high) - len(high.translate(None, _TONE_MARKS))) / len(high)


def reads(line: bytes, charset: str, errors: str = "strict") -> bool:
    try:
        line.decode(charset, errors)
    except UnicodeDecodeError:
        return False
    return True


def page_line(raw: bytes, number: int, reading: Reading) -> str:
    """A page's line in its charset, with the other encoding a page pieced together holds: in a page of a legacy
    encoding, which reads most bytes as something, a line that is UTF-8 is read so (a UTF-8 menu; in GBK or
    Big5, where it holds three UTF-8 characters or more); in a UTF-8 page, a line that is not is read in the
    declared encoding only where it holds fewer UTF-8 characters than bad bytes (else it is UTF-8 with a stray
    byte: an error record, not mojibake; GBK's bytes make a UTF-8 character now and then); else a line that is
    not in the charset is read in the fallback. What neither reads has its bad bytes marked (`decode`)."""
    good, bad_bytes = utf8_counts(raw)
    # a UTF-8 line in a legacy page; GBK or Big5 bytes are UTF-8 by chance only in a line of a character or two
    if reading.fallback == "utf-8" and good and not bad_bytes and (reading.charset in _SINGLE_BYTE or good >= 3):
        return decode(raw, number)[0]
    text, bad = decode(raw, number, reading.charset)
    if bad is None or reading.fallback is None:
        return text
    if reading.charset == "utf-8" and good >= bad_bytes:
        return text  # UTF-8 but for a stray byte: an error record, not the line in mojibake
    other, bad_other = decode(raw, number, reading.fallback)
    return other if bad_other is None else text
