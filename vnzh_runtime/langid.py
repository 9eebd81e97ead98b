"""Language of a paragraph from its script: `zh` (Han characters), `vi` (Vietnamese letters), else `en`.

    >>> detect_lang("Kim ngạch thương mại Việt Nam - Trung Quốc")
    'vi'
    >>> detect_lang("中越双边贸易额再创新高")
    'zh'
    >>> detect_lang("Vietnam and China sign 14 deals in Hanoi")
    'en'

Script separates Chinese; Vietnamese and English are told apart by counting words
with Vietnamese letters against English cues (function words, and words no
Vietnamese syllable could be: "General", "Jinping"), so English copy naming
"Tô Lâm" in "Hà Nội" stays English.

It reads the normalised tokens the TF-IDF features read (`textnorm.tokenize_batch`); the
TF-IDF featuriser keeps each token's kind beside its id, so its batches get their languages
from the same pass (`kind_langs`).
"""

import re

import numpy as np

from vnzh_runtime.piece_cache import PieceCache

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
VI_LETTERS = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
DIGITS_ONLY = re.compile(r"\d+")

# English cues: function words, and letters or word endings Vietnamese syllables never have.
EN_WORDS = frozenset("the of and to in on a an for with is are was were said has have by from at its that this as be will".split())
NOT_VI_SYLLABLE = re.compile(r"[fjwz]|[bdklqrsvx]$|(?<!n)g$", re.IGNORECASE)

LANGS = ("vi", "zh", "en")
# MARK: a page mark (`textnorm.PAGE_MARKS`), a token but not a word of any language.
NUMBER, HAN_CHAR, WORD, VI_WORD, EN_WORD, SEPARATOR, MARK, KINDS = range(8)
assert KINDS <= 8, "token kinds must fit the three bits the TF-IDF featuriser keeps beside each token id"


def _classify(token: str) -> int:
    from vnzh_runtime.textnorm import MARK_TOKENS, SEP

    if token == SEP:
        return SEPARATOR
    if token in MARK_TOKENS:
        return MARK
    if HAN.fullmatch(token):
        return HAN_CHAR
    if DIGITS_ONLY.fullmatch(token):
        return NUMBER
    if VI_LETTERS.search(token):
        return VI_WORD
    if token in EN_WORDS or (token.isascii() and NOT_VI_SYLLABLE.search(token)):
        return EN_WORD
    return WORD


# token -> its kind, worked out once per distinct token: classifying a batch is C-level dict hits.
_KINDS = PieceCache(_classify, entries=200_000)


def token_kind(token: str) -> int:
    return _KINDS[token]


def token_langs(tokens: list[str]) -> list[str]:
    """The language of each SEP-closed text in `tokens` (`textnorm.tokenize_batch`)."""
    return kind_langs(np.fromiter(map(_KINDS.__getitem__, tokens), dtype=np.int64, count=len(tokens)))


def kind_langs(kinds: np.ndarray) -> list[str]:
    """The language of each SEP-closed text from its tokens' kinds."""
    separator = kinds == SEPARATOR
    rows = np.cumsum(separator) - separator
    texts = int(separator.sum())
    counts = np.bincount(rows * KINDS + kinds, minlength=texts * KINDS).reshape(texts, KINDS)
    han, vi, en = counts[:, HAN_CHAR], counts[:, VI_WORD], counts[:, EN_WORD]
    words = counts[:, WORD] + vi + en
    langs = np.where((vi > en) & (vi >= 0.15 * words), "vi", "en")
    langs = np.where((han > 0) & (han >= 0.5 * words), "zh", langs)
    return langs.tolist()


def detect_lang(text: str) -> str:
    from vnzh_runtime.textnorm import tokenize_batch

    return token_langs(tokenize_batch([text]))[0]
