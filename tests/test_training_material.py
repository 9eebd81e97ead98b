"""What an ML engineer's own configs and data showed training got wrong (twenty-seventh session):

  - a local encoder of weights without a tokenizer, a mistyped local path, `predict.device: cuda` without a
    GPU: one line before any weights load or any training
  - a transformer trains each record's text on the encoder it is routed to when tagged (the detected language)
  - `model: {type: transformer}` alone gets the default encoders its routes name
  - a lone surrogate escape is logged to MLflow as U+FFFD (it was a traceback after the run opened), and
    train.corpus warns of it; `**` globs are recursive
  - notes: article context off, scored texts repeated under other ids, an article's records apart in its file
"""

import json

import pytest

from train.config import load_config
from train.data import Record, load_records, parse_record, resolve_files
from train.record_checks import repeated_texts
from vnzh_runtime.errors import UserError

GOOD = {"id": "a", "lang": "vi", "labels": ["economy"], "text": "Kim ngạch", "source": "authored", "split": "train"}


def test_a_local_encoder_of_weights_without_a_tokenizer_or_a_mistyped_path_is_one_line(tmp_path):
    import train.models.transformer as transformer
    from train.models.tiny import build_tiny_encoder
    from train.models.transformer_config import TinyConfig

    texts = ["Hai bên ký kết hiệp định thương mại", "Tuần tra chung biên giới"] * 20
    tokenizer, model = build_tiny_encoder(texts, False, TinyConfig(vocab_size=200), 32, ["economy", "other"], tmp_path)
    model.save_pretrained(tmp_path / "weights")  # no tokenizer: it trained on 5-token vocabularies, empty texts
    weights = transformer.EncoderConfig(name_or_path=str(tmp_path / "weights"), max_length=32)
    with pytest.raises(UserError, match=r"encoders.multi.name_or_path: the directory .*weights' holds a model but no "
                                        r"tokenizer \(one of \d special tokens loads from it\)"):
        transformer.is_local("multi", weights)
    tokenizer.save_pretrained(tmp_path / "weights")
    assert transformer.is_local("multi", weights)
    mistyped = transformer.EncoderConfig(name_or_path="my/enc/multii")  # two slashes: no hub name
    with pytest.raises(UserError, match=r"'my/enc/multii' is no directory \(fix: download the weights there"):
        transformer.is_local("multi", mistyped)
    assert not transformer.is_local("multi", transformer.EncoderConfig(name_or_path="xlm-roberta-base"))


def test_a_cuda_device_without_a_gpu_is_refused_before_training():
    import torch

    from train.models import create_model

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.raises(UserError, match=r"^predict.device: cuda, and no CUDA device is here: the model would train"):
        create_model(load_config("configs/tiny-transformer.yaml", ["predict.device=cuda"]))


def test_records_train_the_encoder_their_text_is_routed_to_when_tagged(capsys):
    from train.models import create_model

    trainer = create_model(load_config("configs/tiny-transformer.yaml", []))
    chinese_marked_vi = Record("z", "vi", ("economy",), "中越双边贸易额再创新高", "s", "train")
    assert trainer.encoder_of(chinese_marked_vi) == "multi"  # PhoBERT was trained on pyvi-cut Chinese
    records = load_records(["data/authored/*-a.jsonl"])
    train = [r for lang in ("vi", "zh", "en") for r in [x for x in records if x.split == "train" and x.lang == lang][:20]]
    train.append(chinese_marked_vi)
    trainer.check_data(train)
    assert "note: 1 training records' lang is not the language detected in their text" in capsys.readouterr().err


def test_a_transformer_config_of_its_type_alone_gets_the_encoders_its_routes_name(tmp_path):
    (tmp_path / "t.yaml").write_text("model: {type: transformer}\n", encoding="utf-8")
    encoders = load_config(tmp_path / "t.yaml", []).model.transformer.encoders
    assert (encoders["phobert"].name_or_path, encoders["phobert"].segmenter) == ("vinai/phobert-base", "pyvi")
    assert encoders["multi"].name_or_path == "xlm-roberta-base"
    tiny = load_config(tmp_path / "t.yaml", ["model.transformer.tiny={hidden_size: 32}"]).model.transformer.encoders
    assert {e.name_or_path for e in tiny.values()} == {"tiny"}


def test_a_lone_surrogate_is_logged_as_a_replacement_and_the_corpus_check_warns_of_it(tmp_path):
    """MLflow's dataset log stopped training with a traceback after the run had opened (pyarrow refuses it)."""
    from train.corpus import check
    from train.tracking import records_dataset

    line = json.dumps(GOOD | {"text": "abc \ud800 thương mại", "doc_id": "d\ud800"})
    dataset = records_dataset([parse_record(line, "f:3")], "t", ["f.jsonl"])
    assert dataset.df["text"].tolist() == ["abc \ufffd thương mại"] and dataset.df["doc_id"].tolist() == ["d\ufffd"]
    (tmp_path / "f.jsonl").write_text(line + "\n", encoding="utf-8")
    errors, warnings, _ = check([str(tmp_path / "f.jsonl")], {})
    assert any("f.jsonl:1: field 'text' holds a lone surrogate escape (\\ud800)" in w for w in warnings), warnings


def test_a_double_star_glob_reaches_every_depth(tmp_path):
    for folder in ("", "a", "a/b"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "r.jsonl").write_text("", encoding="utf-8")
    assert len(resolve_files([str(tmp_path / "**" / "*.jsonl")])) == 3  # was one: a/r.jsonl


def test_notes_on_repeated_scored_texts_and_on_context_left_off(capsys):
    from train.context_gate import no_gate_note

    records = [Record(str(i), "vi", ("other",), "Xem thêm", "s", "test") for i in range(3)]
    assert repeated_texts(records).startswith("note: 2 test records repeat the text of another (1, as 0)")
    assert repeated_texts([Record("t", "vi", ("other",), "Xem thêm", "s", "train")] + records[:1]) is None
    dev = [Record(str(i), "vi", ("economy",), f"Đoạn {i}: hai bên nhất trí thúc đẩy thương mại qua các cửa khẩu biên giới trong năm tới", "s",
                  "dev", "d1") for i in range(8)]
    assert no_gate_note(dev, 3).startswith("note: article context is off in this model: dev holds 8 paragraphs "
                                           "inside an article (records that share a doc_id), and it needs 20")
