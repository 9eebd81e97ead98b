"""HTTP API: same answers as the predictor, limits and malformed bodies are 4xx."""

import json

import pytest
from fastapi.testclient import TestClient

from serve.api import MAX_CHARS, MAX_TEXTS, create_app


@pytest.fixture(scope="module")
def client(tfidf_predictor):
    with TestClient(create_app(tfidf_predictor)) as client:
        yield client


TEXTS = ["Kim ngạch thương mại song phương tăng 19%", "中越两国海警举行北部湾联合巡逻", "Vietnam and China agree to boost youth exchanges"]


def test_health(client, tfidf_predictor):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["labels"] == tfidf_predictor.labels


def test_tag_matches_predictor_in_order(client, tfidf_predictor):
    response = client.post("/tag", json={"texts": TEXTS})
    assert response.status_code == 200
    assert response.json()["results"] == tfidf_predictor.predict(TEXTS)


def test_article_is_split_and_tagged(client, tfidf_predictor):
    article = "Tiêu đề\n\n" + TEXTS[0] + "\n" + TEXTS[1] + "\n"
    results = client.post("/tag/article", json={"text": article}).json()["results"]
    assert [r["line"] for r in results] == [1, 3, 4]
    as_article = tfidf_predictor.predict(["Tiêu đề", *TEXTS[:2]], doc_ids=["article"] * 3)  # read with its context
    assert [r["scores"] for r in results] == [p["scores"] for p in as_article]


def test_doc_ids_may_be_json_scalars_named_as_serve_tag_names_them(client, tfidf_predictor):
    texts = ["Việt Nam và Trung Quốc ký 14 văn kiện hợp tác kinh tế, thương mại trong chuyến thăm cấp nhà nước",
             "Giữ nhịp giao thương"]
    mixed = client.post("/tag", json={"texts": texts, "doc_ids": [7, "7"]})
    assert mixed.status_code == 200
    assert mixed.json()["results"] == tfidf_predictor.predict(texts, doc_ids=["7", "7"])  # one article
    apart = client.post("/tag", json={"texts": texts, "doc_ids": [7, 7.0]}).json()["results"]
    assert apart[1] == tfidf_predictor.predict(texts[1:])[0]  # two documents: the subhead alone
    assert client.post("/tag", json={"texts": texts, "doc_ids": [{"a": 1}, "7"]}).status_code == 422


def test_threshold_parameter(client):
    high = client.post("/tag", json={"texts": TEXTS[:1], "threshold": 1.0}).json()["results"][0]
    assert high["label"] == "uncertain"
    assert client.post("/tag", json={"texts": TEXTS[:1], "threshold": "auto"}).status_code == 200


@pytest.mark.parametrize("body, says", [
    (json.dumps({"texts": ["a"], "doc_ids": [{"a": 1}]}).encode(), "doc_ids[0]: each must be a string, a number"),
    (json.dumps({"texts": ["a"], "threshold": 2}).encode(), "threshold: must be a number from 0 to 1, or 'auto'"),
    (b'{"texts": ["\xff"]}', "the body cannot be read as JSON (not UTF-8"),  # FastAPI's bare 400 before
    (b'{"texts": ["a"], "threshold": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
    (b'{"texts": ["a"],}', "Expecting property name"),
    (b"", "the body is empty"),
])
def test_malformed_bodies_get_422_and_one_line_that_says_what_is_wrong(client, body, says):
    response = client.post("/tag", content=body, headers={"content-type": "application/json"})
    detail = response.json()["detail"]
    assert response.status_code == 422 and isinstance(detail, str) and "\n" not in detail and says in detail


@pytest.mark.parametrize("body, status, words", [
    ({"texts": ["x"] * (MAX_TEXTS + 1)}, 422, f"at most {MAX_TEXTS}"),
    ({"texts": ["x" * (MAX_CHARS + 1)]}, 413, f"limit is {MAX_CHARS}"),
    ({"texts": []}, 422, "at least 1"),
    ({"texts": "not a list"}, 422, "list"),
    ({"texts": [1, 2]}, 422, "string"),
    ({"text": "wrong key"}, 422, "texts"),
    ({"texts": ["a"], "extra": 1}, 422, "extra"),
    # one error for the whole list or body, not one per entry (300,000 bad doc_ids held the server 10 s)
    ({"texts": ["a"], "doc_ids": [{}] * 1000}, 422, '"doc_ids: 1,000 given; send one per text (at most 256)"'),
    ({"texts": ["a"], **{f"k{i}": 0 for i in range(1000)}}, 422,
     "'k0' (and 999 more): not a field of this request; it takes texts, doc_ids, threshold"),
    ({"texts": ["a"] * MAX_TEXTS, "doc_ids": ["d"] * MAX_TEXTS}, 200, '"results"'),
])
def test_bad_requests_are_4xx_that_say_why(client, body, status, words):
    response = client.post("/tag", json=body)
    assert response.status_code == status
    assert words in response.text


def test_a_field_of_the_other_endpoint_names_that_endpoint(client):
    answer = client.post("/tag/article", json={"texts": ["Hai nước ký kết hiệp định"]})
    assert answer.status_code == 422 and answer.json()["detail"] == (
        "'texts': not a field of this request; it takes text, threshold (a list of paragraphs: POST /tag)")
    answer = client.post("/tag", json={"text": "Hai nước ký kết hiệp định"})
    assert answer.json()["detail"].endswith("it takes texts, doc_ids, threshold (one article's text: POST /tag/article)")


def test_non_json_body_is_4xx(client):
    response = client.post("/tag", content=b"\xff\xfe not json", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert client.post("/tag/article", json={"text": ""}).status_code == 422
    blank = client.post("/tag/article", json={"text": " \n\t\n  "})
    assert blank.status_code == 422 and "no paragraphs" in blank.json()["detail"]


def test_an_article_over_the_limit_points_a_saved_page_to_the_file_endpoint(client):
    from serve.api import MAX_ARTICLE_CHARS

    response = client.post("/tag/article", json={"text": "<html>" + "x" * MAX_ARTICLE_CHARS})
    assert response.status_code == 422 and "send the file to /tag/file" in response.json()["detail"]


def test_a_compressed_body_is_415_naming_the_encoding(client):
    import gzip

    for path in ("/tag", "/tag/article", "/tag/file?filename=a.jsonl"):
        response = client.post(path, content=gzip.compress(b'{"texts": ["Kim ngach"], "text": "Kim ngach"}'),
                               headers={"content-type": "application/json", "content-encoding": "gzip"})
        assert response.status_code == 415 and "content-encoding gzip" in response.json()["detail"], path


def test_json_sent_with_another_content_type_is_415_naming_the_header(client):
    for kind in ("text/plain", "application/x-www-form-urlencoded"):  # the second is what curl -d sends
        for path, body in (("/tag", b'{"texts": ["Kim ngach"]}'), ("/tag/article", b'{"text": "Kim ngach"}')):
            response = client.post(path, content=body, headers={"content-type": kind})
            assert response.status_code == 415 and "content-type: application/json" in response.json()["detail"]
            assert kind in response.json()["detail"]
    assert client.post("/tag", json={"texts": 3}).status_code == 422  # JSON of the wrong shape: still 422


def test_serve_api_on_a_port_in_use_is_one_line_before_the_model_loads(tmp_path, capsys):
    import socket

    from serve.__main__ import main as serve_main

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert serve_main(["api", "--model", str(tmp_path / "no-model"), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"127.0.0.1:{port}: cannot listen there" in err[0]


def test_a_body_larger_than_any_valid_request_is_413_before_it_is_parsed(client):
    from serve.api import MAX_JSON_BYTES

    body = b'{"texts": ["' + b"x" * MAX_JSON_BYTES + b'"]}'
    response = client.post("/tag", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "bytes" in response.json()["detail"]
    assert client.post("/tag", json={"texts": ["x" * 20_000] * 2}).status_code == 200  # valid large ones pass


def test_a_body_sent_in_chunks_is_cut_off_at_the_same_size(client):
    from serve.api import MAX_JSON_BYTES

    def chunks():  # no Content-Length: the size is known only while reading
        yield b'{"texts": ["'
        yield from (b"x" * 1_000_000 for _ in range(MAX_JSON_BYTES // 1_000_000 + 2))
        yield b'"]}'

    for path in ("/tag", "/tag/article"):
        response = client.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and response.json()["detail"] == "Content Too Large", path


def test_openapi_docs(client):
    assert "/tag/article" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
