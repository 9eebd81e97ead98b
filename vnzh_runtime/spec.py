"""The model directory: a versioned inference spec, plain-data files, and their digests.

    models/tfidf/
      spec.json      what the runtime reads: format version, model type, labels, runtime
                     options, context settings, the dev-chosen threshold, and the sha256
                     of every file under model/
      meta.json      a record of training: metrics, data sizes, MLflow run (never read to tag)
      config.yaml    the training config, as a record (never read to tag)
      model/         the type's own files (JSON and .npz arrays, or safetensors weights)

`read_spec` refuses, in one line, a directory of another format version or whose files
do not match their digests, so a tampered or half-copied directory is never loaded.
Loading runs no code from the directory: no pickle is ever read.

    >>> spec = read_spec("models/tfidf")
    >>> spec["model_type"], spec["labels"][0]
    ('tfidf', 'economy')
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from vnzh_runtime.errors import UserError
from vnzh_runtime.folders import OS_CLUTTER

# 3: TF-IDF tokens are cut from the raw text before each piece is normalised, and the n-gram
# index ships as arrays; a format-2 model would be read with other tokens than it was trained on.
# 4: TF-IDF models carry named-country features (tfidf.json `countries`, 7 more weight rows);
# a format-3 runtime would ignore them and tag with part of the model, so it must refuse.
# 5: page marks (breadcrumb, list and pipe separators, ©) are TF-IDF tokens; a format-4 model's
# n-grams were cut without them and would be read with other neighbours. One version for every
# model type, so a format-4 transformer directory is refused too: retrain it.
# 6: the context gate has a fourth weight, for the next paragraph of the article; a format-5
# runtime would fail on it. A format-5 directory is refused: retrain it.
# 7: the country names carry which one-word names count only written capitalised and which
# neighbours block a name ("Lào Cai"); a format-6 runtime would ignore both and read "biện pháp"
# as France, so it must refuse.
FORMAT_VERSION = 7
SPEC_FILE = "spec.json"
META_FILE = "meta.json"
MODEL_SUBDIR = "model"
MODEL_TYPES = ("tfidf", "transformer")
# Runtime options a spec may carry; `serve tag` / `serve api` flags override them.
DEFAULT_OPTIONS = {"batch_size": 64, "cpu_batch_size": 8, "cpu_int8": False, "device": "auto"}


def file_digests(directory: Path) -> dict[str, str]:
    """sha256 of every file under model/, keyed by its path relative to the model directory."""
    digests = {}
    for path in sorted((directory / MODEL_SUBDIR).rglob("*")):
        if path.is_file():
            digests[path.relative_to(directory).as_posix()] = _sha256(path)
    return digests


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_model_dir(path: Path) -> bool:
    """A model directory of this runtime (spec.json beside model/), or of an older format
    (meta.json + config.yaml + model/): not any folder that happens to hold a spec.json."""
    if not (path / MODEL_SUBDIR).is_dir():
        return False
    return (path / SPEC_FILE).is_file() or ((path / META_FILE).is_file() and (path / "config.yaml").is_file())


def enclosing_model_dir(path: str | Path) -> Path | None:
    """The model directory `path` lies inside, or None: a file written under its model/, unlisted in its
    spec, would make that model refuse to load (`verify_files`); one elsewhere in it, training refuse to
    replace it (`train.modeldir`)."""
    return next((parent for parent in Path(path).resolve().parents if is_model_dir(parent)), None)


def write_spec(directory: str | Path, spec: dict) -> dict:
    """Write spec.json with the digests of the files now under model/."""
    directory = Path(directory)
    spec = {"format_version": FORMAT_VERSION, **spec, "files": file_digests(directory)}
    write_json(directory / SPEC_FILE, spec)
    return spec


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")


def read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: missing {what} (fix: copy the whole model directory, or retrain it)") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # not JSON; an int past 4,300 digits; nested too deep
        raise UserError(f"{path}: {what} is corrupt ({str(err).splitlines()[0][:80]}); retrain or re-copy it") from None


def read_spec(directory: str | Path, verify: bool = True) -> dict:
    directory = Path(directory)
    if not (directory / SPEC_FILE).is_file():
        old = (directory / META_FILE).is_file()
        raise UserError(f"{directory}: " + (
            f"no {SPEC_FILE} beside {META_FILE}: a model of an older format, or a copy that lost it "
            f"(fix: re-copy the whole model directory, or retrain it; this runtime reads format {FORMAT_VERSION})"
            if old else "not a model directory (no spec.json); train one with: python -m train --config configs/tfidf.yaml"))
    spec = read_json(directory / SPEC_FILE, "inference spec")
    version = spec.get("format_version") if isinstance(spec, dict) else None
    if is_count(version) and version > FORMAT_VERSION:  # a colleague's newer checkout: retraining here would lose it
        raise UserError(f"{directory}: model format {version}, newer than format {FORMAT_VERSION}, which this runtime reads "
                        "(fix: update this checkout to the one that trained it: git pull && pip install -e .)")
    if version != FORMAT_VERSION:
        raise UserError(f"{directory}: model format {version!r}; this runtime reads format {FORMAT_VERSION} only (retrain it)")
    if spec.get("model_type") not in MODEL_TYPES:
        raise UserError(f"{directory}: unknown model_type {spec.get('model_type')!r}; this runtime knows {', '.join(MODEL_TYPES)}")
    check_fields(directory, spec)
    if verify:
        verify_files(directory, spec.get("files") or {})
    return spec


def check_fields(directory: Path, spec: dict) -> None:
    """UserError unless the fields the runtime reads have their shapes (spec.json is plain text
    that anyone may edit, and its digests cover the model's files, not itself)."""
    labels, context = spec.get("labels"), spec.get("context") or {}
    gate, threshold = context.get("gate") if isinstance(context, dict) else None, spec.get("threshold") or {}
    label_thresholds = spec.get("label_thresholds") or {}
    problems = [
        (isinstance(labels, list) and all(isinstance(label, str) and label for label in labels)
         and len(set(labels)) == len(labels) and "other" in labels, "'labels' must list distinct label names with 'other'"),
        (spec.get("task", "single") in ("single", "multilabel"), "'task' must be 'single' or 'multilabel'"),
        (isinstance(spec.get("files"), dict), "'files' must map file names to their sha256"),
        (isinstance(spec.get("options") or {}, dict), "'options' must be a mapping of settings"),
        (isinstance(spec.get("model"), dict), "'model' must be a mapping of the model type's settings"),
        (isinstance(context, dict) and is_count(context.get("head", 0)), "'context.head' must be a whole number >= 0"),
        (gate is None or (isinstance(gate, list) and len(gate) in (3, 4) and all(map(is_finite, gate))),
         "'context.gate' must be 3 or 4 numbers"),
        (isinstance(threshold, dict) and (threshold.get("value") is None or (is_finite(threshold["value"]) and 0 <= threshold["value"] <= 1)),
         "'threshold.value' must be a number from 0 to 1"),
        (isinstance(label_thresholds, dict) and all(is_finite(v) and 0 <= v <= 1 for v in label_thresholds.values()),
         "'label_thresholds' must map labels to numbers from 0 to 1"),
    ]
    wrong = next((message for fine, message in problems if not fine), None)
    if wrong:
        raise UserError(f"{directory}/{SPEC_FILE}: {wrong}; retrain or re-copy the model")


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def verify_files(directory: Path, expected: dict[str, str]) -> None:
    if not expected:
        raise UserError(f"{directory}/{SPEC_FILE}: lists no model files; the directory is incomplete, retrain it")
    actual = file_digests(directory)
    for name, digest in expected.items():
        if name not in actual:
            raise UserError(f"{directory}: {name} is missing (fix: copy the whole model directory)")
        if actual[name] != digest:
            raise UserError(f"{directory}: {name} does not match its sha256 in {SPEC_FILE}; refusing a tampered or corrupt model")
    # a file browser's own files (.DS_Store when Finder opens model/) are no one's model: not refused
    extra = sorted(name for name in set(actual) - set(expected) if Path(name).name not in OS_CLUTTER)
    if extra:
        raise UserError(f"{directory}: {extra[0]} is not listed in {SPEC_FILE}; refusing a directory with unknown files")


def runtime_options(spec: dict, overrides: dict | None = None) -> dict:
    """The spec's runtime options, with the caller's non-None overrides on top."""
    options = {**DEFAULT_OPTIONS, **(spec.get("options") or {})}
    options.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return options


def load_model(directory: str | Path, options: dict | None = None):
    """(inference model, spec) of a model directory, through the runtime's model types."""
    import importlib

    directory = Path(directory)
    spec = read_spec(directory)
    module = importlib.import_module(f"vnzh_runtime.{spec['model_type']}")
    model = module.load(directory / MODEL_SUBDIR, spec, runtime_options(spec, options))
    return model, spec
