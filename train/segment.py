"""Vietnamese word segmentation for PhoBERT, which was pre-trained on segmented text.

    >>> segment(["Tổng Bí thư Tô Lâm thăm Trung Quốc"], "pyvi")
    ['Tổng_Bí_thư Tô_Lâm thăm Trung_Quốc']

The segmenter is part of the model's saved settings, so tagging segments exactly as
training did. Text is normalised (NFC, tone placement) first, by `train.textnorm`.
"""

from __future__ import annotations

from train.textnorm import normalize

SEGMENTERS = ("none", "pyvi")


def segment(texts: list[str], segmenter: str) -> list[str]:
    texts = [normalize(t) for t in texts]
    if segmenter == "none":
        return texts
    if segmenter == "pyvi":
        from pyvi import ViTokenizer

        return [ViTokenizer.tokenize(t) for t in texts]
    raise ValueError(f"unknown segmenter {segmenter!r}; use one of {SEGMENTERS}")
