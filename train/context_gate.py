"""Fitting the article-context gate (`vnzh_runtime.relevance`) on dev, for any model type.

    >>> gate = fit_gate(predictor, dev_records, head=3)     # [w0, w1, w2], or None
    >>> update_spec(output_dir, context={"head": 3, "gate": gate})

The model itself is trained on paragraphs alone; the gate's three weights are all that
is learned about context, from the dev paragraphs that sit in an article with a head.
Real pages also carry neighbouring stories that keep their own label whatever the page is
about, so the standalone dev paragraphs are added once more, each placed under the head of
a dev article (seeded), as a sidebar would be.
"""

from __future__ import annotations

from train.data import Record, record_contexts
from vnzh_runtime.relevance import gate_features

MIN_ROWS = 20  # fewer dev paragraphs with an article head: no gate, paragraphs stand alone


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
    fitted = LogisticRegression(C=1.0).fit(gate_features(alone, heads, predictor.labels), labels)
    return [float(fitted.intercept_[0]), *(float(w) for w in fitted.coef_[0])]
