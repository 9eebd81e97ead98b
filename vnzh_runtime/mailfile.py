"""Whether a file is a saved e-mail (a raw `.eml` message, an mbox) rather than an article: decided on its
first lines (`vnzh_runtime.filekind.head_lines` reads a header block whole for it). Read as an article,
a message's headers and base64 parts would each be tagged as a paragraph.
"""

from __future__ import annotations

import re
from itertools import takewhile

from vnzh_runtime.markup import is_blank

# A raw message's headers (a saved .eml): any of these in its header block. "From:", "To:", "Subject:"
# and "Date:" alone are no mail: a newsletter saved as text, or an article that opens "Date: 12 March".
# Any "X-...:" header (X-Received:, X-Account-Key:, X-Mailer:) is a raw message's too.
_MAIL_HEADERS = (b"return-path:", b"received:", b"delivered-to:", b"message-id:", b"dkim-signature:",
                 b"authentication-results:", b"arc-seal:", b"mime-version:", b"content-type:",
                 b"content-transfer-encoding:", b"in-reply-to:")
_X_HEADER = re.compile(rb"[Xx]-[A-Za-z0-9-]+:")
_ANY_MAIL_HEADER = _MAIL_HEADERS + (b"from:", b"to:", b"subject:", b"date:", b"cc:", b"reply-to:", b"sender:")
MAIL_HEADER_LINES = 100  # a message's header block read, when its first line is one of its headers
_HEADER_LINE = re.compile(rb"(?:[A-Za-z][A-Za-z0-9-]*:|[ \t]+\S)")  # "Name: value", or a folded line of the one before
_MBOX_FROM = re.compile(rb"From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d")  # "From alice@example.com Mon Jan  1 ..."


def is_mail(head: list[bytes]) -> bool:
    """Whether a file opens as an e-mail: an mbox's "From " line, or a block of mail headers (from the
    first line on) with one that only a raw message has (Received:, Message-ID:, MIME-Version:, ...).

    >>> is_mail([b"From: a@example.vn\\n", b"Message-ID: <1@example.vn>\\n"]), is_mail([b"Date: 12 March\\n", b"Author: L\\n"])
    (True, False)
    """
    number, first = next(((n, raw) for n, raw in enumerate(head, start=1) if not is_blank(raw.decode("utf-8", "replace"))),
                         (1, b""))
    first = first.lstrip(b"\xef\xbb\xbf")
    if _MBOX_FROM.match(first):
        return True
    if not opens_as_headers(first):  # a paper's title, then "Received: 3 January 2024": no mail
        return False
    block = [first] + list(takewhile(lambda line: bool(_HEADER_LINE.match(line)), head[number:]))
    return len(block) > 1 and any(line.lower().startswith(_MAIL_HEADERS) or _X_HEADER.match(line) for line in block)


def opens_as_headers(line: bytes) -> bool:
    """Whether a line is a mail header's (`From:`, `Received:`, `X-Account-Key:`, ...), as a message's first is."""
    line = line.lstrip(b"\xef\xbb\xbf")
    return line.lower().startswith(_ANY_MAIL_HEADER) or bool(_X_HEADER.match(line))
