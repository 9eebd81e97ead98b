"""Everything that talks to MLflow lives here: the run, the logged pyfunc model, and loading it back.

    with TrainingRun(config) as run:            # tracking URI: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db
        run.log_datasets(splits)
        run.log_metrics({"dev_macro_f1": 0.9}, step=1)
        run.log_evaluation(results, report)
        run.log_model(output_dir, predictor, input_example)  # registered as <name>@<alias>

`load_registered_predictor("models:/vn-china-topics-tfidf@latest")` gives back the
same `Predictor` that `serve tag` builds from a directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlflow.pyfunc import PythonModel

from train.config import Config
from train.errors import UserError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MODEL_ARTIFACT = "model_dir"
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_entry.py")  # models-from-code: no pickled classes


def quiet_mlflow() -> None:
    """MLflow's INFO lines and progress bars drown the evaluation table; keep warnings only."""
    import logging
    import warnings

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module=r"mlflow\..*")


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def artifact_location(experiment: str) -> str | None:
    """Artifacts beside a SQLite store (mlartifacts/ next to mlflow.db), not in the working directory."""
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None  # a tracking server decides for itself
    return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts" / experiment).as_uri()


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
    return flat


class TrainingRun:
    def __init__(self, config: Config):
        self.config = config
        self.run_id: str | None = None

    def __enter__(self) -> "TrainingRun":
        import mlflow

        quiet_mlflow()
        mlflow.set_tracking_uri(tracking_uri())
        name = self.config.mlflow.experiment
        if mlflow.get_experiment_by_name(name) is None:
            mlflow.create_experiment(name, artifact_location=artifact_location(name))
        mlflow.set_experiment(name)
        run = mlflow.start_run(run_name=self.config.name)
        self.run_id = run.info.run_id
        mlflow.set_tags({"model_type": self.config.model.type, "config_name": self.config.name})
        mlflow.log_params(flatten(self.config.to_dict()))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        mlflow.end_run(status="FINISHED" if exc_type is None else "FAILED")

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        import mlflow

        mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def log_datasets(self, splits: dict[str, list]) -> None:
        import mlflow
        import pandas as pd

        for split, records in splits.items():
            frame = pd.DataFrame([{"id": r.id, "lang": r.lang, "label": r.label, "text": r.text, "source": r.source}
                                  for r in records], columns=["id", "lang", "label", "text", "source"])
            dataset = mlflow.data.from_pandas(frame, source=",".join(self.config.data.files),
                                              name=f"vn-china-topics-{split}", targets="label")
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

    def log_model(self, model_dir: Path, predictor, input_example: list[str]) -> str | None:
        """Log the model directory as a pyfunc model, register it and point the alias at it."""
        import mlflow
        import pandas as pd
        from mlflow.models import infer_signature

        if not self.config.mlflow.log_model:
            return None
        example = pd.DataFrame({"text": input_example})
        output = predictor.predict(input_example)  # the loaded model dir's predictor: no second load
        name = self.config.mlflow.registered_model
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(PYFUNC_ENTRY), artifacts={MODEL_ARTIFACT: str(model_dir)},
            signature=infer_signature(example, pd.DataFrame(output)), input_example=example,
            registered_model_name=name, pip_requirements=_requirements())
        version = info.registered_model_version
        mlflow.MlflowClient().set_registered_model_alias(name, self.config.mlflow.alias, version)
        return f"models:/{name}@{self.config.mlflow.alias}"


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ["mlflow", "scikit-learn", "numpy", "pandas", "pyyaml"]
    if _has("torch"):
        names += ["torch", "transformers", "pyvi"]
    return [f"{n}=={version(n)}" for n in names if _has(n)]


def _has(name: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(name)
        return True
    except PackageNotFoundError:
        return False


# MLflow warns once, at class definition, that `predict` has no type hints; the signature
# logged with the model (a DataFrame with `text`) is explicit, so the warning is harmless.
class TaggerPyfunc(PythonModel):
    """MLflow pyfunc around `Predictor`: a DataFrame with a `text` column in, lang/label/scores out."""

    def load_context(self, context) -> None:
        from train.predictor import Predictor

        self.predictor = Predictor.load(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context, model_input, params=None):
        import pandas as pd

        texts = model_input["text"].tolist() if isinstance(model_input, pd.DataFrame) else list(model_input)
        return pd.DataFrame(self.predictor.predict([str(t) for t in texts]), columns=["lang", "label", "scores"])


def load_registered_predictor(uri: str, threshold=None):
    """The `Predictor` inside an MLflow pyfunc model (models:/name@alias, runs:/id/model)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    quiet_mlflow()
    mlflow.set_tracking_uri(tracking_uri())
    try:
        predictor = mlflow.pyfunc.load_model(uri).unwrap_python_model().predictor
    except MlflowException as err:
        raise UserError(f"{uri}: cannot load from MLflow at {tracking_uri()} ({err.message.splitlines()[0]}); "
                        "check the name and alias in the MLflow UI or set MLFLOW_TRACKING_URI")
    if threshold is not None:
        predictor.threshold = predictor.resolve_threshold(threshold)
    return predictor
