"""Split a raw article (as copied from a news page) into paragraphs.

Pages put one paragraph, headline, caption or sidebar item per line, sometimes with
blank lines between them; every non-blank line is a paragraph:

    >>> split_paragraphs("Tiêu đề\\n\\nĐoạn một.\\n  Đoạn hai.  \\n")
    [(1, 'Tiêu đề'), (3, 'Đoạn một.'), (4, 'Đoạn hai.')]

Each paragraph keeps its 1-based line number so results can be traced back.
"""


def split_paragraphs(text: str) -> list[tuple[int, str]]:
    # "\n" alone ends a line, as in `serve tag`'s reading of a file, so line numbers agree between the two.
    return [(number, line.strip()) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
