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
import shutil
import sys
import tempfile
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
        if not main_process:
            return TrainResult(target, {}, "", None, None)
        tuned_dir = scratch_dir(target) if config.refit_on_dev else target
        try:
            save_model_dir(tuned_dir, config, model, {"train_size": len(splits["train"])}, overwrite)
            tuned, tuning = tune_on_dev(tuned_dir, config, splits["dev"])
            predictor = refit(target, config, splits, tuning, overwrite) if config.refit_on_dev else tuned
            fit_seconds = time.perf_counter() - started
            # dev is scored by the model the settings were tuned on (held out), test by the saved model
            results, metrics, report = evaluate_parts([(tuned, splits["dev"]), (predictor, splits["test"])], config)
        finally:
            if tuned_dir != target:
                shutil.rmtree(tuned_dir.parent, ignore_errors=True)
        if config.refit_on_dev:
            report += "\n\n" + REFIT_NOTE
        metrics["fit_seconds"] = fit_seconds

        meta = {**read_json(target / META_FILE, "meta"), "metrics": metrics, "threshold": tuning["threshold"],
                "mlflow_run_id": run.run_id}
        write_json(target / META_FILE, meta)
        run.log_metrics(metrics)
        run.log_evaluation(results, report, meta)
        model_uri = run.log_model(target, predictor, [r.text for r in splits["test"][:3] or splits["dev"][:3]])
    log(report)
    log(f"\nmodel: {target}" + (f"  registered: {model_uri}" if model_uri else "") + f"  run: {run.run_id}")
    return TrainResult(target, metrics, report, run.run_id, model_uri)


REFIT_NOTE = ("dev: scored by the model fitted on train alone, which chose the context gate and thresholds; "
              "the saved model was then fitted on train + dev (refit_on_dev), so its test figures are its own")


def scratch_dir(target: Path) -> Path:
    """A fresh directory beside `target` for the train-only model that tuning needs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tuning-", dir=target.parent)) / "model"


def tune_on_dev(directory: Path, config: Config, dev: list) -> tuple[Predictor, dict]:
    """The context gate, abstention threshold (and multi-label thresholds) chosen on dev, written into the spec."""
    predictor = Predictor.load(directory)
    gate = fit_gate(predictor, dev, config.context.head)
    tuning = {"context": {"head": config.context.head if gate else 0, "gate": gate}}
    predictor.spec = update_spec(directory, **tuning)  # the threshold is chosen on scores through the gate
    probs = predictor.predict_proba([r.text for r in dev], doc_ids=[r.doc_id for r in dev])
    tuning["threshold"] = choose_threshold(probs, [r.label for r in dev], predictor.labels)
    if config.task == "multilabel":
        tuning["label_thresholds"] = choose_label_thresholds(predictor, dev)
    predictor.spec = update_spec(directory, **tuning)
    return predictor, tuning


def refit(target: Path, config: Config, splits: dict, tuning: dict, overwrite: bool) -> Predictor:
    """The saved model: the same config fitted again, from the same seed, on train + dev."""
    set_seed(config.seed, torch=config.model.type == "transformer")
    data = splits["train"] + splits["dev"]
    model = create_model(config).fit(data, splits["dev"])
    save_model_dir(target, config, model, {"train_size": len(data), "fitted_on": ["train", "dev"]}, overwrite)
    predictor = Predictor.load(target)
    predictor.spec = update_spec(target, fitted_on=["train", "dev"], **tuning)
    return predictor


def evaluate_parts(parts: list, config: Config) -> tuple[dict, dict[str, float], str]:
    """(scope results, metrics, printed report) over (predictor, records) parts, tagged as `serve tag` tags."""
    parts = [(predictor, records) for predictor, records in parts if records]
    results = {name: result for predictor, records in parts for name, result in evaluate_records(predictor, records)[0].items()}
    metrics = {k: v for r in results.values() for k, v in r.metrics().items()}
    report = format_report(results)
    if config.task == "multilabel":
        tables = [label_set_metrics(predictor, records) for predictor, records in parts]
        for set_metrics, _ in tables:
            metrics.update(set_metrics)
        report += "\n\n" + "\n".join([tables[0][1]] + [table.split("\n", 1)[1] for _, table in tables[1:]])
    return results, metrics, report
