"""Vietnamese word segmentation for PhoBERT, which was pre-trained on segmented text.

    >>> segment(["Tổng Bí thư Tô Lâm thăm Trung Quốc"], "pyvi")
    ['Tổng_Bí_thư Tô_Lâm thăm Trung_Quốc']

The segmenter is part of the model's saved settings, so tagging segments exactly as
training did. Text is normalised (NFC, tone placement) first, by `train.textnorm`.
Large inputs are segmented in a process pool over all cores.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

from vnzh_runtime.textnorm import normalize

SEGMENTERS = ("none", "pyvi")
# Below this many texts a process pool costs more (worker start-up) than it saves.
POOL_MIN_TEXTS = 4000


def _pyvi(texts: list[str]) -> list[str]:
    from pyvi import ViTokenizer

    return [ViTokenizer.tokenize(t) for t in texts]


def _start_method() -> str:
    """fork is cheap and works from any __main__; after CUDA is initialised only spawn is safe."""
    torch = sys.modules.get("torch")
    cuda_started = torch is not None and torch.cuda.is_initialized()
    return "spawn" if cuda_started or "fork" not in multiprocessing.get_all_start_methods() else "fork"


def segment(texts: list[str], segmenter: str, workers: int | None = None) -> list[str]:
    """Normalise, then segment; large inputs are split over `workers` processes (default: all cores)."""
    texts = [normalize(t) for t in texts]
    if segmenter == "none":
        return texts
    if segmenter != "pyvi":
        raise ValueError(f"unknown segmenter {segmenter!r}; use one of {SEGMENTERS}")
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(texts) < POOL_MIN_TEXTS:
        return _pyvi(texts)
    from concurrent.futures import ProcessPoolExecutor

    # pyvi is pure CPU work: on a GPU machine it would otherwise cap tagging at one core's speed.
    size = -(-len(texts) // (workers * 4))
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(_start_method())) as pool:
        return [t for chunk in pool.map(_pyvi, chunks) for t in chunk]
