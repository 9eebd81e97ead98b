"""What keeps a training's results whole when others train or signals arrive."""

import os
import signal
from pathlib import Path
from re import escape as re_escape

import pytest

from train.modeldir import lock_output
from train.signals import signals_deferred
from vnzh_runtime.errors import UserError


def test_a_second_training_into_the_same_model_directory_is_refused_while_the_first_runs(tmp_path, monkeypatch, capsys):
    """Two at once each logged the directory the other had just moved into place: one run's model was
    registered under the other's run, and one model was lost (a hostile ops user, 1 race in 3)."""
    from train.__main__ import main as train_main

    target = tmp_path / "models" / "race"
    held = lock_output(target)
    with pytest.raises(UserError, match="another training is writing this model directory now"):
        lock_output(target)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    assert train_main(["--config", "configs/tfidf.yaml", "--set", f"output_dir={target}"]) == 2
    assert "another training is writing this model directory now" in capsys.readouterr().err
    held.close()  # the first one ends: the next may write
    lock_output(target).close()
    # the lock is beside the directory, not in TMPDIR: trainings with other temporary folders (users,
    # sudo, a service's private /tmp, two hosts on a shared folder) once both ran and mixed their models
    assert (target.parent / ".race.lock").is_file()
    held = lock_output(target)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(UserError, match="another training is writing this model directory now"):
        lock_output(target)
    held.close()


def test_overwrite_never_deletes_files_inside_model_that_training_did_not_write(tmp_path):
    import json

    from train.modeldir import check_output_dir

    target = tmp_path / "small"
    (target / "model" / "sub").mkdir(parents=True)
    (target / "model" / "tfidf.json").write_text("{}", encoding="utf-8")
    (target / "model" / "sub" / "mydata.jsonl").write_text("{}\n", encoding="utf-8")
    (target / "spec.json").write_text(json.dumps({"files": {"model/tfidf.json": "0" * 64}}), encoding="utf-8")
    for name in ("meta.json", "config.yaml"):
        (target / name).write_text("{}", encoding="utf-8")
    with pytest.raises(UserError, match="holds model/sub/mydata.jsonl, which training did not write"):
        check_output_dir(str(target), overwrite=True)
    (target / "spec.json").unlink()  # an older format's, or another tool's checkpoint: no spec tells which are ours
    with pytest.raises(UserError, match="its model/ folder has no spec.json listing its files"):
        check_output_dir(str(target), overwrite=True)


def test_a_full_disk_while_the_model_is_written_is_one_line(tmp_path):
    import errno
    from types import SimpleNamespace

    from train.modeldir import save_model_dir

    def full(directory):
        raise OSError(errno.ENOSPC, "No space left on device")

    # the model is tuned in a scratch directory beside output_dir: the error names output_dir, as the user gave it
    with pytest.raises(UserError, match=re_escape("output_dir models/mine: cannot write the model (No space left on device)")):
        save_model_dir(tmp_path / ".mine.tuning-x" / "model", SimpleNamespace(output_dir="models/mine"),
                       SimpleNamespace(save=full), {}, overwrite=False)
    assert list(tmp_path.iterdir()) == [tmp_path / ".mine.tuning-x"]  # nothing half-written left behind
    assert not list((tmp_path / ".mine.tuning-x").iterdir())


def test_a_model_whose_target_changed_during_training_is_kept_aside_not_deleted(tmp_path):
    """A user's file that appeared in the target while training ran: the refusal is right, but the finished
    model was deleted with it (minutes, or GPU hours)."""
    from train.modeldir import install_dir

    target = tmp_path / "m"
    target.mkdir()
    (target / "NOTES.md").write_text("mine", encoding="utf-8")  # appeared while training ran
    finished = tmp_path / ".m.tuning-x" / "model"
    finished.mkdir(parents=True)
    (finished / "spec.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UserError, match=f"is not a model directory; .*; the model this run trained is kept in {tmp_path / 'm.trained'}"):
        install_dir(finished, target, overwrite=True)
    assert (tmp_path / "m.trained" / "spec.json").exists() and (target / "NOTES.md").read_text(encoding="utf-8") == "mine"
    finished.mkdir()
    with pytest.raises(UserError, match="kept in .*m.trained-2"):  # a second one beside the first
        install_dir(finished, target, overwrite=True)


def test_a_signal_during_registration_is_delivered_after_it():
    """SIGTERM inside MLflow's registration left a version without its alias and a run RUNNING forever."""
    import threading
    import time

    reached = []
    # another thread (MLflow's, a server's) may take a process's signal: it was delivered inside the block
    other = threading.Thread(target=time.sleep, args=(2,), daemon=True)
    other.start()
    before = signal.getsignal(signal.SIGINT)  # pytest's, or Spark's when its tests ran first
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            for _ in range(3):
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            reached.append("the block finished")
    assert reached == ["the block finished"]
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler is back


# --- a hostile ML engineer's configs and stores (nineteenth session): one line before any training ---

@pytest.mark.parametrize("override, says", [
    ("mlflow.registered_model=.", "not '.' or '..'"), ("mlflow.registered_model=team?b", "holds none of / : ? # @ %"),
    ("mlflow.experiment=" + "x" * 501, "at most 500 characters"),
])
def test_names_mlflow_refuses_or_cannot_carry_back_stop_the_config(override, says):
    from train.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=re_escape(says)):
        load_config("configs/tfidf.yaml", [override])


@pytest.mark.parametrize("override", ['model.transformer.encoders={"multi+zh": {name_or_path: tiny}}',
                                      'model.transformer.routes={vi: phobert, zh: "multi+zh", en: multi}'])
def test_an_encoder_name_is_a_plain_name(override):
    from train.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="encoder name 'multi\\+zh' must be a plain name"):
        load_config("configs/tiny-transformer.yaml", [override])


def test_an_encoder_without_training_records_stops_before_the_others_train():
    from train.config import load_config
    from train.data import load_records
    from train.models import create_model

    from vnzh_runtime.langid import detect_lang

    # records are routed by the language detected in their text, as when tagged (one vi-k record reads as English)
    vietnamese = [r for r in load_records(["data/authored/vi-k.jsonl"]) if r.split == "train" and detect_lang(r.text) == "vi"]
    model = create_model(load_config("configs/tiny-transformer.yaml", []))
    with pytest.raises(UserError, match=re_escape("encoder 'multi' (for en, zh) has no training records")):
        model.check_data(vietnamese)


def test_an_anchored_yaml_bomb_is_refused_in_a_short_line(tmp_path):
    from train.config import ConfigError, load_config

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)] + ["data:", "  files: *a6"]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path / "bomb.yaml"), [])
    assert len(str(refused.value)) < 2000 and "\n" not in str(refused.value)  # was the whole million-item list


@pytest.mark.parametrize("store, says", [("sqlite://", "an in-memory database keeps no run"),
                                         ("sqlite:///:memory:", "an in-memory database keeps no run"),
                                         ("sqlite:///~/mlflow.db", "a URI does not expand ~")])
def test_stores_that_would_keep_nothing_or_a_folder_named_tilde_are_refused(store, says, monkeypatch):
    from train.tracking_store import check_tracking_server

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    with pytest.raises(UserError, match=re_escape(says)):
        check_tracking_server("vn-china-topics")


def test_an_experiment_name_is_one_folder_under_mlartifacts(tmp_path, monkeypatch):
    from train.tracking_store import artifact_location

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    for name in ("/tmp/abs-exp-dir", "../../escaped", "..", "/Users/me@corp.com/vn-china"):
        folder = Path(artifact_location(name).removeprefix("file://"))
        assert folder.parent == tmp_path / "mlartifacts" and folder.name not in (".", ".."), name


def test_an_output_dir_that_links_to_itself_is_one_line(tmp_path):
    from train.modeldir import check_output_dir

    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(UserError, match="a symbolic link that leads round in a loop"):
        check_output_dir(str(tmp_path / "loop"), False)


def test_a_configured_threshold_is_kept_with_its_dev_figures_and_long_params_say_they_were_cut():
    import numpy as np

    from train.scores import choose_threshold
    from train.tracking import PARAM_CHARS, flatten

    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    kept = choose_threshold(probs, ["economy", "other", "economy"], ["economy", "other"], configured=0.58)
    assert kept == {"value": 0.58, "configured": True, "dev_precision": 0.5, "dev_coverage": 2 / 3}
    files = flatten({"data": {"files": [f"data/{'./' * i}a.jsonl" for i in range(200)]}})["data.files"]
    assert len(files) <= PARAM_CHARS and files.endswith("characters in all; the whole value is in config.yaml)")


def test_a_run_whose_parameters_mlflow_refuses_ends_failed_not_finished(mlflow_uri, monkeypatch):
    import mlflow

    from train.config import load_config
    from train.tracking import TrainingRun

    def refuse(params):
        raise mlflow.exceptions.MlflowException("Invalid value for parameter key")

    monkeypatch.setattr(mlflow, "log_params", refuse)
    run = TrainingRun(load_config("configs/tfidf.yaml", ["mlflow.experiment=guards"]))
    with pytest.raises(mlflow.exceptions.MlflowException):
        run.__enter__()
    assert mlflow.active_run() is None
    assert mlflow.MlflowClient(mlflow_uri).get_run(run.run_id).info.status == "FAILED"


def test_an_interrupted_run_ends_killed_a_crashed_one_failed(mlflow_uri):
    import mlflow

    from train.config import load_config
    from train.tracking import TrainingRun

    for raised, status in ((KeyboardInterrupt, "KILLED"), (RuntimeError, "FAILED")):
        run = TrainingRun(load_config("configs/tfidf.yaml", ["mlflow.experiment=guards"]))
        with pytest.raises(raised):
            with run:
                raise raised()  # Ctrl-C (SIGTERM and SIGHUP are the same under run_cli), or a bug
        assert mlflow.MlflowClient(mlflow_uri).get_run(run.run_id).info.status == status


def test_an_interrupted_evaluation_log_ends_killed(tfidf_run, mlflow_uri, monkeypatch):
    import mlflow

    from train import tracking_eval
    from train.samples import load_labelled
    from train.scores import evaluate_records
    from vnzh_runtime.predictor import Predictor
    from vnzh_runtime.provenance import model_info

    predictor = Predictor.load(tfidf_run.output_dir)
    records = load_labelled(["data/seeds.jsonl"], predictor.labels)[:5]
    results, _ = evaluate_records(predictor, records)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mlflow, "log_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tracking_eval.log_evaluation_run(str(tfidf_run.output_dir), predictor.spec,
                                         model_info(predictor, str(tfidf_run.output_dir)), results, "", ["s.jsonl"],
                                         records)
    assert mlflow.active_run() is None
    runs = mlflow.MlflowClient(mlflow_uri).search_runs(
        [mlflow.get_experiment_by_name(tracking_eval.EVALUATIONS).experiment_id], order_by=["start_time DESC"])
    assert runs[0].info.status == "KILLED"


def test_model_info_names_only_what_was_registered_and_reads_a_uri_with_a_trailing_slash(tfidf_run, tmp_path):
    """A hostile user's evaluation runs: `models:/name@champion/` was logged as alias "champion/" with no
    version; a directory trained with log_model: false was tagged with a registered name no model has."""
    import shutil

    import yaml

    from vnzh_runtime.predictor import Predictor
    from vnzh_runtime.provenance import model_info

    predictor = Predictor.load(tfidf_run.output_dir)
    plain = model_info(predictor, tfidf_run.model_uri)
    assert plain["version"] and model_info(predictor, tfidf_run.model_uri + "/") == plain | {"source": tfidf_run.model_uri + "/"}
    unlogged = tmp_path / "nolog"
    shutil.copytree(tfidf_run.output_dir, unlogged)
    config = yaml.safe_load((unlogged / "config.yaml").read_text(encoding="utf-8"))
    config["name"], config["mlflow"]["log_model"] = "nolog", False
    (unlogged / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (unlogged / "meta.json").write_text("{}", encoding="utf-8")  # no run, so no version to look up
    assert model_info(predictor, str(unlogged))["name"] == "nolog"


def test_a_merge_key_twice_in_one_mapping_is_an_error_on_its_line(tmp_path):
    from train.config import ConfigError, load_config

    (tmp_path / "m.yaml").write_text("model:\n  type: tfidf\n  tfidf:\n    <<: {C: 3.0}\n    <<: {C: 4.0}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re_escape("'<<' is set twice")):
        load_config(str(tmp_path / "m.yaml"), [])


def test_a_dataset_digest_covers_every_row_and_label_and_its_name_has_no_space():
    from train.data import Record
    from train.tracking import records_dataset

    records = [Record(f"r{i}", "vi", ("economy",), f"đoạn {i}", "authored", "train") for i in range(10_600)]
    digest = records_dataset(records, "vn-china-topics-train", ["a.jsonl"]).digest
    relabelled = records[:10_500] + [Record("r10500", "vi", ("other",), "đoạn 10500", "authored", "train")] + records[10_501:]
    assert records_dataset(relabelled, "vn-china-topics-train", ["a.jsonl"]).digest != digest  # MLflow's own: equal
    second = records[:-1] + [Record("r10599", "vi", ("economy", "border_sea"), "đoạn 10599", "authored", "train")]
    assert records_dataset(second, "vn-china-topics-train", ["a.jsonl"]).digest != digest
    assert records_dataset(records[::-1], "vn-china-topics-train", ["a.jsonl"]).digest == digest  # files in another order
    assert records_dataset(records, "evaluate my data.jsonl", ["my data.jsonl"]).name == "evaluate_my_data.jsonl"
    # a document is named within its file's path when read: the digest is the data's, whatever the path's spelling
    from train.data import in_file
    in_docs = [Record(f"r{i}", "vi", ("economy",), f"đoạn {i}", "authored", "test", doc_id="d1") for i in range(3)]
    digests = {records_dataset([in_file(r, path) for r in in_docs], "x", ["a.jsonl"]).digest
               for path in ("data/a.jsonl", "/home/u/project/data/a.jsonl")}
    assert len(digests) == 1


def test_the_alias_stays_on_a_version_that_scored_higher_on_the_same_dev_data(mlflow_uri, tmp_path):
    import mlflow

    from train.config import load_config
    from train.run import train

    def trained(name, *overrides):
        settings = ["data.files=[data/authored/en-a.jsonl]", "mlflow.registered_model=alias-rule",
                    "mlflow.experiment=tests", "refit_on_dev=false", f"output_dir={tmp_path / name}", *overrides]
        lines = []
        result = train(load_config("configs/tfidf.yaml", settings), log=lambda *a, **k: lines.append(" ".join(map(str, a))))
        return result, "\n".join(lines)

    def holder():
        return client.get_model_version_by_alias("alias-rule", "champion").run_id

    client = mlflow.MlflowClient(mlflow_uri)
    good, _ = trained("good")
    worse, said = trained("worse", "model.tfidf.C=0.001")
    assert worse.metrics["dev_macro_f1"] < good.metrics["dev_macro_f1"] and holder() == good.run_id  # the better serves
    assert worse.model_uri == "models:/alias-rule/2" and said.endswith(
        f"note: @champion stays on version 1: dev macro-F1 {good.metrics['dev_macro_f1']:.3f} against "
        f"{worse.metrics['dev_macro_f1']:.3f} for this run, on the same dev data; {tmp_path / 'worse'} and version 2 "
        "hold this run's model, @champion does not (to serve it: give version 2 the alias on the model's "
        "page in the MLflow UI, or in Python mlflow.MlflowClient().set_registered_model_alias('alias-rule', "
        "'champion', 2))")
    assert "stays on version 1" in client.get_model_version("alias-rule", "2").tags["alias_kept_at_registration"]
    # other dev data: the figures say nothing about each other, and the newest takes the alias, lower or not
    other, said = trained("other", "model.tfidf.C=0.001", "data.files=[data/authored/en-b.jsonl]")
    assert other.metrics["dev_macro_f1"] < good.metrics["dev_macro_f1"] and holder() == other.run_id
    assert said.endswith("note: @champion moved from version 1 to version 3 without a comparison: version 1 was "
                         f"scored on other dev data (dev macro-F1 {good.metrics['dev_macro_f1']:.3f}); this run's dev "
                         f"macro-F1 {other.metrics['dev_macro_f1']:.3f} (to put it back: mlflow.MlflowClient()."
                         "set_registered_model_alias('alias-rule', 'champion', 1) in Python, or the model's page in "
                         "the MLflow UI)")
    # the same dev records for another task are not compared either
    good_again, _ = trained("again")
    multi, said = trained("multi", "model.tfidf.C=0.001", "task=multilabel")
    assert multi.metrics["dev_macro_f1"] < good_again.metrics["dev_macro_f1"] and holder() == multi.run_id
    assert "version 4 was trained with another task; this run's dev macro-F1" in said
    good_3, _ = trained("good-3")
    # the same labels in another order are the same label list: compared, and the worse stays off
    trained("reordered", "model.tfidf.C=0.001", "data.labels=[other, economy, border_sea, people_to_people, "
            "science_tech, party_relations]")
    assert holder() == good_3.run_id
    forced, said = trained("forced", "model.tfidf.C=0.001", "mlflow.promote=always")
    assert forced.model_uri == "models:/alias-rule@champion" and holder() == forced.run_id
    assert f"note: @champion moved from version 6 (dev macro-F1 {good_3.metrics['dev_macro_f1']:.3f}) to version 8 " \
           f"(dev macro-F1 {forced.metrics['dev_macro_f1']:.3f}) by mlflow.promote=always (to put it back:" in said
    # a model refitted on train + dev is not compared with one fitted on train alone at the same dev figure
    refit, said = trained("refit", "refit_on_dev=true")
    assert holder() == refit.run_id and "version 8 was trained with another refit_on_dev" in said
    quoted, said = trained("quoted", "mlflow.registered_model=bob's model", "mlflow.promote=always")
    worse_quoted, said = trained("quoted-worse", "mlflow.registered_model=bob's model", "model.tfidf.C=0.001")
    assert "set_registered_model_alias(\"bob's model\", 'champion', 2)" in said  # a line Python reads


def test_an_alias_the_store_will_not_read_is_left_where_it_is(monkeypatch):
    from mlflow.exceptions import MlflowException

    from train.tracking import TrainingRun
    from train.config import load_config

    def refuse(*args):
        raise MlflowException("Internal server error", error_code="INTERNAL_ERROR")

    monkeypatch.setattr("mlflow.MlflowClient.get_model_version_by_alias", refuse)
    run = TrainingRun(load_config("configs/tfidf.yaml", []))
    moves, note = run.alias_decision("vn-china-topics-tfidf", "champion", "7", Path("models/tfidf"), 0.99)
    assert not moves and note.startswith("@champion left where it is: the store would not say which version holds it "
                           "(INTERNAL_ERROR: Internal server error); models/tfidf and version 7 hold this run's model")
    monkeypatch.undo()  # the alias read, its run's figures not: left where it is all the same
    monkeypatch.setattr("mlflow.MlflowClient.get_model_version_by_alias",
                        lambda *args: type("Version", (), {"version": "3", "run_id": "r1"})())
    monkeypatch.setattr("mlflow.MlflowClient.get_run", refuse)
    moves, note = run.alias_decision("vn-china-topics-tfidf", "champion", "7", Path("models/tfidf"), 0.99)
    assert not moves and "(INTERNAL_ERROR: Internal server error)" in note
    run.config.mlflow.promote = "always"
    assert run.alias_decision("vn-china-topics-tfidf", "champion", "7", Path("models/tfidf"), 0.99) == (True, None)
