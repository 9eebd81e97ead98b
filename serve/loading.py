"""Load a `Predictor` from a model directory or an MLflow model URI."""

from __future__ import annotations

from pathlib import Path

from train.errors import UserError
from train.predictor import Predictor

MLFLOW_SCHEMES = ("models:/", "runs:/", "mlflow-artifacts:/")


def load_predictor(model: str, threshold: float | str | None = None) -> Predictor:
    if model.startswith(MLFLOW_SCHEMES):
        from train.tracking import load_registered_predictor

        return load_registered_predictor(model, threshold=threshold)
    if not Path(model).is_dir():
        raise UserError(f"{model}: no such model directory (fix: train one with python -m train --config configs/tfidf.yaml, "
                        "or pass an MLflow URI such as models:/vn-china-topics-tfidf@champion)")
    return Predictor.load(model, threshold=threshold)
