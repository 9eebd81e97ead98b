"""One feed item (RSS `<item>`, Atom `<entry>`) as an article: its document name and its paragraphs.

An item's fields are taken only in the namespaces a feed's own title and body come in, so a Media
RSS caption (`<media:description>`) is not its body. The body is HTML however it is written (escaped,
CDATA, or elements in the feed: RSS descriptions are HTML; Atom's `type="xhtml"` is elements), read
as `serve.html_pages` reads a page, so scripts and styles stay out and `<p>`s stay paragraphs; only
Atom's `type="text"` is plain text, a paragraph per blank-line-separated block:

    >>> import xml.etree.ElementTree as ET
    >>> item = ET.fromstring("<item><title>Hai nước ký kết</title><description>&lt;p&gt;Một.&lt;/p&gt;"
    ...                      "&lt;script&gt;x()&lt;/script&gt;&lt;p&gt;Hai.&lt;/p&gt;</description></item>")
    >>> item_paragraphs(item_fields(item))
    ['Hai nước ký kết', 'Một.', 'Hai.']
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from copy import deepcopy

from serve.html_pages import page_paragraphs
from serve.lines import LINE_END
from vnzh_runtime.markup import is_blank

BODY_FIELDS = ("encoded", "content", "description", "summary")  # content:encoded before RSS's description
# Namespaces of an item's own fields: none (RSS 2.0), RSS 1.0's and 0.90's, Userland's RSS 2.0, the content
# module's, Atom's (1.0 and 0.3). Not Media RSS (a photo's caption), iTunes or Dublin Core.
FEED_NAMESPACES = ("", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/",
                   "http://backend.userland.com/rss2", "http://purl.org/rss/1.0/modules/content/",
                   "http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_BLANK_LINES = re.compile(r"\n\s*\n")


def local(tag: str) -> str:
    return tag.rpartition("}")[2].rpartition(":")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def item_fields(item: ET.Element) -> dict[str, list[ET.Element]]:
    """The item's own child elements by local name, in order (an Atom entry may have several links)."""
    fields: dict[str, list[ET.Element]] = {}
    for child in item:
        if isinstance(child.tag, str) and namespace(child.tag) in FEED_NAMESPACES:
            fields.setdefault(local(child.tag), []).append(child)
    return fields


def item_name(fields: dict) -> str | None:
    """Its guid or Atom id, else its page's link (Atom's `rel="alternate"` one, not its replies or enclosure)."""
    for key in ("guid", "id"):
        for element in fields.get(key, []):
            if (element.text or "").strip():
                return element.text.strip()
    for element in fields.get("link", []):
        if element.get("rel", "alternate") == "alternate":
            value = (element.text or "").strip() or element.get("href", "").strip()
            if value:
                return value
    return None


def item_paragraphs(fields: dict) -> list[str | None]:
    """An item's title, then its body's paragraphs (the first body field that has any); None: a
    `<script>` in its HTML never closed, which hides the rest, as on a page."""
    titles = fields.get("title", [])
    paragraphs = [" ".join(p for p in field_paragraphs(titles[0]) if p)] if titles else []
    for key in BODY_FIELDS:
        body = next((found for element in fields.get(key, []) if (found := field_paragraphs(element))), [])
        if body:
            paragraphs += body
            break
    return [p for p in paragraphs if p is None or not is_blank(p)]


def field_paragraphs(element: ET.Element) -> list[str | None]:
    kind = (element.get("type") or "html").lower()
    if kind in ("text", "text/plain"):  # plain text: "<" is text, a blank line ends a paragraph
        return [" ".join(block.split()) for block in _BLANK_LINES.split(element.text or "") if not is_blank(block)]
    markup = field_markup(element)
    return [p for _, p in page_paragraphs(line + "\n" for line in LINE_END.split(markup))]


def field_markup(element: ET.Element) -> str:
    """A field's HTML: its text (escaped HTML or CDATA), with any elements it holds (Atom's xhtml, or a
    feed that put its HTML in unescaped) written back as markup, their namespaces dropped so that
    `<xhtml:p>` ends a paragraph as `<p>` does."""
    if not len(element):
        return element.text or ""
    copy = deepcopy(element)
    for node in copy.iter():
        if isinstance(node.tag, str):
            node.tag = local(node.tag)
    return (copy.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in copy)
