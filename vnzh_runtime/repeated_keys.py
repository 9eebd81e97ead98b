"""A JSON key given twice in one record: json keeps the last value without a word, so a second
"labels" or "text" would silently win. `loads` reads a line and refuses that; `repeated_key` asks it
of a raw body only where the key's name occurs twice (or a key is spelled with an escape, which json
reads as the key it spells):

    >>> repeated_key(b'{"text": "a", "t\\\\u0065xt": "b"}', frozenset({"text"}))
    'text'
"""

from __future__ import annotations

import json
import re
from functools import lru_cache


class RepeatedKey(ValueError):
    """A top-level key given twice in one record: json keeps the last value without a word.
    `salvaged`: the record without its repeated keys (its ids, for an error record to join back)."""

    def __init__(self, key: str, salvaged: dict | None = None):  # a default: pickling rebuilds it from args alone
        super().__init__(key)
        self.salvaged = salvaged


class _Object(dict):
    repeated = ()  # the keys its JSON gave twice, in order


def _object(pairs: list) -> _Object:
    value = _Object(pairs)
    if len(value) < len(pairs):  # a key given twice
        seen, repeated = set(), []
        for key, _ in pairs:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        value.repeated = tuple(repeated)
    return value


def loads(text: str, unique_keys: bool | frozenset = False):
    """json.loads as every line is read (strict=False: a raw tab or other control character inside a
    string, as careless exporters write, is read as the text it is rather than refused); with
    `unique_keys`, a record's own key given twice is `RepeatedKey` (keys of nested objects, which no
    reader reads, are left as json reads them). `unique_keys` may name the keys that matter (what
    a reader reads); others given twice are left as json reads them.

    >>> loads('{"labels": ["economy"], "text": "a", "labels": ["other"]}', unique_keys=True)
    Traceback (most recent call last):
    vnzh_runtime.repeated_keys.RepeatedKey: labels
    >>> loads('{"id": 1, "tag": "a", "tag": "b"}', unique_keys=frozenset({"id", "text"}))
    {'id': 1, 'tag': 'b'}
    """
    value = json.loads(text, strict=False, object_pairs_hook=_object if unique_keys else None)
    if isinstance(value, _Object):
        repeated = [key for key in value.repeated if unique_keys is True or key in unique_keys]
        if repeated:
            raise RepeatedKey(repeated[0], {k: v for k, v in value.items() if k not in value.repeated})
        value = dict(value)
    return value


def repeated_key_error(where: str, key: str) -> str:
    shown = json.dumps(key if len(key) <= 40 else key[:40] + "…", ensure_ascii=False)
    return f"{where}: key {shown} is given twice, and only the last would count (fix: keep one)"


# A key spelled with an escape ("t\u0065xt" is "text"): json reads it as the key it spells, and the
# quoted name alone would not find it. Keys only (a string followed by ":"): escaped text in values,
# as ensure_ascii writers put in every line, keeps the fast path. At most 12 letters or escapes (every
# key read here is shorter), so a long run of escapes in a value costs linear time, not quadratic.
_ESCAPED_KEY = re.compile(rb'"(?:\w|\\u00[0-9a-fA-F]{2}){0,12}"\s*:')


def may_repeat(raw: bytes, keys: bool | frozenset) -> bool:
    """Whether one of `keys` may be given twice in this line: its quoted name occurs twice, or a key
    is spelled with an escape (a value may hold a name too: the slow path then decides).

    >>> may_repeat(b'{"text": "a", "t\\\\u0065xt": "b"}', frozenset({"text"}))
    True
    >>> may_repeat(b'{"text": "Vi\\\\u1ec7t"}', frozenset({"text"}))
    False
    """
    return bool(keys) and (any(raw.count(quoted) > 1 for quoted in quoted_names(keys))
                           or (b"\\u00" in raw and any(b"\\u00" in key for key in _ESCAPED_KEY.findall(raw))))


@lru_cache(maxsize=8)
def quoted_names(keys: frozenset) -> tuple[bytes, ...]:
    return tuple(b'"%s"' % key.encode() for key in keys)


def repeated_key(raw: bytes, keys: frozenset) -> str | None:
    """The first of `keys` that the JSON object in `raw` gives twice at its top level (json would keep
    the last without a word), or None.

    >>> repeated_key(b'{"texts": ["a"], "texts": ["b"]}', frozenset({"texts"}))
    'texts'
    """
    if not may_repeat(raw, keys):
        return None
    try:
        loads(raw.decode("utf-8"), keys)
    except RepeatedKey as err:
        return err.args[0]
    except (ValueError, RecursionError):  # not JSON: its reader says so
        pass
    return None


