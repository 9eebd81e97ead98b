"""The country names a TF-IDF model matches (`vnzh_runtime.countries`), chosen at training.

Every country's name in Vietnamese, Chinese and English comes from CLDR through Babel, and
from ISO 3166 through pycountry too (no hand-kept list): ISO writes "Viet Nam", as Vietnam's
own English-language press does, and "Korea, Republic of"; the iso-codes project's Vietnamese
and Chinese translations, which pycountry ships, give "Mỹ", the name Vietnamese press gives
the United States far more often than CLDR's "Hoa Kỳ" (their hyphenated transliterations,
"Xin-ga-po", are no longer written and left out). China and Vietnam are their own sides, every
other country is `third`.
A name whose parts are alternatives ("Myanmar (Miến Điện)") gives each part (an aside inside a
name is dropped: "Cocos (Keeling) Islands"); what follows a comma is a qualifier ("Hồng Kông,
Trung Quốc") and is dropped; a long name is matched by its last four tokens (qualifiers such
as "Đặc khu Hành chính" come first). Where matching a name would find something else:
- a name that normalises (or is cut) to the same tokens as a name of another side is left out;
- a third country's Latin-script name counts only where the text writes it capitalised, token
  by token as every standard spelling does ("Pháp" is France, "biện pháp" a measure; "Quần
  đảo Solomon" keeps its lower-case "đảo"); a name only the translations give that the training
  text mostly writes in lower case is left out ("ý", idea, which starts sentences too, for Italy);
- a one-syllable name after a capitalised Vietnamese syllable is the end of a person's or a
  place's name ("Lê Đức Anh", "Thủ Đức", "Võ Văn Mỹ"): a fixed rule of the runtime, as the
  syllables vary too much to be learned;
- a one-word name beside a capitalised neighbour with which the training text finds it in
  Vietnam–China coverage more than three quarters as often as paragraphs at large is part of
  a longer name there, and that pair is `blocked` ("Lào Cai", the border province; "Trần Đức
  Lương"; "Barque Canada Reef"), while "Lào" elsewhere is Laos;
- a third country's name that the training text still finds in Vietnam–China coverage that
  often is left out: a feature meant to say "another pair of countries" would fire on the very
  stories it must keep (关岛, Guam, in 有关岛礁). The labels decide, not a list of exceptions.
  Countries that VN–China stories often name beside the pair (the United States, Singapore,
  South Korea) stay below that.

    >>> settings = country_names(["Biện pháp mới", "Pháp và Đức ký thỏa thuận"], [False, False])
    >>> ("hoa kỳ", "third") in zip(settings["names"], settings["sides"]), "pháp" in settings["capitalised"]
    (True, True)
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from vnzh_runtime.countries import CountryNames, piece_shapes, written_capitalised
from vnzh_runtime.langid import HAN
from vnzh_runtime.ngram_index import SEPARATOR_ID, NgramIndex
from vnzh_runtime.piece_cache import PieceCache
from vnzh_runtime.textnorm import RAW_TOKEN, SEP, feature_tokens, join_batch, normalize_piece

LANGUAGES = ("vi", "zh", "en")
# CLDR codes that are groupings, pseudo-regions or uninhabited/reserved territories, not countries
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK",
                 "AQ", "BV", "HM", "UM", "TF", "IO", "CP", "DG", "EA", "IC", "AC", "TA"}
SIDE_OF = {"CN": "china", "VN": "vietnam"}
MAX_TOKENS = 4  # longer names are matched by their last 4 tokens ("印度尼西亚" by "度尼西亚"): 4 n-gram passes, not 11
# Vietnamese press calls the United States "Mỹ" far more often than CLDR's "Hoa Kỳ". Taiwan's names are
# left out: two-character ones such as 东加 (Tonga) and 查德 (Chad) sit inside 广东加快 and 理查德
ISO_TRANSLATIONS = ("vi", "zh_CN")
LOWER_CASE_LIMIT = 0.2  # a one-word name written in lower case more often than this is a common word
MIN_SEEN = 3  # a third country's name seen in fewer training paragraphs keeps the benefit of the doubt
# ... seen in VN–China paragraphs more than 3/4 as often as training paragraphs at large are, it is no
# evidence of another pair of countries there (bench/RESULTS.md: Lào Cai, the seeds). At 1/2 the
# United States, Singapore and South Korea were dropped too (in 35-41 % VN–China paragraphs against
# 58 % at large; Lào 49 %, Đức 62 %), and a Vietnam–US story read as VN–China (tenth session)
RELEVANT_LIMIT = 0.75


def standard_names(translated: bool = True) -> list[tuple[str, str]]:
    """(region code, name): CLDR's names in the three languages, then ISO 3166's in English and
    (`translated`) in the iso-codes project's Vietnamese and Chinese translations, which pycountry ships."""
    import gettext

    import pycountry
    from babel import Locale

    names = [(code, name) for language in LANGUAGES for code, name in Locale.parse(language).territories.items()]
    languages = ISO_TRANSLATIONS if translated else ()
    translations = [gettext.NullTranslations()] + [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language])
                                                   for language in languages]
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", country.name)):
            for translation in translations:
                written = translation.gettext(name)
                short = written.split("(")[0].split(",")[0]  # "Sint Maarten (Dutch part)", "Korea, Republic of"
                if written != name and "-" in short:
                    continue  # the translations' old transliterations ("Xin-ga-po", "Ma-li"): no longer written
                if len(feature_tokens(short)) <= MAX_TOKENS:  # a formal long name: CLDR has its short form
                    names.append((country.alpha_2, short))
    return names


def standard_name_sides(translated: bool = True) -> dict[tuple[str, ...], set[str]]:
    """Normalised name tokens -> the sides they name, over every country's standard names."""
    found: dict[tuple[str, ...], set[str]] = {}
    for code, name in standard_names(translated):
        if len(code) != 2 or not code.isalpha() or code in NOT_COUNTRIES:
            continue
        name = name.split(",")[0]
        if not name.rstrip().endswith(")"):  # "Cocos (Keeling) Islands": a name with an aside, not alternatives
            name = re.sub(r"\(.*?\)", " ", name)
        for part in re.split(r"[()]", name):
            tokens = tuple(feature_tokens(part))[-MAX_TOKENS:]
            if tokens:
                found.setdefault(tokens, set()).add(SIDE_OF.get(code, "third"))
    return found


def tokens_and_shapes(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The texts' feature tokens, each closed by SEP (`tokenize_batch`), which the text writes
    capitalised and which read as syllables of a name (as the runtime's featuriser reads them)."""
    shapes = PieceCache(piece_shapes)
    read = [shape for raw in RAW_TOKEN.findall(join_batch(texts)) for shape in shapes[raw]]
    tokens = [token for token, _, _ in read]
    capital = np.array([is_capital for _, is_capital, _ in read], dtype=bool)
    return tokens, capital, np.array([is_syllable for _, _, is_syllable in read], dtype=bool)


def share_by_key(keys: np.ndarray, rows: np.ndarray, relevant: np.ndarray) -> dict[int, tuple[int, float]]:
    """key -> (paragraphs it occurs in, the share of them that are VN–China coverage)."""
    if not len(keys):
        return {}
    pairs = np.unique(np.stack([keys, rows], axis=1), axis=0)  # each key counted once per paragraph
    found, at, seen = np.unique(pairs[:, 0], return_inverse=True, return_counts=True)
    in_relevant = np.bincount(at, relevant[pairs[:, 1]].astype(float))
    return {int(k): (int(n), float(r / n)) for k, n, r in zip(found, seen, in_relevant)}


def blocked_neighbours(stream: np.ndarray, capital: np.ndarray, vocabulary: list[str], names: list[str],
                       one_word: list[str], relevant: np.ndarray, limit: float) -> list[str]:
    """Capitalised neighbours that make a one-word name part of a longer name mostly in VN–China
    coverage ("lào cai", "trần đức", "barque canada"), as "left right" token pairs. A neighbour
    that belongs to a name is another country ("Trung – Lào", "the United States, Japan")."""
    rows = np.cumsum(stream == SEPARATOR_ID) - (stream == SEPARATOR_ID)
    ids = {token: i for i, token in enumerate(vocabulary)}
    is_name = np.zeros(len(vocabulary) + 2, dtype=bool)
    is_name[[ids[name] + 2 for name in one_word if name in ids]] = True
    in_a_name = np.zeros(len(vocabulary) + 2, dtype=bool)
    in_a_name[[ids[token] + 2 for name in names for token in name.split(" ") if token in ids]] = True
    at = np.flatnonzero(is_name[stream + 2] & capital)
    keys, key_rows = [], []
    for step in (-1, 1):
        near = at + step
        inside = (near >= 0) & (near < len(stream))
        here, near = at[inside], near[inside]
        joined = (stream[near] >= 0) & capital[near] & ~in_a_name[stream[near] + 2] & (rows[near] == rows[here])
        left, right = (near, here) if step < 0 else (here, near)
        keys.append(stream[left[joined]] * len(vocabulary) + stream[right[joined]])
        key_rows.append(rows[here[joined]])
    stats = share_by_key(np.concatenate(keys), np.concatenate(key_rows), relevant)
    return sorted(f"{vocabulary[k // len(vocabulary)]} {vocabulary[k % len(vocabulary)]}"
                  for k, (n, share) in stats.items() if n >= MIN_SEEN and share > limit)


def mostly_lower_case(word: str, counts: Counter) -> bool:
    lower = counts[word]
    capitalised = sum(n for written, n in counts.items() if written != word and written.lower() == word)
    return lower > LOWER_CASE_LIMIT * (lower + capitalised)


def candidate_names(texts: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(every standard name that names one side, its side, the one-word Latin-script names of third countries)."""
    counts = Counter(word for text in texts for word in re.findall(r"\w+", text))
    curated = standard_name_sides(translated=False)
    names, sides = [], []
    for tokens, found in sorted(standard_name_sides().items()):
        if len(tokens) == 1 and tokens not in curated and mostly_lower_case(tokens[0], counts):
            continue  # only the translations give it, and it is above all a common word: "ý" (idea) for Italy
        if len(found) == 1:
            names.append(" ".join(tokens))
            sides.append(next(iter(found)))
    one_word = [n for n, side in zip(names, sides) if side == "third" and " " not in n and n.isalpha() and not HAN.match(n)]
    return names, sides, one_word


def lower_case_tokens() -> set[str]:
    """Tokens that some standard spelling of a country writes in lower case ("đảo" in "Quần đảo
    Solomon", "and", "út" in "Ả Rập Xê-út"): a name is not required to be capitalised there."""
    return {token for _, name in standard_names() for raw in RAW_TOKEN.findall(name)
            if not written_capitalised(raw) for token in normalize_piece(raw)}


def capitalised_tokens(names: list[str], sides: list[str]) -> list[str]:
    """The Latin-script tokens of third countries' names that every standard spelling capitalises and
    no name of China or Vietnam holds: there a name counts only written capitalised ("Ba Tư", not
    "ba tư vấn viên"; "Pháp", not "biện pháp")."""
    exempt = lower_case_tokens() | {token for name, side in zip(names, sides) if side != "third" for token in name.split(" ")}
    return sorted({token for name, side in zip(names, sides) if side == "third" for token in name.split(" ")
                   if token.isalpha() and not HAN.match(token) and token not in exempt})


def country_names(texts: list[str], relevant: list[bool]) -> dict:
    """The `CountryNames` settings (names, sides, capitalised, blocked) for training texts and whether each is VN–China coverage."""
    names, sides, one_word = candidate_names(texts)
    tokens, capital, syllable = tokens_and_shapes(texts)
    vocabulary = list(dict.fromkeys([t for t in tokens if t != SEP] + [t for name in names for t in name.split(" ")]))
    stream = NgramIndex.build([], (1, 1), vocabulary).token_ids(tokens)
    relevant = np.asarray(relevant, dtype=bool)
    limit = RELEVANT_LIMIT * float(np.mean(relevant)) if len(relevant) else 1.0
    blocked = blocked_neighbours(stream, capital, vocabulary, names, one_word, relevant, limit)
    capitalised = capitalised_tokens(names, sides)
    probe = CountryNames(names, sides, 1.0, capitalised, blocked).bind(vocabulary)
    rows, columns = probe.matches(stream, capital, syllable)
    stats = share_by_key(columns, rows, relevant)
    keep = [side != "third" or stats.get(i, (0, 0.0))[0] < MIN_SEEN or stats[i][1] <= limit for i, side in enumerate(sides)]
    kept = {n for n, k in zip(names, keep) if k}
    kept_tokens = {token for name in kept for token in name.split(" ")}  # China's and Vietnam's names are always kept
    return {"names": [n for n in names if n in kept], "sides": [s for n, s in zip(names, sides) if n in kept],
            "capitalised": [token for token in capitalised if token in kept_tokens],
            "blocked": [pair for pair in blocked if any(t in kept for t in pair.split(" "))]}
