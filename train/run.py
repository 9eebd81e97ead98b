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
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train.config import Config
from train.context_gate import fit_gate, no_gate_note
from train.data import DataError, by_split, left_out, load_records
from train.modeldir import (check_creatable, check_output_dir, install_dir, leftovers, output_lock, save_model_dir,
                            tuning_dir, update_spec)
from train.models import create_model
from train.multilabel import choose_label_thresholds, label_set_metrics
from train.record_checks import repeated_texts
from train.scores import choose_threshold, evaluate_records, evaluate_scopes, format_report
from train.tracking import TrainingRun
from train.tracking_store import check_tracking_server, is_main_process
from vnzh_runtime.predictor import Predictor
from vnzh_runtime.spec import META_FILE, read_json, write_json
from vnzh_runtime.stores import shown_store, tracking_uri


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
    check_creatable(target, config.output_dir)  # once: save and install re-check the directory, not the file system
    check_tracking_server(config.mlflow.experiment)  # a store that cannot take the run (a silent server, a file not a database): one line, now
    with output_lock(target) if is_main_process() else nullcontext():  # held until training returns
        return train_into(config, target, log, overwrite)


def train_into(config: Config, target: Path, log, overwrite: bool) -> TrainResult:
    """`train` once its output directory is checked and locked."""
    records = load_records(config.data.files)
    repeated = repeated_texts(records)
    if repeated:
        print(repeated, file=sys.stderr)
    splits = by_split(records, config.data.labels)
    for split in ("train", "dev"):
        if not splits[split]:
            raise DataError(f"data.files: no '{split}' records with labels {config.data.labels}; add some or fix data.files")
    unseen = [label for label in config.data.labels if not any(r.label == label for r in splits["train"])]
    if unseen:  # a head cannot learn a label it never sees (and a relevance head needs both sides)
        raise DataError(f"data.files: no 'train' records labelled {', '.join(unseen)}; add some, or leave "
                        f"{'it' if len(unseen) == 1 else 'them'} out of data.labels")
    main_process = is_main_process()  # torchrun/accelerate: every rank fits; only rank 0 saves, evaluates and logs
    if main_process:
        log("data: " + ", ".join(f"{name} {len(rows)}" for name, rows in splits.items()), file=sys.stderr)
        dropped = left_out(records, config.data.labels)
        if dropped:  # a subset of the labels: say how much data that costs
            log(dropped, file=sys.stderr)
        stale = leftovers(target)
        if stale:
            log(f"note: {len(stale)} scratch director{'y' if len(stale) == 1 else 'ies'} of an interrupted training "
                f"beside {target}: {', '.join(p.name for p in stale[:3])}; remove them once no other training runs",
                file=sys.stderr)
    set_seed(config.seed, torch=config.model.type == "transformer")
    model = create_model(config)  # before the run: missing weights stop here, with no empty run left behind
    model.check_data(splits["train"])  # and settings the data cannot meet (min_df over the paragraphs)
    with TrainingRun(config) as run:
        run.log_datasets(splits)
        started = time.perf_counter()
        model.fit(splits["train"], splits["dev"], on_epoch=run.log_metrics)
        fit_seconds = time.perf_counter() - started
        if not main_process:
            return TrainResult(target, {}, "", None, None)
        with tuning_dir(target) as scratch:  # the model is tuned beside its target, then moved into place whole
            first = save_model_dir(scratch / "model", config, model, {"train_size": len(splits["train"])}, overwrite)
            tuned, tuning, dev_probs = tune_on_dev(first, config, splits["dev"])
            if config.refit_on_dev:
                predictor, refit_seconds = refit(target, config, splits, tuning, overwrite)
                fit_seconds += refit_seconds
                # the saved model's own data, beside the train split the figures and the tuning came from
                run.log_datasets({"train+dev": splits["train"] + splits["dev"]})
            else:
                predictor = tuned
                install_dir(first, target, overwrite)
            # dev is scored by the model the settings were tuned on (held out), test by the saved model
            results, metrics, report = evaluate_parts([(tuned, splits["dev"], dev_probs), (predictor, splits["test"], None)],
                                                      config)
        if config.refit_on_dev:
            report += "\n\n" + refit_note(bool(splits["test"]))
        meta = read_json(target / META_FILE, "meta")
        metrics["fit_seconds"] = fit_seconds
        metrics["fitted_size"] = meta["train_size"]  # the saved model's records: train, or train + dev for a refit

        meta |= {"metrics": metrics, "threshold": tuning["threshold"], "mlflow_run_id": run.run_id}
        write_json(target / META_FILE, meta)
        run.log_metrics(metrics)
        run.log_evaluation(results, report, meta)
        model_uri, alias_note = run.log_model(target, predictor, [r.text for r in splits["test"][:3] or splits["dev"][:3]],
                                              metrics.get("dev_macro_f1"))
    log(report)
    log(f"\nmodel: {target}" + (f"  registered: {model_uri}" if model_uri else "") + f"  run: {run.run_id}"
        f"  store: {shown_store(tracking_uri())}")
    if alias_note:  # last, where it is read: what serves the alias is not what was just trained
        log(f"note: {alias_note}", file=sys.stderr)
    return TrainResult(target, metrics, report, run.run_id, model_uri)


def refit_note(has_test: bool) -> str:
    return ("dev: scored by the model fitted on train alone, which chose the context gate and thresholds; the saved "
            "model was then fitted on train + dev (refit_on_dev)" + (", and test scores it" if has_test else
                                                                     ", and no test split scores it"))


def tune_on_dev(directory: Path, config: Config, dev: list) -> tuple[Predictor, dict, np.ndarray]:
    """The context gate, abstention threshold (and multi-label thresholds) chosen on dev, written into the spec;
    and dev's scores through the gate (the thresholds do not change them), so dev is tagged once."""
    predictor = Predictor.load(directory)
    gate = fit_gate(predictor, dev, config.context.head)
    if gate is None and config.context.head:
        print(no_gate_note(dev, config.context.head), file=sys.stderr)
    tuning = {"context": {"head": config.context.head if gate else 0, "gate": gate}}
    predictor.spec = {**predictor.spec, **tuning}  # in memory: the threshold is chosen on scores through the gate
    probs = predictor.predict_proba([r.text for r in dev], doc_ids=[r.doc_id for r in dev])
    tuning["threshold"] = choose_threshold(probs, [r.label for r in dev], predictor.labels,
                                           configured=config.predict.threshold)
    if config.task == "multilabel":
        tuning["label_thresholds"] = choose_label_thresholds(predictor, dev)
    predictor.spec = update_spec(directory, **tuning)  # one write: the digests of the model files are hashed once
    return predictor, tuning, probs


FITTED_ON = ["train", "dev"]  # spec.json `fitted_on` of a refitted model (train.evaluate reads it)


def refit(target: Path, config: Config, splits: dict, tuning: dict, overwrite: bool) -> tuple[Predictor, float]:
    """The saved model: the same config fitted again, from the same seed, on train + dev; and its fit's seconds."""
    set_seed(config.seed)
    data = splits["train"] + splits["dev"]
    started = time.perf_counter()
    model = create_model(config).fit(data, [])
    seconds = time.perf_counter() - started
    # the tuned settings go in before the directory is moved into place: no moment shows an untuned model
    save_model_dir(target, config, model, {"train_size": len(data)}, overwrite, spec={**tuning, "fitted_on": FITTED_ON})
    return Predictor.load(target), seconds


def evaluate_parts(parts: list, config: Config) -> tuple[dict, dict[str, float], str]:
    """(scope results, metrics, printed report) over (predictor, records, scores or None) parts; scopes are split
    names, so parts of different splits never share one. Articles are read with their context, as `serve tag`
    reads them; a part that comes with its scores is not tagged again."""
    parts = [part for part in parts if part[1]]
    results = {name: result for predictor, records, probs in parts for name, result in
               (evaluate_records(predictor, records)[0] if probs is None else
                evaluate_scopes(records, probs, predictor.labels)).items()}
    metrics = {k: v for r in results.values() for k, v in r.metrics().items()}
    report = format_report(results)
    if config.task == "multilabel":
        tables = [label_set_metrics(predictor, records, header=i == 0) for i, (predictor, records, _) in enumerate(parts)]
        for set_metrics, _ in tables:
            metrics.update(set_metrics)
        report += "\n\n" + "\n".join(table for _, table in tables)
    return results, metrics, report
