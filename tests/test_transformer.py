"""The transformer path offline: tiny encoders built locally, same training/serving code as PhoBERT."""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter

import mlflow
import pytest

pytest.importorskip("torch")

from vnzh_runtime.encoder import Encoder  # noqa: E402
from train.models.tiny import build_phobert_tokenizer, learn_bpe  # noqa: E402
from vnzh_runtime.predictor import Predictor  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The code path, not the model's quality, is under test: a slice of the corpus with a train, a dev
# and a test side in each language, and the seeds, trains in a fraction of the whole corpus's time.
TINY_DATA = ["data/seeds.jsonl"] + [f"data/authored/{lang}-{w}.jsonl" for lang in ("vi", "zh", "en") for w in "abs"]


@pytest.fixture(scope="module")
def tiny_run(mlflow_uri, tmp_path_factory):
    from train.config import load_config
    from train.run import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    config = load_config("configs/tiny-transformer.yaml",
                         [f"output_dir={out}", "mlflow.experiment=tests", "model.transformer.epochs=3", f"data.files={TINY_DATA}"])
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        result = train(config, log=lambda *a, **k: None)
    result.stdout = stdout.getvalue()  # what training wrote on stdout besides its report (which `log` quiets here)
    return result


def test_bpe_learns_frequent_pairs_first():
    merges = learn_bpe(Counter({"hợp_tác": 9, "hợp": 4, "tác": 2}), num_merges=4)
    assert merges[0] == (("h", "ợ"), 13)
    assert all(count >= 2 for _, count in merges)


def test_phobert_tokenizer_from_learned_files(tmp_path):
    texts = ["hợp_tác kinh_tế Việt_Nam Trung_Quốc", "hợp_tác khoa_học", "kinh_tế biển"] * 20
    tokenizer = build_phobert_tokenizer(texts, tmp_path, vocab_size=60)
    assert type(tokenizer).__name__ == "PhobertTokenizer"
    assert (tmp_path / "bpe.codes").stat().st_size and (tmp_path / "vocab.txt").stat().st_size
    pieces = tokenizer.tokenize("hợp_tác kinh_tế")
    assert tokenizer.convert_tokens_to_string(pieces) == "hợp_tác kinh_tế"
    assert tokenizer.unk_token_id not in tokenizer.convert_tokens_to_ids(pieces)


class FakeTokenizer:
    cls_token_id, sep_token_id = 0, 2

    def __call__(self, texts, **kwargs):
        return {"input_ids": [list(range(10, 10 + len(t.split()))) for t in texts]}


@pytest.mark.parametrize("policy, expected", [
    ("truncate", [0, 10, 11, 12, 13, 14, 15, 2]),
    ("head_tail", [0, 10, 11, 12, 13, 28, 29, 2]),
])
def test_long_paragraphs_keep_head_or_head_and_tail(policy, expected):
    encoder = Encoder(FakeTokenizer(), None, "none", max_length=8, long_text=policy)
    assert encoder.encode([" ".join("w" * 20)]) == [expected]
    assert encoder.encode(["a b"]) == [[0, 10, 11, 2]]


def test_tiny_model_directory_and_mlflow_epochs(tiny_run, mlflow_uri):
    assert "'loss'" not in tiny_run.stdout and "'eval_loss'" not in tiny_run.stdout  # stdout is the report's
    out = tiny_run.output_dir
    from vnzh_runtime.spec import read_spec

    spec = read_spec(out)
    assert spec["model"]["routes"] == {"vi": "phobert", "zh": "multi", "en": "multi"}
    assert "model/phobert/model.safetensors" in spec["files"] and not any(f.endswith(".bin") for f in spec["files"])
    assert (out / "model" / "phobert" / "bpe.codes").is_file() and (out / "model" / "phobert" / "vocab.txt").is_file()
    assert spec["model"]["encoders"]["phobert"] == {"segmenter": "pyvi", "max_length": 128, "long_text": "head_tail"}
    history = mlflow.MlflowClient(mlflow_uri).get_metric_history(tiny_run.run_id, "phobert_macro_f1")
    assert sorted(m.step for m in history) == [1, 2, 3]
    for name in ("test_vi_macro_f1", "test_zh_macro_f1", "seed_macro_f1"):
        assert name in tiny_run.metrics


def test_a_route_to_weights_outside_the_listed_folders_is_refused(tiny_run, tmp_path):
    """spec.json is plain text: a route edited to a path would load weights no digest covers."""
    import json
    import shutil

    import vnzh_runtime
    from vnzh_runtime.errors import UserError

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tiny_run.output_dir / "model" / "multi", elsewhere)
    edited = tmp_path / "edited"
    shutil.copytree(tiny_run.output_dir, edited)
    spec = json.loads((edited / "spec.json").read_text(encoding="utf-8"))
    for key in (str(elsewhere), "../../elsewhere", ".."):
        model = {**spec["model"], "routes": {**spec["model"]["routes"], "en": key},
                 "encoders": {**spec["model"]["encoders"], key: spec["model"]["encoders"]["multi"]}}
        (edited / "spec.json").write_text(json.dumps({**spec, "model": model}), encoding="utf-8")
        with pytest.raises(UserError, match="names no encoder folder of model/ that the spec lists"):
            vnzh_runtime.load(edited)
    for model in ({**spec["model"], "routes": {"en": ["multi"]}}, {**spec["model"], "routes": ["en"]},
                  {**spec["model"], "encoders": {**spec["model"]["encoders"], "multi": 3}}):
        (edited / "spec.json").write_text(json.dumps({**spec, "model": model}), encoding="utf-8")
        with pytest.raises(UserError, match="'model.routes' must map languages to encoder names"):
            vnzh_runtime.load(edited)


def test_a_hand_edited_spec_is_one_line_at_load_not_a_traceback_when_tagging(tiny_run, tmp_path):
    import json
    import shutil

    import vnzh_runtime
    from vnzh_runtime.errors import UserError

    edited = tmp_path / "edited"
    shutil.copytree(tiny_run.output_dir, edited)
    spec = json.loads((edited / "spec.json").read_text(encoding="utf-8"))
    multi = spec["model"]["encoders"]["multi"]
    for setting, says in (({"segmenter": "jieba"}, "segmenter 'jieba' is not one of none, pyvi"),
                          ({"max_length": 100000}, "max_length 100000 is not a whole number from 8 to 131"),
                          ({"long_text": "middle"}, "long_text 'middle' is not one of truncate, head_tail")):
        model = {**spec["model"], "encoders": {**spec["model"]["encoders"], "multi": {**multi, **setting}}}
        (edited / "spec.json").write_text(json.dumps({**spec, "model": model}), encoding="utf-8")
        with pytest.raises(UserError, match=re.escape(f"'model.encoders.multi' lacks or garbles {says}")):
            vnzh_runtime.load(edited)
    for options, says in (({"cpu_batch_size": 0}, "options.cpu_batch_size 0 is not a whole number of 1 or more"),
                          ({"device": "tpu"}, "options.device 'tpu' is not auto, cpu or cuda")):
        (edited / "spec.json").write_text(json.dumps({**spec, "options": {**spec["options"], **options}}), encoding="utf-8")
        with pytest.raises(UserError, match=re.escape(says)):
            vnzh_runtime.load(edited)


def test_tiny_model_tags_through_serve_and_pyfunc_alike(tiny_run, tmp_path):
    import pandas as pd

    from serve.files import tag_file

    texts = ["Hai bên nhất trí thúc đẩy hợp tác thương mại", "中越两国举行海上问题磋商", "Vietnam and China hold border talks"]
    predictor = Predictor.load(tiny_run.output_dir)
    expected = predictor.predict(texts)
    assert [r["lang"] for r in expected] == ["vi", "zh", "en"]
    assert Predictor.load(tiny_run.output_dir).predict(texts) == expected
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts) + "\n{bad\n", encoding="utf-8")
    tag_file(predictor, str(src), str(dst), progress=False)
    rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [{k: r[k] for k in ("lang", "label", "labels", "scores")} for r in rows[:3]] == expected and "error" in rows[3]
    pyfunc = mlflow.pyfunc.load_model(tiny_run.model_uri)
    assert pyfunc.predict(pd.DataFrame({"text": texts})).to_dict("records") == [row | {"error": None} for row in expected]


def test_serve_tag_quiet_prints_no_progress_bars_not_even_transformers_loading_ones(tiny_run, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("Hai bên nhất trí thúc đẩy hợp tác thương mại\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_DISABLE_PROGRESS_BARS"}
    for quiet in ([], ["--quiet"]):
        done = subprocess.run([sys.executable, "-m", "serve", "tag", "--model", str(tiny_run.output_dir), "--input", str(src),
                               "--output", str(tmp_path / "o.jsonl"), "--overwrite", *quiet],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert ("it/s]" in done.stderr or "para/s]" in done.stderr) != bool(quiet), done.stderr
    assert done.stderr.strip() == f"tagged 1 of 1 records (0 errors) -> {tmp_path / 'o.jsonl'}"


def test_missing_phobert_weights_stop_with_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}"}
    done = subprocess.run([sys.executable, "-m", "train", "--config", "configs/phobert.yaml"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    # both encoders the config routes to are named, so the user fetches both before trying again
    assert "--set model.transformer.encoders.multi.name_or_path=" in lines[0]
    assert "model.transformer.encoders.phobert" in lines[0]


def test_without_a_reachable_hub_weights_are_sought_in_the_cache_only_and_paths_are_named(tmp_path, monkeypatch):
    """No minute of the hub client's retries before the one line; a local path is not advised as a hub name."""
    import time

    import train.models.transformer as transformer
    from vnzh_runtime.errors import UserError

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(transformer, "hub_reachable", lambda timeout=3.0: False)
    labels = ["economy", "other"]
    started = time.perf_counter()
    with pytest.raises(UserError, match="cannot load 'vinai/phobert-base' \\(no model hub reachable"):
        transformer.from_pretrained("phobert", transformer.EncoderConfig(), labels, "head_tail")
    assert time.perf_counter() - started < 20
    missing = transformer.EncoderConfig(name_or_path=str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="is no directory .fix: download the weights there"):
        transformer.from_pretrained("multi", missing, labels, "head_tail")
    (tmp_path / "empty").mkdir()
    empty = transformer.EncoderConfig(name_or_path=str(tmp_path / "empty"))
    with pytest.raises(UserError, match=f"holds no model that loads .*--local-dir {tmp_path / 'empty'}\\)"):
        transformer.from_pretrained("multi", empty, labels, "head_tail")
    # a file, or a directory of other things: no advice to download onto them
    (tmp_path / "data.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(UserError, match="data.jsonl' is a file, not a model's directory"):
        transformer.from_pretrained("multi", transformer.EncoderConfig(name_or_path=str(tmp_path / "data.jsonl")), labels,
                                    "head_tail")
    with pytest.raises(UserError, match="holds no model that loads .*--local-dir <a new directory>, and name that"):
        transformer.from_pretrained("multi", transformer.EncoderConfig(name_or_path=str(tmp_path)), labels, "head_tail")


def test_a_local_encoder_is_checked_against_what_it_can_read_and_its_head_refitted(tmp_path):
    """max_length over the encoder's positions was an index error in the first batch (hours in, on a GPU);
    a fine-tuned classifier of other labels was a size-mismatch traceback."""
    import train.models.transformer as transformer
    from train.models.tiny import build_tiny_encoder
    from train.models.transformer_config import TinyConfig
    from vnzh_runtime.errors import UserError

    texts = ["Hai bên ký kết hiệp định thương mại", "Tuần tra chung biên giới"] * 20
    tokenizer, model = build_tiny_encoder(texts, False, TinyConfig(vocab_size=200), 32, ["economy", "other"], tmp_path)
    tokenizer.save_pretrained(tmp_path / "enc")
    model.save_pretrained(tmp_path / "enc")
    labels = ["economy", "border_sea", "other"]
    too_long = transformer.EncoderConfig(name_or_path=str(tmp_path / "enc"), max_length=64)
    with pytest.raises(UserError, match=r"encoders.multi.max_length: 64 is more than .* reads \(35 tokens\) "
                                        r"\(fix: --set model.transformer.encoders.multi.max_length=35\)"):
        transformer.from_pretrained("multi", too_long, labels, "head_tail")
    fits = transformer.EncoderConfig(name_or_path=str(tmp_path / "enc"), max_length=32)
    assert transformer.from_pretrained("multi", fits, labels, "head_tail").model.config.num_labels == 3


def test_tiny_settings_and_half_precision_are_checked_before_training():
    from train.config import ConfigError, load_config
    from train.models.transformer import check_precision
    from vnzh_runtime.errors import UserError

    with pytest.raises(ConfigError, match="name_or_path is 'vinai/phobert-base', but `tiny` builds small random"):
        load_config("configs/tiny-transformer.yaml", ["model.transformer.encoders.phobert.name_or_path=vinai/phobert-base"])
    with pytest.raises(ConfigError, match="'tiny' names the encoders a `tiny` section builds, and there is none"):
        load_config("configs/tiny-transformer.yaml", ["model.transformer.tiny=null"])
    with pytest.raises(ConfigError, match=r"tiny: hidden_size 64 is not a multiple of num_heads 3 \(fix: e.g. num_heads: 8\)$"):
        load_config("configs/tiny-transformer.yaml", ["model.transformer.tiny.num_heads=3"])
    if not __import__("torch").cuda.is_available():
        with pytest.raises(UserError, match="precision: bf16 needs a CUDA GPU"):
            check_precision("bf16")
    check_precision("auto")


def test_cpu_tagging_is_fp32_in_small_batches_and_int8_on_request(tiny_run):
    import numpy as np

    exact = Predictor.load(tiny_run.output_dir)
    encoder = exact.model.encoders["phobert"]
    assert "DynamicQuantizedLinear" not in repr(encoder.model)
    assert exact.model.batch_size(encoder) == 8  # predict.cpu_batch_size, not the GPU's batch_size
    quantised = Predictor.load(tiny_run.output_dir, options={"cpu_int8": True})  # serve --cpu-int8
    assert "DynamicQuantizedLinear" in repr(quantised.model.encoders["phobert"].model)
    texts = ["Hai bên nhất trí thúc đẩy hợp tác thương mại", "中越两国举行海上问题磋商", "Vietnam and China hold border talks"]
    full, approx = exact.predict_proba(texts), quantised.predict_proba(texts)
    assert np.allclose(approx.sum(axis=1), 1) and not np.array_equal(approx, full)
    assert np.abs(approx - full).max() < 0.05


def test_segmentation_pool_gives_the_same_output_in_order():
    from vnzh_runtime.segment import POOL_MIN_TEXTS, segment

    texts = [f"Hợp tác kinh tế Việt Nam Trung Quốc năm {i}" for i in range(POOL_MIN_TEXTS)]
    pooled = segment(texts, "pyvi", workers=2)
    assert pooled == segment(texts, "pyvi", workers=1)
    assert pooled[7].startswith("Hợp_tác kinh_tế Việt_Nam") and pooled[7].endswith("năm 7")


def test_tiny_transformer_trains_in_multilabel_mode(mlflow_uri, tmp_path):
    from train.config import load_config
    from train.run import train

    config = load_config("configs/tiny-transformer.yaml", [f"output_dir={tmp_path / 'tiny-ml'}", "task=multilabel",
                                                           "mlflow.experiment=tests", "model.transformer.epochs=1",
                                                           "data.files=[data/authored/*-a.jsonl, data/authored/*-y.jsonl]"])
    import glob
    import tempfile

    scratch = f"{tempfile.gettempdir()}/tiny-*"
    before = set(glob.glob(scratch))
    run = train(config, log=lambda *a, **k: None)
    assert set(glob.glob(scratch)) <= before  # the tiny tokenizers' files went with the trainer
    assert "test_sets_micro_f1" in run.metrics and "test_macro_f1" in run.metrics
    predictor = Predictor.load(run.output_dir)
    assert predictor.multilabel
    assert predictor.model.encoders["phobert"].model.config.problem_type == "multi_label_classification"
    for result in predictor.predict(["Hai bên nhất trí thúc đẩy hợp tác thương mại", "中越两国举行海上问题磋商"]):
        assert result["labels"][0] == result["label"] and set(result["label_scores"]) == set(predictor.labels)


def test_an_encoder_with_no_dev_records_says_its_best_epoch_is_chosen_on_training_records(capsys):
    """Its MLflow 'dev' figures were training figures, without a word."""
    from train.config import load_config
    from train.data import load_records
    from train.models import create_model

    records = load_records(["data/authored/*-a.jsonl"])
    train = [r for lang in ("vi", "zh", "en") for r in [x for x in records if x.split == "train" and x.lang == lang][:40]]
    dev = [r for r in records if r.split == "dev" and r.lang != "vi"][:20]
    create_model(load_config("configs/tiny-transformer.yaml", ["model.transformer.epochs=1"])).fit(train, dev)
    err = capsys.readouterr().err
    assert "note: no dev record is routed to encoder 'phobert' (vi): its best epoch is chosen on 40 of its own training" in err
    assert "encoder 'multi'" not in err
