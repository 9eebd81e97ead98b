"""`train(config)`: the whole training job that `python -m train` runs.

load data -> fit the configured model -> save a self-describing model directory
-> evaluate dev/test/per language/seed through the runtime `Predictor`, with article context
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
from train.context_gate import fit_gate
from train.data import DataError, by_split, load_records
from train.evaluate import choose_threshold, evaluate_records, format_report
from train.modeldir import check_output_dir, save_model_dir, update_spec
from train.models import create_model
from train.multilabel import choose_label_thresholds, label_set_metrics
from train.tracking import TrainingRun, check_tracking_server, is_main_process
from vnzh_runtime.predictor import Predictor
from vnzh_runtime.spec import META_FILE, read_json, write_json


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, float]
    report: str
    run_id: str | None
    model_uri: str | None


def set_seed(seed: int, torch: bool = False) -> None:
    """Seed every generator before any model is built (the classifier heads start from random weights)."""
    random.seed(seed)
    np.random.seed(seed)
    if torch:  # importing torch costs seconds, so only the models that use it pay
        import torch as _torch

        _torch.manual_seed(seed)


def train(config: Config, log=print, overwrite: bool = False) -> TrainResult:
    target = check_output_dir(config.output_dir, overwrite)  # before any work: nothing to undo
    check_tracking_server()  # an http(s) MLFLOW_TRACKING_URI that does not answer: one line, before any work
    splits = by_split(load_records(config.data.files), config.data.labels)
    for split in ("train", "dev"):
        if not splits[split]:
            raise DataError(f"data.files: no '{split}' records with labels {config.data.labels}; add some or fix data.files")
    main_process = is_main_process()  # torchrun/accelerate: every rank fits; only rank 0 saves, evaluates and logs
    if main_process:
        log("data: " + ", ".join(f"{name} {len(rows)}" for name, rows in splits.items()), file=sys.stderr)
    set_seed(config.seed, torch=config.model.type == "transformer")
    model = create_model(config)  # before the run: missing weights stop here, with no empty run left behind
    with TrainingRun(config) as run:
        run.log_datasets(splits)
        started = time.perf_counter()
        model.fit(splits["train"], splits["dev"], on_epoch=run.log_metrics)
        fit_seconds = time.perf_counter() - started
        if not main_process:
            return TrainResult(target, {}, "", None, None)
        output_dir = save_model_dir(target, config, model, {"train_size": len(splits["train"])}, overwrite)

        # One load; each spec.json update is mirrored into it (the spec is all that changes).
        predictor = Predictor.load(output_dir)
        gate = fit_gate(predictor, splits["dev"], config.context.head)
        predictor.spec = update_spec(output_dir, context={"head": config.context.head if gate else 0, "gate": gate})
        evaluated = splits["dev"] + splits["test"]
        results, probs = evaluate_records(predictor, evaluated)
        threshold = choose_threshold(probs[: len(splits["dev"])], [r.label for r in splits["dev"]], predictor.labels)
        predictor.spec = update_spec(output_dir, threshold=threshold)
        metrics = {**{k: v for r in results.values() for k, v in r.metrics().items()}, "fit_seconds": fit_seconds}
        report = format_report(results)
        if config.task == "multilabel":  # per-label thresholds on dev, then the label-set tables
            predictor.spec = update_spec(output_dir, label_thresholds=choose_label_thresholds(predictor, splits["dev"]))
            set_metrics, set_report = label_set_metrics(predictor, evaluated)
            metrics.update(set_metrics)
            report += "\n\n" + set_report

        meta = {**read_json(output_dir / META_FILE, "meta"), "metrics": metrics, "threshold": threshold,
                "mlflow_run_id": run.run_id}
        write_json(output_dir / META_FILE, meta)
        run.log_metrics(metrics)
        run.log_evaluation(results, report, meta)
        model_uri = run.log_model(output_dir, predictor, [r.text for r in splits["test"][:3] or splits["dev"][:3]])
    log(report)
    log(f"\nmodel: {output_dir}" + (f"  registered: {model_uri}" if model_uri else "") + f"  run: {run.run_id}")
    return TrainResult(output_dir, metrics, report, run.run_id, model_uri)
