"""Lines of a binary file, none longer than a limit: a file iterator reads a line whole, however long,
so `/dev/zero`, a video or a 200 MB export on one line would fill memory before any reader could say
what is wrong. `serve tag`, the API's files and training's and evaluation's data readers read through it.
"""

from __future__ import annotations

import io  # noqa: F401 (the docstring's examples)
from itertools import count
from typing import Iterator

from vnzh_runtime.errors import UserError

MAX_LINE_BYTES = 32 << 20  # no paragraph, record or minified page is this long without a line break


def bounded_lines(handle, name: str, limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """A binary file's lines (split at \\n), refusing in one line a line longer than `limit` before it is
    read whole: `/dev/zero`, a video or one 200 MB export on one line would otherwise fill memory
    (a file iterator reads a line whole, however long). Any other iterable of lines passes as it is.

    >>> list(bounded_lines(io.BytesIO(b"a\\nbbb\\n"), "x.txt", limit=3))
    [b'a\\n', b'bbb\\n']
    >>> list(bounded_lines(io.BytesIO(b"a\\nbbbb"), "x.txt", limit=3))
    Traceback (most recent call last):
    vnzh_runtime.errors.UserError: x.txt:2: a line of more than 3 bytes with no line break: not text in lines (a binary file, or a whole export on one line); split it into paragraphs or records first
    """
    readline = getattr(handle, "readline", None)
    if readline is None:
        yield from handle
        return
    for number in count(1):
        raw = readline(limit + 1)  # a line of `limit` bytes and its \\n fit
        if not raw:
            return
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit} bytes"
            raise UserError(f"{name}:{number}: a line of more than {size} with no line break: not text in lines "
                            "(a binary file, or a whole export on one line); split it into paragraphs or records first")
        yield raw
