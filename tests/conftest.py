"""Shared fixtures: a temporary MLflow store and one baseline trained on the shipped corpus."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def project_root():
    """Tests run from the project root, where configs name data/ relative paths."""
    previous = os.getcwd()
    os.chdir(ROOT)
    yield ROOT
    os.chdir(previous)


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory):
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    yield uri
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture(scope="session")
def tfidf_run(mlflow_uri, tmp_path_factory):
    from train.config import load_config
    from train.run import train

    out = tmp_path_factory.mktemp("models") / "tfidf"
    config = load_config(ROOT / "configs/tfidf.yaml", [f"output_dir={out}", "mlflow.experiment=tests"])
    return train(config, log=lambda *a, **k: None)


@pytest.fixture(scope="session")
def tfidf_predictor(tfidf_run):
    from vnzh_runtime.predictor import Predictor

    return Predictor.load(tfidf_run.output_dir)
