"""What a user hands the tools: config values and --set flags, labelled samples for
`train.evaluate`, and DataFrames for the logged pyfunc model (hostile-user report items 6, 9,
10, 11 and 16)."""

import json
import math
import re
import os
import signal

import pytest

from train.config import ConfigError, load_config
from train.data import DataError
from train.samples import load_labelled
from train.evaluate import main as evaluate_main

DUPLICATED = "data.labels=[economy,economy,border_sea,people_to_people,science_tech,party_relations,other]"


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


# ------------------------------------------------------------------ config (items 6 and 16)

def test_duplicate_labels_are_refused_at_load(tmp_path):
    with pytest.raises(ConfigError, match=r"data\.labels: 'economy' listed more than once \(fix: list each label once\)"):
        load_config("configs/tfidf.yaml", [DUPLICATED])
    path = tmp_path / "dup.yaml"
    path.write_text("data:\n  labels: [economy, other, other]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{path}:2: data.labels: 'other' listed more than once"):
        load_config(path)


def test_a_key_set_twice_in_a_config_and_a_config_folder_are_refused_in_one_line(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("seed: 7\nname: mine\nseed: 13\n", encoding="utf-8")  # PyYAML alone keeps 13 without a word
    with pytest.raises(ConfigError, match=f"^{path}:3: not valid YAML \\('seed' is set twice \\(fix: keep one\\)\\)$"):
        load_config(path)
    with pytest.raises(ConfigError, match="is a directory \\(fix: pass a config file in it"):
        load_config(tmp_path)
    merged = tmp_path / "merged.yaml"  # a YAML merge key's values may still be overridden
    merged.write_text("defaults: &d {C: 3.0}\nmodel:\n  tfidf:\n    <<: *d\n    C: 5.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="defaults"):  # the unknown top-level key, not a repeated one
        load_config(merged)


def test_a_new_name_renames_what_a_saved_config_spells_out_and_a_file_name_must_be_a_plain_name(tmp_path):
    saved = tmp_path / "config.yaml"  # a model directory's record: its derived places written out
    saved.write_text("name: tfidf\noutput_dir: models/tfidf\nmlflow:\n  registered_model: vn-china-topics-tfidf\n",
                     encoding="utf-8")
    again = load_config(saved, ["name=fresh"])  # not the old model's directory and registered name
    assert (again.output_dir, again.mlflow.registered_model) == ("models/fresh", "vn-china-topics-fresh")
    assert load_config(saved).output_dir == "models/tfidf"
    chosen = load_config(saved, ["name=fresh", "output_dir=/tmp/elsewhere"])  # what the user gives stays
    assert (chosen.output_dir, chosen.mlflow.registered_model) == ("/tmp/elsewhere", "vn-china-topics-fresh")
    mine = tmp_path / "mine.yaml"
    mine.write_text("output_dir: /srv/models/x\n", encoding="utf-8")
    assert load_config(mine, ["name=y"]).output_dir == "/srv/models/x"
    dated = tmp_path / "tfidf 2026-01-05T10:30.yaml"  # MLflow would refuse the name after training
    dated.write_text("seed: 7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("the config file's name 'tfidf 2026-01-05T10:30' is not a plain "
                                                    "name")):
        load_config(dated)
    assert load_config(dated, ["name=dated"]).name == "dated"
    placed = load_config(dated, ["output_dir=/tmp/x", "mlflow.registered_model=mine"])  # then it names only the run
    assert (placed.output_dir, placed.mlflow.registered_model) == ("/tmp/x", "mine")
    # what the user sets now stays as set, even the old model's own places: retraining into them on purpose
    kept = load_config(saved, ["name=fresh", "output_dir=models/tfidf", "mlflow.registered_model=vn-china-topics-tfidf"])
    assert (kept.output_dir, kept.mlflow.registered_model) == ("models/tfidf", "vn-china-topics-tfidf")


def test_a_tilde_in_output_dir_or_data_files_is_the_home_folder_not_a_folder_named_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    config = load_config("configs/tfidf.yaml", ["output_dir=~/models/x", "data.files=[~/feed/*.jsonl]"])
    assert (config.output_dir, config.data.files) == (f"{tmp_path}/models/x", [f"{tmp_path}/feed/*.jsonl"])


def test_duplicate_labels_stop_the_train_cli_before_any_mlflow_run(tmp_path, monkeypatch, capsys):
    from train.__main__ import main as train_main

    store = tmp_path / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    assert train_main(["--config", "configs/tfidf.yaml", "--set", DUPLICATED, "--set", f"output_dir={tmp_path / 'm'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "listed more than once" in err
    assert not store.exists() and not (tmp_path / "m").exists()


@pytest.mark.parametrize("override, says", [
    ("data.labels=[economy, other]", "at least two topics besides 'other'"),
    ("mlflow.registered_model=team/tagger", "holds none of / : ? # @ %"),
])
def test_configs_mlflow_or_the_heads_would_refuse_after_training_are_refused_at_load(override, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config("configs/tfidf.yaml", [override])


def test_evaluate_log_to_a_deleted_evaluations_experiment_names_only_the_restore(tfidf_run, mlflow_uri, capsys):
    import mlflow

    from train.tracking_eval import EVALUATIONS

    client = mlflow.MlflowClient(tracking_uri=mlflow_uri)
    found = client.get_experiment_by_name(EVALUATIONS)
    experiment_id = found.experiment_id if found else client.create_experiment(EVALUATIONS)
    client.delete_experiment(experiment_id)
    try:
        assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", "data/seeds.jsonl", "--log"]) == 2
    finally:
        client.restore_experiment(experiment_id)  # the session's other evaluations log there
    out, err = capsys.readouterr()
    assert out == ""  # said before any work: the tables were printed first, then the error
    err = err.strip()
    assert err.startswith(f"error: the evaluations experiment {EVALUATIONS}: deleted in the MLflow store")
    assert err.endswith(f"`mlflow experiments restore --experiment-id {experiment_id}`)")  # no name to change


def test_runs_that_would_fail_after_training_stop_before_it_in_one_line(mlflow_uri, tmp_path, capsys):
    """Each used to train first and then end in a traceback (or leave a FAILED run)."""
    import mlflow

    from train.__main__ import main as train_main

    client = mlflow.MlflowClient(tracking_uri=mlflow_uri)  # the session's store: mlflow's own URI outlives a test
    client.delete_experiment(client.create_experiment("cleaned-up"))
    (tmp_path / "afile").write_text("mine\n", encoding="utf-8")
    small = "data.files=[data/authored/vi-a.jsonl]"  # no 'other', science_tech or party_relations in its train split
    def all_runs() -> int:
        return len(client.search_runs([e.experiment_id for e in client.search_experiments()]))

    runs_before = all_runs()
    for sets, says in [
        ([small], "no 'train' records labelled science_tech, party_relations, other"),
        (["mlflow.experiment=cleaned-up"], "mlflow.experiment cleaned-up: deleted in the MLflow store"),
        (["mlflow.experiment=cleaned-up"], "`, or --set mlflow.experiment=<another name>)"),
        ([f"output_dir={tmp_path / 'afile' / 'sub'}"], "afile is a file, not a directory"),
        (["model.tfidf.min_df=1000000"], "min_df 1000000 is more than the"),
    ]:
        flags = [flag for value in [f"output_dir={tmp_path / 'm'}", "data.files=[data/authored/en-a.jsonl]", *sets]
                 for flag in ("--set", value)]
        assert train_main(["--config", "configs/tfidf.yaml", *flags]) == 2, sets
        err = capsys.readouterr().err
        assert err.strip().splitlines()[-1].startswith("error: ") and says in err and "Traceback" not in err, err
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "mine\n" and not (tmp_path / "m").exists()
    assert all_runs() == runs_before  # no failed run left in the UI by any of them


@pytest.mark.parametrize("heads", ["factored", "joint"])
def test_two_topics_train_a_model_that_tells_them_and_other_apart(mlflow_uri, tmp_path, heads):
    """Two topics: the factored model crashed after training, the joint one gave every text one label."""
    from train.config import load_config
    from train.run import train
    from vnzh_runtime.predictor import Predictor

    config = load_config("configs/tfidf.yaml", ["data.files=[data/authored/en-*.jsonl]", "mlflow.log_model=false",
                                                "data.labels=[economy, people_to_people, other]", "mlflow.experiment=edge-cases",
                                                f"model.tfidf.heads={heads}", f"output_dir={tmp_path / 'm'}"])
    train(config, log=lambda *a, **k: None)
    predictor = Predictor.load(tmp_path / "m")
    rows = predictor.predict(["Vietnam-China trade rose 20% as durian exports to China surged",
                              "The French football league announced its new season schedule.",
                              "Chinese and Vietnamese students met at a youth friendship festival in Nanning"])
    assert [r["label"] for r in rows] == ["economy", "other", "people_to_people"]
    assert all(sorted(r["scores"]) == sorted(["economy", "people_to_people", "other"]) for r in rows)


def test_overwrite_through_a_symlink_replaces_the_model_it_points_to_and_keeps_the_link(tfidf_run, tmp_path):
    import shutil

    from train.config import load_config
    from train.run import train

    shutil.copytree(tfidf_run.output_dir, tmp_path / "real")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    config = load_config("configs/tfidf.yaml", ["data.files=[data/authored/en-a.jsonl]", "mlflow.log_model=false",
                                                "mlflow.experiment=edge-cases", f"output_dir={tmp_path / 'link'}"])
    train(config, log=lambda *a, **k: None, overwrite=True)  # was: OSError, and the link renamed away
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link").resolve() == (tmp_path / "real").resolve()
    assert json.loads((tmp_path / "real" / "meta.json").read_text(encoding="utf-8"))["metrics"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no link or model set aside


@pytest.mark.parametrize("override, key", [
    ("model.tfidf.C=.inf", "model.tfidf.C"),
    ("model.tfidf.country_features=.inf", "model.tfidf.country_features"),
    ("predict.threshold=-.inf", "predict.threshold"),
    ("model={type: transformer, transformer: {epochs: .inf}}", "model.transformer.epochs"),
])
def test_settings_must_be_finite(override, key):
    with pytest.raises(ConfigError, match=f"{key}: Input should be a finite number"):
        load_config("configs/tfidf.yaml", [override])


def test_errors_in_set_values_name_the_flag_not_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\n", encoding="utf-8")
    for override in ("model.tfidf.C=abc", "model.tfidf.nope=1", "model.type=svm", "output_dir=../x", "model.tfidf={C: x}"):
        with pytest.raises(ConfigError) as err:
            load_config(path, ["seed=2", override])
        assert str(err.value).startswith(f"--set {override!r}: ") and str(path) not in str(err.value)


@pytest.mark.parametrize("item, says", [
    ("name=Việt", "name: must be a plain name: ASCII letters, digits, '.', '_' and '-', from a letter or digit"),
    ("name=", "(fix: give it a value, or leave the key out for its default"),
    ("output_dir=~", "`~` alone is YAML's null: '~/models/x' is a folder in your home)"),
    ("data.files=data/x.jsonl", "(fix: a YAML list, e.g. [data/x.jsonl])"),
    ("model.tfidf.class_weight=none", "(fix: YAML's none is null)"),
])
def test_set_values_of_the_wrong_shape_name_the_fix(item, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config("configs/tfidf.yaml", [item])


def test_errors_in_the_file_still_name_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  tfidf:\n    C: .inf\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{path}:3: model.tfidf.C: Input should be a finite number"):
        load_config(path, ["seed=2", "model.tfidf.max_iter=100"])


# ------------------------------------------------------------------ labelled samples (item 9)

def test_sample_lines_take_scalar_ids_and_a_single_label(tmp_path):
    sample = write_jsonl(tmp_path / "s.jsonl", [
        {"text": "Hai nước tuần tra chung trên biên giới", "labels": ["border_sea"], "id": 7, "doc_id": 3},
        {"text": "Kim ngạch thương mại tăng 20%", "label": "economy", "doc_id": 3, "id": None},
        {"text": "中越两国举行海上问题磋商", "labels": ["border_sea"], "id": 2.5, "doc_id": None, "lang": None},
    ])
    records = load_labelled([str(sample)])
    assert [r.id for r in records] == ["7", f"{sample}:2", "2.5"]
    assert [r.doc_id and r.doc_id.split("\t")[-1] for r in records] == ["3", "3", None]  # named within its file
    assert [r.labels for r in records] == [("border_sea",), ("economy",), ("border_sea",)]
    assert [r.lang for r in records] == ["vi", "vi", "zh"] and {r.split for r in records} == {"test"}


def test_an_id_that_clashes_with_one_made_for_a_line_without_one_says_which_was_made(tmp_path):
    """The clash blamed a line that had no id at all ("id 's.jsonl:2' already used ... ids must be unique")."""
    sample = tmp_path / "s.jsonl"
    for rows, says in (([{"id": f"{sample}:2"}, {}], f"{sample}:2: has no id, and the one made for it, '{sample}:2', is "
                                                     f"the id given at {sample}:1; give this line an id"),
                       (([{}, {"id": f"{sample}:1"}]), f"{sample}:2: id '{sample}:1' is the one made for {sample}:1, "
                                                       "which has no id; give that line an id")):
        write_jsonl(sample, [row | {"text": "Kim ngạch thương mại tăng", "label": "economy"} for row in rows])
        with pytest.raises(DataError) as err:
            load_labelled([str(sample)])
        assert str(err.value) == says


@pytest.mark.parametrize("row, message", [
    ({"text": 5, "labels": ["economy"]}, "'text' must be a non-empty string, got int 5"),
    ({"text": "  ", "labels": ["economy"]}, "'text' must be a non-empty string, got an empty string"),
    ({"text": "\u200b\x00", "labels": ["other"]}, "'text' must be a non-empty string, got an empty string"),
    ({"labels": ["economy"]}, "no 'text' field"),
    ({"text": None, "labels": ["economy"]}, "'text' is null"),
    ({"text": "Kim ngạch thương mại tăng", "label": None}, "'label' is null"),
    ({"text": "Kim ngạch thương mại tăng"}, "no 'labels' field"),
    ({"text": "Kim ngạch thương mại tăng", "label": 3}, "no 'labels' field"),
    ({"text": "Kim ngạch thương mại tăng", "labels": "economy"}, "labels must be a non-empty list"),
    ({"text": "Kim ngạch thương mại tăng", "label": "other", "labels": ["economy"]},
     "'label' 'other' is not the first of 'labels' ['economy']"),
    ({"text": "Kim ngạch thương mại tăng", "label": ["economy"]}, "name the list 'labels'"),
])
def test_bad_sample_lines_name_the_field_and_no_optional_field_as_required(tmp_path, row, message):
    sample = write_jsonl(tmp_path / "s.jsonl", [row])
    with pytest.raises(DataError) as err:
        load_labelled([str(sample)])
    text = str(err.value)
    assert text.startswith(f"{sample}:1: ") and message in text
    assert "every record needs" not in text and "missing field" not in text


def test_a_null_label_beside_labels_is_left_out_and_a_csv_is_named_as_not_jsonl(tmp_path):
    sample = write_jsonl(tmp_path / "s.jsonl", [{"text": "Kim ngạch thương mại tăng", "label": None, "labels": ["economy"]}])
    assert [r.labels for r in load_labelled([str(sample)])] == [("economy",)]
    table = tmp_path / "s.csv"
    table.write_text("text,label\nKim ngạch,economy\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"s\.csv: a \.csv file; labelled data is JSON Lines.*convert the file to \.jsonl"):
        load_labelled([str(table)])


def test_evaluate_piped_to_a_reader_that_stops_early_ends_quietly(tfidf_run, tmp_path):
    import subprocess
    import sys

    reader = subprocess.Popen([sys.executable, "-m", "train.evaluate", "--model", str(tfidf_run.output_dir),
                               "--data", "data/seeds.jsonl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # as `| head -0` does: the report is then written to a closed pipe
    err = reader.stderr.read().decode()
    assert reader.wait() == 0 and "Traceback" not in err, err


def test_evaluate_cli_reads_a_user_sample_with_integer_ids(tfidf_run, tmp_path, capsys):
    sample = write_jsonl(tmp_path / "s.jsonl", [
        {"text": "Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD", "label": "economy", "id": 1, "doc_id": 9},
        {"text": "Hai nước tuần tra chung trên biên giới đất liền", "labels": ["border_sea"], "id": 2, "doc_id": 9},
    ])
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["test", "2"]


def test_evaluate_writes_each_scored_record_to_a_new_predictions_file(tfidf_run, tmp_path, capsys):
    rows = [{"text": "Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD", "label": "economy", "id": 7, "doc_id": 9},
            {"text": "Giá vàng hôm nay tăng mạnh", "label": "economy", "id": "b"},  # the model says other
            {"text": "Giá xăng giảm", "label": "other", "split": "train"}]  # not scored, not written
    sample, out = write_jsonl(tmp_path / "s.jsonl", rows), tmp_path / "wrong.jsonl"
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample), "--predictions", str(out)]) == 0
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r.get("doc_id"), r["split"], r["labels"], r["right"]) for r in written] == \
        [("7", "9", "test", ["economy"], True), ("b", None, "test", ["economy"], False)]
    assert written[1]["label"] == max(written[1]["scores"], key=written[1]["scores"].get) == "other"
    assert written[0]["text"] == rows[0]["text"] and "(2 records, 1 wrong)" in capsys.readouterr().out
    before = out.read_bytes()  # an existing file, standard output, a CSV name: refused before any work
    for target, says in [(out, "already exists, and evaluation replaces nothing"), ("-", "the tables are printed"),
                         ("", "name a new .jsonl file"), (f"{tmp_path}/new/", "names a folder; name a file"),
                         (tmp_path / ("a" * 240 + ".jsonl"), "is too long here (fix: a shorter name)"),
                         (tmp_path / "p.csv", "fix: name it p.jsonl"), (tmp_path / "no" / "p.jsonl", "no folder")]:
        assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample), "--predictions", str(target)]) == 2
        captured = capsys.readouterr()
        assert says in captured.err and not captured.out
    assert out.read_bytes() == before
    # a lone surrogate in a text is written escaped; a run stopped by bad data leaves no scratch file behind
    sample.write_text(json.dumps({"text": "Kim ngạch Việt - Trung \ud800 tăng", "label": "economy"}) + "\n")
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample), "--predictions",
                          str(tmp_path / "u.jsonl")]) == 0
    assert json.loads((tmp_path / "u.jsonl").read_text(encoding="ascii"))["text"].endswith("\ud800 tăng")
    sample.write_text('{"text": "x", "label": "nope"}\n', encoding="utf-8")
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample), "--predictions",
                          str(tmp_path / "t.jsonl")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl", "u.jsonl", "wrong.jsonl"]


def test_evaluate_against_another_model_prints_both_paired_and_refuses_other_labels(tfidf_run, tmp_path, capsys,
                                                                                   mlflow_uri):
    from train.compare import check_same_labels
    from vnzh_runtime.errors import UserError

    model = str(tfidf_run.output_dir)
    assert evaluate_main(["--model", model, "--data", "data/seeds.jsonl", "--against", model]) == 0
    out = capsys.readouterr().out
    table = out.split(f"against {model} (the same records, paired):\n")[1].splitlines()
    seed = float(next(line for line in out.splitlines() if line.startswith("seed ")).split()[3])  # macro-F1 above
    assert next(line for line in table if line.startswith("seed ")).split() == \
        ["seed", "150", f"{seed:.3f}", f"{seed:.3f}", "0", "0", "1.00"]  # itself: no churn
    assert evaluate_main(["--model", model, "--data", "data/seeds.jsonl", "--against", str(tmp_path / "none")]) == 2
    assert f"error: --against: {tmp_path / 'none'}" in capsys.readouterr().err  # one line, before any work
    # dev records of the corpus the other model was refitted on: its side is not held out, and says so; --log
    # keeps the paired table and the other model's name
    import mlflow

    sample = write_jsonl(tmp_path / "dev.jsonl", [{"text": "Kim ngạch Việt - Trung tăng", "label": "economy", "split": "dev"}])
    assert evaluate_main(["--model", model, "--data", str(sample), "--against", model, "--log"]) == 0
    out = capsys.readouterr().out
    assert f"note: {model} was fitted on its corpus's train + dev (refit_on_dev): on dev records" in out
    run = mlflow.MlflowClient().get_run(out.strip().splitlines()[-1].split()[-1])
    assert run.data.tags["compared_against"] == model
    assert f"against {model} (the same records, paired)" in mlflow.artifacts.load_text(
        f"{run.info.artifact_uri}/classification_report.txt")
    assert evaluate_main(["--model", model, "--data", "data/seeds.jsonl", "--against", ""]) == 2
    assert "--against '': name a model directory or an MLflow URI" in capsys.readouterr().err
    with pytest.raises(UserError, match=r"--against m3: its labels \(economy, border_sea, other\) are not the model's"):
        check_same_labels(["economy", "border_sea", "people_to_people", "science_tech", "party_relations", "other"],
                          ["economy", "border_sea", "other"], "m3")


def test_the_paired_table_counts_each_models_own_right_answers_on_its_side(tmp_path):
    import numpy as np

    from train.compare import comparison_table
    from train.data import Record
    from train.scores import evaluate_scopes

    labels = ["economy", "other"]
    records = [Record(f"r{i}", "en", ("economy",), f"t{i}", "user", "test") for i in range(6)]
    this = np.array([[0.9, 0.1]] * 4 + [[0.1, 0.9]] * 2)  # right on 0-3
    that = np.array([[0.9, 0.1]] + [[0.1, 0.9]] * 3 + [[0.9, 0.1]] * 2)  # right on 0, 4, 5
    table = comparison_table(records, evaluate_scopes(records, this, labels), np.arange(6) < 4,
                             evaluate_scopes(records, that, labels), np.isin(np.arange(6), [0, 4, 5]), "m2")
    assert table.splitlines()[2].split()[:6] == ["test", "6", "0.400", "0.333", "3", "2"]  # only this 1-3, only that 4-5


def test_a_predictions_name_as_long_as_its_scratch_file_allows_and_one_byte_more(tmp_path):
    from pathlib import Path

    from train.predictions_file import PredictionsFile
    from vnzh_runtime.errors import UserError
    from vnzh_runtime.folders import name_max

    longest = name_max(tmp_path) - len("..12345678.partial")
    with PredictionsFile(str(tmp_path / ("a" * (longest - len(".jsonl")) + ".jsonl"))) as made:
        assert Path(made.scratch).exists()  # the scratch file's name fits
    assert not list(tmp_path.iterdir())  # and it is gone once the evaluation stops
    with pytest.raises(UserError, match=f"a name of more than {longest} bytes is too long here"):
        PredictionsFile(str(tmp_path / ("a" * (longest - len(".jsonl") + 1) + ".jsonl")))


def test_a_sample_that_names_its_articles_under_another_key_is_scored_with_a_note(tmp_path, capsys):
    sample = write_jsonl(tmp_path / "s.jsonl", [{"text": "Hai bên nhất trí", "label": "economy", "article": 3}])
    assert [r.doc_id for r in load_labelled([str(sample)])] == [None]
    assert capsys.readouterr().err == (f"note: {sample}: its records have 'article' but no 'doc_id', so each paragraph "
                                       "is read without its article (fix: name the article in doc_id, e.g. "
                                       "jq -c '.doc_id = .[\"article\"]')\n")


def test_predictions_in_a_folder_the_user_cannot_write_is_one_line_before_any_work(tfidf_run, tmp_path, monkeypatch,
                                                                                 capsys):
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    monkeypatch.setattr("vnzh_runtime.load", lambda *a, **k: pytest.fail("the model was loaded"))
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", "data/seeds.jsonl", "--predictions",
                          str(tmp_path / "p.jsonl")]) == 2
    assert f"cannot write in {tmp_path} (Permission denied)" in capsys.readouterr().err


def test_evaluate_refuses_an_id_given_twice_and_says_how_many_train_records_it_left_out(tfidf_run, tmp_path, capsys):
    rows = [{"text": "Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD", "label": "economy", "id": "a"},
            {"text": "Giá vàng hôm nay tăng mạnh", "label": "other", "id": "b", "split": "train"}]
    first, second = write_jsonl(tmp_path / "a.jsonl", rows), write_jsonl(tmp_path / "b.jsonl", rows[:1])
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(first), str(second)]) == 2
    assert f"{second}:1: id 'a' already used at {first}:1; ids must be unique" in capsys.readouterr().err  # not n=2
    train_twin = write_jsonl(tmp_path / "c.jsonl", [rows[1] | {"text": "Giá xăng giảm"}])  # skipped, so not twice
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(first), str(train_twin)]) == 0
    capsys.readouterr()
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(first)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("note: 1 records of split train left out") and out.split("\n\n")[1].splitlines()[1].split()[:2] == ["test", "1"]


def test_evaluate_a_dev_only_sample_gets_its_per_label_tables_and_absent_labels_no_figures(tfidf_run, tmp_path, capsys):
    sample = write_jsonl(tmp_path / "dev.jsonl", [
        {"text": "Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD", "label": "economy", "split": "dev"},
        {"text": "Giá vàng hôm nay tăng mạnh", "label": "other", "split": "dev"},
    ])
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample)]) == 0
    out = capsys.readouterr().out
    assert "dev: per label" in out and "dev: confusion" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.split("dev: per label")[1].splitlines()[2:8]}
    assert rows["science_tech"] == ["-", "-", "-", "0"] and rows["economy"][-1] == "1"


# ------------------------------------------------------------------ the evaluate CLI's contract (item 10)

def test_evaluate_reads_the_jsonl_files_of_a_directory(tfidf_run, tmp_path, capsys):
    folder = tmp_path / "samples"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [{"text": "Kim ngạch thương mại Việt - Trung tăng", "labels": ["economy"]}])
    write_jsonl(folder / "b.jsonl", [{"text": "中越两国举行海上问题磋商", "labels": ["border_sea"]}])
    (folder / "notes.txt").write_text("not a sample\n", encoding="utf-8")
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == ["test", "2"]


def test_evaluate_a_directory_without_jsonl_is_one_line(tfidf_run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "sub").mkdir()
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory with no *.jsonl files" in err and "name the files or a glob" in err
    write_jsonl(tmp_path / "ok.jsonl", [{"text": "Kim ngạch tăng", "labels": ["economy"]}])
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(tmp_path / "*")]) == 2
    assert "is a directory with no *.jsonl files" in capsys.readouterr().err


class Escaped(Exception):
    """SIGTERM reached the test's own handler: the command did not handle it."""


def escaped(signum, frame):
    raise Escaped


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_evaluate_interrupted_is_one_line_and_130(tfidf_run, tmp_path, monkeypatch, capsys, stop):
    import train.evaluate

    def interrupted(*args, **kwargs):
        if stop == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)  # as a supervisor stops it
        raise AssertionError("SIGTERM did not stop the evaluation")

    monkeypatch.setattr(train.evaluate, "evaluate_records", interrupted)
    sample = write_jsonl(tmp_path / "s.jsonl", [{"text": "Kim ngạch tăng", "labels": ["economy"]}])
    previous = signal.signal(signal.SIGTERM, escaped)  # an unhandled SIGTERM must not end the test session
    try:
        assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(sample)]) == 130
        assert signal.getsignal(signal.SIGTERM) is escaped  # run_cli puts the caller's handler back
    except (KeyboardInterrupt, Escaped):
        pytest.fail(f"{stop} escaped the evaluate command instead of ending it with one line")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert capsys.readouterr().err == "error: interrupted\n"


# ------------------------------------------------------------------ the pyfunc model (item 11)

@pytest.fixture(scope="module")
def pyfunc_model(tfidf_run):
    import mlflow

    return mlflow.pyfunc.load_model(tfidf_run.model_uri)


def test_pyfunc_gives_missing_or_empty_text_an_error_and_no_label(pyfunc_model, tfidf_predictor):
    import numpy as np
    import pandas as pd

    texts = ["Vietnam China trade rose 19 percent", None, np.nan, "", "   ", "中越两党理论研讨会在河内举行"]
    got = pyfunc_model.predict(pd.DataFrame({"text": texts})).to_dict("records")
    assert len(got) == len(texts)
    expected = tfidf_predictor.predict([texts[0], texts[5]])
    for row, want in zip([got[0], got[5]], expected):
        assert row["error"] is None and {k: row[k] for k in want} == want
    for row, why in zip(got[1:5], ["'text' is missing", "'text' is missing", "'text' is empty", "'text' is empty"]):
        assert row["error"] == why and row["label"] is None and row["lang"] is None and row["labels"] is None
        assert set(row["scores"]) == set(tfidf_predictor.labels) and all(v is None for v in row["scores"].values())


def test_pyfunc_error_rows_leave_the_article_context_alone(pyfunc_model, tfidf_predictor):
    import pandas as pd

    texts = ["Hai nước ký kết 14 văn kiện hợp tác", "", "Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD", None]
    docs = ["a", "a", "a", "a"]
    got = pyfunc_model.predict(pd.DataFrame({"text": texts, "doc_id": docs})).to_dict("records")
    expected = tfidf_predictor.predict([texts[0], texts[2]], doc_ids=["a", "a"])
    assert [got[0]["scores"], got[2]["scores"]] == [e["scores"] for e in expected]
    assert [r["error"] is None for r in got] == [True, False, True, False]


def test_pyfunc_all_rows_bad_still_one_row_each(pyfunc_model):
    import pandas as pd

    got = pyfunc_model.predict(pd.DataFrame({"text": [None, " "]}))
    assert list(got.columns) == ["lang", "label", "labels", "scores", "error"]
    assert got["error"].tolist() == ["'text' is missing", "'text' is empty"]
    assert not any(isinstance(v, float) and math.isnan(v) for v in got["label"])


def test_pyfunc_reads_mlflows_column_format_as_one_row_per_text(pyfunc_model, tfidf_predictor):
    """{"text": [t1, t2]} (a served model's {"inputs": {...}}) reaches predict as ONE row holding the list."""
    texts = ["Vietnam China trade rose 19 percent", "中越两党理论研讨会在河内举行", "Giá vàng hôm nay"]
    got = pyfunc_model.predict({"text": texts})
    assert got["label"].tolist() == [r["label"] for r in tfidf_predictor.predict(texts)]
    docs = ["a", "a", "b"]
    got = pyfunc_model.predict({"text": texts, "doc_id": docs})
    assert got["scores"].tolist() == [r["scores"] for r in tfidf_predictor.predict(texts, doc_ids=docs)]
    # lists of two lengths are no columns: refused, naming them (it was one error row for three texts)
    with pytest.raises(Exception, match="doc_id: 1 values for 3 texts"):
        pyfunc_model.predict({"text": texts, "doc_id": ["a"]})
    got = pyfunc_model.predict({"text": texts, "doc_id": "a"})  # one value: every row's, as pandas spreads it
    assert got["scores"].tolist() == [r["scores"] for r in tfidf_predictor.predict(texts, doc_ids=["a"] * 3)]


def test_pyfunc_reads_a_text_column_pandas_typed_as_numbers_row_by_row(pyfunc_model):
    """A CSV whose text cells are all blank reads as a float column of NaN: one error row each,
    not MLflow's refusal of the whole frame before predict."""
    import numpy as np
    import pandas as pd

    got = pyfunc_model.predict(pd.DataFrame({"text": [np.nan, np.nan]}))
    assert got["error"].tolist() == ["'text' is missing", "'text' is missing"]
    got = pyfunc_model.predict(pd.DataFrame({"text": [2024, 7]}))
    assert got["error"].tolist() == ["'text' must be a string, got int", "'text' must be a string, got int"]


def test_a_label_the_model_lacks_is_an_error_on_its_line(tmp_path):
    sample = write_jsonl(tmp_path / "s.jsonl", [{"text": "Kim ngạch thương mại tăng", "label": "economy"},
                                                {"text": "Hai đảng trao đổi lý luận", "label": "party_relations"}])
    with pytest.raises(DataError, match=r"s.jsonl:2: label 'party_relations' is not one the model has "
                                        r"\(economy, border_sea, other\)"):
        load_labelled([str(sample)], ["economy", "border_sea", "other"])
    mixed = write_jsonl(tmp_path / "m.jsonl", [{"text": "Kim ngạch và lễ hội", "labels": ["economy", "people_to_people"]}])
    assert len(load_labelled([str(mixed)], ["economy", "border_sea", "other"])) == 1  # the dominant one decides
    # a multi-label model lacking the second topic scores the set without it, as its training did
    from train.samples import trim_labels

    records, trimmed = trim_labels(load_labelled([str(mixed)]), ["economy", "border_sea", "other"])
    assert [r.labels for r in records] == [("economy",)] and trimmed == 1


def test_evaluate_reads_every_data_flag(tfidf_run, tmp_path, capsys):
    one = write_jsonl(tmp_path / "a.jsonl", [{"text": "Kim ngạch thương mại Việt - Trung tăng", "label": "economy"}])
    two = write_jsonl(tmp_path / "b.jsonl", [{"text": "中越陆地边界联合委员会举行会议", "label": "border_sea"},
                                             {"text": "Japan and Korea sign a trade pact", "label": "other"}])
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", str(one), "--data", str(two)]) == 0
    assert re.search(r"^test\s+3\s", capsys.readouterr().out, re.MULTILINE)  # not the last flag's 2


def test_evaluate_reads_standard_input_as_dash_beside_files(tfidf_run, tmp_path, capsys, monkeypatch):
    import io
    import sys

    one = write_jsonl(tmp_path / "a.jsonl", [{"text": "Kim ngạch thương mại Việt - Trung tăng", "label": "economy"}])
    piped = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in (
        {"text": "中越陆地边界联合委员会举行会议", "label": "border_sea"},
        {"text": "Japan and Korea sign a trade pact", "label": "other"}))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(piped.encode())))
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", "-", str(one)]) == 0
    assert re.search(r"^test\s+3\s", capsys.readouterr().out, re.MULTILINE)
    # a bad line on standard input is named as such
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "x"}\n')))
    assert evaluate_main(["--model", str(tfidf_run.output_dir), "--data", "-"]) == 2
    assert capsys.readouterr().err.startswith("error: stdin:1: no 'labels' field")


def test_training_on_some_labels_says_what_it_leaves_out_and_drops_the_second_topics_it_lacks():
    from train.data import Record, by_split, left_out

    def record(i, *labels):
        return Record(str(i), "en", labels, "text", "authored", "train")

    records = [record(1, "economy", "party_relations"), record(2, "party_relations"), record(3, "other"),
               record(4, "party_relations", "economy"), record(5, "science_tech")]
    kept = by_split(records, ["economy", "border_sea", "other"])["train"]
    assert [(r.id, r.labels) for r in kept] == [("1", ("economy",)), ("3", ("other",))]
    assert left_out(records, ["economy", "border_sea", "other"]) == (
        "data: 3 records left out, their dominant label not in data.labels (party_relations 2, science_tech 1); "
        "1 record kept without a second topic not in data.labels")  # record 1's party_relations, silently dropped
    assert left_out(records, ["economy", "party_relations", "science_tech", "other"]) is None


def test_evaluate_reads_each_file_once_by_its_own_name_and_its_articles_within_it(tmp_path):
    """`sample [v2].jsonl` is that file, not a glob; a file named twice (`e/../e/a.jsonl`, a link)
    counts once; doc_id 1 of one file and of another are two articles; a dangling link is one line."""
    article = [{"text": "Việt Nam và Trung Quốc ký 14 văn kiện hợp tác", "label": "party_relations", "doc_id": 1},
               {"text": "Hai bên nhất trí tăng cường trao đổi", "label": "party_relations", "doc_id": 1}]
    named = write_jsonl(tmp_path / "sample [v2].jsonl", article)
    (tmp_path / "e").mkdir()
    other = write_jsonl(tmp_path / "e" / "b.jsonl", [{"text": "Giá vàng hôm nay tăng", "label": "other", "doc_id": 1}])
    (tmp_path / "link.jsonl").symlink_to(named)
    os.link(named, tmp_path / "hard.jsonl")  # a hard link is the same file too: its records were counted twice
    records = load_labelled([str(named), str(tmp_path / "e" / ".." / "e" / "b.jsonl"), str(other), str(tmp_path / "link.jsonl"),
                             str(tmp_path / "hard.jsonl")])
    assert [r.text for r in records] == [row["text"] for row in article] + ["Giá vàng hôm nay tăng"]
    assert records[0].doc_id == records[1].doc_id != records[2].doc_id
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'gone.jsonl'}: cannot read it (No such file or directory)")):
        load_labelled([str(tmp_path / "gone.jsonl")])


def test_label_set_macro_f1_averages_the_labels_in_the_scope_as_the_single_label_table_does():
    from train.multilabel import set_scores

    labels = ["economy", "border_sea", "people_to_people", "science_tech", "party_relations", "other"]
    truth = [("economy",), ("border_sea", "economy")]
    scores = set_scores("test", truth, [list(t) for t in truth], labels)
    assert scores["test_sets_macro_f1"] == scores["test_sets_micro_f1"] == 1.0  # four absent labels are no zeros
    assert set_scores("test", truth, [["economy"], ["other"]], labels)["test_sets_macro_f1"] == pytest.approx((2 / 3) / 3)
    half = set_scores("test", truth + [("science_tech", "people_to_people")],
                      [["economy"], ["border_sea"], ["people_to_people", "science_tech"]], labels)
    assert half["test_sets_exact_match"] == pytest.approx(2 / 3) and half["test_mixed_all_found"] == 0.5
    assert "test_mixed_all_found" not in set_scores("test", [("economy",)], [["economy"]], labels)


def test_a_data_file_that_is_a_link_looping_on_itself_is_one_line(tmp_path):
    (tmp_path / "loop.jsonl").symlink_to(tmp_path / "loop.jsonl")
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'loop.jsonl'}: cannot read it")):
        load_labelled([str(tmp_path / "loop.jsonl")])
