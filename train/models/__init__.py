"""The closed registry of model types: the one place that lists them.

Each type is one module with a config class and a trainer that follows `ModelType`;
its inference side is `vnzh_runtime.<type>`, which reads what `save` wrote. The config's
`model` section is a union of the registered config classes, discriminated by `type`.
Adding a type: one module here, one in the runtime, one entry below (README, "Adding a
model type").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar, Protocol

import numpy as np

from train.models.tfidf import TfidfTrainer
from train.models.transformer import TransformerTrainer

if TYPE_CHECKING:
    from train.config import Config
    from train.data import Record


class ModelType(Protocol):
    Config: ClassVar[type]  # the `model` section of the training config, with `type: Literal[<name>]`

    def __init__(self, config: "Config") -> None: ...

    def check_data(self, train: list["Record"]) -> None:
        """Refuse, in one line before any MLflow run opens, settings these training records cannot meet."""

    def fit(self, train: list["Record"], dev: list["Record"], on_epoch: Callable | None = None) -> "ModelType": ...

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray: ...

    def save(self, directory: Path) -> dict:
        """Write the model's plain-data files; return the spec's `model` section."""


REGISTRY: dict[str, type[ModelType]] = {
    "tfidf": TfidfTrainer,
    "transformer": TransformerTrainer,
}


def create_model(config: "Config") -> ModelType:
    return REGISTRY[config.model.type](config)
