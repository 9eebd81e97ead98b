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
"""

import re

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[^\W\d_\u3400-\u9fff]+")
VI_LETTERS = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)

# English cues: function words, and letters or word endings Vietnamese syllables never have.
EN_WORDS = frozenset("the of and to in on a an for with is are was were said has have by from at its that this as be will".split())
NOT_VI_SYLLABLE = re.compile(r"[fjwz]|[bdklqrsvx]$|(?<!n)g$", re.IGNORECASE)

LANGS = ("vi", "zh", "en")


def detect_lang(text: str) -> str:
    han = len(HAN.findall(text))
    words = LATIN_WORD.findall(text)
    if han and han >= 0.5 * len(words):
        return "zh"
    if not words:
        return "zh" if han else "en"
    vi_words = sum(1 for word in words if VI_LETTERS.search(word))
    en_words = sum(1 for word in words if word.lower() in EN_WORDS or (word.isascii() and NOT_VI_SYLLABLE.search(word)))
    return "vi" if vi_words > en_words and vi_words >= 0.15 * len(words) else "en"
