"""Training smoke run on the shipped corpus, tracked in a temporary MLflow store."""

import json
import re
from pathlib import Path

import mlflow
import numpy as np
import pytest

from train.__main__ import main as train_main
from vnzh_runtime.predictor import Predictor
from vnzh_runtime.spec import FORMAT_VERSION, read_spec


def test_model_directory_describes_itself(tfidf_run):
    out = tfidf_run.output_dir
    spec = read_spec(out)
    assert spec["format_version"] == FORMAT_VERSION and spec["model_type"] == "tfidf"
    assert spec["labels"] == ["economy", "border_sea", "people_to_people", "science_tech", "party_relations", "other"]
    assert set(spec["files"]) == {"model/tfidf.json", "model/weights.npz"}  # plain data: no pickle
    assert spec["context"]["head"] == 3 and len(spec["context"]["gate"]) == 4  # the article-context gate
    assert 0 < spec["threshold"]["value"] < 1
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert (out / "config.yaml").is_file()
    assert meta["metrics"]["test_macro_f1"] == pytest.approx(tfidf_run.metrics["test_macro_f1"])


def test_metrics_cover_splits_languages_and_seeds(tfidf_run):
    metrics = tfidf_run.metrics
    for name in ("dev_macro_f1", "test_macro_f1", "test_vi_macro_f1", "test_zh_macro_f1", "test_en_macro_f1",
                 "seed_macro_f1", "test_accuracy", "per_label/test_border_sea_f1"):
        assert 0.0 <= metrics[name] <= 1.0, name
    # Far above the 1/6 of guessing: the pipeline learns something on the shipped corpus.
    assert metrics["dev_macro_f1"] > 0.5
    assert "seed" in tfidf_run.report and "confusion" in tfidf_run.report


def test_mlflow_run_holds_params_metrics_inputs_artifacts_and_model(tfidf_run, mlflow_uri):
    client = mlflow.MlflowClient(mlflow_uri)
    run = client.get_run(tfidf_run.run_id)
    assert run.data.params["model.tfidf.C"] == "20.0" and run.data.params["model.type"] == "tfidf"
    assert not [key for key in run.data.params if "transformer" in key]  # only this model type's keys
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # the UI opens on runs
    assert "test_vi_macro_f1" in run.data.metrics
    contexts = {i.tags[0].value: i.dataset for i in run.inputs.dataset_inputs}
    # configs/tfidf.yaml refits on train + dev: the saved model's data is logged as what it was fitted on
    assert set(contexts) == {"train", "dev", "test", "train+dev"}
    assert run.data.metrics["fitted_size"] == json.loads(contexts["train+dev"].profile)["num_rows"]
    assert run.data.metrics["fitted_size"] == sum(json.loads(contexts[s].profile)["num_rows"] for s in ("train", "dev"))
    assert all(i.dataset.digest for i in run.inputs.dataset_inputs)
    artifacts = {a.path for a in client.list_artifacts(tfidf_run.run_id, "confusion")}
    assert {"confusion/test_vi.png", "confusion/test_zh.png", "confusion/seed.png"} <= artifacts
    version = client.get_model_version_by_alias("vn-china-topics-tfidf", "champion")
    assert version.run_id == tfidf_run.run_id


def test_predictions_before_save_equal_those_after_load(tmp_path):
    from train.config import load_config
    from train.data import by_split, load_records
    from train.modeldir import save_model_dir
    from train.models import create_model

    config = load_config("configs/tfidf.yaml", [f"output_dir={tmp_path / 'm'}"])
    splits = by_split(load_records(config.data.files), config.data.labels)
    trainer = create_model(config).fit(splits["train"][::4], [])
    dev = splits["dev"]
    before = trainer.predict_proba([r.text for r in dev])
    save_model_dir(tmp_path / "m", config, trainer, {}, overwrite=False)
    after = Predictor.load(tmp_path / "m").predict_proba([r.text for r in dev])
    assert before.shape == (len(dev), 6) and np.allclose(before.sum(axis=1), 1.0)
    assert np.allclose(before, after, atol=1e-12)


def test_article_context_goes_through_the_gate(tfidf_predictor):
    from train.data import by_split, load_records, record_contexts
    from vnzh_runtime.relevance import apply_gate

    dev = [r for r in by_split(load_records(["data/authored/*.jsonl"]), tfidf_predictor.labels)["dev"] if r.doc_id]
    texts, contexts = [r.text for r in dev], record_contexts(dev, tfidf_predictor.context_head)
    alone = tfidf_predictor.predict_proba(texts)
    read = tfidf_predictor.predict_proba(texts, doc_ids=[r.doc_id for r in dev])
    heads = tfidf_predictor.predict_proba(contexts)
    # the next paragraph of the same article, NaN for an article's last
    after = np.array([alone[i + 1] if i + 1 < len(dev) and dev[i + 1].doc_id == r.doc_id else [np.nan] * 6
                      for i, r in enumerate(dev)])
    rows = [i for i, c in enumerate(contexts) if c]
    assert len(rows) > 50 and not np.allclose(read[rows], alone[rows])
    gate, labels = tfidf_predictor.gate, tfidf_predictor.labels
    assert np.allclose(read[rows], apply_gate(alone[rows], heads[rows], gate, labels, after[rows]))
    assert not np.allclose(read[rows], apply_gate(alone[rows], heads[rows], gate[:3], labels))
    assert np.allclose(read.sum(axis=1), 1.0)


def test_a_subhead_followed_by_its_section_reads_as_coverage_more_than_one_followed_by_teasers(tfidf_predictor):
    import copy

    head = ["Việt Nam và Trung Quốc nhất trí thúc đẩy hợp tác thương mại, đưa kim ngạch song phương vượt 200 tỷ USD",
            "Hai bên cam kết tạo thuận lợi cho hàng nông sản qua các cửa khẩu biên giới",
            "Lãnh đạo hai nước đánh giá cao kết quả hợp tác kinh tế thời gian qua"]  # the whole head: 3 paragraphs
    subhead = "Giữ nhịp giao thương"
    body = "Mỗi ngày hơn 1.200 xe nông sản qua cửa khẩu Hữu Nghị sang Trung Quốc, thời gian thông quan rút xuống còn 2 giờ."
    teaser = "Giá vàng SJC hôm nay tăng 300.000 đồng mỗi lượng"
    other, docs = tfidf_predictor.labels.index("other"), ["p"] * 5

    def subhead_other(predictor, after):
        return predictor.predict_proba([*head, subhead, after], doc_ids=docs)[3, other]

    assert tfidf_predictor.gate[3] > 0  # fitted on dev: the next paragraph's relevance counts
    assert subhead_other(tfidf_predictor, body) < subhead_other(tfidf_predictor, teaser) - 0.2
    without = copy.deepcopy(tfidf_predictor)  # the same model with no next-paragraph weight
    without.spec["context"]["gate"] = tfidf_predictor.gate[:3] + [0.0]
    assert subhead_other(without, body) == subhead_other(without, teaser)  # the head alone does not tell them apart


def test_row_i_of_a_batch_equals_text_i_tagged_alone(tfidf_predictor):
    texts = ["Kim ngạch xuất khẩu sầu riêng sang Trung Quốc tăng mạnh", "中越海警在北部湾开展联合巡逻",
             "Weather: rain in Hanoi", "Hai bên nhất trí tăng cường tin cậy chính trị"]
    batch = tfidf_predictor.predict(texts)
    assert batch == [tfidf_predictor.predict([t])[0] for t in texts]
    assert tfidf_predictor.predict(texts[::-1]) == batch[::-1]


def test_auto_threshold_abstains_below_the_dev_value(tfidf_run):
    from vnzh_runtime.spec import read_spec

    chosen = read_spec(tfidf_run.output_dir)["threshold"]["value"]
    predictor = Predictor.load(tfidf_run.output_dir, threshold="auto")
    assert predictor.threshold == chosen
    texts = ["Hai bên", "中越", "Kim ngạch thương mại Việt - Trung tăng 19%", "ok", "Giá vàng", "Biển"]
    for text, result in zip(texts, predictor.predict(texts)):
        top = max(result["scores"].values())
        assert (result["label"] == "uncertain") == (top < chosen), (text, top, chosen)
    # The same threshold given per call, as README's runtime example does, to a predictor without one.
    assert Predictor.load(tfidf_run.output_dir).predict(texts, threshold="auto") == predictor.predict(texts)


def test_same_config_and_seed_give_the_same_metrics(tfidf_run, tmp_path):
    from train.config import load_config
    from train.run import train

    config = load_config("configs/tfidf.yaml", [f"output_dir={tmp_path / 'again'}", "mlflow.log_model=false",
                                                "mlflow.experiment=tests"])
    again = train(config, log=lambda *a, **k: None)
    assert {k: v for k, v in again.metrics.items() if k != "fit_seconds"} == \
           {k: v for k, v in tfidf_run.metrics.items() if k != "fit_seconds"}


def test_pyfunc_model_matches_predictor(tfidf_run, tfidf_predictor):
    import pandas as pd

    texts = ["Hai bên nhất trí tăng cường tin cậy chính trị", "越南留学生在广西参加中越青年联欢", "Giá vàng hôm nay tăng"]
    model = mlflow.pyfunc.load_model(tfidf_run.model_uri)
    got = model.predict(pd.DataFrame({"text": texts}))
    assert got.to_dict("records") == [row | {"error": None} for row in tfidf_predictor.predict(texts)]
    # the caller's index comes back, so results join to the rows they came from
    indexed = model.predict(pd.DataFrame({"text": texts}, index=[10, 5, 7]))
    assert list(indexed.index) == [10, 5, 7] and indexed.loc[5, "label"] == got.loc[1, "label"]
    # a call's own threshold reaches predict (MLflow drops params its signature does not declare)
    always = model.predict(pd.DataFrame({"text": texts}), params={"threshold": 1.0})
    assert always["label"].tolist() == ["uncertain"] * 3 and always["scores"].tolist() == got["scores"].tolist()
    assert model.predict(pd.DataFrame({"text": texts}))["label"].tolist() == got["label"].tolist()  # not kept
    with pytest.raises(Exception, match=r"params.threshold: 2.0 is not a number from 0 to 1"):
        model.predict(pd.DataFrame({"text": texts}), params={"threshold": 2.0})


def test_defining_the_pyfunc_class_raises_no_mlflow_warning():
    import subprocess
    import sys

    code = ("import warnings; warnings.simplefilter('always'); w = warnings.catch_warnings(record=True); "
            "caught = w.__enter__(); import vnzh_runtime.pyfunc; print([str(x.message)[:60] for x in caught])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "type hint" not in out.lower(), out


def test_cli_reports_config_and_data_errors_in_one_line(tmp_path, capsys):
    assert train_main(["--config", "configs/tfidf.yaml", "--set", "model.tfidf.nope=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'model.tfidf.nope'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a"}) + "\n", encoding="utf-8")
    assert train_main(["--config", "configs/tfidf.yaml", "--set", f"data.files=[{bad}]",
                       "--set", f"output_dir={tmp_path / 'out'}"]) == 2
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
        refused = httpx.post(f"http://127.0.0.1:{port}/invocations", json=body | {"params": {"threshold": 2.0}}, timeout=30)
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
    assert answer["predictions"] == [row | {"error": None} for row in tfidf_predictor.predict(texts)]
    # a refusal's reason is the answer's message, not only a traceback in stack_trace
    assert refused.status_code == 400 and refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "params.threshold: 2.0 is not a number from 0 to 1" in refused.json()["message"]


def test_evaluate_command_reproduces_the_training_figures_from_a_directory_and_a_uri(tfidf_run, capsys):
    from train.evaluate import main as evaluate_main

    for model in (str(tfidf_run.output_dir), tfidf_run.model_uri):
        assert evaluate_main(["--model", model, "--data", "data/seeds.jsonl", "data/authored/*.jsonl"]) == 0
        out = capsys.readouterr().out
        table = {line.split()[0]: line.split() for line in out[out.index("scope "):].splitlines()[:12] if line.strip()}
        for scope in ("test", "test_vi", "test_zh", "test_en", "seed"):
            assert float(table[scope][3]) == pytest.approx(tfidf_run.metrics[f"{scope}_macro_f1"], abs=5e-4), (model, scope)
        # configs/tfidf.yaml refits on train + dev: training scored dev with the train-only model; the saved
        # model has seen dev, scores it higher, and says its dev figures are not held out
        assert float(table["dev"][3]) > tfidf_run.metrics["dev_macro_f1"] + 0.01
        assert "dev records of that corpus are not held out" in out


def test_refit_on_dev_saves_a_model_fitted_on_train_and_dev_with_the_settings_tuned_on_dev(tmp_path):
    from train.config import load_config
    from train.run import train

    files = "[data/authored/vi-a.jsonl,data/authored/zh-a.jsonl,data/authored/en-a.jsonl,data/authored/vi-y.jsonl]"
    runs = {}
    for refit in (True, False):
        out = tmp_path / str(refit) / "m"
        config = load_config("configs/tfidf.yaml", [f"output_dir={out}", f"refit_on_dev={refit}", f"data.files={files}",
                                                    "mlflow.log_model=false", "mlflow.experiment=tests"])
        runs[refit] = (train(config, log=lambda *a, **k: None), read_spec(out), json.loads((out / "meta.json").read_text()))
        assert [p.name for p in out.parent.iterdir()] == ["m"]  # the train-only model of tuning is gone
    (refit, spec, meta), (alone, alone_spec, alone_meta) = runs[True], runs[False]
    assert spec["fitted_on"] == ["train", "dev"] and "fitted_on" not in alone_spec
    assert meta["train_size"] > alone_meta["train_size"] > 0
    # dev is scored, and the gate and threshold chosen, by the same train-only model in both runs
    assert spec["context"] == alone_spec["context"] and spec["threshold"] == alone_spec["threshold"]
    assert {k: v for k, v in refit.metrics.items() if k.startswith("dev")} == \
           {k: v for k, v in alone.metrics.items() if k.startswith("dev")}
    assert spec["files"]["model/weights.npz"] != alone_spec["files"]["model/weights.npz"]
    assert "refit_on_dev" in refit.report and "refit_on_dev" not in alone.report


def test_evaluate_command_takes_a_users_plain_labelled_sample(tfidf_run, tmp_path, capsys):
    from train.evaluate import main as evaluate_main

    sample = tmp_path / "mine.jsonl"
    sample.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in [
        {"text": "Kim ngạch thương mại Việt Nam - Trung Quốc tăng 20%", "labels": ["economy"]},
        {"text": "中越海警在北部湾开展联合巡逻", "labels": ["border_sea"]},
        {"text": "Gold prices rose in Hanoi on Monday", "labels": ["other"]}]) + "\n", encoding="utf-8")
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == ["test", "3"] and "confusion" in out
    assert evaluate_main(["--model", str(tmp_path / "none"), "--data", str(sample)]) == 2
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample), "--log"]) == 0
    run_id = capsys.readouterr().out.strip().splitlines()[-1].split()[-1]
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.tags["evaluated_model"] == str(tfidf_run.output_dir) and "test_macro_f1" in run.data.metrics
    # a label the sample neither holds nor is given is not logged as an F1 of 0 (the table shows "-")
    assert "per_label/test_economy_f1" in run.data.metrics and "per_label/test_science_tech_f1" not in run.data.metrics
    # the run says which trained model it scored, and which registered version an alias pointed to then
    assert run.data.tags["evaluated_model_run_id"] == tfidf_run.run_id
    assert evaluate_main(["--model", tfidf_run.model_uri, "--data", str(sample), "--log"]) == 0
    evaluation = mlflow.MlflowClient().get_run(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])
    tags = evaluation.data.tags
    version = mlflow.MlflowClient().get_model_version_by_alias(*tfidf_run.model_uri.removeprefix("models:/").split("@"))
    assert tags["evaluated_model_version"] == str(version.version) and tags["evaluated_model_alias"] == "champion"
    assert tags["evaluated_model_run_id"] == tfidf_run.run_id
    assert evaluation.info.run_name == f"evaluate {version.name} v{version.version}"
    # MLflow 3's model page lists the evaluation: its metrics are linked to the logged model
    linked = mlflow.get_logged_model(version.model_id or version.source.removeprefix("models:/")).metrics
    assert any(m.key == "test_macro_f1" and m.run_id == evaluation.info.run_id for m in linked)
    # ... named by the data it was scored on, so that it is not read as training's test_macro_f1
    ours = next(m for m in linked if m.key == "test_macro_f1" and m.run_id == evaluation.info.run_id)
    assert ours.dataset_name == "evaluate_mine.jsonl" and ours.dataset_digest  # no space: a folder store's lines
    assert [i.dataset.name for i in evaluation.inputs.dataset_inputs] == ["evaluate_mine.jsonl"]
    # dev records the model was refitted on are scored on the run, not put beside training's dev figure
    seen = tmp_path / "seen.jsonl"
    seen.write_text(json.dumps({"text": "Kim ngạch thương mại Việt Nam - Trung Quốc tăng 20%", "labels": ["economy"],
                                "split": "dev"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert evaluate_main(["--model", tfidf_run.model_uri, "--data", str(seen), "--log"]) == 0
    again = mlflow.MlflowClient().get_run(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])
    assert "dev_macro_f1" in again.data.metrics and again.data.tags["dev_held_out"].startswith("not for")
    linked = mlflow.get_logged_model(version.model_id or version.source.removeprefix("models:/")).metrics
    assert not [m for m in linked if m.run_id == again.info.run_id and m.key.split("/")[-1].startswith("dev")]
    assert [m.run_id for m in linked if m.key == "dev_macro_f1"] == [tfidf_run.run_id]  # training's alone
    # a logged model's own URI (models:/m-<id>) names the same training run, version and logged model
    model_id = version.model_id or version.source.removeprefix("models:/")
    assert evaluate_main(["--model", f"models:/{model_id}", "--data", str(sample), "--log"]) == 0
    by_id = mlflow.MlflowClient().get_run(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])
    assert by_id.data.tags["evaluated_model_id"] == model_id and by_id.data.tags["evaluated_model_run_id"] == tfidf_run.run_id
    assert by_id.data.tags["evaluated_model_version"] == str(version.version)
    linked = mlflow.get_logged_model(model_id).metrics
    assert any(m.key == "test_macro_f1" and m.run_id == by_id.info.run_id for m in linked)


def test_evaluate_log_to_a_store_that_cannot_take_it_is_one_line_before_any_work(tfidf_run, tmp_path, capsys,
                                                                                  monkeypatch):
    from train.evaluate import main as evaluate_main

    sample = tmp_path / "mine.jsonl"
    sample.write_text(json.dumps({"text": "Gold prices rose in Hanoi on Monday", "labels": ["other"]}) + "\n",
                      encoding="utf-8")
    (tmp_path / "notes.db").write_text("my notes, not a database\n", encoding="utf-8")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    for store, said in ((f"sqlite:///{tmp_path / 'notes.db'}", "is not an SQLite database"),
                        (f"file://{tmp_path / 'mlruns'}", "MLflow 3 logs to a database, not to a folder")):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
        assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample), "--log"]) == 2
        captured = capsys.readouterr()
        assert said in captured.err and len(captured.err.strip().splitlines()) == 1 and not captured.out
    assert (tmp_path / "notes.db").read_text(encoding="utf-8") == "my notes, not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.jsonl", "notes.db"]


@pytest.mark.parametrize("store, refused", [
    ("sqlite:///mlflow.db", False), ("sqlite://", True), ("postgresql+psycopg2://u@db/mlflow", False),
    ("http://127.0.0.1:5000", False), ("databricks", False), ("databricks://profile", False),
    ("file:///tmp/mlruns", True), ("mlruns", True), ("/tmp/mlruns", True), ("sqlite:////tmp", True),
])
def test_only_stores_mlflow_3_cannot_use_are_refused_up_front(store, refused, monkeypatch):
    from vnzh_runtime.stores import store_problem

    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    assert (store_problem(store) is not None) == refused
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow's own opt-out keeps a folder store working
    assert (store_problem(store) is not None) == (store in ("sqlite:////tmp", "sqlite://"))  # in memory: kept nowhere


def test_stores_that_end_in_a_traceback_or_minutes_of_retries_are_one_line(tmp_path, monkeypatch):
    """A locked database, a file where its folder should be, a place no file can be made, an unknown scheme."""
    import sqlite3

    import train.tracking_store as tracking
    from vnzh_runtime.errors import UserError

    (tmp_path / "afile").write_text("notes\n", encoding="utf-8")
    for store, says in ((f"sqlite:///{tmp_path / 'afile' / 'm.db'}", f"{tmp_path / 'afile'} is a file, not a folder"),
                        ("sqlite:////proc/m.db", "cannot create the database /proc/m.db"),
                        ("foo://bar", "MLflow has no tracking store for 'foo:'")):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
        with pytest.raises(UserError, match=re.escape(says)):
            tracking.check_tracking_server()
    held = tmp_path / "held.db"
    holder = sqlite3.connect(held, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{held}")
    try:
        with pytest.raises(UserError, match="held.db is locked by another program"):
            tracking.check_tracking_server()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    tracking.check_tracking_server()  # free again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "held.db"]


def test_a_sqlite_store_this_user_cannot_write_is_one_line_before_training(tmp_path, monkeypatch):
    """A shared database only readable here: MLflow retried for minutes after training, then a traceback.
    Root can write any mode bits, so the file system's answer is stood in for (a read-only mount's)."""
    import os

    import train.tracking_store as tracking
    from vnzh_runtime.errors import UserError

    shared = tmp_path / "shared"
    shared.mkdir()
    real_access = os.access
    monkeypatch.setattr(tracking.os, "access", lambda path, mode: Path(path) != shared and real_access(path, mode))
    for store in (f"sqlite:///{shared / 'mlflow.db'}", f"sqlite:///{shared / 'new' / 'mlflow.db'}"):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
        with pytest.raises(UserError, match=f"{re.escape(str(shared))} is read-only for this user"):
            tracking.check_tracking_server()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mine' / 'mlflow.db'}")
    tracking.check_tracking_server()  # a store to be made where this user can write
    artifacts = tmp_path / "db" / "mlartifacts"  # the database writable, its artifact folder not: after training, too late
    artifacts.mkdir(parents=True)
    monkeypatch.setattr(tracking.os, "access", lambda path, mode: Path(path) != artifacts and real_access(path, mode))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'db' / 'mlflow.db'}")
    with pytest.raises(UserError, match=f"{re.escape(str(artifacts))} is read-only for this user"):
        tracking.check_tracking_server("vn-china-topics")
