"""Vocabulary n-grams -> feature columns for a whole batch of token streams, in array operations.

The vocabulary is a list of n-grams written as tokens joined by spaces (as scikit-learn's
word n-grams and `vnzh_runtime.tfidf.ngrams` write them). Each token gets an id; each
k-gram that is a vocabulary entry, or the prefix of a longer one, gets an id at level k,
found from (id of its (k-1)-gram prefix, id of its last token) by binary search over
sorted int64 keys. So a batch's n-grams are never built as strings:

    >>> index = NgramIndex.build(["việt", "nam", "việt nam", "trung"], (1, 2))
    >>> rows, columns = index.lookup(index.token_ids(["việt", "nam", SEP, "trung", "nam", SEP]))
    >>> rows.tolist(), columns.tolist()       # the unigrams, then the bigram "việt nam"
    ([0, 0, 1, 1, 0], [0, 1, 3, 1, 2])

`SEP` (from `vnzh_runtime.textnorm.tokenize_batch`) closes each text (id -2); no n-gram spans it.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np

from vnzh_runtime.textnorm import SEP

_UNKNOWN, SEPARATOR_ID = -1, -2  # the ids `token_ids` gives an unknown token and SEP


class _Level:
    """The k-grams of one length, ids in insertion order: sorted keys (prefix id * tokens + token id) -> id."""

    def __init__(self, keys: np.ndarray, ids: np.ndarray, columns: np.ndarray):
        self.keys, self.ids, self.columns = keys, ids, columns  # columns by id; -1: a prefix only

    @classmethod
    def build(cls, keys: list[int], columns: list[int]) -> "_Level":
        keys = np.asarray(keys, dtype=np.int64)
        ids = np.argsort(keys, kind="stable")
        return cls(keys[ids], ids, np.asarray(columns, dtype=np.int64))

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Ids of `keys` (-1 where absent)."""
        if not len(self.keys):
            return np.full(len(keys), _UNKNOWN, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.ids[at], _UNKNOWN)


class NgramIndex:
    def __init__(self, tokens: list[str], unigram_columns: np.ndarray, levels: list[_Level], ngram_range):
        self.low, self.high = ngram_range
        self.tokens = list(tokens)
        self.width = max(len(self.tokens), 1)
        self.lookup_table = dict(zip(self.tokens, range(len(self.tokens))))
        self.lookup_table[SEP] = SEPARATOR_ID
        self.unigram_columns = unigram_columns
        self.levels = levels

    @classmethod
    def build(cls, vocabulary: list[str], ngram_range: tuple[int, int], extra_tokens: list[str] = ()) -> "NgramIndex":
        """`extra_tokens` get ids too, in no n-gram (other components, e.g. country names, read their ids)."""
        grams = [tuple(gram.split(" ")) for gram in vocabulary]
        token_ids: dict[str, int] = {}
        for tokens in [*grams, extra_tokens]:
            for token in tokens:
                token_ids.setdefault(token, len(token_ids))
        width = max(len(token_ids), 1)
        unigram_columns = np.full(width, _UNKNOWN, dtype=np.int64)
        for column, tokens in enumerate(grams):
            if len(tokens) == 1:
                unigram_columns[token_ids[tokens[0]]] = column
        prefix_ids, levels = {(token,): i for token, i in token_ids.items()}, []
        for k in range(2, ngram_range[1] + 1):
            ids: dict[tuple[str, ...], int] = {}
            columns: list[int] = []
            for column, tokens in enumerate(grams):
                if len(tokens) >= k:
                    key = ids.setdefault(tokens[:k], len(ids))
                    if key == len(columns):
                        columns.append(_UNKNOWN)
                    if len(tokens) == k:
                        columns[key] = column
            levels.append(_Level.build([prefix_ids[gram[:-1]] * width + token_ids[gram[-1]] for gram in ids], columns))
            prefix_ids = ids
        return cls(list(token_ids), unigram_columns, levels, ngram_range)

    def arrays(self) -> dict[str, np.ndarray]:
        """The index as named arrays, saved with the model so that loading it builds nothing."""
        out = {"ngram_unigram_columns": self.unigram_columns}
        for k, level in enumerate(self.levels, start=2):
            out |= {f"ngram_{k}_keys": level.keys, f"ngram_{k}_ids": level.ids, f"ngram_{k}_columns": level.columns}
        return out

    @classmethod
    def from_arrays(cls, tokens: list[str], arrays: dict[str, np.ndarray], ngram_range) -> "NgramIndex":
        levels = [_Level(arrays[f"ngram_{k}_keys"], arrays[f"ngram_{k}_ids"], arrays[f"ngram_{k}_columns"])
                  for k in range(2, ngram_range[1] + 1)]
        return cls(tokens, arrays["ngram_unigram_columns"], levels, ngram_range)

    def token_id(self, token: str) -> int:
        """A token's id: -1 unknown, -2 for SEP."""
        return self.lookup_table.get(token, _UNKNOWN)

    def token_ids(self, tokens: list[str]) -> np.ndarray:
        return np.fromiter(map(self.lookup_table.get, tokens, repeat(_UNKNOWN)), dtype=np.int64, count=len(tokens))

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every vocabulary n-gram occurrence in a stream of token ids, rows counting SEP-closed texts."""
        separator = ids == SEPARATOR_ID
        rows = np.cumsum(separator) - separator
        found_rows, found_columns = [], []
        if self.low == 1:
            known = ids >= 0
            columns = self.unigram_columns[ids[known]]
            found_rows.append(rows[known][columns >= 0])
            found_columns.append(columns[columns >= 0])
        current = ids  # current[i]: id of the k-gram starting at token i (-1 unknown, -2 separator)
        for k, level in enumerate(self.levels, start=2):
            left, right = current[:-1], ids[k - 1:]
            valid = (left >= 0) & (right >= 0)
            current = np.full(len(left), _UNKNOWN, dtype=np.int64)
            current[valid] = level.find(left[valid] * self.width + right[valid])
            if k >= self.low:
                hit = current >= 0
                columns = level.columns[current[hit]]
                found_rows.append(rows[:len(current)][hit][columns >= 0])
                found_columns.append(columns[columns >= 0])
        if not found_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_rows), np.concatenate(found_columns)
