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
later) refuses nested entity bombs. A flat one (one large entity used many times) is within expat's
100x budget and still gigabytes in memory, so entities a DOCTYPE declares may add at most
`MAX_ENTITY_CHARS` characters in all (a real feed's `<!ENTITY nbsp "&#160;">` adds a few). The file is
decoded first, in the encoding it declares, as a page is (GBK, Big5: encodings expat does not read).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.entities import html5
from pathlib import Path
from typing import Iterable, Iterator

import serve.lines  # noqa: F401 - registers the "vnzh-as-a-browser" decoding this reader uses
from serve.feed_items import item_fields, item_name, item_paragraphs, local
from serve.html_pages import UNCLOSED, read_html_records
from serve.page_charset import ESCAPED_BYTE, page_line, page_reading
from serve.tagging import InputRecord
from vnzh_runtime.errors import UserError

XML_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")  # the first element's name, past the declaration, comments and doctype
_PROLOG = re.compile(r"\s*(?:<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>|\s)*", re.DOTALL | re.IGNORECASE)
_XML_DECLARATION = re.compile(r"\s*<\?xml[^>]*\?>")
_OPENS_AS_XML = re.compile(r"<\?xml|<(?:rss|feed|rdf:RDF)[\s>]|<!DOCTYPE\s+(?:rss|feed|rdf)|<!--", re.IGNORECASE)
FEED_ROOTS = {"rss": "item", "RDF": "item", "feed": "entry"}  # local name of the root -> of its articles
MAX_ENTITY_CHARS = 1_000_000
_ENTITY = re.compile(r"<!ENTITY\s+([^\s%;&]+)\s+(?:\"([^\"]*)\"|'([^']*)')")  # a general internal entity
_REFERENCE = re.compile(r"&([^\s;&#]+);")
_CHARACTER_REFERENCE = re.compile(r"&#(?:x[0-9a-fA-F]+|[0-9]+);")
# An `&` and the named entity it opens, if any; a character reference is left alone
_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;)(?:([A-Za-z_][\w.-]*);)?")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_LITERAL = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls XML 1.0 does not allow, even escaped
_DECLARED_PREFIX = re.compile(r"\bxmlns:([\w.-]+)\s*=")
_USED_PREFIX = re.compile(r"<\/?([A-Za-z_][\w.-]*):[\w.-]|\s([A-Za-z_][\w.-]*):[\w.-]+\s*=")


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


def entity_chars(text: str) -> float:
    """How many characters the entities declared in the text's DOCTYPE add where they are used, net of
    the references they replace (an entity within an entity counted expanded, a character reference as
    one character; a loop of entities is unbounded). The first declaration of a name counts, as in XML.

    >>> entity_chars('<!DOCTYPE rss [<!ENTITY a "xyz12"><!ENTITY b "&a;&a;"><!ENTITY nbsp "&#160;">]><rss>&b; &nbsp;</rss>')
    2
    """
    prolog = text[:_PROLOG.match(text).end()]
    values: dict[str, str] = {}
    for found in _ENTITY.finditer(prolog):
        values.setdefault(found.group(1), found.group(2) if found.group(2) is not None else found.group(3))
    if not values:
        return 0
    sizes = expanded_sizes(values)
    return sum(sizes[entity] - len(entity) - 2 for entity in _REFERENCE.findall(text, len(prolog)) if entity in values)


def expanded_sizes(values: dict[str, str]) -> dict[str, float]:
    """Each entity's expanded length, in order of dependence (no recursion: a chain of thousands is a
    real, if odd, feed); an entity on or behind a loop never gets its turn and is unbounded."""
    inner = {name: [ref for ref in _REFERENCE.findall(value) if ref in values] for name, value in values.items()}
    waiting = {name: len(refs) for name, refs in inner.items()}
    users: dict[str, list[str]] = {}
    for name, refs in inner.items():
        for ref in refs:
            users.setdefault(ref, []).append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    sizes: dict[str, float] = {}
    while ready:
        name = ready.pop()
        sizes[name] = len(_CHARACTER_REFERENCE.sub("c", values[name])) + sum(sizes[ref] - len(ref) - 2 for ref in inner[name])
        for user in users.get(name, []):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    return {name: sizes.get(name, float("inf")) for name in values}


def read_xml_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    lines = list(lines)
    text = decoded(b"".join(lines), name)
    declared = Path(name).suffix.lower() in XML_SUFFIXES or text.lstrip("\ufeff \t\r\n").startswith("<?xml")
    if xml_kind(text, name, declared) == "page":  # XHTML, or a page that opens with a comment
        yield from read_html_records(lines, name)
        return
    expanded = entity_chars(text)
    if expanded > MAX_ENTITY_CHARS:  # an entity bomb: gigabytes of memory before the parser would stop
        added = ("an entity that refers to itself" if expanded == float("inf") else
                 f"entities that would add {int(expanded):,} characters (the limit is {MAX_ENTITY_CHARS:,})")
        raise UserError(f"{name}: its DOCTYPE declares {added}; remove the <!ENTITY> declarations, or save the feed "
                        "again from its site")
    declaration = _XML_DECLARATION.match(text)  # it names the file's encoding, and the text is decoded now:
    kept = "\n" * declaration.group(0).count("\n") if declaration else ""  # its lines kept, for errors' numbers
    text = kept + text[declaration.end():] if declaration else text
    try:
        tree = ET.fromstring(text)
    except ET.ParseError:
        try:  # as feed readers do, and only for a feed expat refuses: a valid one is read as written
            tree = ET.fromstring(as_feed_readers_read(text))
        except ET.ParseError as still:  # where it still fails (the rewrite adds no line, but moves columns)
            raise UserError(f"{name}:{still.position[0]}: not well-formed XML ({str(still).partition(':')[0]}); "
                            "fix the feed there") from None
    yield from feed_records(tree, FEED_ROOTS[local(tree.tag)], Path(name).stem, name)


def as_feed_readers_read(text: str) -> str:
    """A feed as sites serve it, made XML as feed readers read it: a bare `&` (`?id=1&cat=2`) escaped, an HTML
    entity XML lacks (`&nbsp;`) written as its character reference (an unknown one is text, as in a page), a
    control character XML forbids dropped (a CMS's vertical tab), and a namespace prefix the feed uses without
    declaring it (`<media:thumbnail>`) declared on its root.

    >>> as_feed_readers_read('<title>Việt&nbsp;Nam &amp; Lào &ndash; a&b &zz;\\x0b</title>')
    '<title>Việt&#160;Nam &amp; Lào &#8211; a&amp;b &amp;zz;</title>'
    >>> as_feed_readers_read('<rss><item><media:thumbnail url="x"/></item></rss>')
    '<rss xmlns:media="urn:undeclared:media"><item><media:thumbnail url="x"/></item></rss>'
    """
    prolog = _PROLOG.match(text).end()
    known = _XML_ENTITIES | {found.group(1) for found in _ENTITY.finditer(text[:prolog])}

    def reference(found: re.Match) -> str:
        entity = found.group(1)
        if entity is None:
            return "&amp;"
        if entity in known:
            return found.group(0)
        characters = html5.get(f"{entity};")
        return "".join(f"&#{ord(c)};" for c in characters) if characters else f"&amp;{entity};"

    # CDATA sections and comments are text as written: an `&` there is an ampersand already
    parts = _LITERAL.split(_FORBIDDEN.sub("", text[prolog:]))
    body = "".join(part if k % 2 else _AMPERSAND.sub(reference, part) for k, part in enumerate(parts))
    return text[:prolog] + with_prefixes_declared(body)


def with_prefixes_declared(body: str) -> str:
    """The body with each namespace prefix its elements and attributes use but no `xmlns:` declares declared on
    its root element (expat: "unbound prefix"), under a name of its own."""
    declared = set(_DECLARED_PREFIX.findall(body)) | {"xml", "xmlns"}
    found = (match.group(1) or match.group(2) for match in _USED_PREFIX.finditer(_LITERAL.sub("", body)))
    used = {prefix for prefix in found if prefix not in declared}
    root = _ROOT.search(body)
    if not used or root is None:
        return body
    declarations = "".join(f' xmlns:{prefix}="urn:undeclared:{prefix}"' for prefix in sorted(used))
    return body[:root.end()] + declarations + body[root.end():]


def decoded(page: bytes, name: str) -> str:
    """The file's text in the encoding its XML declaration names (as a browser reads the label; GBK's 0x80 a
    euro sign), or the one its bytes show (`page_reading`, as for a page), a line in neither refused."""
    reading, lines = page_reading(page), []
    for number, raw in enumerate(page.splitlines(keepends=True), start=1):
        text = page_line(raw, number, reading)
        if ESCAPED_BYTE.search(text):  # decode's marks of bad bytes: a parser would read them as text
            raise UserError(f"{name}:{number}: {reading.failed}; re-save it as UTF-8")
        lines.append(text)
    return "".join(lines)


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
