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

`DocumentHeads` keeps the heads of a stream's documents while they are needed, so records read
in batches get the same contexts as one whole batch, as long as a document's records are
consecutive.

A paragraph is also read with the next paragraph of its document (a subhead is followed by its
section's body, a sidebar teaser by more teasers; `following_in_run` for streams):

    >>> following(["Giữ nhịp giao thương", "Mỗi ngày hơn 1.200 xe...", "Giá vàng hôm nay"], ["d1", "d1", None])
    ['Mỗi ngày hơn 1.200 xe...', None, None]
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from typing import Iterable

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


# What feeds and scrapers call the article a paragraph belongs to (compared without case, space, _ or -)
DOCUMENT_LOOKALIKES = {"docid", "doc", "document", "documentid", "article", "articleid", "storyid", "pageid",
                       "postid", "newsid", "url", "link"}


def document_lookalike(keys: Iterable) -> str | None:
    """The key that seems to name a record's article where it has no `doc_id`, or None.

    >>> document_lookalike(["id", "URL", "text"]), document_lookalike(["url", "doc_id"])
    ('URL', None)
    """
    keys = [key for key in keys if isinstance(key, str)]
    if "doc_id" in keys:
        return None
    return next((key for key in keys if re.sub(r"[\s_-]", "", key.lower()) in DOCUMENT_LOOKALIKES), None)


def jq_fix(near: str) -> str:
    return f"name the article in doc_id, e.g. jq -c '.doc_id = .[{json.dumps(near, ensure_ascii=False)}]'"


def note_document_lookalike(keys: Iterable, name: str, fix=jq_fix) -> None:
    """One note on standard error for a file whose records name their article under another key
    (`document_lookalike`): each paragraph is then read without its article's context, which no error
    would tell. `serve tag`'s readers and `train.evaluate`'s samples call it with a file's first record."""
    near = document_lookalike(keys)
    if near is not None:
        print(f"note: {name}: its records have {near!r} but no 'doc_id', so each paragraph is read without its "
              f"article (fix: {fix(near)})", file=sys.stderr)


def is_substantive(text: str) -> bool:
    return len(tokenize(unicodedata.normalize("NFC", clean_markup(text)))) >= MIN_TOKENS  # decomposed marks split words


def add_to_head(head: list[str], text: str, size: int) -> None:
    """A document's next paragraph joins its head while the head has room and the paragraph is substantive."""
    if len(head) < size and is_substantive(text):
        head.append(text)


class DocumentHeads:
    """The heads of documents as records stream past (`serve tag`), by document run.

    A streamed document is a run of consecutive records with its doc_id: a record of another
    document, or one without a document, ends it, and a doc_id that comes back later starts a new
    run with a head of its own. So a stream reads the same however it is cut into batches (as a
    whole file does when each document's records are consecutive), and keeps only the heads of
    the runs it still needs (`forget`):

        >>> heads = DocumentHeads(head=1)
        >>> heads.add(["Việt Nam và Trung Quốc ký 14 văn kiện hợp tác", "Hai bên nhất trí..."], ["d1", "d1"])
        [0, 0]
        >>> heads.add(["Giá vàng hôm nay tăng mạnh", "Một văn kiện nữa", "Bài khác", "Lại d1"], [None, "d1", "d2", "d1"])
        [None, 1, 2, 3]
    """

    def __init__(self, head: int = DEFAULT_HEAD):
        self.head = head
        self.heads: dict[int, list[str]] = {}
        self.runs = 0  # runs started so far; the last one may go on in the next batch
        self.last_key = None

    def add(self, texts: list[str], doc_ids: list) -> list[int | None]:
        """The run of each text (None without a document), its head filled from the texts in order."""
        runs = []
        for text, key in zip(texts, map(document_key, doc_ids)):
            if key is not None and key != self.last_key:
                self.runs += 1
                self.heads[self.runs - 1] = []
            self.last_key = key
            run = None if key is None else self.runs - 1
            if run is not None:
                add_to_head(self.heads[run], text, self.head)
            runs.append(run)
        return runs

    def complete(self, run: int | None) -> bool:
        """Whether a run's head is whole: later paragraphs cannot change its context."""
        return run is None or len(self.heads.get(run, [])) >= self.head

    def context(self, text: str, run: int | None) -> str:
        head = self.heads.get(run, []) if run is not None else []
        return "\n".join(paragraph for paragraph in head if paragraph != text)

    def forget(self, before: int) -> None:
        """Drop the heads of runs before `before`: no record of theirs is left to read."""
        for run in [run for run in self.heads if run < before]:
            del self.heads[run]


def contexts(texts: list[str], doc_ids: list | None, head: int = DEFAULT_HEAD) -> list[str]:
    """The context of each text: its document's head less itself ("" without a document)."""
    if doc_ids is None:
        return [""] * len(texts)
    keys = list(map(document_key, doc_ids))
    heads: dict[str, list[str]] = {}
    for text, key in zip(texts, keys):
        if key is not None:
            add_to_head(heads.setdefault(key, []), text, head)
    return ["\n".join(p for p in heads.get(key, []) if p != text) if key is not None else ""
            for text, key in zip(texts, keys)]


def following(texts: list[str], doc_ids: list | None) -> list[str | None]:
    """The next text of the same document, wherever it comes in the list (None: an article's last
    paragraph, no document), as `contexts` reads all of a document's texts as one:

        >>> following(["Tiêu đề", "Tin khác", "Đoạn 2", "Đoạn 3"], ["a", "b", "a", "a"])
        ['Đoạn 2', None, 'Đoạn 3', None]
    """
    if doc_ids is None:
        return [None] * len(texts)
    out: list[str | None] = [None] * len(texts)
    later: dict[str, str] = {}  # document -> its text nearest after the current position
    for i in range(len(texts) - 1, -1, -1):
        key = document_key(doc_ids[i])
        if key is not None:
            out[i] = later.get(key)
            later[key] = texts[i]
    return out


def following_in_run(texts: list[str], doc_ids: list | None) -> list[str | None]:
    """The next text when it is of the same document, else None: a stream's documents are runs of
    consecutive records (`DocumentHeads`)."""
    if doc_ids is None:
        return [None] * len(texts)
    keys = list(map(document_key, doc_ids))
    return [texts[i + 1] if doc is not None and i + 1 < len(texts) and keys[i + 1] == doc else None
            for i, doc in enumerate(keys)]
