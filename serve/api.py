"""HTTP API over a loaded `Predictor` (FastAPI; docs at /docs, schema at /openapi.json).

    GET  /health                          {"status": "ok", "model_type": "tfidf", "labels": [...]}
    POST /tag          {"texts": [...], "doc_ids": [...]?}   {"results": [{"lang", "label", "scores"}, ...]}
    POST /tag/article  {"text": "..."}    {"results": [{"line", "text", "lang", "label", "scores"}, ...]}
    POST /tag/file?filename=x.jsonl       body: a file; serve tag's records for it (serve/page.py)
    GET  /                                the analyst's page (serve/static/)

Both POSTs take an optional `threshold` (abstain below it, 0-1; "auto" = chosen on dev).
An article's paragraphs are read with its head (`vnzh_runtime.context`), as are texts of
/tag that share a `doc_ids` entry. /tag/article splits, numbers and tags an article exactly
as `serve tag` does the same article saved as a .txt file (same lines, head, labels and
scores, however long the article). Errors say what is wrong without echoing the body.
Inference runs in worker threads behind a capacity limiter, so a burst of clients
queues (slower answers) instead of failing.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve.html_pages import UNCLOSED
from serve.page import MAX_FILE_RECORDS, add_page
from serve.readers import article_paragraphs
from serve.tagging import InputRecord, tag_records, with_threshold
from vnzh_runtime.errors import UserError
from vnzh_runtime.markup import is_blank
from vnzh_runtime.predictor import Predictor
from vnzh_runtime.provenance import model_info
from vnzh_runtime.repeated_keys import repeated_key

MAX_TEXTS = 256
MAX_CHARS = 20_000
MAX_ARTICLE_CHARS = 500_000
MAX_FILE_BYTES = 2_000_000
# The largest valid /tag body: 256 texts of 20,000 characters, 4 UTF-8 bytes each at most (with
# JSON escapes of 6 bytes per character rarer than that), and room for ids and keys.
MAX_JSON_BYTES = 6 * MAX_TEXTS * MAX_CHARS + 1_000_000

Threshold = Optional[Union[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)], Literal["auto"]]]


# The field of the other endpoint, sent to this one
OTHER_ENDPOINT = {"text": " (one article's text: POST /tag/article)", "texts": " (a list of paragraphs: POST /tag)"}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data):
        # One error for any number of unknown keys: pydantic's one per key held the event loop for
        # seconds on a body of 1,000,000 of them.
        if isinstance(data, dict):
            first = next((key for key in data if key not in cls.model_fields), None)
            if first is not None:
                count = sum(key not in cls.model_fields for key in data)
                more = f" (and {count - 1:,} more)" if count > 1 else ""
                raise ValueError(f"{first[:60]!r}{more}: not a field of this request; it takes "
                                 f"{', '.join(cls.model_fields)}{OTHER_ENDPOINT.get(first, '')}")
        return data


class TagRequest(Body):
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS,
                             description=f"1 to {MAX_TEXTS} paragraphs of at most {MAX_CHARS} characters each")
    doc_ids: Optional[list[Optional[Union[StrictStr, StrictBool, StrictInt, StrictFloat]]]] = Field(
        None, max_length=MAX_TEXTS, description="one per text (a string or a JSON scalar, named as serve tag names it: 7 and \"7\" are "
                          "one article): texts sharing one are one article")
    threshold: Threshold = Field(None, description="abstain below this top score (0-1); 'auto' = chosen on dev")

    @model_validator(mode="after")
    def _same_length(self):
        if self.doc_ids is not None and len(self.doc_ids) != len(self.texts):
            raise ValueError(f"doc_ids has {len(self.doc_ids)} entries for {len(self.texts)} texts; give one per text")
        return self


class ArticleRequest(Body):
    text: str = Field(min_length=1, max_length=MAX_ARTICLE_CHARS, description="a raw article, one paragraph per line")
    threshold: Threshold = None


# What a field takes, said once for pydantic's one error per union branch ("Input should be a valid string", "... boolean", ...)
FIELD_RULES = {"doc_ids": "each must be a string, a number, true/false or null",
               "threshold": "must be a number from 0 to 1, or 'auto'"}


def validation_message(errors: list[dict]) -> str:
    """Pydantic's errors as one line: each place once ("doc_ids[0]: ..."), never the input echoed back
    (a 50 MB body must not come back in the error)."""
    said: dict[str, list[str]] = {}
    for error in errors:
        if error.get("type") == "json_invalid":  # loc holds the character where reading stopped
            at = next((part for part in error.get("loc", ()) if isinstance(part, int)), None)
            found = ": ".join(x for x in (f"character {at}" if at is not None else "",
                                          str((error.get("ctx") or {}).get("error", "")).strip()) if x)
            return f"the body is not valid JSON{f' ({found})' if found else ''}; send a JSON object"
        loc = [part for part in error.get("loc", ()) if part not in ("body", "query")]
        if not loc and error.get("type") == "missing":
            return "the body is empty; send a JSON object"
        if not loc and error.get("type") == "model_attributes_type":  # `[{...}]`, `null`, `"text"`
            got = {list: "an array", type(None): "null", str: "a string"}.get(type(error.get("input")), "not an object")
            return f"the body is {got}; send a JSON object (its fields as /docs shows them)"
        where = f"{loc[0]}[{loc[1]}]" if len(loc) > 1 and isinstance(loc[1], int) else str(loc[0]) if loc else ""
        message = list_fix(loc, error) or str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "string_unicode":  # a "\ud800" escape alone: JSON allows it, no text holds it
            message = "holds a lone surrogate escape (\\ud800 to \\udfff), which is no character; remove it"
        if where == "text" and error.get("type") == "string_too_long":  # most of a saved page is script
            message += f" (a saved page counts its markup: send the file to /tag/file, up to {MAX_FILE_BYTES:,} bytes)"
        said.setdefault(where, []).append(message)
    parts = [(f"{where}: " if where else "") + said_once(where.split("[")[0], messages) for where, messages in said.items()]
    return "; ".join(parts[:3]) + (f"; and {len(parts) - 3} more" if len(parts) > 3 else "")


def list_fix(loc: list, error: dict) -> str | None:
    """What to send instead, for pydantic's words on the lists of /tag ("List should have at least 1 item
    after validation, not 0")."""
    kind, got = error.get("type"), (error.get("ctx") or {}).get("actual_length")
    if loc == ["texts"] and kind in ("too_short", "too_long"):
        return f"{got:,} given; send at least 1 and at most {MAX_TEXTS} paragraphs per request (split a longer batch)"
    if loc == ["doc_ids"] and kind == "too_long":
        return f"{got:,} given; send one per text (at most {MAX_TEXTS})"
    if loc and loc[0] == "texts" and kind in ("string_type", "list_type"):
        return "must be a list of strings, the paragraphs' texts" if len(loc) == 1 else "must be a string, a paragraph's text"
    return None


def said_once(field: str, messages: list[str]) -> str:
    """A field's messages; for a union's one per branch, what the field takes (FIELD_RULES)."""
    if len(set(messages)) > 1 and field in FIELD_RULES:
        return FIELD_RULES[field]
    return "; ".join(dict.fromkeys(messages))


def create_app(predictor: Predictor, workers: int = 2, source: str | None = None) -> FastAPI:
    """The app; `source` (the --model given) names the model on /health and the page."""
    if workers < 1:
        raise UserError(f"workers: {workers} must be at least 1")
    app = FastAPI(title="VN–China topic tagger", version=str(predictor.spec.get("format_version", "")))
    limiter = anyio.CapacityLimiter(workers)
    info = model_info(predictor, source)

    @app.middleware("http")
    async def refuse_oversized_json(request: Request, call_next):
        # A body declared larger than any valid request is refused before it is read and parsed.
        declared = request.headers.get("content-length", "")
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if request.method == "POST" and encoding not in ("", "identity"):  # else "not UTF-8 JSON": the wrong reason
            return JSONResponse({"detail": f"the body is sent with content-encoding {encoding}, which this server does "
                                           "not decode; send it uncompressed"}, status_code=415)
        if request.method == "POST" and request.url.path in ("/tag", "/tag/article") and request.query_params:
            # ignored, `?threshold=0.9` would look obeyed: a JSON body carries the settings
            return JSONResponse({"detail": f"{', '.join(sorted(set(request.query_params)))}: {request.url.path} takes "
                                           "no query parameters; send them in the JSON body (\"threshold\": 0.9)"},
                                status_code=422)
        if request.url.path in ("/tag", "/tag/article") and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
            return JSONResponse({"detail": f"the body has {int(declared):,} bytes; a request holds at most "
                                           f"{MAX_TEXTS} texts of {MAX_CHARS:,} characters ({MAX_JSON_BYTES:,} bytes)"},
                                status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def short_422(request: Request, exc: RequestValidationError) -> JSONResponse:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        json_body = request.url.path in ("/tag", "/tag/article")  # /tag/file reads the raw body
        if json_body and not (kind == "application/json" or kind.endswith("+json")):  # curl -d sends a form type
            return JSONResponse({"detail": f"the body is sent as {kind or 'no content type'}; send JSON with "
                                           "content-type: application/json (curl -H 'content-type: application/json')"},
                                status_code=415)
        return JSONResponse({"detail": validation_message(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def unreadable_body_is_422(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":  # FastAPI's, for bad UTF-8 or deep nesting
            return JSONResponse({"detail": "the body cannot be read as JSON (not UTF-8, or nested too deep); "
                                           "send a JSON object as UTF-8"}, status_code=422)
        return await http_exception_handler(request, exc)

    async def tag(texts: list[str], threshold, doc_ids=None) -> list[dict]:
        for i, text in enumerate(texts):
            if len(text) > MAX_CHARS:
                raise HTTPException(413, f"texts[{i}] has {len(text)} characters; the limit is {MAX_CHARS} per text")
            if is_blank(text):
                raise HTTPException(422, f"texts[{i}] is empty; send paragraphs with text (the batch tagger's rule too)")
        value = predictor.resolve_threshold(threshold) if threshold is not None else None
        return await anyio.to_thread.run_sync(lambda: predictor.predict(texts, value, doc_ids), limiter=limiter)

    @app.api_route("/health", methods=["GET", "HEAD"])  # HEAD: what uptime probes send
    def health() -> dict:
        return {"status": "ok", "model_type": predictor.spec.get("model_type"), "labels": predictor.labels,
                "threshold": predictor.threshold, "auto_threshold": predictor.resolve_threshold("auto"),
                "multilabel": predictor.multilabel, "label_thresholds": predictor.label_thresholds,
                "model": info, "limits": {"texts": MAX_TEXTS, "chars": MAX_CHARS, "article_chars": MAX_ARTICLE_CHARS,
                                          "file_bytes": MAX_FILE_BYTES, "file_records": MAX_FILE_RECORDS}}

    async def given_once(raw: Request, model: type[BaseModel]) -> None:
        """A body key given twice is refused: JSON readers keep the last without a word (the body is read once
        by FastAPI; this reads its cached bytes)."""
        key = repeated_key(await raw.body(), frozenset(model.model_fields))
        if key is not None:
            raise HTTPException(422, f"{key}: given twice in the body, and only the last would count; give it once")

    # The same limit on the bytes actually read (FastAPI's), for a body sent in chunks without a length.
    @app.post("/tag", max_body_size=MAX_JSON_BYTES)
    async def tag_texts(request: TagRequest, raw: Request) -> dict:
        await given_once(raw, TagRequest)
        return {"results": await tag(request.texts, request.threshold, request.doc_ids)}

    def tag_paragraphs(paragraphs: list[tuple[int, str]], threshold) -> list[dict]:
        """`serve tag`'s own batching and article heads (a head is the article's, not a batch's)."""
        # a page's block never closed (text None) is the error result on its line, as in serve tag
        records = [InputRecord(line, text, "article", None if text is not None else f"line {line}: {UNCLOSED}")
                   for line, text in paragraphs]
        return [{"line": line, "text": text, **{k: v for k, v in row.items() if k not in ("id", "doc_id")}}
                for (line, text), row in zip(paragraphs, tag_records(with_threshold(predictor, threshold), records))]

    @app.post("/tag/article", max_body_size=MAX_JSON_BYTES)
    async def tag_article(request: ArticleRequest, raw: Request) -> dict:
        await given_once(raw, ArticleRequest)
        # split in a worker thread too: a long page takes a while, and the event loop serves every client
        try:
            paragraphs = await anyio.to_thread.run_sync(article_paragraphs, request.text, limiter=limiter)
        except UserError as err:  # a feed of several articles, or XML that is no page
            raise HTTPException(422, str(err)) from None
        if not paragraphs:  # as "" is (min_length): a blank article is a mistake, not an article of no paragraphs
            raise HTTPException(422, "text has no paragraphs (only blank lines or markup); send the article, "
                                     "one paragraph per line")
        if len(paragraphs) > MAX_FILE_RECORDS:  # 500,000 one-character lines: a 100 MB answer, as /tag/file's records
            raise HTTPException(413, f"the article has {len(paragraphs):,} paragraphs; the limit is "
                                     f"{MAX_FILE_RECORDS:,} (split it, or tag it with python -m serve tag)")
        for line, text in paragraphs:
            if text is not None and len(text) > MAX_CHARS:
                raise HTTPException(413, f"line {line} of the article has {len(text)} characters; "
                                         f"the limit is {MAX_CHARS} per paragraph")
        return {"results": await anyio.to_thread.run_sync(lambda: tag_paragraphs(paragraphs, request.threshold),
                                                          limiter=limiter)}

    add_page(app, predictor, limiter, max_file_bytes=MAX_FILE_BYTES, max_chars=MAX_CHARS)
    return app
