"""The country names a TF-IDF model matches (`vnzh_runtime.countries`), chosen at training.

Every country's name in Vietnamese, Chinese and English comes from CLDR through Babel, and
its English names from ISO 3166 through pycountry too (no hand-kept list): ISO writes "Viet
Nam", as Vietnam's own English-language press does, and "Korea, Republic of". China and
Vietnam are their own sides, every other country is `third`.
A name whose parts are alternatives ("Myanmar (Miến Điện)") gives each part; what follows a
comma is a qualifier ("Hồng Kông, Trung Quốc") and is dropped; a long name is matched by
its last four tokens (qualifiers such as "Đặc khu Hành chính" come first). Names are left
out where matching them would mostly find something else:
- a name that normalises (or is cut) to the same tokens as a name of another side;
- a one-word Latin-script name that the training text mostly writes in lower case: in
  Vietnamese "pháp" (France) is above all "biện pháp" (measure), "áo" (Austria) a shirt;
- a third country's name that the training text finds in Vietnam–China coverage more than
  three quarters as often as in paragraphs at large: there it is mostly part of something else
  ("Lào" in the border province Lào Cai, "Đức" in Vietnamese given names, 关岛 (Guam) in 有关岛礁,
  "Canada" in Barque Canada Reef, "Islands" in the Spratly Islands), and a
  feature meant to say "another pair of countries" would fire on the very stories it must
  keep. The labels decide, not a list of exceptions. Countries that VN–China stories often
  name beside the pair (the United States, Singapore, South Korea) stay below that.

    >>> names, sides = country_names(["Biện pháp mới", "Pháp và Đức ký thỏa thuận"], [False, False])
    >>> ("hoa kỳ", "third") in zip(names, sides), "pháp" in names
    (True, False)
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from vnzh_runtime.langid import HAN
from vnzh_runtime.ngram_index import NgramIndex
from vnzh_runtime.textnorm import feature_tokens, tokenize_batch

LANGUAGES = ("vi", "zh", "en")
# CLDR codes that are groupings, pseudo-regions or uninhabited/reserved territories, not countries
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK",
                 "AQ", "BV", "HM", "UM", "TF", "IO", "CP", "DG", "EA", "IC", "AC", "TA"}
SIDE_OF = {"CN": "china", "VN": "vietnam"}
MAX_TOKENS = 4  # longer names are matched by their last 4 tokens ("印度尼西亚" by "度尼西亚"): 4 n-gram passes, not 11
LOWER_CASE_LIMIT = 0.2  # a one-word name written in lower case more often than this is a common word
MIN_SEEN = 3  # a third country's name seen in fewer training paragraphs keeps the benefit of the doubt
# ... seen in VN–China paragraphs more than 3/4 as often as training paragraphs at large are, it is no
# evidence of another pair of countries there (bench/RESULTS.md: Lào Cai, the seeds). At 1/2 the
# United States, Singapore and South Korea were dropped too (in 35-41 % VN–China paragraphs against
# 58 % at large; Lào 49 %, Đức 62 %), and a Vietnam–US story read as VN–China (tenth session)
RELEVANT_LIMIT = 0.75


def standard_names() -> list[tuple[str, str]]:
    """(region code, name): CLDR's names in the three languages, then ISO 3166's English ones."""
    import pycountry
    from babel import Locale

    names = [(code, name) for language in LANGUAGES for code, name in Locale.parse(language).territories.items()]
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", country.name)):
            short = name.split("(")[0].split(",")[0]  # "Sint Maarten (Dutch part)", "Korea, Republic of"
            if len(feature_tokens(short)) <= MAX_TOKENS:  # a formal long name: CLDR has its short form
                names.append((country.alpha_2, short))
    return names


def standard_name_sides() -> dict[tuple[str, ...], set[str]]:
    """Normalised name tokens -> the sides they name, over every country's standard names."""
    found: dict[tuple[str, ...], set[str]] = {}
    for code, name in standard_names():
        if len(code) != 2 or not code.isalpha() or code in NOT_COUNTRIES:
            continue
        for part in re.split(r"[()]", name.split(",")[0]):
            tokens = tuple(feature_tokens(part))[-MAX_TOKENS:]
            if tokens:
                found.setdefault(tokens, set()).add(SIDE_OF.get(code, "third"))
    return found


def mostly_lower_case(word: str, counts: Counter) -> bool:
    lower = counts[word]
    capitalised = sum(n for written, n in counts.items() if written != word and written.lower() == word)
    return lower > LOWER_CASE_LIMIT * (lower + capitalised)


def share_relevant(names: list[str], texts: list[str], relevant: list[bool]) -> tuple[np.ndarray, np.ndarray]:
    """(training paragraphs each name occurs in, the share of them that are VN–China coverage)."""
    index = NgramIndex.build(names, (1, max(len(name.split(" ")) for name in names)))
    rows, columns = index.lookup(index.token_ids(tokenize_batch(texts)))
    pairs = np.unique(np.stack([columns, rows], axis=1), axis=0)  # each name counted once per paragraph
    seen = np.bincount(pairs[:, 0], minlength=len(names))
    in_relevant = np.bincount(pairs[:, 0], np.asarray(relevant, dtype=float)[pairs[:, 1]], minlength=len(names))
    return seen, in_relevant / np.maximum(seen, 1)


def country_names(texts: list[str], relevant: list[bool]) -> tuple[list[str], list[str]]:
    """(names as space-joined tokens, their sides), sorted, for training texts and whether each is VN–China coverage."""
    counts = Counter(word for text in texts for word in re.findall(r"\w+", text))
    names, sides = [], []
    for tokens, found in sorted(standard_name_sides().items()):
        word = tokens[0]
        if len(found) > 1 or len(tokens) == 1 and word.isalpha() and not HAN.match(word) and mostly_lower_case(word, counts):
            continue
        names.append(" ".join(tokens))
        sides.append(next(iter(found)))
    seen, share = share_relevant(names, texts, relevant)
    limit = RELEVANT_LIMIT * float(np.mean(relevant)) if len(relevant) else 1.0
    keep = [side != "third" or n < MIN_SEEN or s <= limit for side, n, s in zip(sides, seen, share)]
    return [n for n, k in zip(names, keep) if k], [s for s, k in zip(sides, keep) if k]
