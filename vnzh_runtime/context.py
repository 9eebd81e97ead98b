"""Article context: what a reader of the whole article knows when reading one paragraph.

A real article names Vietnam and China in its headline and lead, and its later paragraphs
often name neither ("the two sides agreed..."). Every paragraph of a document is therefore
read together with the document's head: its first `head` substantive paragraphs (enough
tokens to be a headline or body text, so menus and one-word furniture are skipped), less
the paragraph itself. A paragraph with no document has no context:

    >>> contexts(["Trang chủ", "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác", "Hai bên nhất trí..."],
    ...          ["d1", "d1", "d1"], head=2)
    ['Việt Nam và Trung Quốc ký 14 văn kiện hợp tác', '', 'Việt Nam và Trung Quốc ký 14 văn kiện hợp tác']
    >>> contexts(["Giá vàng hôm nay"], [None])
    ['']

`DocumentHeads` keeps the heads of documents seen so far, so a stream of records read in
batches gets the same contexts as one whole batch, as long as a document's records are
consecutive.

A paragraph is also read with the paragraph after it, when that one is of the same document
(a subhead is followed by its section's body, a sidebar teaser by more teasers):

    >>> following(["Giữ nhịp giao thương", "Mỗi ngày hơn 1.200 xe...", "Giá vàng hôm nay"], ["d1", "d1", None])
    ['Mỗi ngày hơn 1.200 xe...', None, None]
"""

from __future__ import annotations

import json
import unicodedata

from vnzh_runtime.markup import clean_markup
from vnzh_runtime.textnorm import tokenize

DEFAULT_HEAD = 3
MIN_TOKENS = 6  # fewer tokens: navigation, a byline or a caption credit, not a headline or a lead


def document_key(doc_id):
    """The name of a document: a string as it is, any other JSON value as its compact JSON text;
    None or a blank string: no document.

    A `doc_id` names an article, it is not a number: 7 and "7" are one document, while 7, 7.0 and
    true are three, however a file spells them (`serve tag`, the API, the pyfunc and
    `train.evaluate` alike).

    >>> [document_key(d) for d in (7, "7", 7.0, True, {"a": 1}, "", None)]
    ['7', '7', '7.0', 'true', '{"a":1}', None, None]
    """
    if isinstance(doc_id, str):
        return doc_id if doc_id.strip() else None
    if doc_id is None:
        return None
    return json.dumps(doc_id, ensure_ascii=False, separators=(",", ":"), default=str)


def is_substantive(text: str) -> bool:
    return len(tokenize(unicodedata.normalize("NFC", clean_markup(text)))) >= MIN_TOKENS  # decomposed marks split words


class DocumentHeads:
    """doc id -> its first `head` substantive paragraphs, filled as records stream past."""

    def __init__(self, head: int = DEFAULT_HEAD):
        self.head = head
        self.heads: dict[object, list[str]] = {}

    def add(self, texts: list[str], doc_ids: list) -> None:
        for text, doc in zip(texts, map(document_key, doc_ids)):
            if doc is None:
                continue
            head = self.heads.setdefault(doc, [])
            if len(head) < self.head and is_substantive(text):
                head.append(text)

    def complete(self, doc) -> bool:
        """Whether the document's head is whole: later paragraphs cannot change its context."""
        return len(self.heads.get(document_key(doc), [])) >= self.head

    def context(self, text: str, doc) -> str:
        head = self.heads.get(document_key(doc), []) if doc is not None else []
        return "\n".join(paragraph for paragraph in head if paragraph != text)


def contexts(texts: list[str], doc_ids: list | None, head: int = DEFAULT_HEAD) -> list[str]:
    """The context of each text: its document's head less itself ("" without a document)."""
    if doc_ids is None:
        return [""] * len(texts)
    heads = DocumentHeads(head)
    heads.add(texts, doc_ids)
    return [heads.context(text, doc) for text, doc in zip(texts, doc_ids)]


def following(texts: list[str], doc_ids: list | None) -> list[str | None]:
    """The next text when it is of the same document, else None (an article's last paragraph, no document)."""
    if doc_ids is None:
        return [None] * len(texts)
    keys = list(map(document_key, doc_ids))
    return [texts[i + 1] if doc is not None and i + 1 < len(texts) and keys[i + 1] == doc else None
            for i, doc in enumerate(keys)]
