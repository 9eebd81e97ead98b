"""One transformer encoder with its tokenizer, segmenter and length policy.

Paragraphs longer than `max_length` tokens keep their head and their tail
(`head_tail`: the first 3/4 and last 1/4 of the budget, after Sun et al. 2019,
where leads and conclusions carry the topic) or just the head (`truncate`).

    >>> encoder = Encoder.load(Path("models/phobert/model/phobert"))
    >>> encoder.predict_proba(["Tổng Bí thư Tô Lâm thăm Trung Quốc"]).shape
    (1, 6)

Inference sorts paragraphs by length and pads each batch only to its longest
member, under `torch.inference_mode`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vnzh_runtime.activations import softmax
from vnzh_runtime.segment import SEGMENTERS, segment

LONG_TEXT = ("truncate", "head_tail")


class Encoder:
    def __init__(self, tokenizer, model, segmenter: str, max_length: int, long_text: str):
        self.tokenizer = tokenizer
        self.model = model
        self.segmenter = segmenter
        self.max_length = max_length
        self.long_text = long_text

    def prepare(self, texts: list[str]) -> list[str]:
        return segment(texts, self.segmenter)

    def encode(self, prepared: list[str]) -> list[list[int]]:
        ids = self.tokenizer(prepared, add_special_tokens=False, truncation=False)["input_ids"]
        budget = self.max_length - 2
        head = budget if self.long_text == "truncate" else budget * 3 // 4
        clipped = [row if len(row) <= budget else row[:head] + row[len(row) - (budget - head):] for row in ids]
        # <s> X </s> (PhoBERT, XLM-R) and [CLS] X [SEP] (BERTs) alike; fast tokenizers in
        # transformers 5 have no build_inputs_with_special_tokens.
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        return [[cls, *row, sep] for row in clipped]

    @property
    def device(self):
        # Embeddings stay ordinary parameters under int8 quantisation, so there is always one.
        return next(self.model.parameters()).device

    def predict_proba(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return softmax(self.predict_logits(texts, batch_size))

    def predict_logits(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        import torch

        ids = self.encode(self.prepare(texts))
        order = np.argsort([len(row) for row in ids], kind="stable")
        device = self.device
        out = np.zeros((len(texts), self.model.config.num_labels), dtype=np.float64)
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                batch = self.tokenizer.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="pt")
                logits = self.model(input_ids=batch["input_ids"].to(device),
                                    attention_mask=batch["attention_mask"].to(device)).logits
                out[chunk] = logits.float().cpu().numpy()
        return out

    def quantize_for_cpu(self) -> None:
        """int8 dynamic quantisation of the linear layers: the CPU speed-up that batching alone can't give.

        fp32 tagging already runs the linear layers near this CPU's fp32 matrix-multiply peak,
        so only fewer bits per multiply make it faster (bench/RESULTS.md).
        """
        import warnings

        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)

    def save(self, directory: Path) -> dict:
        """Weights as safetensors and the tokenizer's own files; returns the encoder's settings."""
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        return {"segmenter": self.segmenter, "max_length": self.max_length, "long_text": self.long_text}

    @classmethod
    def load(cls, directory: Path, segmenter: str, max_length: int, long_text: str) -> "Encoder":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        # safetensors only: a pickled pytorch_model.bin would run code when loaded.
        tokenizer = AutoTokenizer.from_pretrained(directory, trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(directory, use_safetensors=True, trust_remote_code=False)
        problem = settings_problem(segmenter, max_length, long_text, position_limit(model.config))
        if problem:  # a hand-edited spec.json: else an index error, or a segmenter's ValueError, when tagging
            raise ValueError(problem)
        return cls(tokenizer, model, segmenter, max_length, long_text)


def settings_problem(segmenter, max_length, long_text, limit: int | None) -> str | None:
    """What is wrong with an encoder's saved settings, or None.

    >>> settings_problem("jieba", 128, "head_tail", 256), settings_problem("pyvi", 300, "head_tail", 256)
    ("segmenter 'jieba' is not one of none, pyvi", 'max_length 300 is not a whole number from 8 to 256')
    """
    if segmenter not in SEGMENTERS:
        return f"segmenter {segmenter!r} is not one of {', '.join(SEGMENTERS)}"
    if long_text not in LONG_TEXT:
        return f"long_text {long_text!r} is not one of {', '.join(LONG_TEXT)}"
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 8 <= max_length <= (limit or 512):
        return f"max_length {max_length!r} is not a whole number from 8 to {limit or 512}"
    return None


def position_limit(config) -> int | None:
    """The most tokens an encoder reads: RoBERTa's family (PhoBERT, XLM-R) numbers positions from its
    padding id + 1, so PhoBERT's 258 positions hold 256 tokens and XLM-R's 514 hold 512."""
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return None
    offset = (config.pad_token_id or 0) + 1 if "roberta" in config.model_type or config.model_type == "camembert" else 0
    return positions - offset
