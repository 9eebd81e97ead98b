"""Corpus check: `python -m train.corpus [FILES...]` prints a report and exits 1 on any error.

Checks every line (schema, label set, languages, seed paragraphs only in test),
duplicate ids and texts, articles in two splits, near duplicates across splits, and the minimum counts per
language and dominant label. Errors name file:line. Near duplicates are found with
5-token shingles (syllables for vi/en, characters for zh): a pair across splits
whose Jaccard overlap >= 0.5, or whose shorter text (12+ shingles) is >= 0.8
contained in the longer, is a leak.

    $ python -m train.corpus
    records: 2431 in 9 files ... OK
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from itertools import combinations

from train.data import (DEFAULT_FILES, LABELS, SPLITS, DataError, Record, article_in_two_splits, doc_id_as_written,
                        in_file, iter_file, record_from, resolve_files)
from train.record_checks import lone_surrogate
from vnzh_runtime.errors import UserError
from vnzh_runtime.langid import LANGS
from vnzh_runtime.textnorm import normalize, tokenize

MIN_PER_LABEL = {"vi": 150, "zh": 150, "en": 60}
SHINGLE = 5
JACCARD_LIMIT = 0.5
CONTAINMENT_LIMIT = 0.8
CONTAINMENT_MIN_SHINGLES = 12  # a short headline sharing a proper name with a paragraph is no leak
BOILERPLATE = 50  # texts a shingle is in, at which it stops counting as shared: a menu line, a stock phrase


def shingles(text: str) -> frozenset:
    tokens = tokenize(normalize(text, lowercase=True, collapse_digits=True))
    if len(tokens) < SHINGLE:
        return frozenset([" ".join(tokens)])
    return frozenset(" ".join(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def same_shingles(sets: list[frozenset]) -> list[list[int]]:
    """Indices of texts with the very same shingles (digits are collapsed: a template with other
    numbers), in groups of two or more; texts of 6 tokens or more (a time stamp, "09:30 | 10/05/2024",
    is the same as any other).

    >>> same_shingles([shingles("Kim ngạch tháng 3 đạt 5 tỷ USD"), shingles("Kim ngạch tháng 4 đạt 7 tỷ USD"), frozenset()])
    [[0, 1]]
    """
    groups: dict[frozenset, list[int]] = defaultdict(list)
    for i, shingle_set in enumerate(sets):
        if len(shingle_set) > 1:
            groups[shingle_set].append(i)
    return [members for members in groups.values() if len(members) > 1]


def near_duplicates(records: list[tuple[str, Record]]) -> list[tuple[str, str, float, float]]:
    """(where a, where b, jaccard, containment) for similar pairs, found through shared shingles."""
    sets = [shingles(r.text) for _, r in records]
    index: dict[str, list[int]] = defaultdict(list)
    for i, shingle_set in enumerate(sets):
        for shingle in shingle_set:
            index[shingle].append(i)
    shared: Counter = Counter()
    for members in index.values():
        if len(members) < BOILERPLATE:  # a shingle in 50+ texts is boilerplate, not a sign of copying
            shared.update(combinations(members, 2))
    for first, *copies in same_shingles(sets):  # a template copied 50+ times shares only "boilerplate"
        for other in copies:
            if (first, other) not in shared:
                shared[first, other] = len(sets[first])
    pairs = []
    for (a, b), common in shared.items():
        jaccard = common / len(sets[a] | sets[b])
        smaller = min(len(sets[a]), len(sets[b]))
        containment = common / smaller
        if jaccard >= JACCARD_LIMIT or (containment >= CONTAINMENT_LIMIT and smaller >= CONTAINMENT_MIN_SHINGLES):
            pairs.append((records[a][0], records[b][0], jaccard, containment))
    return pairs


KNOWN_FIELDS = ("id", "lang", "labels", "text", "source", "split", "doc_id", "line", "label")


def unknown_fields(value: dict, where: str) -> list[str]:
    """A field no reader reads: a misspelt `doc-id` loses the article's context without a word.

    >>> unknown_fields({"text": "x", "doc-id": "a1"}, "f:3")
    ["f:3: field 'doc-id' is read by nothing (did you mean 'doc_id'?)"]
    """
    import difflib

    found = []
    for key in value:
        if key not in KNOWN_FIELDS:
            close = difflib.get_close_matches(key, KNOWN_FIELDS, n=1)
            found.append(f"{where}: field {key!r} is read by nothing" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return found


def scattered_articles(records: list[tuple[str, Record]]) -> list[str]:
    """A doc_id that comes back after other records of its file: training reads its paragraphs as one article,
    `serve tag`, which streams, as two (the second without the first's head).

    >>> a, b = (Record(i, "vi", ("other",), "x", "s", "test", doc) for i, doc in (("1", "f\\tA"), ("2", None)))
    >>> scattered_articles([("f:1", a), ("f:2", b), ("f:3", a)])
    ["f:3: doc_id 'A' comes back after other records (its article began at f:1); serve tag reads it as a second article without the first's head, training as one (fix: keep an article's records together)"]
    """
    found, began, last = [], {}, None
    for where, record in records:
        if record.doc_id is not None and record.doc_id != last and record.doc_id in began:
            found.append(f"{where}: doc_id {doc_id_as_written(record)!r} comes back after other records (its article "
                         f"began at {began[record.doc_id]}); serve tag reads it as a second article without the "
                         "first's head, training as one (fix: keep an article's records together)")
        if record.doc_id is not None:
            began.setdefault(record.doc_id, where)
        last = record.doc_id
    return found


def check(patterns: list[str], min_per_label: dict[str, int]) -> tuple[list[str], list[str], list[tuple[str, Record]]]:
    errors: list[str] = []
    warnings: list[str] = []
    records: list[tuple[str, Record]] = []
    ids: dict[str, str] = {}
    texts: dict[str, str] = {}
    articles: dict[str, tuple[str, str]] = {}
    for path in resolve_files(patterns, flag="train.corpus"):
        try:  # a whole file no reader takes (gzip, UTF-16) is its error; the other files are still checked
            for where, row in iter_file(path):
                try:
                    record = in_file(record_from(row, where), path)  # a doc_id names an article within its file
                except DataError as err:
                    errors.append(str(err))
                    continue
                warnings.extend(unknown_fields(row.value, where))
                half = lone_surrogate(row.value, where)
                if half:  # trained on and logged (as U+FFFD), but no writer meant it
                    warnings.append(half)
                if record.id in ids:
                    errors.append(f"{where}: duplicate id {record.id!r} (first at {ids[record.id]})")
                key = normalize(record.text, lowercase=True)
                if key in texts:
                    errors.append(f"{where}: duplicate text (first at {texts[key]})")
                ids.setdefault(record.id, where)
                texts.setdefault(key, where)
                in_two_splits = article_in_two_splits(articles, record, where)
                if in_two_splits:
                    errors.append(in_two_splits)
                records.append((where, record))
        except UserError as err:
            errors.append(str(err))
    warnings.extend(scattered_articles(records))
    split_of = {where: r.split for where, r in records}
    for a, b, jaccard, containment in near_duplicates(records):
        message = f"{a} ~ {b}: near duplicate (jaccard {jaccard:.2f}, containment {containment:.2f})"
        if split_of[a] != split_of[b]:
            errors.append(message + f" across splits {split_of[a]}/{split_of[b]}; rewrite or drop one")
        else:
            warnings.append(message)
    counts = Counter(r.lang + "/" + r.label for _, r in records if not r.is_seed)
    for lang, minimum in min_per_label.items():
        for label in LABELS:
            if counts[f"{lang}/{label}"] < minimum:
                errors.append(f"counts: {lang}/{label} has {counts[f'{lang}/{label}']} authored records, needs {minimum}")
    return errors, warnings, records


def count_table(records: list[Record]) -> str:
    counts = Counter((r.lang, r.label, r.split) for r in records)
    header = f"{'lang':<4} {'label':<17}" + "".join(f"{s:>7}" for s in SPLITS) + f"{'total':>7}"
    lines = [header]
    for lang in LANGS:
        for label in LABELS:
            row = [counts[(lang, label, s)] for s in SPLITS]
            if sum(row):
                lines.append(f"{lang:<4} {label:<17}" + "".join(f"{n:>7}" for n in row) + f"{sum(row):>7}")
    mixed = sum(len(r.labels) > 1 for r in records)
    seeds = sum(r.is_seed for r in records)
    lines.append(f"records {len(records)}; seed {seeds}; mixed-topic {mixed} ({mixed / max(len(records), 1):.0%})")
    lines.append(mixed_table(records))
    return "\n".join(lines)


def mixed_table(records: list[Record]) -> str:
    """Mixed-topic records (more than one label) per language and split: what multi-label models learn from."""
    mixed = Counter((r.lang, r.split) for r in records if len(r.labels) > 1)
    total = Counter((r.lang, r.split) for r in records)
    lines = [f"{'mixed':<22}" + "".join(f"{s:>13}" for s in SPLITS)]
    for lang in LANGS:
        cells = [f"{mixed[(lang, s)]:>5} / {total[(lang, s)]:<5}" for s in SPLITS]
        lines.append(f"{lang:<22}" + "".join(f"{c:>13}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.corpus", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=DEFAULT_FILES, help="JSONL files or globs")
    parser.add_argument("--no-min-counts", action="store_true", help="skip the minimum counts per language x label")
    args = parser.parse_args(argv)
    try:
        errors, warnings, records = check(args.files, {} if args.no_min_counts else MIN_PER_LABEL)
    except UserError as err:  # a DataError, or a file no reader takes (a line of more than 32 MB)
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(count_table([r for _, r in records]))
    for warning in warnings:
        print(f"warning: {warning}")
    for error in errors:
        print(f"error: {error}")
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
