"""Transformer classifiers routed by language: PhoBERT for Vietnamese, another encoder for zh/en.

`model.transformer.routes` maps each language to an encoder key; one encoder for all
languages is a config change (`routes: {vi: multi, zh: multi, en: multi}`). Each
encoder fine-tunes on the records routed to it with the Hugging Face Trainer
(early stopping on dev macro-F1, best checkpoint kept, linear warmup/decay).

    >>> model = TransformerModel(config)          # loads hub names / local dirs, or builds tiny ones
    >>> model.fit(train_records, dev_records, on_epoch=run.log_metrics)
    >>> model.predict_proba(texts, langs)         # (n, labels), columns in config label order
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from train.config import Config
from train.data import Record
from train.models.encoder import Encoder
from train.segment import segment

ROUTES_FILE = "routes.json"


class TransformerModel:
    def __init__(self, config: Config, encoders: dict[str, Encoder] | None = None):
        self.config = config
        self.labels = list(config.data.labels)
        self.settings = config.model.transformer
        self.routes = dict(self.settings.routes)
        self.encoders = encoders if encoders is not None else self._pretrained()

    def _pretrained(self) -> dict[str, Encoder]:
        if self.settings.tiny:
            return {}  # built from the training texts in fit()
        return {key: Encoder.from_pretrained(key, self.settings.encoders[key], self.labels, self.settings.long_text)
                for key in sorted(set(self.routes.values()))}

    def route(self, lang: str) -> str:
        return self.routes.get(lang) or next(iter(sorted(set(self.routes.values()))))

    def fit(self, train: list[Record], dev: list[Record], on_epoch: Callable | None = None) -> "TransformerModel":
        from train.models.hf_training import train_encoder

        for key in sorted(set(self.routes.values())):
            own_train = [r for r in train if self.route(r.lang) == key]
            own_dev = [r for r in dev if self.route(r.lang) == key] or own_train[:50]
            if key not in self.encoders:
                self.encoders[key] = self._tiny(key, own_train)
            train_encoder(self.encoders[key], own_train, own_dev, self.labels, self.settings, self.config.seed,
                          log=lambda metrics, step, key=key: on_epoch and on_epoch(
                              {f"{key}_{name}": value for name, value in metrics.items()}, step=step))
        return self

    def _tiny(self, key: str, records: list[Record]) -> Encoder:
        from train.models.tiny import build_tiny_encoder

        cfg = self.settings.encoders[key]
        texts = segment([r.text for r in records], cfg.segmenter)  # what Encoder.prepare will feed it
        # PhobertTokenizer re-reads its vocab/merges files when saved, so they must outlive this call.
        workdir = Path(tempfile.mkdtemp(prefix=f"tiny-{key}-"))
        tokenizer, model = build_tiny_encoder(texts, cfg.segmenter != "none", self.settings.tiny, cfg.max_length,
                                              self.labels, workdir)
        return Encoder(tokenizer, model, cfg.segmenter, cfg.max_length, self.settings.long_text)

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        from train.langid import detect_lang

        langs = langs or [detect_lang(t) for t in texts]
        out = np.zeros((len(texts), len(self.labels)))
        for key, encoder in self.encoders.items():
            members = [i for i, lang in enumerate(langs) if self.route(lang) == key]
            if members:
                out[members] = encoder.predict_proba([texts[i] for i in members], self.batch_size(encoder))
        return out

    def batch_size(self, encoder: Encoder) -> int:
        return self.config.predict.cpu_batch_size if encoder.device.type == "cpu" else self.config.predict.batch_size

    def save(self, directory: Path) -> None:
        for key, encoder in self.encoders.items():
            encoder.save(Path(directory) / key)
        Path(directory, ROUTES_FILE).write_text(json.dumps(self.routes, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, config: Config) -> "TransformerModel":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        routes = json.loads(Path(directory, ROUTES_FILE).read_text(encoding="utf-8"))
        encoders = {key: Encoder.load(Path(directory) / key) for key in sorted(set(routes.values()))}
        for encoder in encoders.values():
            encoder.model.to(device)
            if device == "cpu" and config.predict.cpu_int8:
                encoder.quantize_for_cpu()
        model = cls(config, encoders)
        model.routes = routes
        return model
