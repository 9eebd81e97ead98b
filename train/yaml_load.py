"""Reading a config's YAML: safe, and a key set twice is an error, where PyYAML keeps the last one
without a word (a `seed: 13` further down would silently override the `seed: 7` the user edited);
and, for a value of the wrong type, why YAML typed it so (`yaml_hint`: 1e-3 is text to YAML 1.1).

    >>> load_yaml("seed: 7\\nname: x\\n")
    {'seed': 7, 'name': 'x'}
    >>> try:
    ...     load_yaml("seed: 7\\nseed: 13\\n")
    ... except yaml.YAMLError as err:
    ...     print(err.problem, "on line", err.problem_mark.line + 1)
    'seed' is set twice (fix: keep one) on line 2
"""

from __future__ import annotations

import re

import yaml


class UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        seen = set()
        merges = 0
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *defaults": merged keys may be overridden
                merges += 1  # ... but a second "<<" in one mapping would silently replace the first
                if merges > 1:
                    raise yaml.constructor.ConstructorError(None, None, "'<<' is set twice (fix: one '<<' with a list, "
                                                            "<<: [*a, *b])", key_node.start_mark)
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: SafeLoader says so itself
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is set twice (fix: keep one)",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node):
        """YAML 1.1 reads 017 as octal 15 and 1:30 as 90 (base 60), where a config means 17 and a time or a
        name: an error on its line rather than another number (0x1F, 1_000 and 00 are read as written)."""
        value, read = self.construct_scalar(node), super().construct_yaml_int(node)
        if re.fullmatch(r"[-+]?0[0-9_]+", value) and value.strip("+-0_"):
            raise MisreadNumber(value, read, " (fix: write it without the leading zeros, or quote it)", node)
        return self.not_base_60(value, read, node)

    def construct_yaml_float(self, node):
        return self.not_base_60(self.construct_scalar(node), super().construct_yaml_float(node), node)

    @staticmethod
    def not_base_60(value: str, read, node):
        if ":" in value:  # 1:30.5 is 90.5 to YAML 1.1
            raise MisreadNumber(value, read, ", a number in base 60 (fix: quote it)", node)
        return read


class MisreadNumber(yaml.constructor.ConstructorError):
    """A number YAML 1.1 reads as another: its problem says what it read and the fix."""

    def __init__(self, value: str, read, why: str, node):
        super().__init__(None, None, f"YAML 1.1 reads {value} as {read}{why}", node.start_mark)


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", UniqueKeyLoader.construct_yaml_int)
UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", UniqueKeyLoader.construct_yaml_float)


def load_yaml(text: str):
    return unshared(yaml.load(text, Loader=UniqueKeyLoader))  # noqa: S506 - a SafeLoader subclass


def unshared(value, inside: frozenset = frozenset()):
    """The value with each YAML alias its own copy: YAML gives `*enc` the very mapping `&enc` names, so a
    `--set` on one key would change every key that shares it.

    >>> raw = load_yaml("a: &enc {max_length: 128}\\nb: *enc\\n")
    >>> raw["a"]["max_length"] = 256
    >>> raw["b"]["max_length"]
    128
    """
    if isinstance(value, (dict, list)):
        if id(value) in inside:  # `&a [*a]`: no config is made of itself
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to the node that holds it (fix: "
                                                    "copy the values instead)", None)
        inside = inside | {id(value)}
        if isinstance(value, dict):
            return {key: unshared(item, inside) for key, item in value.items()}
        return [unshared(item, inside) for item in value]
    return value


def yaml_hint(error: dict) -> str:
    """Why YAML gave a value of the wrong type, where it surprises: 1e-3 is text to YAML 1.1, and
    2026, no or on are a number or a boolean where a name is wanted."""
    value = error.get("input")
    if error["type"] in ("float_parsing", "float_type", "int_parsing") and isinstance(value, str) and \
            re.fullmatch(r"[-+]?[0-9.]+e[-+]?[0-9]+", value, re.IGNORECASE):
        mantissa, exponent = value.lower().split("e")
        written = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exponent if exponent[0] in '+-' else '+' + exponent}"
        return f" (YAML reads {value} as text; write {written})"
    if error["type"] == "string_type" and isinstance(value, (bool, int, float)):
        return " (YAML read it as a number or true/false; quote it: \"...\")"
    if error["type"] == "string_type" and value is None:  # `name:` or --set name=
        return " (fix: give it a value, or leave the key out for its default; `~` alone is YAML's null: '~/models/x' is a folder in your home)"
    if error["type"] == "list_type" and isinstance(value, str):
        return f" (fix: a YAML list, e.g. [{value}])"
    if error["type"] == "literal_error" and isinstance(value, str) and value.lower() in ("none", "null", "nil"):
        return " (fix: YAML's none is null)"
    return ""


def key_line(text: str, dotted_key: str) -> int | None:
    """The line of the YAML text that sets a dotted key (or the deepest section of it that is there),
    so that an error names it as an editor shows it; None where the text does not parse.

    >>> key_line("model:\\n  type: tfidf\\n  tfidf:\\n    C: -1\\n", "model.tfidf.C")
    4
    >>> key_line("data:\\n  files:\\n    - a.jsonl\\n    - b.jsonl\\n", "data.files.1")
    4
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in dotted_key.split("."):
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line

