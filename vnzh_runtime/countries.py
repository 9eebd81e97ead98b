"""Which countries a paragraph names, as seven features for the TF-IDF heads.

A bag of n-grams weighs topic words against country names one by one, so a Vietnam–US
story in the register of Vietnam–China coverage ("normalisation", "friendship", a
humanitarian programme) reads as Vietnam–China coverage. These features say who the
paragraph is about, for every country at once, including those the training text never
names: whether it names China, Vietnam, a third country, and their combinations

    FEATURES = names_china, names_vietnam, names_third, third_not_china,
               third_not_vietnam, china_and_vietnam, names_none

The names are the countries' own names in Vietnamese, Chinese and English from CLDR
(chosen at training, `train/countries.py`) and kept in the model as plain data; the heads
learn what each feature is worth. Names are matched as token n-grams after the runtime's
normalisation, over a whole batch at once (`NgramIndex`):

    >>> names = CountryNames(["trung quốc", "việt nam", "hoa kỳ"], ["china", "vietnam", "third"], 1.0).bind(tokens)
    >>> names.features(token_ids_of(["Việt Nam và Hoa Kỳ ..."]), n_texts=1)[0].tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math

import numpy as np

from vnzh_runtime.ngram_index import SEPARATOR_ID, NgramIndex

SIDES = ("china", "vietnam", "third")
FEATURES = ("names_china", "names_vietnam", "names_third", "third_not_china", "third_not_vietnam",
            "china_and_vietnam", "names_none")


def check_settings(names, sides, value) -> None:
    """ValueError unless names and sides are lists of strings, one side of SIDES per name, and value >= 0."""
    if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
        raise ValueError("country names must be a list of non-empty strings")
    if not isinstance(sides, list) or len(sides) != len(names) or not all(side in SIDES for side in sides):
        raise ValueError(f"country sides must be one of {SIDES} per name")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"country feature value {value!r} must be a number >= 0")


class CountryNames:
    """Country names (normalised tokens joined by spaces) and their sides -> (n, 7) features of token-id streams."""

    def __init__(self, names: list[str], sides: list[str], value: float):
        check_settings(names, sides, value)
        self.names, self.sides, self.value = list(names), list(sides), float(value)
        longest = max((len(name.split(" ")) for name in self.names), default=1)
        self.index = NgramIndex.build(self.names, (1, longest))
        self.side_of = np.array([SIDES.index(side) for side in self.sides], dtype=np.int64)
        self.to_local = np.array([-1], dtype=np.int64)  # set by `bind`: until then no token reaches a name

    @property
    def tokens(self) -> list[str]:
        """Every token of the names: the main index must give them ids (`NgramIndex.build`'s extra tokens)."""
        return self.index.tokens

    def bind(self, main_tokens: list[str]) -> "CountryNames":
        """Read token ids of the main index from now on: main token id -> this index's (-1: in no name)."""
        missing = sorted(set(self.tokens) - set(main_tokens))
        if missing:
            raise ValueError(f"country name tokens {missing[:3]} not in the token list")
        lookup = self.index.lookup_table
        self.to_local = np.array([lookup.get(token, -1) for token in main_tokens] or [-1], dtype=np.int64)
        return self

    def features(self, ids: np.ndarray, n_texts: int) -> np.ndarray:
        """(n_texts, 7) feature values of a SEP-closed stream of main token ids."""
        rows, columns = self.index.lookup(self.name_stream(ids))
        named = np.zeros((n_texts, len(SIDES)), dtype=bool)
        named[rows, self.side_of[columns]] = True
        china, vietnam, third = named.T
        out = np.stack([china, vietnam, third, third & ~china, third & ~vietnam, china & vietnam, ~named.any(axis=1)],
                       axis=1)
        return out * self.value

    def name_stream(self, ids: np.ndarray) -> np.ndarray:
        """The stream cut down to the tokens of names and the text ends, in this index's ids.

        Few tokens belong to a name, so the n-gram passes run over a short stream; a -1 after
        each run of kept tokens stops a name from spanning the words dropped between them.
        """
        local = np.full(len(ids), -1, dtype=np.int64)
        known = ids >= 0
        local[known] = self.to_local[ids[known]]
        local[ids == SEPARATOR_ID] = SEPARATOR_ID
        keep = local != -1
        run_ends = keep & ~np.append(keep[1:], False)
        counts = keep.astype(np.int64) + run_ends
        stream = np.repeat(local, counts)
        stream[(np.cumsum(counts) - 1)[run_ends]] = -1
        return stream

    def settings(self) -> dict:
        return {"names": self.names, "sides": self.sides, "value": self.value}
