"""One typed training config, read from YAML and validated once at load (pydantic).

`model` is a union discriminated by `model.type`, built from the model registry
(`train/models/__init__.py`), so a config carries, and a run logs, only its own model
type's keys. Any problem stops with one line that names the file, the key and the fix:

    >>> cfg = load_config("configs/tfidf.yaml", overrides=["model.tfidf.C=4"])
    >>> cfg.model.tfidf.C
    4.0

`--set a.b=c` overrides are applied to the raw YAML before validation, and their
values are parsed as YAML (`--set data.files=[a.jsonl]`, `--set seed=7`); an error in a
value that came from `--set` names that flag, not the file.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from train.config_errors import describe, place
from train.data import DEFAULT_FILES, LABELS
from train.models import REGISTRY
from train.overrides import apply_override, default_output_dir, default_registered_model, follow_new_name
from train.schema import NAME, ConfigError, Strict
from train.yaml_load import load_yaml


class DataConfig(Strict):
    # Globs relative to the working directory (run from the project root).
    files: list[str] = Field(default_factory=lambda: list(DEFAULT_FILES), min_length=1)
    labels: list[str] = Field(default_factory=lambda: list(LABELS), min_length=2)

    @field_validator("labels")
    @classmethod
    def _known(cls, labels: list[str]) -> list[str]:
        # A repeated label is one output column twice: the model never predicts the first copy.
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"{', '.join(map(repr, repeated))} listed more than once (fix: list each label once)")
        unknown = [label for label in labels if label not in LABELS]
        if unknown:
            raise ValueError(f"unknown labels {unknown} (fix: use labels from LABELS.md: {', '.join(LABELS)})")
        if "other" not in labels:
            raise ValueError("no 'other' (fix: add other, the label of everything that is not VN–China coverage)")
        if len(labels) < 3:  # the topic head chooses among topics: one alone is no choice
            raise ValueError("at least two topics besides 'other' (fix: list two or more topics from LABELS.md)")
        return labels


class ContextConfig(Strict):
    # Substantive paragraphs of an article's head read with each of its paragraphs; 0 reads paragraphs alone.
    head: int = Field(3, ge=0, le=10)


class MlflowConfig(Strict):
    # not blank (the UI would list "   "), and no longer than MLflow takes, checked before training
    experiment: str = Field("vn-china-topics", pattern=r"\S", max_length=500)
    registered_model: Optional[str] = None  # default: vn-china-topics-<name>
    alias: str = "champion"
    # if_not_worse: the alias stays on its version when that scored higher on the same dev data
    # (train/tracking_alias.py); always: the newest training takes it
    promote: Literal["if_not_worse", "always"] = "if_not_worse"
    log_model: bool = True

    @field_validator("registered_model")
    @classmethod
    def _registered_model(cls, name: Optional[str]) -> Optional[str]:
        # MLflow's rule, checked before training rather than at registration after it
        # ... and what a models:/NAME@ALIAS URI cannot carry back ("?", "#", "@", "%") or MLflow refuses (".", "..")
        if name is not None and (not name.strip() or re.search(r"[/:?#@%]", name) or name.strip(".") == ""):
            raise ValueError("a registered model name is not empty, not '.' or '..', and holds none of / : ? # @ % "
                             "(fix: e.g. vn-china-topics-team)")
        return name

    @field_validator("alias")
    @classmethod
    def _alias(cls, alias: str) -> str:
        # MLflow's own rules, checked here so that a bad alias stops the run before training, not at
        # registration after it: letters, digits, _ and -; 'latest' and version names v1, V2, ... reserved.
        if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
            raise ValueError(f"'{alias}' is reserved by MLflow (fix: use another alias, e.g. champion)")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", alias):
            raise ValueError("an alias holds only letters, digits, _ and - (fix: e.g. champion or candidate-2)")
        return alias


class PredictConfig(Strict):
    """Runtime options written into the model's spec; `serve` flags override them."""

    batch_size: int = Field(64, ge=1)  # transformers: paragraphs per forward pass on a GPU
    # On a CPU the model is compute-bound at any batch size, so small length-sorted batches
    # win by padding least (bench/RESULTS.md).
    cpu_batch_size: int = Field(8, ge=1)
    threshold: Optional[float] = Field(None, ge=0, le=1)  # abstain ("uncertain") below this top score
    # Transformers on CPU: int8 dynamic quantisation of the linear layers, about 1.6x faster;
    # labels agree with fp32 on 99.7% of dev+test paragraphs (bench/RESULTS.md).
    cpu_int8: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"


ModelConfig = Annotated[Union[tuple(t.Config for t in REGISTRY.values())], Field(discriminator="type")]


class Config(Strict):
    # a plain name: it becomes a directory and part of the registered model's name (one line, not OSError, past 100)
    name: str = Field("", max_length=100, pattern=r"^$|" + NAME.pattern)
    # single: one topic per paragraph (labels[0]); multilabel: every topic a paragraph carries, dominant first.
    task: Literal["single", "multilabel"] = "single"
    seed: int = Field(13, ge=0, le=2**32 - 1)
    # true: after the context gate and thresholds are tuned on dev with a model fitted on train, the
    # saved model is fitted again on train + dev with those settings (more data; test stays held out).
    # TF-IDF only: a transformer chooses its epoch on dev, which a refit would train on.
    refit_on_dev: bool = False
    output_dir: str = ""
    data: DataConfig = DataConfig()
    context: ContextConfig = ContextConfig()
    model: ModelConfig = Field(default_factory=lambda: REGISTRY["tfidf"].Config())
    mlflow: MlflowConfig = MlflowConfig()
    predict: PredictConfig = PredictConfig()

    @model_validator(mode="before")
    @classmethod
    def _default_model_type(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("model"), dict) and "type" not in raw["model"]:
            raw = {**raw, "model": {"type": "tfidf", **raw["model"]}}
        return raw

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    path = Path(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (fix: pass an existing file, e.g. configs/tfidf.yaml)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory (fix: pass a config file in it, e.g. {path / 'tfidf.yaml'})") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a UTF-8 YAML file ({type(err).__name__}); save it as UTF-8 text") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, got {type(raw).__name__}")
    if not raw:  # else every key a default, the corpus and model type unsaid, trained and registered without a word
        raise ConfigError(f"{path}: the config is empty (fix: start from a shipped one, e.g. cat configs/tfidf.yaml "
                          f">> {shlex.quote(str(path))}, and edit it)")
    before = copy.deepcopy(raw)
    for item in overrides or []:
        apply_override(raw, item, path)
    follow_new_name(before, raw, path.stem, overrides)
    return config_from_dict(raw, source=str(path), default_name=path.stem, overrides=overrides)


def config_from_dict(raw: dict, source: str = "<dict>", default_name: str = "run",
                     overrides: list[str] | None = None) -> Config:
    """`overrides`: the --set items applied to `raw`, so an error in one of their values names the flag."""
    def at(key: str) -> str:
        return place(key, source, overrides)

    try:
        cfg = Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(describe(err.errors()[0], source, overrides, Config)) from None
    cfg.name = cfg.name or default_name
    names_places = not (cfg.output_dir and cfg.mlflow.registered_model)  # else it is only the run's name
    if names_places and not NAME.match(cfg.name):  # "tfidf 2026-01-05T10:30.yaml": MLflow refuses it after training
        raise ConfigError(f"{source}: name: the config file's name {cfg.name!r} is not a plain name (letters, digits, "
                          "'.', '_' and '-'; it names the model directory and the registered model) "
                          "(fix: --set name=<a plain name>, or rename the file)")
    cfg.output_dir = cfg.output_dir or default_output_dir(cfg.name)
    # `~/models/x` is the home folder's, as in a shell, not a folder named "~" here (a later `rm -rf ~` ...)
    cfg.output_dir = os.path.expanduser(cfg.output_dir)
    cfg.data.files = [os.path.expanduser(pattern) for pattern in cfg.data.files]
    # `/models/x/model/..` is `/models/x`, as a shell's cd reads it: the checks before training, and the
    # scratch directory beside the target, need the directory's own name, not ".."
    normal = os.path.normpath(cfg.output_dir)
    if not Path(normal).is_absolute() and Path(normal).parts[:1] == ("..",):  # models/x/../y is models/y: inside
        raise ConfigError(f"{at('output_dir')}: output_dir: {cfg.output_dir!r} climbs out of the project "
                          "(fix: a path without '..', or an explicit absolute path)")
    cfg.output_dir = normal
    cfg.mlflow.registered_model = cfg.mlflow.registered_model or default_registered_model(cfg.name)
    if cfg.refit_on_dev and cfg.model.type != "tfidf":
        raise ConfigError(f"{at('refit_on_dev')}: refit_on_dev: only for model.type tfidf; a {cfg.model.type} model "
                          "chooses its best epoch on dev, which a refit would train on (fix: set refit_on_dev: false)")
    routes = getattr(cfg.model, "transformer", None)
    if routes is not None:
        for lang, key in routes.routes.items():
            if key not in routes.encoders:
                raise ConfigError(f"{at(f'model.transformer.routes.{lang}')}: model.transformer.routes.{lang}: "
                                  f"encoder '{key}' is not defined under model.transformer.encoders "
                                  "(fix: add it or route to a defined one)")
    return cfg
