"""The one line a config error is told in: pydantic's first error as the file and the key's line
(or the --set flag that gave the value), the dotted key, what is wrong and the fix:

    error: configs/mine.yaml:13: model.tfidf.C: Input should be greater than 0, got -1
    error: --set 'seed=x': seed: Input should be a valid integer, got 'x'
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Optional

from train.models import REGISTRY
from train.overrides import origin
from train.schema import NAME, Strict
from train.yaml_load import key_line, yaml_hint


def describe(error: dict, source: str, overrides: list[str] | None, root: type) -> str:
    """One line for pydantic's first error: the file (or --set flag), the dotted key, what is wrong and the fix."""
    key, section = dotted_key(error["loc"], root)
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(section.model_fields)) if section else "see the shipped configs"
        where, type_from = place(key, source, overrides), origin("model.type", source, overrides)
        if key.startswith("model.") and origin(key, source, overrides) == source != type_from:  # the file's key, the --set's type
            return (f"{where}: unknown key '{key}' for the model.type given by {type_from} (fix: use a config "
                    f"of that type, e.g. configs/tiny-transformer.yaml, or one of: {allowed})")
        return f"{where}: unknown key '{key}' (fix: remove it or use one of: {allowed})"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return (f"{place('model.type', source, overrides)}: model.type: {error.get('input', {}).get('type')!r} "
                f"is not allowed (fix: use one of {', '.join(map(repr, REGISTRY))})")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern", "").endswith(NAME.pattern):
        message = "must be a plain name: ASCII letters, digits, '.', '_' and '-', from a letter or digit"
    got = "" if isinstance(error.get("input"), dict) else f", got {shown(error.get('input'))}"  # a section's rule: its message says
    return f"{place(key, source, overrides)}: {key}: {message}{got}{yaml_hint(error)}"


def place(key: str, source: str, overrides: list[str] | None = None) -> str:
    """Where a key's value came from, as an error names it: the --set flag, or the file and the key's line."""
    where = origin(key, source, overrides)
    if where != source or not Path(source).is_file():
        return where
    try:
        line = key_line(Path(source).read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        line = None
    return f"{source}:{line}" if line else source


def shown(value) -> str:
    """A value's repr cut short: a YAML anchor of anchors is a list of millions of items in 500 bytes."""
    import reprlib

    cut = reprlib.Repr()
    cut.maxstring, cut.maxother, cut.maxlist, cut.maxdict, cut.maxlevel = 80, 80, 6, 6, 3
    return cut.repr(value)


def dotted_key(loc: tuple, root: type) -> tuple[str, Optional[type]]:
    """('model', 'tfidf', 'tfidf', 'C') -> ('model.tfidf.C', the section class holding the last key).

    >>> from train.config import Config
    >>> dotted_key(("model", "tfidf", "tfidf", "C"), Config)[0]
    'model.tfidf.C'
    """
    parts, section, holder, tag_next = [], root, root, False
    for part in loc:
        if tag_next:  # the union's tag (model.type's value) is not part of the key
            section, tag_next = REGISTRY[part].Config if part in REGISTRY else None, False
            continue
        parts.append(str(part))
        if isinstance(section, tuple):  # a mapping's own key, e.g. an encoder's name
            section = section[1]
            continue
        holder = section
        field = section.model_fields.get(part) if section is not None and isinstance(part, str) else None
        tag_next = section is root and part == "model"
        section = _section_of(field.annotation) if field else None
    return ".".join(parts), holder


def _section_of(annotation):
    """The Strict class a field holds (directly, optionally, or as a mapping's values)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is dict:
        inner = _section_of(args[1])
        return ("mapping", inner) if inner else None
    if args and typing.get_origin(annotation) is not list:
        return _section_of(args[0])
    return annotation if isinstance(annotation, type) and issubclass(annotation, Strict) else None
