"""HTTP API over a loaded `Predictor` (FastAPI; docs at /docs, schema at /openapi.json).

    GET  /health                          {"status": "ok", "model_type": "tfidf", "labels": [...]}
    POST /tag          {"texts": [...]}   {"results": [{"lang", "label", "scores"}, ...]}
    POST /tag/article  {"text": "..."}    {"results": [{"line", "text", "lang", "label", "scores"}, ...]}

Both POSTs take an optional `threshold` (abstain below it; "auto" = chosen on dev).
Inference runs in worker threads behind a capacity limiter, so a burst of clients
queues (slower answers) instead of failing.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

import anyio
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from serve.article import split_paragraphs
from train.predictor import Predictor

MAX_TEXTS = 256
MAX_CHARS = 20_000
MAX_ARTICLE_CHARS = 500_000

Threshold = Optional[Union[float, Literal["auto"]]]


class TagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS,
                             description=f"1 to {MAX_TEXTS} paragraphs of at most {MAX_CHARS} characters each")
    threshold: Threshold = Field(None, description="abstain below this top score; 'auto' = chosen on dev")


class ArticleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_ARTICLE_CHARS, description="a raw article, one paragraph per line")
    threshold: Threshold = None


def create_app(predictor: Predictor, workers: int = 2) -> FastAPI:
    app = FastAPI(title="VN–China topic tagger", version=str(predictor.meta.get("format_version", "")))
    limiter = anyio.CapacityLimiter(workers)

    async def tag(texts: list[str], threshold) -> list[dict]:
        for i, text in enumerate(texts):
            if len(text) > MAX_CHARS:
                raise HTTPException(413, f"texts[{i}] has {len(text)} characters; the limit is {MAX_CHARS} per text")
        value = predictor.resolve_threshold(threshold) if threshold is not None else None
        return await anyio.to_thread.run_sync(predictor.predict, texts, value, limiter=limiter)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model_type": predictor.meta.get("model_type"), "labels": predictor.labels,
                "threshold": predictor.threshold}

    @app.post("/tag")
    async def tag_texts(request: TagRequest) -> dict:
        return {"results": await tag(request.texts, request.threshold)}

    @app.post("/tag/article")
    async def tag_article(request: ArticleRequest) -> dict:
        paragraphs = split_paragraphs(request.text)
        results = []
        for start in range(0, len(paragraphs), MAX_TEXTS):
            chunk = paragraphs[start:start + MAX_TEXTS]
            tagged = await tag([text for _, text in chunk], request.threshold)
            results += [{"line": line, "text": text, **r} for (line, text), r in zip(chunk, tagged)]
        return {"results": results}

    return app
