"""The closed registry of model types, keyed by `model.type` in the config.

Each type implements the same small interface (see `tfidf.TfidfModel`):
`fit(train, dev, on_epoch)`, `predict_proba(texts, langs)` with one column per
config label, `save(dir)` and `load(dir, config)`. Imports are lazy so that the
baseline never pays for importing torch.
"""

from __future__ import annotations

import importlib

from train.config import Config

REGISTRY = {
    "tfidf": "train.models.tfidf:TfidfModel",
    "transformer": "train.models.transformer:TransformerModel",
}


def model_class(model_type: str):
    module_name, _, class_name = REGISTRY[model_type].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_model(config: Config):
    return model_class(config.model.type)(config)
