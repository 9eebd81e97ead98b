"""The transformer model type's settings (`model.transformer` in a config), validated at load:
which encoder reads which language, each encoder's name or path, and the fine-tuning settings.

    >>> TransformerSettings(encoders={"phobert": {"name_or_path": "tiny"}}, routes={"vi": "phobert"},
    ...                     tiny={"hidden_size": 64, "num_heads": 2}).encoders["phobert"].max_length
    256
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from train.schema import NAME, Strict

TINY = "tiny"  # the name_or_path of an encoder that `transformer.tiny` builds
# The encoders the default routes name, where a config defines none
DEFAULT_ENCODERS = {"phobert": {"name_or_path": "vinai/phobert-base", "segmenter": "pyvi"},
                    "multi": {"name_or_path": "xlm-roberta-base"}}


class EncoderConfig(Strict):
    name_or_path: str = "vinai/phobert-base"
    segmenter: Literal["none", "pyvi"] = "none"
    max_length: int = Field(256, ge=8, le=512)


class TinyConfig(Strict):
    """Builds encoders locally (no hub) when `transformer.tiny` is set: tests and CI."""

    vocab_size: int = Field(2000, ge=100)
    hidden_size: int = Field(64, ge=8)
    num_layers: int = Field(2, ge=1)
    num_heads: int = Field(2, ge=1)
    intermediate_size: int = Field(128, ge=8)

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.hidden_size % self.num_heads:  # else transformers' ValueError after the run has opened
            raise ValueError(f"hidden_size {self.hidden_size} is not a multiple of num_heads {self.num_heads} "
                             f"(fix: e.g. num_heads: {max(d for d in (1, 2, 4, 8) if self.hidden_size % d == 0)})")
        return self


def check_encoder_names(names) -> None:
    """An encoder's name is a folder of the model directory and part of MLflow parameter keys."""
    for name in names:
        if len(name) > 64 or not NAME.fullmatch(name):
            raise ValueError(f"encoder name {name!r} must be a plain name: ASCII letters, digits, '.', '_' "
                             "and '-', from a letter or digit (fix: e.g. multi or zh-bert)")


class TransformerSettings(Strict):
    # language -> encoder key; a single-encoder setup maps every language to one key.
    routes: dict[str, str] = {"vi": "phobert", "zh": "multi", "en": "multi"}
    encoders: dict[str, EncoderConfig] = {}
    long_text: Literal["truncate", "head_tail"] = "head_tail"
    epochs: float = Field(5.0, gt=0)
    learning_rate: float = Field(3e-5, gt=0)
    batch_size: int = Field(16, ge=1)
    grad_accum: int = Field(1, ge=1)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    early_stopping_patience: int = Field(2, ge=1)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    tiny: Optional[TinyConfig] = None

    @field_validator("routes")
    @classmethod
    def _langs(cls, routes: dict[str, str]) -> dict[str, str]:
        unknown = [lang for lang in routes if lang not in ("vi", "zh", "en")]
        if unknown or not routes:
            raise ValueError(f"routes need languages among vi, zh, en (got {list(routes)})")
        return routes

    @field_validator("routes")
    @classmethod
    def _routed_names(cls, routes: dict[str, str]) -> dict[str, str]:
        check_encoder_names(routes.values())
        return routes

    @field_validator("encoders")
    @classmethod
    def _encoder_names(cls, encoders: dict) -> dict:
        check_encoder_names(encoders)
        return encoders

    @model_validator(mode="after")
    def _default_encoders(self):
        """A config that defines no encoders gets the ones its routes name by default (configs/phobert.yaml's; tiny
        ones under `tiny`): `model: {type: transformer}` was refused for an encoder 'phobert' it never named."""
        if not self.encoders:
            built = {"name_or_path": TINY} if self.tiny is not None else {}
            self.encoders = {key: EncoderConfig(**(DEFAULT_ENCODERS[key] | built))
                             for key in sorted(set(self.routes.values())) if key in DEFAULT_ENCODERS}
        return self

    @model_validator(mode="after")
    def _tiny_or_named(self):
        """`tiny` builds small random encoders in place of the named ones: a hub name or a path beside it
        was ignored, and the record said it had been trained."""
        for key, encoder in sorted(self.encoders.items()):
            if self.tiny is not None and encoder.name_or_path != TINY:
                raise ValueError(f"encoders.{key}.name_or_path is {encoder.name_or_path!r}, but `tiny` builds small "
                                 "random encoders in its place (fix: --set model.transformer.tiny=null to train "
                                 f"{encoder.name_or_path}, or name_or_path: {TINY})")
            if self.tiny is None and encoder.name_or_path == TINY:
                raise ValueError(f"encoders.{key}.name_or_path {TINY!r} names the encoders a `tiny` section builds, "
                                 "and there is none (fix: add one, as configs/tiny-transformer.yaml does, or name a model)")
        return self


class TransformerModelConfig(Strict):
    type: Literal["transformer"] = "transformer"
    transformer: TransformerSettings = TransformerSettings()
