"""An XML file: a news feed (RSS 2.0, RSS 1.0, Atom) read item by item, an XHTML page read as the
page it is, and any other XML refused in one line.

Read as a page, a feed loses its items' titles (a <title> is not shown) and its descriptions
(escaped HTML or CDATA), and its items run together. Here each item is an article: its title,
then the paragraphs of its description or content (`serve.feed_items`), each a record of the
item's document (`doc_id`: its guid or id, else its link, else `<stem>:item<n>`, which also names
an item whose guid an earlier one had), numbered `<stem>:item<n>.<k>`:

    >>> rss = b'<rss><channel><item><title>Viet Nam, China open rail link</title><guid>a1</guid>'
    >>> rss += b'<description>&lt;p&gt;Trains run daily.&lt;/p&gt;&lt;p&gt;Freight doubles.&lt;/p&gt;</description>'
    >>> for r in read_xml_records([rss + b'</item></channel></rss>'], "feed.xml"):
    ...     print(r.id, r.text, r.doc_id, sep=" | ")
    feed:item1.1 | Viet Nam, China open rail link | a1
    feed:item1.2 | Trains run daily. | a1
    feed:item1.3 | Freight doubles. | a1

The XML parser is Python's (expat): no external entity or DTD is fetched, and expat (2.4 and
later) refuses entity expansion bombs. The file is decoded first, in the encoding it declares, as
a page is (GBK, Big5: encodings expat does not read).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable, Iterator

import serve.lines  # noqa: F401 - registers the "vnzh-as-a-browser" decoding this reader uses
from serve.feed_items import item_fields, item_name, item_paragraphs, local
from serve.html_pages import UNCLOSED, read_html_records
from serve.page_charset import declared_label, page_charset
from serve.tagging import InputRecord
from vnzh_runtime.errors import UserError

XML_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")  # the first element's name, past the declaration, comments and doctype
_PROLOG = re.compile(r"\s*(?:<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>|\s)*", re.DOTALL | re.IGNORECASE)
_XML_DECLARATION = re.compile(r"\s*<\?xml[^>]*\?>")
_OPENS_AS_XML = re.compile(r"<\?xml|<(?:rss|feed|rdf:RDF)[\s>]|<!DOCTYPE\s+(?:rss|feed|rdf)|<!--", re.IGNORECASE)
FEED_ROOTS = {"rss": "item", "RDF": "item", "feed": "entry"}  # local name of the root -> of its articles


def root_name(text: str) -> str | None:
    found = _ROOT.match(text, _PROLOG.match(text).end())
    return found.group(1) if found else None


def opens_as_xml(first_line: str) -> bool:
    """Whether a file's first non-blank line may open XML: a declaration, a feed's root or doctype, or a
    comment (a page's too: `xml_kind` then reads the root element)."""
    return bool(_OPENS_AS_XML.match(first_line.lstrip("\ufeff \t")))


def xml_kind(text: str, name: str, declared: bool) -> str:
    """"feed", or "page" (XHTML, or markup that only looked like XML); XML of another kind (a sitemap, a
    Word 2003 document), or a file `declared` XML (named .xml, .rss, ..., or opening `<?xml`) that holds
    no element at all, is refused in one line."""
    root = root_name(text)
    if root is not None and local(root) in FEED_ROOTS:
        return "feed"
    if root is None and declared:
        shown = text.lstrip("\ufeff")[:40].strip()
        raise UserError(f"{name}: not XML (it opens {shown!r}); rename it for what it is: .jsonl for JSON Lines, "
                        ".csv for a table, .txt for an article")
    if root is None or local(root).lower() == "html" or not declared:
        return "page"
    raise UserError(f"{name}: an XML document (<{root}>), not a page, a feed or text; save it from its "
                    "program as \"Plain Text\" (UTF-8), or send the page or feed it came from")


def read_xml_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    lines = list(lines)
    text = decoded(b"".join(lines), name)
    declared = Path(name).suffix.lower() in XML_SUFFIXES or text.lstrip("\ufeff \t\r\n").startswith("<?xml")
    if xml_kind(text, name, declared) == "page":  # XHTML, or a page that opens with a comment
        yield from read_html_records(lines, name)
        return
    try:
        declaration = _XML_DECLARATION.match(text)  # it names the file's encoding, and the text is decoded now:
        kept = "\n" * declaration.group(0).count("\n") if declaration else ""  # its lines kept, for errors' numbers
        tree = ET.fromstring(kept + text[declaration.end():] if declaration else text)
    except ET.ParseError as err:
        line, column = err.position
        raise UserError(f"{name}:{line}: not well-formed XML ({str(err).partition(':')[0]}, column {column + 1}); "
                        "fix the feed there, or save it again from its site") from None
    yield from feed_records(tree, FEED_ROOTS[local(tree.tag)], Path(name).stem, name)


def decoded(page: bytes, name: str) -> str:
    """The file's text in the encoding its XML declaration names (as a browser reads the label)."""
    charset = "utf-8-sig" if page.startswith(b"\xef\xbb\xbf") else page_charset(page)
    try:
        return page.decode(charset, "vnzh-as-a-browser")  # GBK's 0x80 is a euro sign, as in a page
    except UnicodeDecodeError as err:
        line = page.count(b"\n", 0, err.start) + 1
        label = "UTF-8" if charset.startswith("utf-8") else f"{declared_label(page)} as the file declares"
        raise UserError(f"{name}:{line}: not {label} (byte {err.start}); re-save it as UTF-8") from None


def feed_records(tree: ET.Element, item_tag: str, stem: str, name: str) -> Iterator[InputRecord]:
    """Each item's paragraphs as records of its document; an item that gives none, one error record."""
    items = [element for element in tree.iter() if isinstance(element.tag, str) and local(element.tag) == item_tag]
    if not items:
        raise UserError(f"{name}: a feed with no <{item_tag}>; nothing to tag")
    named: set = set()
    for number, item in enumerate(items, start=1):
        fields = item_fields(item)
        doc_id = item_name(fields)
        doc_id = doc_id if doc_id is not None and doc_id not in named else f"{stem}:item{number}"  # one article each
        named.add(doc_id)
        try:
            paragraphs = item_paragraphs(fields)
        except RecursionError:  # markup nested past Python's limit: this item's error, not a traceback
            yield InputRecord(f"{stem}:item{number}", None, doc_id, f"{name}: item {number}: its markup is nested "
                                                                    "too deep to read; simplify it")
            continue
        if not paragraphs:  # an item is a record of the feed: it says why it gave none
            yield InputRecord(f"{stem}:item{number}", None, doc_id, f"{name}: item {number} has no title and no text")
        for k, paragraph in enumerate(paragraphs, start=1):
            where = f"{name}: item {number}, paragraph {k}: {UNCLOSED}"  # a <script> in its HTML never closed
            yield InputRecord(f"{stem}:item{number}.{k}", paragraph, doc_id, None if paragraph is not None else where)
