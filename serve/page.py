"""The analyst's page at `/` and the endpoint it tags files with, `POST /tag/file`.

    GET  /                 the page (serve/static/: one HTML, one JS, one CSS file; nothing external)
    POST /tag/file?filename=x.jsonl&threshold=auto&format=json|jsonl|csv|tsv     body: the file's bytes

`/tag/file` is `serve tag` over HTTP: the file is read by `serve.readers` (picked by
its name: .jsonl/.json/.ndjson, .csv, anything else a raw article) and tagged by `tag_records`, so
its records, per-record errors and ids are exactly those `serve tag` writes for a file of
that name. `format=jsonl`, `csv` or `tsv` answers with the very bytes `serve tag --output x.jsonl`
(or `.csv`) writes; `format=json` (the page's) gives `{"records": [...], "texts": [...],
"furniture": [...], ...}`: the same records, with each record's text and whether it is page
furniture (too short to be a headline or body text, `vnzh_runtime.context`).
Limits are the API's: at most `MAX_FILE_BYTES` per file and `MAX_CHARS` per text (413).
The body is the file itself (`curl --data-binary @x.jsonl`); a form upload (`curl -F`,
multipart/form-data) is refused with 415, as its wrapper lines would be read as records.
"""

from __future__ import annotations

import io
import json
from itertools import islice
from pathlib import Path
from typing import Literal, Optional
from urllib.parse import quote

import anyio
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.requests import ClientDisconnect

from serve.files import CsvWriter, JsonlWriter
from serve.readers import no_records, read_records
from serve.tagging import InputRecord, tag_records, with_threshold
from vnzh_runtime.context import is_substantive
from vnzh_runtime.errors import UserError
from vnzh_runtime.fix_commands import uploaded
from vnzh_runtime.predictor import Predictor, check_threshold

STATIC = Path(__file__).resolve().parent / "static"
MAX_FILE_RECORDS = 50_000  # an upload's records: each answer row is ~250 bytes, whatever the line it came from
ASSETS = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
# /tag/file reads its body raw (no multipart): say so in the OpenAPI docs.
BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_BODY = {"requestBody": {"required": True, "description": "the file's bytes, as on disk",
                             "content": {"application/octet-stream": BINARY}}}
# The page loads only its own files; user text is only ever set as text, never as markup.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the file has {int(declared)} bytes; the limit is {limit} bytes per file")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"the file has more than {limit} bytes; the limit is {limit} bytes per file")
            chunks.append(chunk)
    except ClientDisconnect:  # the sender went away mid-upload: a 400 for the log, not an ASGI traceback
        raise HTTPException(400, "the upload ended before the file did (the client disconnected)") from None
    return b"".join(chunks)


def refuse_form_upload(request: Request, name: str) -> None:
    """415 for a form upload (curl -F): its boundary and part headers are not the file, and read
    as the file they would be tagged as records and shift every line number."""
    if request.headers.get("content-type", "").strip().lower().startswith("multipart/"):
        raise HTTPException(415, "the body is a form upload (multipart, as curl -F sends); send the file's own "
                                 f"bytes as the body instead: curl --data-binary @{name} '.../tag/file?filename={name}'")


def query_threshold(text: str | None):
    """None, "auto" or a number in [0, 1] from a query string; else a 422 naming the fix."""
    if text is None or text == "auto":
        return text
    try:
        number = float(text)
    except ValueError:
        number = text  # not a number: check_threshold refuses it in its own words
    try:
        return check_threshold(number, "threshold")
    except UserError as err:
        raise HTTPException(422, str(err)) from None


def render(rows: list[dict], labels: list[str], fmt: str, label_scores: bool = False) -> str:
    """The records as `serve tag` writes them (serve.files' writers, line ends and all)."""
    sink = io.StringIO(newline="")
    delimiter = {"csv": ",", "tsv": "\t"}.get(fmt)
    writer = JsonlWriter(sink, labels) if delimiter is None else CsvWriter(sink, labels, delimiter, label_scores)
    for row in rows:
        writer.write(row)
    return sink.getvalue()


def json_bytes(payload: dict) -> bytes:
    text = json.dumps(payload, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in an id or a text: escaped JSON is the same value
        return json.dumps(payload).encode("ascii")


FILE_PARAMETERS = {"filename", "threshold", "format"}


def over_limit(record: InputRecord, number: int, filename: str, max_chars: int) -> InputRecord:
    """The record, or its error record where its text is longer than the API takes: the rest of the file is
    tagged all the same (one record over the limit used to refuse the whole file). The id names it: an
    article's is `<stem>:<line>`, a JSONL or CSV record's the user's own."""
    if record.text is None or len(record.text) <= max_chars:
        return record
    where = f"record {number}, id {json.dumps(record.id, ensure_ascii=False, default=str)}"
    return InputRecord(record.id, None, record.doc_id,
                       f"{filename}: {where}, has {len(record.text)} characters; the limit is {max_chars} per text "
                       "over HTTP: break it into paragraphs (python -m serve tag takes it whole)")


def add_page(app: FastAPI, predictor: Predictor, limiter: anyio.CapacityLimiter, *,
             max_file_bytes: int, max_chars: int) -> None:
    """Serve the page at `/` and `/static/`, and `POST /tag/file`."""
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, f"/static/{name}: no such file; the page is at /")
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers=PAGE_HEADERS)

    def tag_upload(body: bytes, filename: str, threshold) -> tuple[list, list[dict]]:
        with uploaded():  # a fix an error names is for the sender's file, named without looking at this machine's
            records = list(islice(read_records(io.BytesIO(body), filename), MAX_FILE_RECORDS + 1))
        if len(records) > MAX_FILE_RECORDS:  # 2 MB of one-character lines: a 250 MB answer
            raise HTTPException(413, f"{filename}: more than {MAX_FILE_RECORDS:,} records; the limit is "
                                     f"{MAX_FILE_RECORDS:,} per file (split it, or tag it with python -m serve tag)")
        if not records:  # as /tag/article's "no paragraphs", not a silent success
            raise HTTPException(422, no_records(filename))
        records = [over_limit(record, number, filename, max_chars) for number, record in enumerate(records, start=1)]
        return records, list(tag_records(with_threshold(predictor, threshold), records, workers=1))

    @app.post("/tag/file", responses={413: {"description": "over the file's bytes or records (a record over the text "
                                                           "limit is its own error record)"},
                                      415: {"description": "a form upload (multipart) instead of the file's bytes"}},
              openapi_extra=FILE_BODY)
    async def tag_file(
        request: Request,
        filename: str = Query(..., min_length=1, max_length=255,
                              description="the file's name; .jsonl/.json/.ndjson, .csv, or anything else for a raw article"),
        threshold: Optional[str] = Query(None, description="abstain below this top score (0-1); 'auto': chosen on dev"),
        format: Literal["json", "jsonl", "csv", "tsv"] = Query("json", description="json: the page's; jsonl/csv/tsv: serve tag's"),
    ) -> Response:
        """Tag a file (the request body, raw bytes) exactly as `python -m serve tag` tags a file of that name."""
        name = Path(filename.replace("\\", "/")).name
        if not name or name in (".", ".."):
            raise HTTPException(422, f"filename: {filename!r} is not a file name; send e.g. filename=paragraphs.jsonl")
        unknown = sorted(set(request.query_params) - FILE_PARAMETERS)
        if unknown:  # ignored, it would look obeyed (label_threshold=..., a misspelt thresold=0.7)
            raise HTTPException(422, f"{', '.join(unknown)}: not a parameter of /tag/file (it takes "
                                     f"{', '.join(sorted(FILE_PARAMETERS))}); remove it")
        twice = sorted(key for key in set(request.query_params) if len(request.query_params.getlist(key)) > 1)
        if twice:  # the last would win without a word, as an option given twice would
            raise HTTPException(422, f"{', '.join(twice)}: given more than once; give each parameter once")
        value = query_threshold(threshold)
        refuse_form_upload(request, name)
        body = await read_body(request, max_file_bytes)
        try:  # the answer is built in the worker thread too: a large one would stall /health on the event loop
            answer = await anyio.to_thread.run_sync(lambda: answer_upload(body, name, value, format), limiter=limiter)
        except UserError as err:  # e.g. a CSV without a 'text' column: serve tag stops with the same line
            raise HTTPException(422, str(err)) from None
        if format != "json":
            media = {"csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8"}
            return Response(answer, media_type=media.get(format, "application/x-ndjson"),
                            headers={"Content-Disposition": attachment(Path(name).stem or "tags", format)})
        return Response(answer, media_type="application/json")

    def answer_upload(body: bytes, name: str, value, format: str) -> bytes:
        records, rows = tag_upload(body, name, value)
        if format != "json":
            return render(rows, predictor.labels, format, predictor.multilabel).encode("utf-8")
        used = predictor.threshold if value is None else predictor.resolve_threshold(value)
        return json_bytes({"name": name, "threshold": used, "labels": predictor.labels, "records": rows,
                           "texts": [r.text for r in records],
                           "furniture": [r.text is not None and not is_substantive(r.text) for r in records]})


def attachment(stem: str, format: str) -> str:
    """A download's name, as ASCII for old clients and as UTF-8 (RFC 6266's filename*) for the rest,
    so that "中越 bài.txt" downloads as "中越 bài.tags.csv", not "b_i.tags.csv"."""
    shown = "".join(c for c in stem if c.isprintable() and c not in '/\\"').strip() or "tags"
    # a name fits in 255 bytes of UTF-8 (ext4, APFS, NTFS): a longer one cannot be saved as offered
    shown = shown.encode("utf-8")[:255 - len(f".tags.{format}")].decode("utf-8", "ignore")  # a cut character goes whole
    ascii_stem = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in shown).strip("._") or "tags"
    return f"attachment; filename=\"{ascii_stem}.tags.{format}\"; filename*=UTF-8''{quote(f'{shown}.tags.{format}', safe='')}"
