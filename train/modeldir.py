"""A model directory that describes itself.

    models/tfidf/
      config.yaml    the validated config the model was trained with
      meta.json      format version, model type, labels, metrics, dev-chosen threshold
      model/         the type's own files (pipeline.joblib, or encoders + tokenizers)

`save_model_dir` writes it, `read_meta` and `load_model` read it back through the
model registry, so any tool that can read the directory can tag with it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from train.config import Config, config_from_dict
from train.errors import UserError

FORMAT_VERSION = 1
MODEL_SUBDIR = "model"


def save_model_dir(directory: str | Path, config: Config, model, meta: dict) -> Path:
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    (directory / MODEL_SUBDIR).mkdir(parents=True)
    model.save(directory / MODEL_SUBDIR)
    (directory / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_meta(directory, {"format_version": FORMAT_VERSION, "model_type": config.model.type,
                           "labels": list(config.data.labels), **meta})
    return directory


def write_meta(directory: str | Path, meta: dict) -> None:
    Path(directory, "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def read_meta(directory: str | Path) -> dict:
    path = Path(directory, "meta.json")
    if not path.is_file():
        raise UserError(f"{directory}: not a model directory (no meta.json); train one with: python -m train --config configs/tfidf.yaml")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{directory}: model format {meta.get('format_version')} is not {FORMAT_VERSION}; retrain it with this version")
    return meta


def load_model(directory: str | Path):
    """(model, config, meta) of a model directory."""
    from train.models import model_class

    meta = read_meta(directory)
    raw = yaml.safe_load(Path(directory, "config.yaml").read_text(encoding="utf-8"))
    config = config_from_dict(raw, source=str(Path(directory, "config.yaml")))
    model = model_class(meta["model_type"]).load(Path(directory) / MODEL_SUBDIR, config)
    return model, config, meta
