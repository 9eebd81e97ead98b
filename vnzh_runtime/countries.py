"""Which countries a paragraph names, as seven features for the TF-IDF heads.

A bag of n-grams weighs topic words against country names one by one, so a Vietnam–US
story in the register of Vietnam–China coverage ("normalisation", "friendship", a
humanitarian programme) reads as Vietnam–China coverage. These features say who the
paragraph is about, for every country at once, including those the training text never
names: whether it names China, Vietnam, a third country, and their combinations

    FEATURES = names_china, names_vietnam, names_third, third_not_china,
               third_not_vietnam, china_and_vietnam, names_none

The names are the countries' own names in Vietnamese, Chinese and English from CLDR and
ISO 3166 (chosen at training, `train/countries.py`) and kept in the model as plain data; the
heads learn what each feature is worth. Names are matched as token n-grams after the runtime's
normalisation, over a whole batch at once (`NgramIndex`).

A third country's name that is also a common word or part of a longer name is read as the
country only where it is one: the tokens in `capitalised` count only where the text writes
them with a capital ("Pháp" is France, "biện pháp" a measure; "Mỹ" the United States, "thẩm
mỹ" beauty); a one-word name beside one of its `blocked` neighbours is part of something else
("Lào Cai" is a Vietnamese border province, not Laos); and a one-syllable name after a
capitalised Vietnamese syllable ends a person's or a place's name ("Võ Văn Mỹ", "Thủ Đức"):

    >>> names = CountryNames(["việt nam", "lào", "mỹ"], ["vietnam", "third", "third"], 1.0, ["lào", "mỹ"], ["lào cai"])
    >>> names.bind(tokens)   # the featuriser's token list; ids and shapes come from its piece cache
    >>> ids, capital, syllable = token_ids_and_shapes(["Việt Nam và Lào", "Tỉnh Lào Cai", "mỹ phẩm", "Võ Văn Mỹ"])
    >>> names.features(ids, capital, syllable, n_texts=4)[:, :3].tolist()   # names_china, names_vietnam, names_third
    [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from vnzh_runtime.ngram_index import SEPARATOR_ID, NgramIndex
from vnzh_runtime.spec import is_finite
from vnzh_runtime.textnorm import normalize_piece

SIDES = ("china", "vietnam", "third")
FEATURES = ("names_china", "names_vietnam", "names_third", "third_not_china", "third_not_vietnam",
            "china_and_vietnam", "names_none")


# The shape of one Vietnamese syllable, tone and vowel marks stripped: onset, one to three vowels, coda.
# "Cai", "Đình", "Hưng" have it; "Donald", "Macron", "Sonexay", "Hanoi", "Reef" do not.
_VIETNAMESE_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?")


def vietnamese_syllable(token: str) -> bool:
    bare = unicodedata.normalize("NFD", token.replace("đ", "d"))
    return bool(_VIETNAMESE_SYLLABLE.fullmatch("".join(c for c in bare if not unicodedata.combining(c))))


def name_syllable(piece: str, token: str) -> bool:
    """Whether a raw piece reads as one syllable of a Vietnamese name: written capitalised, not in
    all capitals (a headline's "PHÁP TĂNG ĐẦU TƯ" says nothing), shaped as a syllable ("Cai", "Văn")."""
    return written_capitalised(piece) and (len(piece) == 1 or not piece.isupper()) and vietnamese_syllable(token)


def piece_shapes(piece: str) -> tuple[tuple[str, bool, bool], ...]:
    """(token, written capitalised, a syllable of a name) for each normalised token of a raw piece
    (`textnorm.RAW_TOKEN`): what the names read of a text, at training and at inference alike.

        >>> piece_shapes("Văn"), piece_shapes("LÀO")
        ((('văn', True, True),), (('lào', True, False),))
    """
    capital = written_capitalised(piece)
    return tuple((token, capital, name_syllable(piece, token)) for token in normalize_piece(piece))


def written_capitalised(piece: str) -> bool:
    """Whether a raw piece of text (`textnorm.RAW_TOKEN`) starts with a capital: "Lào", "LÀO", not "lào"."""
    return piece[:1].isupper()


def is_string_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


def check_settings(names, sides, value, capitalised=(), blocked=()) -> None:
    """ValueError unless names and sides are lists of strings, one side of SIDES per name, value >= 0,
    `capitalised` lists tokens of the names and `blocked` two-token neighbours of one-word names."""
    if not is_string_list(names):
        raise ValueError("country names must be a list of non-empty strings")
    one_word = {name for name in names if " " not in name}
    if not is_string_list(list(capitalised)) or not set(capitalised) <= {t for name in names for t in name.split(" ")}:
        raise ValueError("capitalised country name tokens must be tokens of the names")
    pairs = [pair.split(" ") for pair in blocked] if is_string_list(list(blocked)) else [[]]
    if not all(len(pair) == 2 and (pair[0] in one_word or pair[1] in one_word) for pair in pairs):
        raise ValueError("blocked neighbours must be two tokens, one of them a one-word country name")
    if not isinstance(sides, list) or len(sides) != len(names) or not all(side in SIDES for side in sides):
        raise ValueError(f"country sides must be one of {SIDES} per name")
    if not is_finite(value) or value < 0:
        raise ValueError(f"country feature value {value!r} must be a number >= 0")


class CountryNames:
    """Country names (normalised tokens joined by spaces) and their sides -> (n, 7) features of token-id streams."""

    def __init__(self, names: list[str], sides: list[str], value: float, capitalised=(), blocked=()):
        check_settings(names, sides, value, capitalised, blocked)
        self.names, self.sides, self.value = list(names), list(sides), float(value)
        self.capitalised, self.blocked = sorted(capitalised), sorted(blocked)
        longest = max((len(name.split(" ")) for name in self.names), default=1)
        self.index = NgramIndex.build(self.names, (1, longest))
        self.side_of = np.array([SIDES.index(side) for side in self.sides], dtype=np.int64)
        self.to_local = np.array([-1], dtype=np.int64)  # set by `bind`: until then no token reaches a name
        self.one_word = [name for name in self.names if " " not in name]
        self.not_countries = NotCountries([], [], [], [])

    @property
    def tokens(self) -> list[str]:
        """Every token of the names and their blocked neighbours: the main index must give them ids
        (`NgramIndex.build`'s extra tokens)."""
        neighbours = [token for pair in self.blocked for token in pair.split(" ")]
        return self.index.tokens + [token for token in dict.fromkeys(neighbours) if token not in self.index.lookup_table]

    def bind(self, main_tokens: list[str]) -> "CountryNames":
        """Read token ids of the main index from now on: main token id -> this index's (-1: in no name)."""
        missing = sorted(set(self.tokens) - set(main_tokens))
        if missing:
            raise ValueError(f"country name tokens {missing[:3]} not in the token list")
        lookup = self.index.lookup_table
        self.to_local = np.array([lookup.get(token, -1) for token in main_tokens] or [-1], dtype=np.int64)
        self.not_countries = NotCountries(main_tokens, self.one_word, self.capitalised, self.blocked, self.joining_tokens())
        return self

    def joining_tokens(self) -> set[str]:
        """Tokens that do not make a one-syllable name part of a longer name: those of China's and
        Vietnam's names, the one-word names, and those of the longer names that hold a one-word one
        ("Việt – Mỹ", "Nga, Pháp", "Nhật Bản")."""
        one_word = set(self.one_word)
        return one_word | {token for name, side in zip(self.names, self.sides)
                           if side != "third" or one_word & set(name.split(" ")) for token in name.split(" ")}

    def features(self, ids: np.ndarray, capital: np.ndarray, syllable: np.ndarray, n_texts: int) -> np.ndarray:
        """(n_texts, 7) feature values of a SEP-closed stream of main token ids (`capital`: which
        tokens the text writes capitalised; `syllable`: which read as syllables of a name, `name_syllable`)."""
        rows, columns = self.matches(ids, capital, syllable)
        named = np.zeros((n_texts, len(SIDES)), dtype=bool)
        named[rows, self.side_of[columns]] = True
        china, vietnam, third = named.T
        out = np.stack([china, vietnam, third, third & ~china, third & ~vietnam, china & vietnam, ~named.any(axis=1)],
                       axis=1)
        return out * self.value

    def matches(self, ids: np.ndarray, capital: np.ndarray, syllable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(text row, name index) of every name occurrence that is the country."""
        return self.index.lookup(self.name_stream(self.not_countries.unmark(ids, capital, syllable)))

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
        return {"names": self.names, "sides": self.sides, "value": self.value,
                "capitalised": self.capitalised, "blocked": self.blocked}


class NotCountries:
    """Main token ids -> the same stream with the name tokens that are no country here set to -1
    (unknown): a `capitalised` token written in lower case, a one-word name beside a capitalised
    `blocked` neighbour, a one-syllable name that ends a person's or place's name. Only the few
    positions holding such tokens are looked at, in numpy over the whole batch."""

    def __init__(self, main_tokens: list[str], one_word: list[str], capitalised: list[str], blocked: list[str],
                 joining_tokens=frozenset()):
        ids = {token: i for i, token in enumerate(main_tokens)}
        self.width = len(main_tokens) + 2  # ids from -2 (SEP) up, shifted by 2 to index arrays
        self.needs_capital = np.zeros(self.width, dtype=bool)
        self.needs_capital[[ids[name] + 2 for name in capitalised if name in ids]] = True
        pairs = [pair.split(" ") for pair in blocked]
        self.blocked_keys = np.unique([self.key(ids[a], ids[b]) for a, b in pairs if a in ids and b in ids]).astype(np.int64)
        self.to_check = self.needs_capital.copy()
        names = set(one_word)
        self.to_check[[ids[t] + 2 for pair in pairs for t in pair if t in names and t in ids]] = True
        # A one-syllable name ("Mỹ", "Đức", "Nhật") after a capitalised Vietnamese syllable is part of a
        # person's or a place's name ("Võ Văn Mỹ", "Lê Đức Anh", "Thủ Đức", "Quảng Tây Nhật báo", "Chủ
        # Nhật"), unless that syllable names China, Vietnam or another country with it ("Việt – Mỹ",
        # "Trung – Lào", "Nga, Pháp", "Liên Bang Nga"); after a foreign word it is the country.
        self.syllable_name = np.zeros(self.width, dtype=bool)
        self.syllable_name[[ids[t] + 2 for t in set(capitalised) & names if t in ids and vietnamese_syllable(t)]] = True
        self.joins_country = np.zeros(self.width, dtype=bool)
        self.joins_country[[i + 2 for t, i in ids.items() if t in joining_tokens]] = True

    def key(self, left, right):
        return (left + 2) * self.width + (right + 2)

    def unmark(self, ids: np.ndarray, capital: np.ndarray, syllable: np.ndarray) -> np.ndarray:
        """`ids` with every name token that is no country set to -1 (a copy, or `ids` when none is)."""
        at = np.flatnonzero(self.to_check[ids + 2])
        if not len(at):
            return ids
        here = ids[at]
        other = self.needs_capital[here + 2] & ~capital[at]
        before, after = np.maximum(at - 1, 0), np.minimum(at + 1, len(ids) - 1)
        # Only the syllable before: after a name a capital mostly starts the next sentence ("với Mỹ. Theo đó")
        other |= self.syllable_name[here + 2] & (at > 0) & syllable[before] & ~self.joins_country[ids[before] + 2]
        if len(self.blocked_keys):
            left = np.where((at > 0) & capital[before], ids[before], SEPARATOR_ID)
            right = np.where((at + 1 < len(ids)) & capital[after], ids[after], SEPARATOR_ID)
            other |= np.isin(self.key(left, here), self.blocked_keys) | np.isin(self.key(here, right), self.blocked_keys)
        out = ids.copy()
        out[at[other]] = -1
        return out
