"""Text normalisation, the single place it lives; saved with every model.

Real press mixes Unicode forms (composed / decomposed Vietnamese), old and new
tone placement ("hoà" / "hòa", "thuỷ" / "thủy"), full-width punctuation, traditional
and simplified Chinese (Taiwan, Hong Kong and Singapore outlets cover Vietnam too)
and ever new numbers. Normalising them keeps features from splitting one word in two:

    >>> normalize("Thuỷ điện HOÀ BÌNH khởi công năm 1979", lowercase=True, collapse_digits=True)
    'thủy điện hòa bình khởi công năm 0'
    >>> normalize("中越邊界聯合巡邏")
    '中越边界联合巡逻'
    >>> tokenize("中越贸易 tăng 20%")
    ['中', '越', '贸', '易', 'tăng', '20']

`tokenize` yields syllables for Vietnamese and English and single characters for
Chinese, so word n-grams over its tokens are syllable n-grams and character n-grams.
"""

import functools
import re
import unicodedata

from vnzh_runtime.langid import HAN

# Old-style tone placement on the second vowel of oa/oe/uy at a syllable's end -> new style.
_TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
          "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
          "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}
# The keys of _TONES in either case, as character classes: the regex engine scans classes far
# faster than a 15-way case-insensitive alternation (same matches, checked on the corpus).
_OLD_TONE = re.compile(r"(?:[oO][àáảãạèéẻẽẹÀÁẢÃẠÈÉẺẼẸ]|[uU][ỳýỷỹỵỲÝỶỸỴ])(?![^\W\d_])")
_URL = re.compile(r"https?://\S+|www\.\S+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@functools.cache
def _simplified() -> dict[int, str]:
    """Traditional -> simplified Chinese character by character, from OpenCC's table (for str.translate)."""
    from importlib.resources import files

    table = {}
    for line in (files("opencc_purepy") / "dicts" / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        if len(traditional) == 1 and simplified:
            table[ord(traditional)] = simplified.split()[0]  # the first candidate is the common reading
    return table


def _new_tone(match: re.Match) -> str:
    old = match.group(0)
    new = _TONES[old.lower()]
    return new.upper() if old.isupper() else (new.capitalize() if old[0].isupper() else new)


def normalize(text: str, lowercase: bool = False, collapse_digits: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text)
    if HAN.search(text):
        text = text.translate(_simplified())
    if "http" in text or "www." in text:  # a substring test is far cheaper than the regex scan
        text = _URL.sub(" URL ", text)
    text = _OLD_TONE.sub(_new_tone, text)
    if collapse_digits:
        text = _DIGITS.sub("0", text)
    if lowercase:
        text = text.lower()
    return " ".join(text.split())  # str.split() and \s agree on what is whitespace


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)
