"""Shared bench helpers: realistic paragraphs from the corpus, repeated to the size asked for."""

from __future__ import annotations

import platform
from itertools import cycle, islice

from train.data import DEFAULT_FILES, load_records


def corpus_texts(patterns: list[str] = DEFAULT_FILES) -> list[str]:
    return [r.text for r in load_records(patterns)]


def paragraphs(n: int) -> list[str]:
    return list(islice(cycle(corpus_texts()), n))


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
