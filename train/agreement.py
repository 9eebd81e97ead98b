"""Inter-annotator agreement on the primary label: Cohen's kappa between two label files.

    $ python -m train.agreement data/seeds.jsonl data/annotation/seeds_labeller2.jsonl
    paragraphs 150, agreement 0.87, Cohen's kappa 0.81 (primary label)

Each file holds JSON lines with `id` and `labels`; paragraphs are matched by id.
"""

from __future__ import annotations

import argparse
import sys

from sklearn.metrics import cohen_kappa_score

from train.data import DataError, iter_file


def primary_labels(path: str) -> dict[str, str]:
    labels = {}
    for where, row in iter_file(path):
        if row.error:
            raise DataError(row.error)
        labels[row.value["id"]] = row.value["labels"][0]
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.agreement", description=__doc__.splitlines()[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--show", action="store_true", help="list the paragraphs the two files disagree on")
    args = parser.parse_args(argv)
    first, second = primary_labels(args.first), primary_labels(args.second)
    ids = [i for i in first if i in second]
    a, b = [first[i] for i in ids], [second[i] for i in ids]
    agreement = sum(x == y for x, y in zip(a, b)) / max(len(ids), 1)
    print(f"paragraphs {len(ids)}, agreement {agreement:.2f}, Cohen's kappa {cohen_kappa_score(a, b):.2f} (primary label)")
    if args.show:
        for i, x, y in zip(ids, a, b):
            if x != y:
                print(f"  {i}: {x} vs {y}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
