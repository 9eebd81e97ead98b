"""Paragraphs right and macro-F1 per group of test sets, for one or more models, in one run.

    python bench/test_sets.py --model models/tfidf [--model OTHER ...]

The test split is 9,000 paragraphs (150 of them the seeds) from many rounds of writers; one figure over all of it hides
where a change helps and where it costs. bench/RESULTS.md has compared models on these groups
since the twelfth session (counts of paragraphs right, article context on, as `serve tag` and
`train.evaluate` read them; each group's macro-F1 overall and per language):

- **pages:** whole real-style pages with their furniture and neighbouring stories, articles cut
  by subheads, page forms (`rp st ft pt at pq pf`);
- **newer:** rounds 17–20's test sides (`hq lq lc cq qv qc qw`);
- **round 21:** follow-ups that develop one side's own news (`dq ds`);
- **round 22:** pages as a browser copy gives them, from writers who saw no other file (`pv`);
- **round 23:** Vietnam–China cooperation and relations spoken of in general, against one field and
  other pairs (`gq`);
- **older:** rounds 4–15's test sides (`{vi,zh,en}-{s,...,z}`, `en-u`);
- **seeds:** the 150 real seed paragraphs, each seed file a document.

A worked example, the shipped model of the fifteenth session:

    group      paragraphs  right macro-F1  vi     zh     en
    pages            2323   2155    0.923  0.916 0.930 0.923
    round 22          846    786    0.891  0.890 0.925 0.857
    seeds             150    136    0.883  0.883 -     -

With a second model, each group also gets the paragraphs that model alone gets right, those the
first alone gets right, and a two-sided sign test on them: two fits that differ by one feature
column (a list-line flag, sixteenth session) turned 9 and 20 page-set paragraphs, 3 and 3 of
round 22's: a net change of a few paragraphs is churn, not a gain.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from train.compare import paired_counts, right_answers  # noqa: E402
from train.data import load_records  # noqa: E402
from train.scores import evaluate_records  # noqa: E402

AUTHORED = "data/authored"
GROUPS = {
    "pages": [f"{p}-{s}" for p in "rp st ft pt at pq pf".split() for s in "vze"],
    "newer": [f"{p}-{s}" for p in "hq lq lc cq".split() for s in "vze"] + ["qv-e", "qc-e", "qw-e"],
    "round 21": [f"{p}-{s}" for p in ("dq", "ds") for s in "vze"],
    "round 22": [f"pv-{s}" for s in "vze"],
    "round 23": [f"gq-{s}" for s in "vze"],
    "older": [f"{lang}-{w}" for lang in ("vi", "zh", "en") for w in "stuvwxyz"],
}


def group_records(root: Path = ROOT) -> dict[str, list]:
    """Each group's test records (files a checkout lacks are skipped), and the seeds."""
    groups = {}
    for name, stems in GROUPS.items():
        files = [str(root / AUTHORED / f"{stem}.jsonl") for stem in stems if (root / AUTHORED / f"{stem}.jsonl").is_file()]
        groups[name] = [r for r in load_records(files) if r.split == "test"] if files else []
    groups["seeds"] = load_records([str(root / "data/seeds.jsonl")])
    return groups


def group_rows(predictor, groups: dict[str, list]) -> tuple[list[tuple], dict[str, np.ndarray]]:
    """(group, paragraphs, right, macro-F1, {lang: macro-F1}) per group: `train.evaluate`'s own test
    scopes; and per group, which of its paragraphs the model gets right (for `paired_rows`)."""
    rows, right = [], {}
    for name, records in groups.items():
        if not records:
            continue
        results, probs = evaluate_records(predictor, records)  # every record here is a test record, seeds too
        whole = results["test"]
        per_lang = {lang: results[f"test_{lang}"].macro_f1 for lang in ("vi", "zh", "en") if f"test_{lang}" in results}
        rows.append((name, whole.size, round(whole.accuracy * whole.size), whole.macro_f1, per_lang))
        right[name] = right_answers(records, probs, predictor.labels)
    return rows, right


def paired_rows(first: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> list[tuple]:
    """(group, paragraphs only `other` gets right, paragraphs only `first` gets right, two-sided sign-test
    p-value) per group: whether the net count is more than the churn of fits that differ in little."""
    return [(name, *paired_counts(first[name], other[name])) for name in first]


def format_rows(rows: list[tuple]) -> str:
    lines = [f"{'group':<10} {'paragraphs':>10} {'right':>6} {'macro-F1':>8}  {'vi':<6} {'zh':<6} {'en':<6}"]
    for name, size, right, macro, per_lang in rows:
        langs = " ".join(f"{per_lang[lang]:.3f}" if lang in per_lang else "-    " for lang in ("vi", "zh", "en"))
        lines.append(f"{name:<10} {size:>10} {right:>6} {macro:>8.3f}  {langs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="model directory or MLflow URI (repeatable)")
    args = parser.parse_args(argv)
    from vnzh_runtime.errors import run_cli

    return run_cli(lambda: compare(args.model))


def compare(models: list[str]) -> None:
    import vnzh_runtime

    groups = group_records()
    first = None
    for model in models:
        rows, right = group_rows(vnzh_runtime.load(model), groups)
        print(f"model: {model}")
        print(format_rows(rows), end="\n\n")
        if first is None:
            first = right
            continue
        print(f"against {models[0]}: paragraphs each model alone gets right")
        print(f"{'group':<10} {'gained':>6} {'lost':>6} {'p':>6}")
        for name, gained, lost, p in paired_rows(first, right):
            print(f"{name:<10} {gained:>6} {lost:>6} {p:>6.2f}")
        print()


if __name__ == "__main__":
    raise SystemExit(main())
