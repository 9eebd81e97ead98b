"""Measure TF-IDF design choices on dev, test and the seed paragraphs, in one run.

    python bench/tfidf_variants.py                                  # the default grid
    python bench/tfidf_variants.py --set model.tfidf.heads=joint     # one variant against the shipped config

Each variant is a `--set` list applied to configs/tfidf.yaml; each is trained on the train
split and tagged through the runtime exactly as `serve tag` tags (article context on). The
`alone` columns tag every paragraph without its article, as a caller that sends single
paragraphs would. Figures are macro-F1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train.config import load_config  # noqa: E402
from train.context_gate import fit_gate  # noqa: E402
from train.data import by_split, load_records  # noqa: E402
from train.scores import evaluate_records, evaluate_scopes  # noqa: E402
from train.modeldir import save_model_dir, update_spec  # noqa: E402
from train.models import create_model  # noqa: E402
from vnzh_runtime.predictor import Predictor  # noqa: E402

GRID = {
    "shipped": [],
    "no context": ["context.head=0"],
    "joint heads": ["model.tfidf.heads=joint"],
    "head 1": ["context.head=1"],
    "head 5": ["context.head=5"],
    "C=3": ["model.tfidf.C=3"],
}
SCOPES = ["dev", "test", "test_vi", "test_zh", "test_en", "seed"]


def run(overrides: list[str], splits) -> dict[str, float]:
    import tempfile

    config = load_config("configs/tfidf.yaml", overrides)
    trainer = create_model(config).fit(splits["train"], splits["dev"])
    records = splits["dev"] + splits["test"]
    with tempfile.TemporaryDirectory() as tmp:
        out = save_model_dir(Path(tmp) / "m", config, trainer, {}, overwrite=False)
        gate = fit_gate(Predictor.load(out), splits["dev"], config.context.head)
        update_spec(out, context={"head": config.context.head if gate else 0, "gate": gate})
        predictor = Predictor.load(out)
        with_context, _ = evaluate_records(predictor, records)
        alone = evaluate_scopes(records, predictor.predict_proba([r.text for r in records]), predictor.labels)
    scores = {name: r.macro_f1 for name, r in with_context.items()}
    scores.update({f"{name} alone": r.macro_f1 for name, r in alone.items()})
    print(f"  gate {gate}", file=sys.stderr)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=None, metavar="KEY=VALUE")
    args = parser.parse_args()
    grid = {"shipped": [], "variant": args.overrides} if args.overrides else GRID
    config = load_config("configs/tfidf.yaml")
    splits = by_split(load_records(config.data.files), config.data.labels)
    print("train " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    columns = SCOPES + ["test alone", "seed alone"]
    print(f"{'variant':<22}" + "".join(f"{c:>12}" for c in columns))
    for name, overrides in grid.items():
        scores = run(overrides, splits)
        print(f"{name:<22}" + "".join(f"{scores.get(c, float('nan')):>12.3f}" for c in columns), flush=True)


if __name__ == "__main__":
    main()
