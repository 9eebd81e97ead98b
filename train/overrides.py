"""`--set KEY=VALUE` flags on the raw YAML mapping, before the config is validated.

    >>> raw = {"name": "tfidf", "output_dir": "models/tfidf"}
    >>> before = dict(raw)
    >>> apply_override(raw, "name=fm", Path("models/tfidf/config.yaml"))
    >>> follow_new_name(before, raw, "config", ["name=fm"]); raw
    {'name': 'fm'}
"""

from __future__ import annotations

from pathlib import Path

import yaml

from train.schema import ConfigError
from train.yaml_load import MisreadNumber, load_yaml


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
    try:
        node[parts[-1]] = load_yaml(value)  # the config file's own reading: 017 is no octal 15 here either
    except MisreadNumber as err:  # its own fix
        raise ConfigError(f"--set {item!r}: {err.problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {item!r}: the value is not valid YAML ({getattr(err, 'problem', err)}); quote it") from None


def default_output_dir(name: str) -> str:
    return f"models/{name}"


def default_registered_model(name: str) -> str:
    return f"vn-china-topics-{name}"


DEFAULT_PLACES = {"output_dir": default_output_dir, "mlflow.registered_model": default_registered_model}  # name -> place


def follow_new_name(before: dict, raw: dict, stem: str, overrides: list[str] | None = None) -> None:
    """A name given by --set renames what the old name named. A model's own config.yaml spells out
    `output_dir: models/<name>` and `registered_model: vn-china-topics-<name>`; retrained from it
    under a new name, those would still be the old model's, and its alias would move to the new one."""
    old = before.get("name") or stem
    if raw.get("name") in (None, "", old) or not isinstance(old, str):
        return
    for key, place in DEFAULT_PLACES.items():
        section, _, leaf = key.rpartition(".")
        now, then = (raw.get(section), before.get(section)) if section else (raw, before)
        given = origin(key, "", overrides) != ""  # what a --set gives now stays as given
        if not given and isinstance(now, dict) and isinstance(then, dict) and now.get(leaf) == then.get(leaf) == place(old):
            now.pop(leaf)


def origin(key: str, source: str, overrides: list[str] | None) -> str:
    """Where the value at a dotted key came from: the last --set that set it or a section above it, else the file."""
    for item in reversed(overrides or []):
        set_key = item.partition("=")[0]
        # the --set set this key, a section above it, or a key below it (which made the section)
        if key == set_key or key.startswith(set_key + ".") or set_key.startswith(key + "."):
            return f"--set {item!r}"
    return source
