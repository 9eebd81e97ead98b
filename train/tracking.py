"""Training's side of MLflow, all in this module: the run, the logged model, evaluation runs.

    with TrainingRun(config) as run:            # tracking URI: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db
        run.log_datasets(splits)
        run.log_metrics({"dev_macro_f1": 0.9}, step=1)
        run.log_evaluation(results, report, meta)
        run.log_model(output_dir, predictor, input_example)  # registered as <name>@<alias>

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
from contextlib import contextmanager
from pathlib import Path

import vnzh_runtime
from train.config import Config
from train.data import doc_id_as_written
from train.tracking_alias import alias_holder, alias_kept
from train.tracking_store import artifact_location, is_main_process
from vnzh_runtime.errors import UserError
from vnzh_runtime.pyfunc import MODEL_ARTIFACT, quiet_mlflow
from vnzh_runtime.stores import tracking_uri

PYFUNC_ENTRY = Path(vnzh_runtime.__file__).with_name("pyfunc_entry.py")  # models-from-code: no pickled classes
RUNTIME_CODE = Path(vnzh_runtime.__file__).parent
DISTRIBUTION = "vnzh-topics"
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}  # the UI opens on runs, not GenAI views


EVALUATIONS = "vn-china-topics-evaluations"  # the experiment `train.evaluate --log` records its runs in


PARAM_CHARS = 6000  # the longest parameter value MLflow keeps


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


def use_experiment(name: str, setting: str):
    """The experiment `name`, created where missing, made the active one; one line where it was deleted
    (MLflow keeps a deleted experiment's name until it is purged, and refuses to log to it)."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None and found.lifecycle_stage == "deleted":
        raise UserError(f"{setting} {name}: deleted in the MLflow store {tracking_uri()} (fix: restore it with "
                        f"`mlflow experiments restore --experiment-id {found.experiment_id}`, or use another name)")
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
        except BaseException:
            mlflow.end_run(status="FAILED")
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        if self.active:
            mlflow.end_run(status="FINISHED" if exc_type is None else "FAILED")

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
        """Log the model directory as a pyfunc model and register it; its URI, and a note where the alias
        stays on a version that scored higher on the same dev data (else the alias moves to it)."""
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
        # A call's own threshold (abstain below it; null: the model's); without it in the signature MLflow
        # drops the params a caller or a served model's request passes, with only a warning.
        signature.params = ParamSchema([ParamSpec("threshold", "double", None)])
        name, alias = self.config.mlflow.registered_model, self.config.mlflow.alias
        held = alias_holder(name, alias) if self.config.mlflow.promote == "if_not_worse" else None
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(PYFUNC_ENTRY), artifacts={MODEL_ARTIFACT: str(model_dir)},
            code_paths=[str(RUNTIME_CODE)], signature=signature, input_example=example,
            pip_requirements=model_requirements(self.config.model.type))
        with signals_deferred():  # a version without its alias, its run left RUNNING: worse than a second's wait
            version = mlflow.register_model(info.model_uri, name).version
            kept = alias_kept(held, dev_macro_f1, self.digests.get("dev"), alias, version)
            if kept is None:
                mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
            else:  # the version's page says why it serves nothing
                mlflow.MlflowClient().set_model_version_tag(name, version, "alias_not_moved", kept)
        return (f"models:/{name}@{alias}", None) if kept is None else (f"models:/{name}/{version}", kept)


@contextmanager
def signals_deferred():
    """Ctrl-C and SIGTERM wait until the block is done (they are delivered as it ends), in the main thread.
    Held by a handler, not a thread's signal mask: the kernel hands a process's signal to any thread that
    does not block it (MLflow's, a server's), and Python then runs the handler in the main thread anyway."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = {signum: signal.signal(signum, lambda signum, frame: pending.append(signum))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)  # under the caller's own handlers, as if it came now


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


def logged_model_id(info: dict) -> str | None:
    """The id of the logged model (MLflow 3) behind a registered version or a training run, or None."""
    import mlflow

    try:
        if info.get("name") and info.get("version"):
            version = mlflow.MlflowClient().get_model_version(info["name"], info["version"])
            source = version.source or ""  # a version registered from "models:/m-<id>" may leave model_id unset
            return version.model_id or (source.removeprefix("models:/") if source.startswith("models:/m-") else None)
        if info.get("run_id"):
            experiment = mlflow.MlflowClient().get_run(info["run_id"]).info.experiment_id
            found = mlflow.search_logged_models([experiment], filter_string=f"source_run_id = '{info['run_id']}'",
                                                output_format="list")
            return found[0].model_id if found else None
    except mlflow.exceptions.MlflowException:  # deleted, or a store without logged models: the tags still name it
        return None
    return None


def log_evaluation_run(model: str, spec: dict, info: dict, results: dict, report: str, data_files: list[str],
                       records: list, extra_metrics: dict | None = None, dev_seen: bool = False) -> str:
    """One run in the `vn-china-topics-evaluations` experiment, tagged with the model it evaluated:
    the name given, and `info` (`vnzh_runtime.provenance.model_info`): the registered name, version,
    alias and training run behind it (an alias moves on; the version a run scored does not). Its
    metrics are linked to that logged model too (MLflow 3's model page lists them), where it is found."""
    import mlflow

    quiet_mlflow()
    mlflow.set_tracking_uri(tracking_uri())
    use_experiment(EVALUATIONS, "the evaluations experiment")
    shown = f"{info['name']} v{info['version']}" if info.get("name") and info.get("version") else Path(model).name or model
    model_id = logged_model_id(info)
    with mlflow.start_run(run_name=f"evaluate {shown}") as run:
        data = ",".join(data_files)
        if len(data) > TAG_LIMIT:  # every name is in data_files.txt
            data = data[:TAG_LIMIT - 60].rsplit(",", 1)[0] + f",... ({len(data_files)} in all: data_files.txt)"
        tags = {"evaluated_model": model, "model_type": spec.get("model_type"), "data": data}
        tags |= {f"evaluated_model_{key}": info[key] for key in ("name", "version", "alias", "run_id") if info[key]}
        mlflow.set_tags(tags)
        if dev_seen:
            mlflow.set_tag("dev_held_out", "not for its corpus's dev records: the model was fitted on train + dev")
        metrics = {k: float(v) for r in results.values() for k, v in r.metrics().items()} | (extra_metrics or {})
        # Named by its data and digest on the model's page, beside training's own dev_/test_ figures
        dataset = evaluation_dataset(records, data_files)
        mlflow.log_input(dataset, context="evaluation")
        mlflow.log_metrics(metrics, model_id=model_id, dataset=dataset)
        mlflow.log_text(report, "classification_report.txt")
        mlflow.log_text("\n".join(data_files) + "\n", "data_files.txt")
    return run.info.run_id


def evaluation_dataset(records: list, data_files: list[str]):
    """The evaluated records as an MLflow dataset, named by the files they came from."""
    names = ",".join(Path(name).name for name in data_files)
    return records_dataset(records, f"evaluate {names if len(names) <= 80 else names[:70].rsplit(',', 1)[0] + ',...'}",
                           data_files)


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
    frame = pd.DataFrame(rows, columns=DATASET_COLUMNS)
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogatepass"))
    kwargs = {"name": re.sub(r"\s+", "_", name), "targets": "label", "digest": digest.hexdigest()[:8]}
    try:  # a source MLflow cannot resolve (a file named `eval:v2.jsonl`, `-`) is no reason to lose the run
        return mlflow.data.from_pandas(frame, source=",".join(files)[:TAG_LIMIT], **kwargs)
    except mlflow.exceptions.MlflowException:
        return mlflow.data.from_pandas(frame, **kwargs)
