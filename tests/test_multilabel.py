"""Multi-label tagging: label sets with the dominant label first, everywhere the tagger answers."""

import csv
import json

import pytest

from serve.__main__ import main as serve_main
from vnzh_runtime.errors import UserError

TEXTS = ["Kim ngạch thương mại qua cửa khẩu Hữu Nghị tăng 30%, lực lượng biên phòng hai bên tăng cường tuần tra chung",
         "中越两党举行理论研讨会，双方同意妥善管控海上分歧", "Giá vàng hôm nay tăng mạnh",
         "Vietnam and China agree to expand youth exchanges and scholarships"]


@pytest.fixture(scope="module")
def multilabel_run(mlflow_uri, tmp_path_factory):
    from train.config import load_config
    from train.run import train

    out = tmp_path_factory.mktemp("models") / "tfidf-multilabel"
    config = load_config("configs/tfidf-multilabel.yaml", [f"output_dir={out}", "mlflow.experiment=tests"])
    return train(config, log=lambda *a, **k: None)


def test_spec_metrics_and_the_dominant_label_match_the_single_label_model(multilabel_run, tfidf_run):
    from vnzh_runtime.spec import read_spec

    spec = read_spec(multilabel_run.output_dir)
    assert spec["task"] == "multilabel" and set(spec["label_thresholds"]) == set(spec["labels"]) - {"other"}
    assert all(0 < t < 1 for t in spec["label_thresholds"].values())
    for name in ("test_sets_micro_f1", "test_sets_macro_f1", "test_sets_samples_f1", "per_label/test_border_sea_set_f1"):
        assert 0 < multilabel_run.metrics[name] <= 1, name
    # The dominant label comes from the same relevance x topic heads, so the compare view lines up exactly.
    assert multilabel_run.metrics["test_macro_f1"] == pytest.approx(tfidf_run.metrics["test_macro_f1"], abs=1e-12)
    assert "label sets" in multilabel_run.report


def test_every_result_has_labels_with_the_dominant_first_and_other_alone(multilabel_run):
    import vnzh_runtime

    predictor = vnzh_runtime.load(multilabel_run.output_dir)
    results = predictor.predict(TEXTS)
    for result in results:
        assert result["labels"][0] == result["label"] and len(set(result["labels"])) == len(result["labels"])
        assert result["labels"] == ["other"] or "other" not in result["labels"]
        assert set(result["label_scores"]) == set(predictor.labels)
    assert any(len(r["labels"]) > 1 for r in results)
    # Thresholds are overridable at tagging time: 0 keeps every topic, 1 none but the dominant one.
    topics = [label for label in predictor.labels if label != "other"]
    everything = vnzh_runtime.load(multilabel_run.output_dir, label_thresholds={l: 0.0 for l in topics})
    nothing = vnzh_runtime.load(multilabel_run.output_dir, label_thresholds={l: 1.0 for l in topics})
    assert all(len(r["labels"]) == 5 for r in everything.predict(TEXTS) if r["label"] != "other")
    assert all(len(r["labels"]) == 1 for r in nothing.predict(TEXTS))
    with pytest.raises(UserError, match="label threshold other: `other` has no threshold"):  # it would be ignored
        vnzh_runtime.load(multilabel_run.output_dir, label_thresholds={"other": 0.1})
    with pytest.raises(UserError, match=r"label threshold foo: not a topic of this model \(economy, border_sea, "
                                        r"people_to_people, science_tech, party_relations\)$"):  # `other` not offered
        vnzh_runtime.load(multilabel_run.output_dir, label_thresholds={"foo": 0.1})
    for not_a_number in (None, "auto"):  # it loaded, then predict() failed comparing a float with it
        with pytest.raises(UserError, match="label threshold economy: .* is not a threshold .*leave the label out"):
            vnzh_runtime.load(multilabel_run.output_dir, label_thresholds={"economy": not_a_number})


def test_serve_tag_writes_labels_in_jsonl_and_csv(multilabel_run, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate(TEXTS)), encoding="utf-8")
    model = str(multilabel_run.output_dir)
    assert serve_main(["tag", "--model", model, "--input", str(src), "--output", str(tmp_path / "o.jsonl"), "--quiet"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(TEXTS) and all(r["labels"][0] == r["label"] for r in rows)
    assert serve_main(["tag", "--model", model, "--input", str(src), "--output", str(tmp_path / "o.csv"), "--quiet",
                       "--label-threshold", "economy=0.0"]) == 0
    table = list(csv.DictReader((tmp_path / "o.csv").open(encoding="utf-8")))
    assert [row["labels"].split("|")[0] for row in table] == [row["label"] for row in table]
    # the scores the thresholds are read against are there too, beside the dominant label's softmax
    assert [float(row["label_score_economy"]) for row in table] == [r["label_scores"]["economy"] for r in rows]
    assert all("economy" in row["labels"].split("|") for row in table if row["label"] != "other")
    with pytest.raises(SystemExit):
        serve_main(["tag", "--model", model, "--input", str(src), "--output", str(tmp_path / "x.csv"),
                    "--label-threshold", "economy"])


def test_api_and_pyfunc_return_labels(multilabel_run):
    import mlflow
    import pandas as pd
    from fastapi.testclient import TestClient

    import vnzh_runtime
    from serve.api import create_app

    predictor = vnzh_runtime.load(multilabel_run.output_dir)
    expected = predictor.predict(TEXTS)
    with TestClient(create_app(predictor)) as client:
        assert client.post("/tag", json={"texts": TEXTS}).json()["results"] == expected
    got = mlflow.pyfunc.load_model(multilabel_run.model_uri).predict(pd.DataFrame({"text": TEXTS}))
    assert [list(labels) for labels in got["labels"]] == [r["labels"] for r in expected]


def test_label_thresholds_on_a_single_label_model_are_refused_in_one_line(tfidf_run, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": TEXTS[0]}, ensure_ascii=False) + "\n", encoding="utf-8")
    args = ["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(tmp_path / "o.jsonl")]
    assert serve_main([*args, "--label-threshold", "border_sea=0.01"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "single-label" in err[0] and not (tmp_path / "o.jsonl").exists()
    with pytest.raises(SystemExit) as stop:  # a bad value names its own flag, in one line
        serve_main([*args, "--label-threshold", "border_sea=2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and "--label-threshold" in err[0] and "--threshold:" not in err[0]
    with pytest.raises(SystemExit) as stop:  # one label twice: not the last one silently
        serve_main([*args, "--label-threshold", "border_sea=0.3", "--label-threshold", "border_sea=0.9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and "--label-threshold: border_sea is given twice (fix: keep one)" in err[0]
    assert err[0].startswith("error: python -m serve tag: ")  # the subcommand, as argparse's other errors name it


def test_evaluate_log_records_the_label_set_metrics(multilabel_run, tmp_path, capsys):
    import json

    import mlflow

    from train.evaluate import main as evaluate_main

    sample = tmp_path / "sets.jsonl"
    sample.write_text(json.dumps({"text": TEXTS[0], "labels": ["economy", "border_sea"]}, ensure_ascii=False) + "\n"
                      + json.dumps({"text": TEXTS[2], "labels": ["other"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert evaluate_main(["--model", str(multilabel_run.output_dir), "--data", str(sample), "--log"]) == 0
    metrics = mlflow.MlflowClient().get_run(capsys.readouterr().out.strip().splitlines()[-1].split()[-1]).data.metrics
    assert "test_sets_micro_f1" in metrics and "per_label/test_economy_set_f1" in metrics
    assert "per_label/test_science_tech_set_f1" not in metrics  # neither held nor predicted: no zero


def test_evaluate_predictions_carry_a_multilabel_models_sets_as_its_set_table_counts_them(multilabel_run, tmp_path,
                                                                                        capsys):
    import json

    from train.evaluate import main as evaluate_main

    records = [json.loads(line) for line in open("data/authored/en-a.jsonl", encoding="utf-8")][:40]
    sample, out = tmp_path / "s.jsonl", tmp_path / "p.jsonl"
    sample.write_text("".join(json.dumps(r | {"split": "test"}, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert evaluate_main(["--model", str(multilabel_run.output_dir), "--data", str(sample), "--predictions", str(out)]) == 0
    table = capsys.readouterr().out.split("label sets")[1].splitlines()
    exact = float(next(line for line in table if line.startswith("test ")).split()[5])
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(written) == 40 and all(row["predicted_labels"][0] == row["label"] for row in written)
    assert sum(row["set_right"] for row in written) / 40 == pytest.approx(exact, abs=0.0005)


def test_evaluate_reads_an_article_in_two_splits_alike_for_the_label_and_the_label_set(multilabel_run, tmp_path):
    """The set was read with the dev paragraphs as context and the dominant label without: one paragraph was
    `other` in one table and `economy` in the other."""
    import json

    from train.evaluate import main as evaluate_main

    texts = ["Kim ngạch thương mại Việt Nam - Trung Quốc 10 tháng đạt 170 tỷ USD, tăng 20%",
             "Xuất khẩu sầu riêng sang Trung Quốc tăng mạnh qua cửa khẩu Tân Thanh",
             "Ông cho biết thêm, kế hoạch sẽ được triển khai từ tháng sau."]
    sample, out = tmp_path / "s.jsonl", tmp_path / "p.jsonl"
    sample.write_text("".join(json.dumps({"text": t, "labels": ["economy"], "doc_id": "a", "split": s}, ensure_ascii=False)
                              + "\n" for t, s in zip(texts, ["dev", "dev", "test"])), encoding="utf-8")
    assert evaluate_main(["--model", str(multilabel_run.output_dir), "--data", str(sample), "--predictions", str(out)]) == 0
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(row["predicted_labels"][0] == row["label"] for row in written)
