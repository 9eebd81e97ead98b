"""`train(config)`: the whole training job that `python -m train` runs.

load data -> fit the configured model -> save a self-describing model directory
-> evaluate dev/test/per language/seed through the serving `Predictor`
-> log everything to one MLflow run and register the model.

    >>> from train.config import load_config
    >>> result = train(load_config("configs/tfidf.yaml"))
    >>> result.metrics["test_macro_f1"]
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train.config import Config
from train.data import DataError, by_split, load_records
from train.evaluate import choose_threshold, evaluate_scopes, flat_metrics, format_report
from train.modeldir import read_meta, save_model_dir, write_meta
from train.models import create_model
from train.predictor import Predictor
from train.tracking import TrainingRun


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, float]
    report: str
    run_id: str | None
    model_uri: str | None


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def train(config: Config, log=print) -> TrainResult:
    set_seed(config.seed)
    splits = by_split(load_records(config.data.files), config.data.labels)
    for split in ("train", "dev"):
        if not splits[split]:
            raise DataError(f"data.files: no '{split}' records with labels {config.data.labels}; add some or fix data.files")
    log("data: " + ", ".join(f"{name} {len(rows)}" for name, rows in splits.items()), file=sys.stderr)
    model = create_model(config)  # before the run: missing weights stop here, with no empty run left behind
    with TrainingRun(config) as run:
        run.log_datasets(splits)
        started = time.perf_counter()
        model.fit(splits["train"], splits["dev"], on_epoch=run.log_metrics)
        fit_seconds = time.perf_counter() - started
        output_dir = save_model_dir(config.output_dir, config, model, {"train_size": len(splits["train"])})

        predictor = Predictor.load(output_dir, threshold=None)
        evaluated = splits["dev"] + splits["test"]
        probs = predictor.predict_proba([r.text for r in evaluated])
        results = evaluate_scopes(evaluated, probs, config.data.labels)
        dev_probs = probs[: len(splits["dev"])]
        threshold = choose_threshold(dev_probs, [r.label for r in splits["dev"]], config.data.labels)
        metrics = {**flat_metrics(results), "fit_seconds": fit_seconds}
        report = format_report(results)

        meta = {**read_meta(output_dir), "metrics": metrics, "threshold": threshold, "mlflow_run_id": run.run_id}
        write_meta(output_dir, meta)
        run.log_metrics(metrics)
        run.log_evaluation(results, report, meta)
        model_uri = run.log_model(output_dir, predictor, [r.text for r in splits["test"][:3] or splits["dev"][:3]])
    log(report)
    log(f"\nmodel: {output_dir}" + (f"  registered: {model_uri}" if model_uri else "") + f"  run: {run.run_id}")
    return TrainResult(output_dir, metrics, report, run.run_id, model_uri)
