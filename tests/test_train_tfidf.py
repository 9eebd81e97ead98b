"""Training smoke run on the shipped corpus, tracked in a temporary MLflow store."""

import json

import mlflow
import numpy as np
import pytest

from train.__main__ import main as train_main
from train.modeldir import FORMAT_VERSION, read_meta
from train.predictor import Predictor


def test_model_directory_describes_itself(tfidf_run):
    out = tfidf_run.output_dir
    meta = read_meta(out)
    assert meta["format_version"] == FORMAT_VERSION and meta["model_type"] == "tfidf"
    assert meta["labels"] == ["economy", "border_sea", "people_to_people", "science_tech", "party_relations", "other"]
    assert (out / "config.yaml").is_file() and (out / "model" / "pipeline.joblib").is_file()
    assert meta["metrics"]["test_macro_f1"] == pytest.approx(tfidf_run.metrics["test_macro_f1"])


def test_metrics_cover_splits_languages_and_seeds(tfidf_run):
    metrics = tfidf_run.metrics
    for name in ("dev_macro_f1", "test_macro_f1", "test_vi_macro_f1", "test_zh_macro_f1", "test_en_macro_f1",
                 "seed_macro_f1", "test_accuracy", "test_border_sea_f1"):
        assert 0.0 <= metrics[name] <= 1.0, name
    # Far above the 1/6 of guessing: the pipeline learns something on the shipped corpus.
    assert metrics["dev_macro_f1"] > 0.5
    assert "seed" in tfidf_run.report and "confusion" in tfidf_run.report


def test_mlflow_run_holds_params_metrics_inputs_artifacts_and_model(tfidf_run, mlflow_uri):
    client = mlflow.MlflowClient(mlflow_uri)
    run = client.get_run(tfidf_run.run_id)
    assert run.data.params["model.tfidf.C"] == "10.0" and run.data.params["model.type"] == "tfidf"
    assert "test_vi_macro_f1" in run.data.metrics
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert contexts == {"train", "dev", "test"}
    assert all(i.dataset.digest for i in run.inputs.dataset_inputs)
    artifacts = {a.path for a in client.list_artifacts(tfidf_run.run_id, "confusion")}
    assert {"confusion/test_vi.png", "confusion/test_zh.png", "confusion/seed.png"} <= artifacts
    version = client.get_model_version_by_alias("vn-china-topics-tfidf", "champion")
    assert version.run_id == tfidf_run.run_id


def test_save_and_load_give_identical_predictions(tfidf_run):
    texts = ["Kim ngạch xuất khẩu sầu riêng sang Trung Quốc tăng mạnh", "中越海警在北部湾开展联合巡逻", "Weather: rain in Hanoi"]
    first = Predictor.load(tfidf_run.output_dir)
    second = Predictor.load(tfidf_run.output_dir)
    assert first.predict(texts) == second.predict(texts)
    probs = first.predict_proba(texts)
    assert probs.shape == (3, 6) and np.allclose(probs.sum(axis=1), 1.0)


def test_pyfunc_model_matches_predictor(tfidf_run, tfidf_predictor):
    import pandas as pd

    texts = ["Hai bên nhất trí tăng cường tin cậy chính trị", "越南留学生在广西参加中越青年联欢", "Giá vàng hôm nay tăng"]
    model = mlflow.pyfunc.load_model(tfidf_run.model_uri)
    got = model.predict(pd.DataFrame({"text": texts}))
    assert got.to_dict("records") == tfidf_predictor.predict(texts)


def test_cli_reports_config_and_data_errors_in_one_line(tmp_path, capsys):
    assert train_main(["--config", "configs/tfidf.yaml", "--set", "model.tfidf.nope=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'model.tfidf.nope'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a"}) + "\n", encoding="utf-8")
    assert train_main(["--config", "configs/tfidf.yaml", "--set", f"data.files=[{bad}]"]) == 2
    assert f"{bad}:1: missing field" in capsys.readouterr().err


def test_mlflow_models_serve_matches_predictor(tfidf_run, tfidf_predictor, mlflow_uri):
    import os
    import socket
    import subprocess
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(["mlflow", "models", "serve", "-m", tfidf_run.model_uri, "--env-manager", "local",
                               "-h", "127.0.0.1", "-p", str(port)], env={**os.environ, "MLFLOW_TRACKING_URI": mlflow_uri},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    texts = ["中越贸易额创新高", "Hai bên nhất trí tăng cường tin cậy chính trị"]
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "mlflow models serve did not start"
            time.sleep(0.5)
        body = {"dataframe_records": [{"text": t} for t in texts]}
        answer = httpx.post(f"http://127.0.0.1:{port}/invocations", json=body, timeout=30).json()
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
    assert answer["predictions"] == tfidf_predictor.predict(texts)
