r"""Text normalisation, the single place it lives; saved with every model.

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

Text is first read as the page shows it (`vnzh_runtime.markup.clean_markup`: tags, scripts,
entities, invisible characters, wire datelines).

`tokenize` yields syllables for Vietnamese and English and single characters for
Chinese, so word n-grams over its tokens are syllable n-grams and character n-grams.

The features' tokens (`feature_tokens`) cut the raw text first (words, numbers, URLs and
Han characters, page marks, `RAW_TOKEN`) and then normalise each piece (`normalize_token`). So a batch
costs one regex pass over its joined texts plus one dict hit per piece: pieces repeat, and
each distinct one is normalised once (`TOKEN_CACHE`). `tokenize_batch` closes each text's
tokens with `SEP`:

    >>> feature_tokens("Hoà BÌNH năm 2.024,5 https://x.vn/a 5G")
    ['hòa', 'bình', 'năm', '0', 'url', '0g']
    >>> feature_tokens("Trang chủ > Kinh doanh | Tags: sầu riêng · Trung Quốc · Lạng Sơn |")
    ['trang', 'chủ', '›', 'kinh', 'doanh', '|', 'tags', 'sầu', 'riêng', '·', 'trung', 'quốc', 'lạng', 'sơn']
    >>> feature_tokens("Sầu riêng sang Trung Quốc | VnExpress")
    ['sầu', 'riêng', 'sang', 'trung', 'quốc', 'vnexpress']
    >>> tokenize_batch(["Hoà BÌNH", "中越邊界"])
    ['hòa', 'bình', '\x1e', '中', '越', '边', '界', '\x1e']
"""

import functools
import re
import unicodedata
from itertools import chain

from vnzh_runtime.langid import HAN
from vnzh_runtime.markup import SEP, clean_markup
from vnzh_runtime.piece_cache import PieceCache

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
_HAN_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Page marks: the separators of breadcrumbs ("Trang chủ > Kinh doanh"), of tag and topic lists
# ("Tags: sầu riêng · Trung Quốc · Lạng Sơn"), menus ("Thời sự | Thế giới | Kinh doanh") and
# copyright lines. Punctuation is otherwise dropped; these are kept, one token per kind, because
# they tell page furniture from the topic words it repeats (bench/RESULTS.md, seventh session).
# Only where they separate: a breadcrumb mark after a word (not "» headline" or "→ Đọc thêm" at
# a line's start), a pipe or bullet only when another follows in the same text (a menu or a tag
# list, not "Headline | Site", "快讯｜...", "• a bulleted paragraph" or the dot of 菲德尔·卡斯特罗).
PAGE_MARKS = {">": "›", "＞": "›", "›": "›", "»": "›", "→": "›", "▶": "›", "►": "›", "▸": "›",
              "·": "·", "•": "·", "|": "|", "｜": "|", "©": "©"}
MARK_TOKENS = frozenset(PAGE_MARKS.values())


def _marks_of(kind: str) -> str:
    """A character class of the raw marks PAGE_MARKS maps to the token `kind`."""
    return "[" + "".join(re.escape(raw) for raw, token in PAGE_MARKS.items() if token == kind) + "]"


_CRUMB, _PIPE, _DOT = _marks_of("›"), _marks_of("|"), _marks_of("·")
_AFTER_WORD = rf"(?:(?<=[^\s{SEP}])|(?<=[^\s{SEP}][^\S{SEP}]))"  # SEP is whitespace to \s, and ends a text
_PAGE_MARK = rf"{_marks_of('©')}|{_AFTER_WORD}{_CRUMB}|{_PIPE}(?=[^{SEP}]*?{_PIPE})|{_DOT}(?=[^{SEP}]*?{_DOT})"  # lazy: the next one, not the last
# A URL; a word: letters and digits (a "." or "," between two digits included, as the digit rule
# reads "1.234,5"), and combining marks so that decomposed Vietnamese stays one piece; a Han
# character; a letterlike or CJK compatibility symbol, which NFKC spells out ("℃" -> "°C", "㎡" -> "m2");
# SEP; a page mark. "5G", "75th" and "1.5km" stay one piece each, as whole-text normalising reads them.
RAW_TOKEN = re.compile(rf"(?:https?://|www\.)\S+|[^\W_{_HAN_CLASS}](?:[^\W_{_HAN_CLASS}]+|[\u0300-\u036f]+|(?<=\d)[.,](?=\d))*"
                       rf"|[{_HAN_CLASS}]|[\u2100-\u214f\u3300-\u33ff]|{SEP}|{_PAGE_MARK}")
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


@functools.cache
def _simplified() -> dict[str, str]:
    """Traditional -> simplified Chinese character by character, from OpenCC's table."""
    from importlib.resources import files

    table = {}
    for line in (files("opencc_purepy") / "dicts" / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        # Only characters HAN matches: a text is translated only when HAN finds one in it, so
        # translating a joined batch of texts changes exactly what translating each would.
        if len(traditional) == 1 and simplified and HAN.match(traditional):
            table[traditional] = simplified.split()[0]  # the first candidate is the common reading
    return table


@functools.cache
def _traditional() -> re.Pattern:
    """Any character `_simplified` maps: scanning for them is several times faster than str.translate."""
    return re.compile("[" + "".join(map(re.escape, sorted(_simplified()))) + "]")


def _to_simplified(match: re.Match) -> str:
    return _simplified()[match.group(0)]


def _new_tone(match: re.Match) -> str:
    old = match.group(0)
    new = _TONES[old.lower()]
    return new.upper() if old.isupper() else (new.capitalize() if old[0].isupper() else new)


def normalize(text: str, lowercase: bool = False, collapse_digits: bool = False) -> str:
    return " ".join(_rewrite(clean_markup(text), lowercase, collapse_digits).split())  # str.split() and \s agree on whitespace


def _rewrite(text: str, lowercase: bool, collapse_digits: bool) -> str:
    text = unicodedata.normalize("NFKC", text)  # a whole text is cleaned first (normalize); a piece was cut from a clean one
    if HAN.search(text):
        text = _traditional().sub(_to_simplified, text)
    if "http" in text or "www." in text:  # a substring test is far cheaper than the regex scan
        text = _URL.sub(" URL ", text)
    text = _OLD_TONE.sub(_new_tone, text)
    if collapse_digits:
        text = _DIGITS.sub("0", text)
    if lowercase:
        text = text.lower()
    return text


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def normalize_token(raw: str) -> tuple[str, ...]:
    """The normalised tokens of one RAW_TOKEN piece: usually one, none or several when NFKC says so.

    A page mark is its kind's token (a rule of its own: the whole-text rewrite drops punctuation).
    The common pieces take shortcuts that give exactly what the full rewrite gives (tested on
    every piece of the corpus): a plain number, a unified Han character, an NFKC-stable word of
    letters with no old-style tone."""
    if raw == SEP:
        return (SEP,)
    if raw in PAGE_MARKS:
        return (PAGE_MARKS[raw],)
    if _PLAIN_NUMBER.fullmatch(raw):
        return ("0",)
    if len(raw) == 1 and "\u3400" <= raw <= "\u9fff":  # NFKC leaves these; only compatibility ideographs change
        return (_simplified().get(raw, raw),)
    lower = raw.lower()
    if lower.isalpha() and unicodedata.is_normalized("NFKC", raw) and not _OLD_TONE.search(raw):
        return (lower,)
    return full_normalize_token(raw)


def full_normalize_token(raw: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(_rewrite(raw, lowercase=True, collapse_digits=True)))


TOKEN_CACHE = PieceCache(normalize_token)  # raw piece -> its normalised tokens
normalize_piece = TOKEN_CACHE.__getitem__


def feature_tokens(text: str) -> list[str]:
    """The tokens TF-IDF features and language id read, for one text (the reference `tokenize_batch` equals)."""
    return [token for raw in RAW_TOKEN.findall(clean_markup(text.replace(SEP, " "))) for token in normalize_token(raw)]


def join_batch(texts: list[str]) -> str:
    """The texts joined by SEP and closed by it: one string for one regex pass over the batch."""
    joined = SEP.join(texts)
    if joined.count(SEP) != len(texts) - 1:  # a text holding SEP itself: it is whitespace there anyway
        joined = SEP.join(text.replace(SEP, " ") for text in texts)
    cleaned = clean_markup(joined)
    if cleaned.count(SEP) != len(texts) - 1:  # a bug in a cleaning step: each text alone is always right
        cleaned = SEP.join(map(clean_markup, joined.split(SEP)))
    return cleaned + SEP if texts else ""


def tokenize_batch(texts: list[str]) -> list[str]:
    """`feature_tokens` of each text, each closed by SEP."""
    return list(chain.from_iterable(map(normalize_piece, RAW_TOKEN.findall(join_batch(texts)))))
