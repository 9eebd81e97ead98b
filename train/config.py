"""One typed training config, read from YAML and validated once at load.

Every section is a dataclass; `load_config` walks the YAML against the dataclass
fields, so an unknown key or a value of the wrong type stops with one line that
names the file, the key and the fix:

    >>> cfg = load_config("configs/tfidf.yaml", overrides=["model.tfidf.C=4"])
    >>> cfg.model.tfidf.C
    4.0

`--set a.b=c` overrides are applied to the raw YAML before validation, and their
values are parsed as YAML (`--set data.files=[a.jsonl]`, `--set seed=7`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

from train.errors import UserError

LABELS = ["economy", "border_sea", "people_to_people", "science_tech", "party_relations", "other"]
MODEL_TYPES = ("tfidf", "transformer")


class ConfigError(UserError):
    """A config problem the user fixes in the YAML file or a --set flag."""


@dataclass
class DataConfig:
    # Globs relative to the project root (the directory holding the config's parent).
    files: list[str] = field(default_factory=lambda: ["data/seeds.jsonl", "data/authored/*.jsonl"])
    labels: list[str] = field(default_factory=lambda: list(LABELS))


@dataclass
class TfidfConfig:
    word_ngrams: list[int] = field(default_factory=lambda: [1, 2])
    char_ngrams: Optional[list[int]] = None  # e.g. [2, 4]; null turns char n-grams off
    min_df: int = 1
    max_features: Optional[int] = None
    sublinear_tf: bool = True
    C: float = 10.0
    class_weight: Optional[Literal["balanced"]] = "balanced"
    max_iter: int = 2000


@dataclass
class EncoderConfig:
    name_or_path: str = "vinai/phobert-base"
    segmenter: Literal["none", "pyvi"] = "none"
    max_length: int = 256


@dataclass
class TinyConfig:
    """Builds encoders locally (no hub) when `transformer.tiny` is set: tests and CI."""

    vocab_size: int = 2000
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 128


@dataclass
class TransformerConfig:
    # language -> encoder key; a single-encoder setup maps every language to one key.
    routes: dict[str, str] = field(default_factory=lambda: {"vi": "phobert", "zh": "multi", "en": "multi"})
    encoders: dict[str, EncoderConfig] = field(default_factory=dict)
    long_text: Literal["truncate", "head_tail"] = "head_tail"
    epochs: float = 5.0
    learning_rate: float = 3e-5
    batch_size: int = 16
    grad_accum: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    early_stopping_patience: int = 2
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    tiny: Optional[TinyConfig] = None


@dataclass
class ModelConfig:
    type: Literal["tfidf", "transformer"] = "tfidf"
    tfidf: TfidfConfig = field(default_factory=TfidfConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)


@dataclass
class MlflowConfig:
    experiment: str = "vn-china-topics"
    registered_model: Optional[str] = None  # default: vn-china-topics-<name>
    alias: str = "champion"  # "latest" is reserved by MLflow
    log_model: bool = True


@dataclass
class PredictConfig:
    # Transformers: paragraphs per forward pass on a GPU, which needs big batches to be busy.
    batch_size: int = 64
    # On a CPU the model is compute-bound at any batch size, so small length-sorted batches
    # win by padding least (bench/RESULTS.md).
    cpu_batch_size: int = 8
    # Abstain below this top score ("uncertain"); null never abstains.
    threshold: Optional[float] = None
    # Transformers on CPU: int8 dynamic quantisation of the linear layers. fp32 tagging already
    # runs at this CPU's fp32 matrix-multiply peak, so fewer bits are the next speed-up (about
    # 1.6x more); labels agree with fp32 on 99.7% of dev+test paragraphs (bench/RESULTS.md).
    cpu_int8: bool = False


@dataclass
class Config:
    name: str = ""
    seed: int = 13
    output_dir: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (fix: pass an existing file, e.g. configs/tfidf.yaml)")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(err, 'problem', err)})")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, got {type(raw).__name__}")
    for item in overrides or []:
        apply_override(raw, item, path)
    return config_from_dict(raw, source=str(path), default_name=path.stem)


def config_from_dict(raw: dict, source: str = "<dict>", default_name: str = "run") -> Config:
    cfg = _build(Config, raw, source, prefix="")
    cfg.name = cfg.name or default_name
    cfg.output_dir = cfg.output_dir or f"models/{cfg.name}"
    cfg.mlflow.registered_model = cfg.mlflow.registered_model or f"vn-china-topics-{cfg.name}"
    _check_values(cfg, source)
    return cfg


def apply_override(raw: dict, item: str, source: Path) -> None:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set model.tfidf.C=4")
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {item!r}: {part} is not a section in {source}")
    node[parts[-1]] = yaml.safe_load(value)


def _build(cls, raw: Any, source: str, prefix: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'top level'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{source}: unknown key '{prefix}{key}' (fix: remove it or use one of: {', '.join(sorted(known))})"
            )
    values = {key: _coerce(hints[key], value, source, f"{prefix}{key}") for key, value in raw.items()}
    return cls(**values)


def _coerce(hint, value: Any, source: str, key: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, source, key)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value or {}, source, key + ".")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{source}: {key}: {value!r} is not allowed (fix: use one of {', '.join(map(repr, args))})")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key}: expected a list, got {value!r} (fix: write it as [a, b])")
        return [_coerce(args[0], v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key}: expected a mapping, got {value!r}")
        return {str(k): _coerce(args[1], v, source, f"{key}.{k}") for k, v in value.items()}
    return _scalar(hint, value, source, key)


def _scalar(hint, value: Any, source: str, key: str):
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[hint]
    if not ok:
        raise ConfigError(f"{source}: {key}: expected {hint.__name__}, got {value!r}")
    return float(value) if hint is float else value


def _check_values(cfg: Config, source: str) -> None:
    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: {key}: {why}")

    unknown = [label for label in cfg.data.labels if label not in LABELS]
    if unknown or not cfg.data.labels:
        raise bad("data.labels", f"unknown labels {unknown} (fix: use labels from LABELS.md: {', '.join(LABELS)})")
    if not cfg.data.files:
        raise bad("data.files", "no data files (fix: list JSONL files or globs, e.g. [data/authored/*.jsonl])")
    tfidf = cfg.model.tfidf
    for key, span in (("word_ngrams", tfidf.word_ngrams), ("char_ngrams", tfidf.char_ngrams)):
        if span is not None and (len(span) != 2 or not 1 <= span[0] <= span[1]):
            raise bad(f"model.tfidf.{key}", f"{span} must be [low, high] with 1 <= low <= high")
    if tfidf.C <= 0:
        raise bad("model.tfidf.C", "must be > 0")
    if cfg.mlflow.alias.lower() == "latest" or not cfg.mlflow.alias:
        raise bad("mlflow.alias", "'latest' is reserved by MLflow (fix: use another alias, e.g. champion)")
    for key in ("batch_size", "cpu_batch_size"):
        if getattr(cfg.predict, key) < 1:
            raise bad(f"predict.{key}", "must be >= 1")
    if cfg.predict.threshold is not None and not 0 <= cfg.predict.threshold <= 1:
        raise bad("predict.threshold", "must be between 0 and 1, or null")
    if cfg.model.type == "transformer":
        tr = cfg.model.transformer
        for lang, key in tr.routes.items():
            if key not in tr.encoders:
                raise bad(f"model.transformer.routes.{lang}", f"encoder '{key}' is not defined under model.transformer.encoders")
        for key, enc in tr.encoders.items():
            if not 8 <= enc.max_length <= 512:
                raise bad(f"model.transformer.encoders.{key}.max_length", "must be between 8 and 512")
