"""A dict that works out a missing value once and keeps it, within bounds: the runtime's caches
of text pieces (normalised tokens, token kinds, token codes).

    >>> lengths = PieceCache(len)
    >>> lengths["hòa"], "hòa" in lengths
    (3, True)

Paragraphs repeat most pieces, so a batch becomes C-level dict hits. At most `entries` pieces
are held (past that the cache starts over) and none longer than MAX_PIECE_CHARS (a 2 MB "word"
is worked out each time instead of held), so memory stays flat on any stream.
"""

from __future__ import annotations

from typing import Callable

MAX_PIECE_CHARS = 64


class PieceCache(dict):
    def __init__(self, compute: Callable[[str], object], entries: int = 300_000):
        super().__init__()
        self.compute, self.entries = compute, entries

    def __missing__(self, piece: str):
        if len(self) > self.entries:
            self.clear()
        value = self.compute(piece)
        if len(piece) <= MAX_PIECE_CHARS:
            self[piece] = value
        return value
