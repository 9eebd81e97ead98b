"""Fitting the article-context gate (`vnzh_runtime.relevance`) on dev, for any model type.

    >>> gate = fit_gate(predictor, dev_records, head=3)     # [w0, w1, w2, w3], or None
    >>> update_spec(output_dir, context={"head": 3, "gate": gate})

The model itself is trained on paragraphs alone; the gate's four weights (bias, paragraph,
head, next paragraph) are all that is learned about context, from the dev paragraphs that sit
in an article with a head. Real pages also carry neighbouring stories that keep their own
label whatever the page is about, so the standalone dev paragraphs are added once more, each
placed under the head of a dev article (seeded), as a sidebar would be, with no next paragraph.
"""

from __future__ import annotations

import numpy as np

from train.data import Record, record_contexts
from vnzh_runtime.context import following
from vnzh_runtime.relevance import gate_features

MIN_ROWS = 20  # fewer dev paragraphs with an article head: no gate, paragraphs stand alone


def no_gate_note(records: list[Record], head: int) -> str:
    """Why no gate was fitted, for a model whose paragraphs will then be read alone, whatever `context.head` says."""
    inside = sum(1 for context in record_contexts(records, head) if context)
    why = (f"dev holds {inside} paragraphs inside an article (records that share a doc_id), and it "
           f"needs {MIN_ROWS}" if inside < MIN_ROWS else "dev's paragraphs are all VN–China, or all other")
    return (f"note: article context is off in this model: {why} to fit the gate that weighs an article's head; every "
            "paragraph is read alone (fix: add whole articles, and look-alike stories, to dev)")


def fit_gate(predictor, records: list[Record], head: int, seed: int = 13) -> list[float] | None:
    from sklearn.linear_model import LogisticRegression

    import random

    contexts = record_contexts(records, head)
    rows = [i for i, context in enumerate(contexts) if context]
    pages = sorted({contexts[i] for i in rows})
    if len(rows) < MIN_ROWS or not pages:
        return None
    sidebars = [i for i, r in enumerate(records) if r.doc_id is None]
    placed = random.Random(seed).choices(pages, k=len(sidebars))
    texts = [records[i].text for i in rows + sidebars]
    labels = [records[i].label != "other" for i in rows + sidebars]
    if len(set(labels)) < 2:
        return None
    alone = predictor.predict_proba(texts)
    heads = predictor.predict_proba([contexts[i] for i in rows] + placed)
    after = next_paragraph_scores(predictor, records, rows, len(sidebars))
    fitted = LogisticRegression(C=1.0).fit(gate_features(alone, heads, predictor.labels, after), labels)
    return [float(fitted.intercept_[0]), *(float(w) for w in fitted.coef_[0])]


def next_paragraph_scores(predictor, records: list[Record], rows: list[int], placed: int) -> np.ndarray:
    """The scores of each row's next paragraph in its article, then `placed` sidebars': NaN where none."""
    nexts = following([r.text for r in records], [r.doc_id for r in records])
    known = sorted({nexts[i] for i in rows if nexts[i] is not None})
    scores = dict(zip(known, predictor.predict_proba(known))) if known else {}
    none = np.full(len(predictor.labels), np.nan)  # an article's last paragraph, or a placed sidebar
    return np.stack([scores[nexts[i]] if nexts[i] is not None else none for i in rows] + [none] * placed)
