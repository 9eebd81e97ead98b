"""The country names a TF-IDF model matches (`vnzh_runtime.countries`), chosen at training.

Every country's name in Vietnamese, Chinese and English comes from CLDR through Babel
(no hand-kept list): China and Vietnam are their own sides, every other country is `third`.
A name whose parts are alternatives ("Myanmar (Miến Điện)") gives each part; what follows a
comma is a qualifier ("Hồng Kông, Trung Quốc") and is dropped; a long name is matched by
its first four tokens. Two kinds of names are left
out, because matching them would mostly find something else:
- a name that normalises (or is cut) to the same tokens as a name of another side;
- a one-word Latin-script name that the training text mostly writes in lower case: in
  Vietnamese "pháp" (France) is above all "biện pháp" (measure), "áo" (Austria) a shirt.

    >>> names, sides = country_names(["Biện pháp mới", "Pháp và Đức ký thỏa thuận"])
    >>> ("hoa kỳ", "third") in zip(names, sides), "pháp" in names
    (True, False)
"""

from __future__ import annotations

import re
from collections import Counter

from vnzh_runtime.textnorm import feature_tokens

LANGUAGES = ("vi", "zh", "en")
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK"}  # CLDR's groupings and pseudo-regions
SIDE_OF = {"CN": "china", "VN": "vietnam"}
MAX_TOKENS = 4  # longer names are matched by their first 4 tokens ("印度尼西亚" by "印度尼西"): 4 n-gram passes, not 11
LOWER_CASE_LIMIT = 0.2  # a one-word name written in lower case more often than this is a common word


def cldr_names() -> dict[tuple[str, ...], set[str]]:
    """Normalised name tokens -> the sides they name, over every CLDR country in the three languages."""
    from babel import Locale

    found: dict[tuple[str, ...], set[str]] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if len(code) != 2 or not code.isalpha() or code in NOT_COUNTRIES:
                continue
            for part in re.split(r"[()]", name.split(",")[0]):
                tokens = tuple(feature_tokens(part))[:MAX_TOKENS]
                if tokens:
                    found.setdefault(tokens, set()).add(SIDE_OF.get(code, "third"))
    return found


def mostly_lower_case(word: str, counts: Counter) -> bool:
    lower = counts[word]
    capitalised = sum(n for written, n in counts.items() if written != word and written.lower() == word)
    return lower > LOWER_CASE_LIMIT * (lower + capitalised)


def country_names(texts: list[str]) -> tuple[list[str], list[str]]:
    """(names as space-joined tokens, their sides), sorted, for the training texts `texts`."""
    counts = Counter(word for text in texts for word in re.findall(r"\w+", text))
    names, sides = [], []
    for tokens, found in sorted(cldr_names().items()):
        if len(found) > 1:
            continue
        word = tokens[0]
        if len(tokens) == 1 and word.isalpha() and not _is_han(word) and mostly_lower_case(word, counts):
            continue
        names.append(" ".join(tokens))
        sides.append(next(iter(found)))
    return names, sides


def _is_han(token: str) -> bool:
    return bool(re.match(r"[\u3400-\u9fff]", token))
