"""An XML file: a news feed (RSS 2.0, RSS 1.0, Atom) read item by item, an XHTML page read as the
page it is, and any other XML refused in one line.

Read as a page, a feed loses its items' titles (a <title> is not shown) and its descriptions
(escaped HTML or CDATA), and its items run together. Here each item is an article: its title,
then the paragraphs of its description or content (HTML, read as `serve.html_pages` reads a page;
plain text, one paragraph per line), each a record of the item's document (`doc_id`: its guid or
id, else its link, else `<stem>:item<n>`), numbered `<stem>:item<n>.<k>`:

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
from copy import deepcopy as copy_element
from pathlib import Path
from typing import Iterable, Iterator

from serve.html_pages import UNCLOSED, page_paragraphs, read_html_records
from serve.lines import LINE_END  # importing serve.lines registers the "vnzh-as-a-browser" decoding too
from serve.page_charset import declared_label, page_charset
from serve.tagging import InputRecord
from vnzh_runtime.errors import UserError
from vnzh_runtime.markup import is_blank

XML_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")  # the first element's name, past the declaration, comments and doctype
_PROLOG = re.compile(r"\s*(?:<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>|\s)*", re.DOTALL | re.IGNORECASE)
_XML_DECLARATION = re.compile(r"\s*<\?xml[^>]*\?>")
FEED_ROOTS = {"rss": "item", "RDF": "item", "feed": "entry"}  # local name of the root -> of its articles
BODY_FIELDS = ("encoded", "content", "description", "summary")  # content:encoded before RSS's description
# The namespaces an item's own title and body come in: none (RSS 2.0), RSS 1.0's, its content module's and
# Atom's. Not Media RSS's <media:content>/<media:description> (a photo's caption) or iTunes' fields.
FEED_NAMESPACES = ("", "http://purl.org/rss/1.0/", "http://purl.org/rss/1.0/modules/content/",
                   "http://www.w3.org/2005/Atom")


def local(tag: str) -> str:
    return tag.rpartition("}")[2].rpartition(":")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def root_name(text: str) -> str | None:
    found = _ROOT.match(text, _PROLOG.match(text).end())
    return found.group(1) if found else None


def opens_as_xml(first_line: str) -> bool:
    """Whether a file's first non-blank line is an XML declaration or a feed's root element."""
    start = first_line.lstrip("\ufeff \t")
    return start.startswith("<?xml") or bool(re.match(r"<(?:rss|feed|rdf:RDF)[\s>]", start))


def xml_kind(text: str, name: str) -> str:
    """"page" (XHTML, or no element at all) or "feed"; any other XML document is refused in one line."""
    root = root_name(text)
    if root is None or local(root).lower() == "html":
        return "page"
    if local(root) not in FEED_ROOTS:
        raise UserError(f"{name}: an XML document (<{root}>), not a page, a feed or text; save it from its "
                        "program as \"Plain Text\" (UTF-8), or send the page or feed it came from")
    return "feed"


def read_xml_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    lines = list(lines)
    page = b"".join(lines)
    text = decoded(page, name)
    if xml_kind(text, name) == "page":  # XHTML: read as the page it is
        yield from read_html_records(lines, name)
        return
    root = root_name(text)
    try:
        declaration = _XML_DECLARATION.match(text)  # it names the file's encoding, and the text is decoded now:
        kept = "\n" * declaration.group(0).count("\n") if declaration else ""  # its lines kept, for errors' numbers
        tree = ET.fromstring(kept + text[declaration.end():] if declaration else text)
    except ET.ParseError as err:
        line, column = err.position
        raise UserError(f"{name}:{line}: not well-formed XML ({str(err).partition(':')[0]}, column {column + 1}); "
                        "fix the feed there, or save it again from its site") from None
    yield from feed_records(tree, FEED_ROOTS[local(root)], Path(name).stem, name)


def decoded(page: bytes, name: str) -> str:
    """The file's text in the encoding its XML declaration names (as a browser reads the label)."""
    charset = "utf-8-sig" if page.startswith(b"\xef\xbb\xbf") else page_charset(page)
    try:
        return page.decode(charset, "vnzh-as-a-browser")  # GBK's 0x80 is a euro sign, as in a page
    except UnicodeDecodeError as err:
        line = page.count(b"\n", 0, err.start) + 1
        label = "UTF-8" if charset.startswith("utf-8") else f"{declared_label(page)} as the file declares"
        raise UserError(f"{name}:{line}: not {label} (byte {err.start}); re-save it as UTF-8") from None


def feed_records(tree: ET.Element, item_name: str, stem: str, name: str) -> Iterator[InputRecord]:
    items = [element for element in tree.iter() if local(element.tag) == item_name]
    if not items:
        raise UserError(f"{name}: a feed with no <{item_name}>; nothing to tag")
    for number, item in enumerate(items, start=1):
        fields = {}
        for child in item:
            if isinstance(child.tag, str) and namespace(child.tag) in FEED_NAMESPACES:
                fields.setdefault(local(child.tag), child)
        doc_id = item_id(fields) or f"{stem}:item{number}"
        paragraphs = item_paragraphs(fields)
        if not paragraphs:  # an item is a record of the feed: it says why it gave none
            yield InputRecord(f"{stem}:item{number}", None, doc_id, f"{name}: item {number} has no title and no text")
        for k, paragraph in enumerate(paragraphs, start=1):
            where = f"{name}: item {number}, paragraph {k}: {UNCLOSED}"  # a <script> in its HTML never closed
            yield InputRecord(f"{stem}:item{number}.{k}", paragraph, doc_id, None if paragraph is not None else where)


def item_id(fields: dict) -> str | None:
    for key in ("guid", "id", "link"):
        element = fields.get(key)
        if element is not None:
            value = (element.text or "").strip() or element.get("href", "").strip()
            if value:
                return value
    return None


def item_paragraphs(fields: dict) -> list[str]:
    """An item's title, then its body's paragraphs (the first body field that has any)."""
    title = fields.get("title")
    paragraphs = [" ".join(p for p in body_paragraphs(title) if p)] if title is not None else []  # Atom's may be HTML
    for key in BODY_FIELDS:
        if key in fields:
            body = body_paragraphs(fields[key])
            if body:
                paragraphs += body
                break
    return [p for p in paragraphs if p is None or not is_blank(p)]


def field_text(element: ET.Element) -> str:
    """A field's text; an Atom `type="xhtml"` field's markup as its source."""
    if element.get("type") == "xhtml":  # its elements without their namespace, so <p> is a paragraph's end
        copy = copy_element(element)
        for node in copy.iter():
            node.tag = local(node.tag) if isinstance(node.tag, str) else node.tag
        return "".join(ET.tostring(child, encoding="unicode") for child in copy)
    return " ".join(element.itertext())  # texts of child elements (another feed's markup) apart, not glued


def body_paragraphs(element: ET.Element) -> list[str | None]:
    """A field's paragraphs: its HTML's as a page's (None: a <script> never closed), or a line each."""
    text = field_text(element)
    if element.get("type") == "text" or "<" not in text:  # plain text: a paragraph per line
        return [" ".join(line.split()) for line in LINE_END.split(text) if not is_blank(line)]
    return [p for _, p in page_paragraphs(line + "\n" for line in LINE_END.split(text))]
