"""A page whose article is in its script data, not in what it shows: its JSON-LD `articleBody` holds an
article, and the page shows only its menus and footer (a page its scripts fill in, saved before they ran).
Tagged as shown, its furniture alone came out `other` and the article was lost without a word; such a page is
refused in one line instead (no reader runs scripts).

A page that shows its article passes however its links, spaces, quotes and dashes cut or dress the text
(letters and digits are compared), and so does one whose related stories' bodies sit in `__NEXT_DATA__`: only
JSON-LD blocks are read.
"""

from __future__ import annotations

import html
import json
import re

from vnzh_runtime.textnorm import normalize

IN_SCRIPTS = ("its article is in the page's script data (a JSON-LD articleBody), not in what the page shows, which "
              "is its menus and footer: a page its scripts fill in, which no reader runs; open it in a browser and "
              "copy the article's text into a .txt file, one paragraph per line")
_JSON_LD = re.compile(r"<script[^>]*application/ld\+json[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_ARTICLE_BODY = re.compile(r'"articleBody"\s*:\s*"((?:[^"\\]|\\.)*)"')
MIN_BODY = 60  # letters and digits: shorter is a teaser, not an article
WINDOW = 24  # letters of a body looked for on the page, one window every STEP letters
STEP = 100


def article_bodies(source: str) -> list[str]:
    """The `articleBody` texts of a page's JSON-LD blocks, unescaped, without markup or whitespace."""
    bodies = []
    for block in _JSON_LD.findall(source):
        for found in _ARTICLE_BODY.findall(block):
            try:
                body = json.loads(f'"{found}"')
            except ValueError:
                continue
            body = letters(re.sub(r"<[^>]*>", " ", html.unescape(body)))  # unescaped first: &lt;p&gt; is markup
            if len(body) >= MIN_BODY:
                bodies.append(body)
    return bodies


def letters(text: str) -> str:
    """Only a text's letters and digits, normalised as the tagger reads them (NFKC, lower case, traditional Chinese
    as simplified): a CMS's JSON-LD writes ' " -- ... where the page shows ’ “ – …, links cut a Chinese sentence
    with spaces, and a page converted to traditional characters keeps its JSON-LD in simplified ones."""
    return "".join(c for c in normalize(text, lowercase=True) if c.isalnum())


def article_only_in_scripts(source: str, shown: list[str]) -> bool:
    """Whether the page's JSON-LD holds an article the page does not show.

    >>> page = '<nav>Trang chủ</nav><script type="application/ld+json">{"articleBody": "' + "Hai bên nhất trí. " * 20 + '"}</script>'
    >>> article_only_in_scripts(page, ["Trang chủ"]), article_only_in_scripts(page, ["Trang chủ", "Hai bên nhất trí. " * 20])
    (True, False)
    """
    bodies = article_bodies(source)
    if not bodies:
        return False
    text = letters("".join(shown))
    # windows all along the body: one page of a paginated article shows a part of it, not its start or end
    return not any(body[at:at + WINDOW] in text for body in bodies
                   for at in [*range(0, max(1, len(body) - WINDOW), STEP), max(0, len(body) - WINDOW)])
