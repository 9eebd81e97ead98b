"""Training's side of MLflow: the run and the logged model (`train.evaluate --log`'s runs are in
tracking_eval.py, the rule for moving the alias in tracking_alias.py, the store in tracking_store.py).

    with TrainingRun(config) as run:            # tracking URI: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db
        run.log_datasets(splits)
        run.log_metrics({"dev_macro_f1": 0.9}, step=1)
        run.log_evaluation(results, report, meta)
        uri, note = run.log_model(output_dir, predictor, input_example, dev_macro_f1=0.9)  # <name>@<alias>, or
                                                    # <name>/<version> and why the alias stays elsewhere

The logged model is portable: it carries the runtime package as its code and exactly the
requirements of its model type, read from the project's metadata (extras `runtime-tfidf`,
`runtime-transformer`), so it loads in an environment that has never seen this checkout.
The runtime's side (loading a `models:/` URI to tag) is `vnzh_runtime/pyfunc.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import suppress
from pathlib import Path

import vnzh_runtime
from train.config import Config
from train.data import doc_id_as_written
from train.record_checks import whole_characters
from train.signals import signals_deferred
from train.tracking_alias import (AliasUnreadable, DevFigure, alias_decision, alias_holder, forced_move, left_alone,
                                  setup_of)
from train.tracking_store import artifact_location, is_main_process
from vnzh_runtime.errors import UserError
from vnzh_runtime.pyfunc import MODEL_ARTIFACT, quiet_mlflow
from vnzh_runtime.stores import tracking_uri

PYFUNC_ENTRY = Path(vnzh_runtime.__file__).with_name("pyfunc_entry.py")  # models-from-code: no pickled classes
RUNTIME_CODE = Path(vnzh_runtime.__file__).parent
DISTRIBUTION = "vnzh-topics"
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}  # the UI opens on runs, not GenAI views


PARAM_CHARS = 6000  # the longest parameter value MLflow keeps


def end_status(exc_type) -> str:
    """How a run ended, as MLflow's UI shows it: Ctrl-C, SIGTERM and SIGHUP (each a KeyboardInterrupt under
    `run_cli`) are KILLED, not FAILED as a crash is."""
    if exc_type is None:
        return "FINISHED"
    return "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED"


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
            # MLflow cuts a parameter at 6,000 characters without a word: say so, and where the whole one is
            flat[f"{prefix}{key}"] = text if len(text) <= PARAM_CHARS else \
                f"{text[:PARAM_CHARS - 100]} ... ({len(text):,} characters in all; the whole value is in config.yaml)"
    return flat


def refuse_deleted(name: str, setting: str, renamable: bool = True):
    """The experiment `name` (None where missing); one line where it was deleted (MLflow keeps a deleted
    experiment's name until it is purged, and refuses to log to it): asked before any work too."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None and found.lifecycle_stage == "deleted":
        other = f", or --set {setting}=<another name>" if renamable else ""
        raise UserError(f"{setting} {name}: deleted in the MLflow store {tracking_uri()} (fix: restore it with "
                        f"`mlflow experiments restore --experiment-id {found.experiment_id}`{other})")
    return found


def use_experiment(name: str, setting: str, renamable: bool = True):
    """The experiment `name`, created where missing, made the active one; one line where it was deleted
    (MLflow keeps a deleted experiment's name until it is purged, and refuses to log to it).
    `renamable`: whether the user can name another experiment (a config's setting; not evaluations')."""
    import mlflow

    found = refuse_deleted(name, setting, renamable)
    if found is None:
        mlflow.create_experiment(name, artifact_location=artifact_location(name), tags=EXPERIMENT_KIND)
    return mlflow.set_experiment(name)


class TrainingRun:
    def __init__(self, config: Config):
        self.config = config
        self.run_id: str | None = None
        self.active = False
        self.digests: dict[str, str] = {}  # split -> the digest its dataset was logged with

    def __enter__(self) -> "TrainingRun":
        import mlflow

        self.active = is_main_process()  # other ranks of a multi-process run log nothing
        if not self.active:
            return self
        quiet_mlflow()
        mlflow.set_tracking_uri(tracking_uri())
        experiment = use_experiment(self.config.mlflow.experiment, "mlflow.experiment")
        if experiment.tags.get("mlflow.experimentKind") != EXPERIMENT_KIND["mlflow.experimentKind"]:
            mlflow.MlflowClient().set_experiment_tag(experiment.experiment_id, *next(iter(EXPERIMENT_KIND.items())))
        run = mlflow.start_run(run_name=self.config.name)
        self.run_id = run.info.run_id
        try:  # __exit__ does not run when __enter__ fails: the run must not be left to end as FINISHED
            mlflow.set_tags({"model_type": self.config.model.type, "config_name": self.config.name,
                             "world_size": os.environ.get("WORLD_SIZE", "1")})  # processes training (torchrun)
            mlflow.log_params(flatten(self.config.to_dict()))
        except BaseException as err:
            mlflow.end_run(status=end_status(type(err)))
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        if self.active:
            mlflow.end_run(status=end_status(exc_type))

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        import mlflow

        if self.active:
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def log_datasets(self, splits: dict[str, list]) -> None:
        import mlflow

        if not self.active:
            return
        for split, records in splits.items():
            dataset = records_dataset(records, f"vn-china-topics-{split}", self.config.data.files)
            self.digests[split] = dataset.digest
            mlflow.log_input(dataset, context=split)

    def log_evaluation(self, results: dict, report: str, meta: dict) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import mlflow
        from sklearn.metrics import ConfusionMatrixDisplay

        for name, result in results.items():
            if name in ("dev", "test") or name.startswith("test_") or name == "seed":
                fig, ax = plt.subplots(figsize=(7, 6))
                ConfusionMatrixDisplay(result.confusion, display_labels=result.labels).plot(ax=ax, xticks_rotation=45, colorbar=False)
                ax.set_title(f"{self.config.name}: {name} (n={result.size})")
                fig.tight_layout()
                mlflow.log_figure(fig, f"confusion/{name}.png")
                plt.close(fig)
        mlflow.log_text(report, "classification_report.txt")
        mlflow.log_dict(meta, "meta.json")

    def log_model(self, model_dir: Path, predictor, input_example: list[str],
                  dev_macro_f1: float | None = None) -> tuple[str | None, str | None]:
        """Log the model directory as a pyfunc model and register it; its URI (`@alias` where the alias moved
        to it, else its version) and a note where the alias stays, or moved without a comparison."""
        import mlflow
        import pandas as pd
        from mlflow.models import infer_signature
        from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema

        if not self.config.mlflow.log_model:
            return None, None
        example = pd.DataFrame({"text": input_example})
        output = predictor.predict(input_example)  # the loaded model dir's predictor: no second load
        # spark_udf returns the signature's fields only: the pyfunc's `error` (why a row has no label) is one,
        # and every field is optional (an error row has no lang, label or scores), else a direct spark_udf
        # user gets rows of nulls and no reason. serve spark writes its own `error` beside them.
        signature = infer_signature(example, pd.DataFrame(output))
        signature.outputs = Schema([ColSpec(c.type, c.name, required=False) for c in signature.outputs.inputs]
                                   + [ColSpec("string", "error", required=False)])
        # `text` of any type: MLflow would refuse a whole frame whose text column pandas read as numbers
        # (all blank cells are NaN, a float column) before predict, which gives each such row its own error.
        # An optional doc_id (article context): a column the signature lacks is dropped before predict.
        # Any type: an article's id is a string or a number, as in serve tag (vnzh_runtime.context.document_key).
        signature.inputs = Schema([ColSpec(AnyType(), "text"), ColSpec(AnyType(), "doc_id", required=False)])
        # A call's own threshold (abstain below it; null: the model's), or the one chosen on dev (a double cannot
        # be "auto"); without them in the signature MLflow drops the params a caller passes, with only a warning.
        signature.params = ParamSchema([ParamSpec("threshold", "double", None),
                                        ParamSpec("auto_threshold", "boolean", False)])
        name, alias = self.config.mlflow.registered_model, self.config.mlflow.alias
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(PYFUNC_ENTRY), artifacts={MODEL_ARTIFACT: str(model_dir)},
            code_paths=[str(RUNTIME_CODE)], signature=signature, input_example=example,
            pip_requirements=model_requirements(self.config.model.type))
        with signals_deferred():  # a version without its alias, its run left RUNNING: worse than a second's wait
            version = mlflow.register_model(info.model_uri, name).version
            # the holder read now, not before the upload: another training may have moved the alias meanwhile
            moves, note = self.alias_decision(name, alias, version, model_dir, dev_macro_f1)
            if moves:
                mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
            else:  # the version's page says why it did not take the alias (someone may give it later)
                with suppress(mlflow.exceptions.MlflowException):  # a store that failed to answer may fail here too
                    mlflow.MlflowClient().set_model_version_tag(name, version, "alias_kept_at_registration", note)
        return f"models:/{name}@{alias}" if moves else f"models:/{name}/{version}", note

    def alias_decision(self, name: str, alias: str, version: str, model_dir: Path, dev_macro_f1) -> tuple[bool, str | None]:
        new = DevFigure(dev_macro_f1, self.digests.get("dev"), setup_of(flatten(self.config.to_dict())))
        forced = self.config.mlflow.promote == "always"
        try:
            held = alias_holder(name, alias)
        except AliasUnreadable as err:  # fail closed: a served alias is not moved on a guess
            if forced:
                return True, None
            return False, f"@{alias} left where it is: the store would not say which version holds it ({err}); " + \
                left_alone(name, alias, version, model_dir)
        if forced:
            return True, forced_move(held, new, name, alias, version)
        return alias_decision(held, new, name, alias, version, model_dir)


def model_requirements(model_type: str) -> list[str]:
    """mlflow (as installed) and the runtime extra of this model type, from the project's own metadata."""
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement

    extra = f"runtime-{model_type}"
    wanted = []
    for line in requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
            requirement.marker = None
            wanted.append(str(requirement))
    major_minor = ".".join(version("mlflow").split(".")[:2])
    return [f"mlflow>={major_minor},<4", *wanted]


TAG_LIMIT = 8000  # characters MLflow keeps of a tag's value


DATASET_COLUMNS = ["id", "lang", "label", "labels", "doc_id", "text", "source"]


def records_dataset(records: list, name: str, files: list[str]):
    """Labelled records as an MLflow dataset (id, lang, label, labels, doc_id, text, source), its source
    the files they came from. Its digest covers every row and column: MLflow's own hashes the first
    10,000 rows, so a relabelled record further down left two different corpora one digest in the UI.
    No whitespace in its name: a folder store (`./mlruns`) writes the name into space-separated lines."""
    import mlflow
    import pandas as pd

    # a doc_id as its file wrote it: with the path `in_file` puts before it, the digest would differ by checkout
    rows = [{"id": r.id, "lang": r.lang, "label": r.label, "labels": ",".join(r.labels), "doc_id": doc_id_as_written(r),
             "text": r.text, "source": r.source} for r in records]
    # a lone surrogate ("\ud800", which JSON lets through) is no character any file holds: MLflow's dataset log
    # stopped with a traceback after the run had opened; the digest below still reads the text as it was
    frame = pd.DataFrame([{key: whole_characters(value) for key, value in row.items()} for row in rows],
                         columns=DATASET_COLUMNS)
    # in no particular order: the same records listed from files in another order are the same data (the alias rule)
    lines = sorted(json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass"))
    kwargs = {"name": re.sub(r"\s+", "_", name), "targets": "label", "digest": digest.hexdigest()[:8]}
    try:  # a source MLflow cannot resolve (a file named `eval:v2.jsonl`, `-`) is no reason to lose the run
        return mlflow.data.from_pandas(frame, source=",".join(files)[:TAG_LIMIT], **kwargs)
    except mlflow.exceptions.MlflowException:
        return mlflow.data.from_pandas(frame, **kwargs)
