"""The runtime that saved models and serving stand on; it imports nothing from training.

    >>> import vnzh_runtime
    >>> tagger = vnzh_runtime.load("models/tfidf")   # or "models:/vn-china-topics-tfidf@champion"
    >>> tagger.predict(["中越陆地边界联合委员会举行会议"])[0]["label"]
    'border_sea'

Normalisation (`textnorm`), language id (`langid`), segmentation (`segment`), article
context (`context`), the model types' inference side (`tfidf`, `transformer`), the model
directory format (`spec`), the `Predictor` and the MLflow pyfunc (`pyfunc`).
"""

from __future__ import annotations


MLFLOW_SCHEMES = ("models:/", "runs:/", "mlflow-artifacts:/")


def load(model, threshold=None, options: dict | None = None, label_thresholds: dict | None = None):
    """The `Predictor` of a model directory or an MLflow model URI (loading runs no code from either)."""
    from pathlib import Path

    from vnzh_runtime.errors import UserError
    from vnzh_runtime.predictor import Predictor

    model = str(model)
    if model.startswith(MLFLOW_SCHEMES):
        from vnzh_runtime.pyfunc import load_from_mlflow

        return load_from_mlflow(model, threshold=threshold, options=options, label_thresholds=label_thresholds)
    if Path(model).exists() and not Path(model).is_dir():  # a data file or a model's spec.json given by mistake
        raise UserError(f"{model}: a file, not a model directory; pass the directory a training wrote "
                        "(the one holding spec.json), e.g. --model models/tfidf")
    if not Path(model).is_dir():
        # a config's model directory is named after it: models/tfidf-multilabel is configs/tfidf-multilabel.yaml's
        config = Path("configs") / f"{Path(model).name}.yaml"
        config = config if config.is_file() else Path("configs/tfidf.yaml")
        raise UserError(f"{model}: no such model directory (fix: train one with python -m train --config {config.as_posix()}, "
                        "or pass an MLflow URI such as models:/vn-china-topics-tfidf@champion)")
    return Predictor.load(model, threshold=threshold, options=options, label_thresholds=label_thresholds)
