"""PhoBERT-sized speed, in one run on the same texts: tagging vs transformers.pipeline,
training samples/s, and word-segmentation throughput.

    python bench/transformer_speed.py --n 256 --train-n 32                           # CPU
    python bench/transformer_speed.py --n 20000 --train-n 4096 --batch-size 256      # GPU (bf16 when supported)

The model has PhoBERT-base's shape (12 layers, 768 wide, 64,001-token vocabulary) with
random weights, which give honest speed figures; the tokenizer is a PhobertTokenizer
learned on the corpus. Paragraphs are Vietnamese corpus texts, segmented with pyvi.
"ours" is the served default (fp32 in `predict.cpu_batch_size` batches on a CPU, bf16 in
`predict.batch_size` batches on a GPU). On a CPU the opt-in `predict.cpu_int8` path and
the CPU's fp32 matrix-multiply peak are printed beside it, with the GFLOP/s each path reaches.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import machine  # noqa: E402


def vi_texts(n: int) -> list[str]:
    from itertools import cycle, islice

    from train.data import load_records

    texts = [r.text for r in load_records(["data/authored/vi-*.jsonl"])]
    return list(islice(cycle(texts), n))


def phobert_base_shaped(tokenizer, labels):
    from transformers import RobertaConfig, RobertaForSequenceClassification

    config = RobertaConfig(vocab_size=64001, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                           intermediate_size=3072, max_position_embeddings=258, pad_token_id=tokenizer.pad_token_id,
                           type_vocab_size=1, num_labels=len(labels), id2label=dict(enumerate(labels)),
                           label2id={l: i for i, l in enumerate(labels)})
    return RobertaForSequenceClassification(config)


def rate(label: str, count: int, seconds: float, unit: str = "paragraphs/s", gflop: float | None = None) -> float:
    achieved = f", {count / seconds * gflop:,.0f} GFLOP/s" if gflop else ""
    print(f"{label:<48} {count / seconds:>10,.1f} {unit}  ({count} in {seconds:.1f} s{achieved})")
    return count / seconds


def linear_macs_per_token(config) -> int:
    """Multiply-adds per token in the encoder's linear layers (Q, K, V, output; FFN in and out)."""
    hidden, inner = config.hidden_size, config.intermediate_size
    return config.num_hidden_layers * (4 * hidden * hidden + 2 * hidden * inner)


def gemm_gflops(repeats: int = 20) -> float:
    """The fp32 matrix-multiply rate this CPU reaches: the ceiling for fp32 tagging."""
    import torch

    a, b = torch.randn(4096, 768), torch.randn(768, 3072)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * 4096 * 768 * 3072 * repeats / (time.perf_counter() - started) / 1e9


def tag_rate(encoder, texts: list[str], batch_size: int, label: str, gflop: float) -> float:
    encoder.predict_proba(texts[:batch_size], batch_size)  # warm-up
    started = time.perf_counter()
    encoder.predict_proba(texts, batch_size)
    return rate(label, len(texts), time.perf_counter() - started, gflop=gflop)


def main() -> None:
    import tempfile

    import torch
    from transformers import pipeline

    from train.config import PredictConfig
    from train.data import LABELS
    from train.models.transformer_config import TransformerSettings
    from train.data import Record
    from vnzh_runtime.encoder import Encoder
    from train.models.hf_training import precision_flags, train_encoder
    from train.models.tiny import build_phobert_tokenizer
    from vnzh_runtime.segment import segment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="paragraphs to tag")
    parser.add_argument("--train-n", type=int, default=64, help="samples for the training measurement")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="tagging batch (default: predict.batch_size on a GPU, predict.cpu_batch_size on a CPU)")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if cuda else f"CPU ({machine()}, torch threads {torch.get_num_threads()})"
    print(f"device: {device}; torch {torch.__version__}")

    texts = vi_texts(args.n)
    started = time.perf_counter()
    segmented = segment(texts, "pyvi", workers=1)
    rate("segmentation (pyvi, 1 process)", len(texts), time.perf_counter() - started)
    many = texts * max(1, 20000 // len(texts))
    started = time.perf_counter()
    segment(many, "pyvi")
    rate(f"segmentation (pyvi, pool of {os.cpu_count()} processes)", len(many), time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = build_phobert_tokenizer(segmented, Path(tmp), vocab_size=8000)
        model = phobert_base_shaped(tokenizer, LABELS).to("cuda" if cuda else "cpu")
        dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else None
        if dtype:
            model = model.to(dtype)
        served = PredictConfig()  # what serve tag uses unless the model's config says otherwise
        batch_size = args.batch_size or (served.batch_size if cuda else served.cpu_batch_size)
        precision = "bf16" if dtype else "fp32"
        ours = Encoder(tokenizer, model, "none", 256, "head_tail")
        tokens = np.mean([len(row) for row in ours.encode(segmented)])
        gflop = 2 * linear_macs_per_token(model.config) * tokens / 1e9
        print(f"{tokens:.0f} tokens per paragraph on average: {gflop:.1f} GFLOP of linear layers each")
        if not cuda:
            print(f"{'fp32 matrix-multiply peak (4096x768 @ 768x3072)':<48} {gemm_gflops():>10,.1f} GFLOP/s")
        mine = tag_rate(ours, segmented, batch_size, f"ours ({precision}): length-sorted batches of {batch_size}", gflop)
        if not cuda:
            tag_rate(ours, segmented, 64, "ours (fp32): length-sorted batches of 64", gflop)
            quantised = Encoder(tokenizer, model, "none", 256, "head_tail")
            quantised.quantize_for_cpu()
            mine_int8 = tag_rate(quantised, segmented, batch_size, f"ours + predict.cpu_int8, batches of {batch_size}", gflop)

        tagger = pipeline("text-classification", model=model, tokenizer=tokenizer, device=0 if cuda else -1)
        options = {"truncation": True, "max_length": 256, "top_k": None}
        tagger(segmented[:8], **options)  # warm-up
        for pipeline_batch in sorted({1, batch_size}):
            started = time.perf_counter()
            tagger(segmented, batch_size=pipeline_batch, **options)
            theirs = rate(f"transformers.pipeline ({precision}), batch_size={pipeline_batch}",
                          len(texts), time.perf_counter() - started, gflop=gflop)
            print(f"{'':<48} ours is {mine / theirs:.2f}x faster" + ("" if cuda else f", with int8 {mine_int8 / theirs:.2f}x"))

        model = model.float()
        records = [Record(f"b{i}", "vi", ("economy",), t, "authored", "train") for i, t in enumerate(texts[:args.train_n])]
        long_records = [Record(r.id, r.lang, r.labels, " ".join([r.text] * 8), r.source, r.split) for r in records]
        settings = TransformerSettings(epochs=1, batch_size=16 if not cuda else 32, precision="auto")
        encoder = Encoder(tokenizer, model, "pyvi", 256, "head_tail")  # 8x paragraphs: every sample is 256 tokens
        started = time.perf_counter()
        train_encoder(encoder, long_records, long_records[:8], list(LABELS), settings, seed=13, log=lambda *a, **k: None)
        flags = [k for k, v in precision_flags("auto").items() if v] or ["fp32"]
        rate(f"training at 256 tokens ({flags[0]}, incl. segmentation, eval, save)", len(records),
             time.perf_counter() - started, unit="samples/s")


if __name__ == "__main__":
    main()
