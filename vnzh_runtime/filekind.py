"""What a whole input file is when it is not UTF-8 text: a wide Unicode encoding, a compressed
archive, or (for JSON Lines, `vnzh_runtime.jsonshape`) one JSON array or one object spread over lines. Read line by line,
each would be a page of errors ("not UTF-8" per line); decided once on the first lines (the first,
the first non-blank one and the line after it), it is one message that names the fix.
`serve tag` and the training and evaluation data readers both ask it.

    >>> whole_file_problem([b"\\x1f\\x8b\\x08\\x00"], "feed.jsonl", jsonl=True)
    'feed.jsonl: a gzip archive, not text; decompress it first (gzip -dc feed.jsonl > feed-unpacked.jsonl)'
    >>> whole_file_problem([b'{"text": "Kim ngach"}\\n'], "feed.jsonl", jsonl=True) is None
    True
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Iterator

from vnzh_runtime.fix_commands import TAR_SUFFIXES, iconv_fix, pdf_fix, tar_fix, unpack_fix
from vnzh_runtime.jsonshape import ends_lines_in_cr, is_spread_object, json_lines_problem
from vnzh_runtime.mailfile import MAIL_HEADER_LINES, is_mail, opens_as_headers
from vnzh_runtime.markup import is_blank

# Byte order marks of the encodings a Windows editor saves as "Unicode"; the UTF-32 ones first (FF FE 00 00 begins with FF FE).
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
              (b"\xfe\xff", "UTF-16"))
# Magic bytes of the archives a feed comes in
# (magic, kind, the command that writes the contents to standard output: `gunzip -k` refuses a name without .gz)
_COMPRESSED = ((b"\x1f\x8b", "gzip", "gzip -dc"), (b"PK\x03\x04", "zip", "unzip -p"), (b"BZh", "bzip2", "bzip2 -dc"),
               (b"\xfd7zXZ\x00", "xz", "xz -dc"), (b"\x28\xb5\x2f\xfd", "zstd", "zstd -dc"))
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a .doc, .xls or .ppt of Office 97-2003
# An image's magic bytes (a photo dropped on the page): else a page of "not UTF-8" records and binary junk
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
           (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
# Other files an analyst's folder holds, named in the refusal: (magic, kind, whether text could open so too:
# then the file must also read as binary). Any other binary file is known by its bytes (`binary_kind`).
_BINARIES = ((b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", False), (b"Rar!\x1a\x07", "a RAR archive", False),
             (b"SQLite format 3\x00", "an SQLite database", False), (b"{\\rtf", "an RTF document", False),
             (b"PAR1", "a Parquet file (python -m serve spark reads it)", True),
             (b"bplist00", "a Safari web archive or property list", True))
# C0 control bytes no text holds (tab, line ends, vertical tab, form feed, ESC and a legacy code's SO/SI aside)
_CONTROL_BYTES = bytes([*range(0, 9), *range(16, 27), *range(28, 32)])
_PRINTABLE = bytes([9, 10, 13, *range(32, 127)])
_MHTML_SUFFIXES = (".mht", ".mhtml")
_OPEN_XML_PARTS = (b"[Content_Types].xml", b"_rels/", b"docProps/", b"word/", b"xl/", b"ppt/", b"customXml/")
_OFFICE_SUFFIXES = (".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".odt", ".ods", ".odp")


def office_document(start: bytes, name: str = "") -> str | None:
    """What office file a file's first bytes (and its name) show: an Office 97-2003 one (OLE2), an
    OpenDocument one (a zip whose first member is `mimetype`, as LibreOffice saves), or an Open XML
    one (a zip whose first member is one of its parts, in whatever order the writer puts them, or
    named .docx, .xlsx, ...); else None. Unzipped, any of them is XML, not its text."""
    if start.startswith(_OLE2):
        return "an Office 97-2003 document (.doc, .xls)"
    if not start.startswith(b"PK\x03\x04"):
        return None
    member = start[30:30 + int.from_bytes(start[26:28], "little")]  # the zip's first member's name
    if member == b"mimetype" and b"application/vnd.oasis.opendocument" in start:
        return "an OpenDocument file (.odt, .ods)"
    if member.startswith(_OPEN_XML_PARTS) or b"[Content_Types].xml" in start[:128] or \
            Path(name).suffix.lower() in _OFFICE_SUFFIXES:
        return "an Office document (.docx, .xlsx)"
    return None


def binary_kind(start: bytes) -> str | None:
    """What binary file a file's first bytes show, or None where they may be text in some encoding. Text
    that is UTF-8 may hold stray control bytes (a careless exporter's, a PDF's copied ligatures); text in
    a legacy code (VISCII puts capitals on control bytes) is mostly printable ASCII. Video, archives and
    /dev/urandom are neither:

    >>> binary_kind(b"SQLite format 3\\x00..."), binary_kind(b"\\x00\\x00\\x00 ftypisom\\x9c\\xfe\\x01\\x00\\x8f")
    ('an SQLite database', 'a binary file (video, audio or data)')
    >>> binary_kind("Việt\\x03Nam\\x02\\x01\\x04".encode()), binary_kind(b"PAR1 of the report")
    (None, None)
    """
    utf8 = is_utf8(start)
    named = next((kind for magic, kind, textlike in _BINARIES if start.startswith(magic) and not (textlike and utf8)), None)
    if named or utf8:
        return named
    controls = len(start) - len(start.translate(None, _CONTROL_BYTES))
    printable = len(start) - len(start.translate(None, _PRINTABLE))
    binary = (b"\x00" in start or controls >= 4) and printable < 0.6 * len(start)
    return "a binary file (video, audio or data)" if binary else None


def is_utf8(start: bytes) -> bool:
    """Whether a file's first bytes are UTF-8, a character cut at their end allowed."""
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(start) - 3 and err.reason == "unexpected end of data"
    return True


def utf16_without_bom(start: bytes) -> str | None:
    """"UTF-16LE" or "UTF-16BE" where a file's first bytes have their NULs at one parity (its ASCII characters' high
    bytes), though its first character is not ASCII (`wide_encoding` reads those): "中越 2024" in UTF-16."""
    odd = sum(i % 2 for i, byte in enumerate(start) if byte == 0)  # NULs at odd offsets: little-endian
    nuls = start.count(0)
    if nuls < max(4, len(start) // 16) or max(odd, nuls - odd) < 0.9 * nuls:
        return None
    encoding = "UTF-16LE" if odd > nuls - odd else "UTF-16BE"  # without a BOM iconv assumes one order: name it
    text = start[:len(start) // 2 * 2].decode(encoding, "replace")
    shown = sum(c.isprintable() or c.isspace() for c in text)
    return encoding if shown >= 0.9 * len(text) else None  # else 16-bit samples of a sound file, say


def wide_encoding(first: bytes) -> str | None:
    """"UTF-16"/"UTF-32" when the file's first line shows one (a BOM, or a NUL beside an ASCII byte:
    no UTF-8 input of ours starts with NUL), else None."""
    for bom, encoding in _WIDE_BOMS:
        if first.startswith(bom):
            return encoding
    return "UTF-16" if len(first) >= 2 and (first[0] == 0) != (first[1] == 0) else None


def opens_records(head: list[bytes]) -> bool:
    """Whether a file of no suffix (`--input /dev/stdin`, `feed`) opens as JSON made of records: a
    JSON array of objects or an object spread over lines. Such a file is JSON, not an article of
    brackets; a raw article may well open with "[Video] ...", which is no array.

    >>> opens_records([b"[\\n", b'  {"text": "x"},\\n']), opens_records([b"[Video] Kim ngach\\n", b"tang\\n"])
    (True, False)
    >>> opens_records([b'[{"text": "x"}]\\n']), opens_records([b"[Photo]\\n", b"Kim ngach\\n"])
    (True, False)
    """
    number, filled, after = filled_and_after(head)
    text = filled.lstrip(b"\xef\xbb\xbf").strip()
    if is_spread_object(filled, after) or (text == b"[" and after.lstrip().startswith(b"{")):
        return True
    if ends_lines_in_cr(filled):  # records joined by old Mac line ends
        return True
    try:
        value = json.loads(text)  # an array on one line; "[Ảnh]" is no JSON
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit, no records file either
        return False
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def is_blank_line(raw: bytes) -> bool:
    return is_blank(raw.decode("utf-8", "replace"))


def head_lines(lines: Iterator[bytes]) -> list[bytes]:
    """A file's lines up to its first non-blank one and the line after it (and, where the first line is
    a mail header, the rest of its header block, up to MAIL_HEADER_LINES more): what
    `whole_file_problem` reads. The caller reads on from `lines` after them."""
    head = []
    for raw in lines:
        head.append(raw)
        if not is_blank_line(raw):
            head.extend(islice(lines, 1))
            break
    if len(head) >= 2 and opens_as_headers(head[-2]) and not is_blank_line(head[-1]):  # a header block, for `is_mail`
        for raw in islice(lines, MAIL_HEADER_LINES):
            head.append(raw)  # every line read is kept: the caller reads the file on from `head`
            if is_blank_line(raw):
                break
    return head


def first_filled(head: list[bytes]) -> tuple[int, bytes]:
    """(line number, text) of the first non-blank line of a file's head, or (1, b"")."""
    return next(((number, raw) for number, raw in enumerate(head, start=1) if not is_blank_line(raw)), (1, b""))


def filled_and_after(head: list[bytes]) -> tuple[int, bytes, bytes]:
    """(line number, text) of the first non-blank line of a file's head, and the line after it (b"" at the end)."""
    number, filled = first_filled(head)
    return number, filled, head[number] if number < len(head) else b""


def mime_problem(first: bytes, name: str) -> str | None:
    """A browser's single-file page (MHTML, by its first line or its name) or another MIME file."""
    if first.startswith((b"From: <Saved by", b"Snapshot-Content-Location:")) or \
            Path(name).suffix.lower() in _MHTML_SUFFIXES:  # a browser's "single file" page, images and all
        return f"{name}: a saved MHTML page, not HTML; save the page as \"Webpage, HTML only\" instead"
    if first.startswith(b"MIME-Version:"):
        return (f"{name}: a MIME file (a saved MHTML page or an e-mail), not HTML or text; save the page as "
                "\"Webpage, HTML only\", or the article's text from the mail program")
    return None


def pasted_problem(text: str) -> str | None:
    """What `/tag/article` refuses in a pasted text, as `serve tag` refuses such a file: a saved page's MIME
    source, an Office file's bytes. A paste is Unicode already: no encoding or binary-bytes check applies.

    >>> pasted_problem("From: <Saved by Blink>\\nSnapshot-Content-Location: https://x.vn"), pasted_problem("Việt Nam")
    ('text: a saved MHTML page, not HTML; save the page as "Webpage, HTML only" instead', None)
    """
    start = text.removeprefix("\ufeff").encode("utf-8", "surrogatepass")[:512]
    office = office_document(start)
    if office:
        return f"text: {office}, not text; paste the article's text instead"
    return mime_problem(start.split(b"\n", 1)[0], "text")


def whole_file_problem(head: list[bytes], name: str, jsonl: bool) -> str | None:
    """The one-line error for a file whose first lines are `head` (`head_lines`), or None when it reads as text."""
    first = head[0] if head else b""
    start = b"".join(head)[:512]  # a zip's header may hold a \n before the first name
    if start[257:262] == b"ustar":  # a tar's header (before the NUL test: a one-letter name reads as UTF-16)
        return f"{name}: a tar archive, not text; unpack it first ({tar_fix(name)})"
    encoding = wide_encoding(first)
    if encoding:
        return f"{name}:1: the file is {encoding}, not UTF-8; re-save it as UTF-8 ({iconv_fix(name, encoding, first)})"
    office = office_document(start, name)
    if office:
        return (f"{name}: {office}, not text; save it from its program as \"Plain Text\" (UTF-8), "
                "or a spreadsheet as CSV UTF-8")
    for magic, kind, command in _COMPRESSED:
        if first.startswith(magic):
            if name.lower().endswith(TAR_SUFFIXES):  # decompressed, a tar: unpack it whole
                flag = {"gzip": "z", "bzip2": "j", "xz": "J"}.get(kind, "a")
                return f"{name}: a compressed tar archive, not text; unpack it first ({tar_fix(name, flag)})"
            return f"{name}: a {kind} archive, not text; decompress it first ({unpack_fix(name, command)})"
    image = next((kind for magic, kind in _IMAGES if start.startswith(magic)), None)  # a PNG signature holds a line feed
    if image is None and start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        image = "WebP"
    if image:
        return f"{name}: an image ({image}), not text; copy the article's text from its page into a .txt file"
    if first.startswith(b"%PDF-"):  # else a page of "not UTF-8" records and binary lines tagged `other`
        return f"{name}: a PDF, not text; extract its text first ({pdf_fix(name)})"
    encoding = utf16_without_bom(start)
    if encoding:
        return f"{name}:1: the file is {encoding[:6]}, not UTF-8; re-save it as UTF-8 ({iconv_fix(name, encoding, start)})"
    binary = binary_kind(start)
    if binary:
        return (f"{name}: {binary}, not text; save or export the articles as text (UTF-8), JSON Lines, CSV "
                "or a page's HTML")
    mime = mime_problem(first, name)
    if mime:
        return mime
    if is_mail(head):  # .eml, mbox
        return (f"{name}: an e-mail message (headers and encoded parts), not an article; save the article's "
                "text from the mail program, or the page it links to")
    if jsonl:
        return json_lines_problem(*filled_and_after(head), name)
    return None
