r"""Text as the page shows it: what scrapers leave, cleaned before any token is cut.

Real pages come with HTML tags, entities, scripts and comments, invisible characters, and
wire datelines. Each cuts words and country names apart or adds words the story is not about
(bench/RESULTS.md, tenth session: `<p>` around each paragraph had cost 14 % of the test split,
"WASHINGTON (AP) —" turned 119 of 1,430 English VN–China paragraphs `other`):

    >>> clean_markup("<p>HANOI, Dec 3 (Reuters) - Vi&#7879;t&nbsp;Nam \u2013 Trung Qu\u00adốc</p><!-- ad -->")
    '  Việt\xa0Nam – Trung Quốc  '
    >>> clean_markup("R&D in AT&T; 3 < 5; &lt;Trung Quốc&gt;")
    'R&D in AT&T; 3 < 5; <Trung Quốc>'

`clean_markup` runs on one text or on a batch joined by SEP (`textnorm.join_batch`): no step
reaches across SEP and none makes one, so a joined batch is cleaned as each text alone (a test
checks it). `textnorm.normalize` uses it too: the transformer path and the corpus check read
the same cleaned text.
"""

from __future__ import annotations

import html
import re
from html.entities import html5

# Joins a batch (textnorm.join_batch): whitespace to str.split and to re's \s and \W, a starter NFKC
# never composes across, and mapped by no step, so no step's result on one text depends on its neighbours.
SEP = "\x1e"
_NOT_SEP_SPACE = rf"[^\S{SEP}]"
# Elements of HTML (the living standard's, with a few obsolete ones scrapers still meet): only
# these are tags, so "a<b and c>d" or "<Trung Quốc>" written on a page stay text.
_ELEMENTS = ("a abbr address area article aside audio b base bdi bdo big blockquote body br button canvas caption "
             "center cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset "
             "figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input "
             "ins kbd label legend li link main map mark menu meta meter nav nobr noscript object ol optgroup "
             "option output p param picture pre progress q rp rt ruby s samp script section select slot small "
             "source span strike strong style sub summary sup svg table tbody td template textarea tfoot th "
             "thead time title tr track tt u ul var video wbr").split()
_TAG = re.compile(rf"</?(?:{'|'.join(sorted(_ELEMENTS, key=len, reverse=True))})(?:{_NOT_SEP_SPACE}[^<>{SEP}]*)?/?>",
                  re.IGNORECASE)
# What a browser does not show: a script, a style sheet, a comment (bounded, so that thousands of
# unclosed "<script>" cost linear time).
_HIDDEN = re.compile(rf"<(script|style|noscript|template)\b[^>{SEP}]{{0,500}}>[^{SEP}]{{0,5000}}?</\1{_NOT_SEP_SPACE}*>"
                     rf"|<!--[^{SEP}]{{0,5000}}?-->", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# soft hyphen, zero-width and direction marks, BOM, and NUL (a broken export's: "K\x00im" is "Kim")
INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\x00"
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


# A zero-width space or word joiner between two Latin letters: inside a word (a scraper's break
# hint, "Vi\u200bệt") it goes; where a page uses it instead of spaces ("Trung\u200bQuốc\u200btăng"),
# deleting it would glue the words, so there it is a space. Chinese needs no spaces: it goes.
_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_JOINT_BETWEEN_LETTERS = re.compile(f"(?<=[{_LATIN}])[\u200b\u2060]+(?=[{_LATIN}])")


def without_invisible(text: str) -> str:
    """The text without what a browser does not show; zero-width spaces that stand for spaces
    (two or more between letters, and more of them than spaces) are spaces.

    >>> without_invisible("Vi\u200bệt Nam"), without_invisible("Trung\u200bQuốc\u200btăng\u200bmạnh")
    ('Việt Nam', 'Trung Quốc tăng mạnh')
    """
    if any(char in text for char in INVISIBLE):  # nine substring scans cost less than one regex scan
        if "\u200b" in text or "\u2060" in text:  # decided text by text: a joined batch is cleaned as each alone
            text = SEP.join(map(joints_as_spaces, text.split(SEP))) if SEP in text else joints_as_spaces(text)
        return _INVISIBLE.sub("", text)
    return text


def joints_as_spaces(text: str) -> str:
    if len(_JOINT_BETWEEN_LETTERS.findall(text)) > max(text.count(" "), 1):
        return _JOINT_BETWEEN_LETTERS.sub(" ", text)
    return text


def is_blank(text: str) -> bool:
    """Whether a text shows nothing: only whitespace and invisible characters (a line of zero-width
    spaces or NULs is no paragraph, as a line of spaces is not)."""
    return not without_invisible(text).strip()

# A wire story's dateline says where it was filed, not what it is about. Cut: place and date
# (words not starting in lower case) before a capitalised source in brackets and a dash ("HANOI,
# Dec 3 (Reuters) -", "Hà Nội (TTXVN) –", "(Chinhphu.vn) -"); a place in capitals before an em
# dash, with an optional country or date ("BEIJING —", "BAC GIANG, Vietnam —"); "新华社河内12月3日电
# （记者 …）", "本报讯". Not cut: a name of the pair first or in the brackets ("China (PRC) – Vietnam
# relations", "Mr Wang Yi (China) -"), an English article first ("The ... Association (VCFA) –"), an en dash or hyphen after
# capitals ("VIETNAM – CHINA", "ASEAN – Trung Quốc"), 电话/电视/电贺 ("3日电话会谈"), and any dateline
# not followed by a sentence: a line of its own is page furniture and keeps its words.
_PAIR = r"(?:China|CHINA|Trung Quốc|TRUNG QUỐC|Vietnam|VIETNAM|Viet Nam|VIET NAM|Việt Nam|VIỆT NAM)"
_WORD = r"(?![a-z])[^\W_][\w.'’-]*,?"
_SOURCE_DATELINE = (rf"(?!(?:The|An?){_NOT_SEP_SPACE}|{_PAIR}{_NOT_SEP_SPACE}*\()(?:{_WORD}{_NOT_SEP_SPACE}+){{0,5}}"
                    rf"\((?!{_PAIR}\))[A-ZĐ][^(){SEP}]{{0,29}}\){_NOT_SEP_SPACE}*[-–—]{{1,2}}")
_CAPITALS_DATELINE = (rf"(?!{_PAIR}\b)[A-Z][A-Z.'’-]+(?:{_NOT_SEP_SPACE}[A-Z][A-Z.'’-]+){{0,2}}"
                      rf"(?:,{_NOT_SEP_SPACE}+[A-Z][a-z]+\.?(?:{_NOT_SEP_SPACE}+\d{{1,2}})?)?{_NOT_SEP_SPACE}+(?:—|--)"
                      rf"(?!{_NOT_SEP_SPACE}*[A-Z]{{2}})")
_CHINESE_DATELINE = (rf"据?[\u4e00-\u9fff]{{2,12}}?(?:\d{{1,2}}月)?\d{{1,2}}日电(?=[（(\s])"
                     rf"(?:{_NOT_SEP_SPACE}*(?:（[^）{SEP}]{{0,30}}）|\([^){SEP}]{{0,30}}\)))?|本报讯(?:（[^）{SEP}]{{0,30}}）)?")
# Matched after a SEP (clean_markup puts one before the first text): a literal first character lets
# the regex engine jump from text start to text start (98 ms per 11 M characters against 192 ms).
DATELINE = re.compile(rf"{SEP}{_NOT_SEP_SPACE}*(?:{_SOURCE_DATELINE}|{_CAPITALS_DATELINE}|{_CHINESE_DATELINE})"
                      rf"(?={_NOT_SEP_SPACE}*[^\s（(\-–—a-z])")


def _unescape(match: re.Match) -> str:
    """A whole entity as the page shows it: a named one by exact name ("&notit;" is not "¬it;"), a
    control character as a space (never SEP, never two words glued)."""
    entity = match.group(0)
    if entity[1] != "#":
        return html5.get(entity[1:], entity)
    char = html.unescape(entity)
    return " " if not char or not char.isprintable() else char


def clean_markup(text: str) -> str:
    """Scripts and comments dropped, tags blanked, then entities decoded (so that "&lt;b&gt;" a page
    shows stays text), invisible characters dropped, a dateline cut."""
    if "<" in text:
        if "</" in text or "-->" in text:
            text = _HIDDEN.sub(" ", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = _ENTITY.sub(_unescape, text)
    text = without_invisible(text)
    return DATELINE.sub(SEP + " ", SEP + text)[1:]
