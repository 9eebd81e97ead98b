"""Shared bench helpers: realistic paragraphs from the corpus, repeated to the size asked for."""

from __future__ import annotations

import glob
import json
import platform
from itertools import cycle, islice


def corpus_texts(pattern: str = "data/authored/*.jsonl") -> list[str]:
    texts = []
    for path in sorted(glob.glob(pattern)) + ["data/seeds.jsonl"]:
        with open(path, encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for line in handle if line.strip()]
    return texts


def paragraphs(n: int) -> list[str]:
    return list(islice(cycle(corpus_texts()), n))


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
