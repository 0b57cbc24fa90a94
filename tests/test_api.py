"""The JSON API: response shape, rankings, and one JSON error shape for bad input."""

import pytest

from .conftest import app_for

QUESTION = "Which 2008 agreement governs the strategic dialogue?"
HIT_KEYS = [
    "rank", "score", "text", "source", "passage", "line_start", "line_end", "start", "end", "title", "section",
    "page", "page_end", "id", "dense_rank", "dense_score", "lexical_rank", "lexical_score", "highlights",
]


def test_get_search_shape_and_ranking(client):
    response = client.get("/api/search", query_string={"q": QUESTION, "k": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["query", "k", "mode", "group", "took_ms", "generation", "low_confidence", "results"]
    assert body["generation"] == 1
    assert body["query"] == QUESTION and body["k"] == 3
    assert body["mode"] == "hybrid" and body["group"] is None and body["low_confidence"] is False
    assert isinstance(body["took_ms"], float) and body["took_ms"] >= 0
    assert len(body["results"]) == 3
    assert all(list(hit) == HIT_KEYS for hit in body["results"])
    assert body["results"][0]["source"] == "004_68f2a8bcaf0079e8.txt"
    assert [hit["rank"] for hit in body["results"]] == [1, 2, 3]


def test_post_gives_the_same_results_as_get(client):
    got = client.get("/api/search", query_string={"q": QUESTION, "k": 5}).get_json()
    posted = client.post("/api/search", json={"q": QUESTION, "k": 5}).get_json()
    assert posted["results"] == got["results"]


def test_k_defaults_to_10(client):
    body = client.get("/api/search", query_string={"q": "Iraq"}).get_json()
    assert body["k"] == 10 and len(body["results"]) == 10


def test_healthz_reports_index_statistics(client, searcher):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["passages"] == searcher.manifest.passages and body["files"] == 5
    assert body["model"] == "all-MiniLM-L6-v2"
    assert body["built_at"] == searcher.manifest.built_at


@pytest.mark.parametrize(
    "query, message",
    [
        ({}, "missing parameter q"),
        ({"q": ""}, "q is blank"),
        ({"q": "   "}, "q is blank"),
        ({"q": "x" * 1001}, "q is 1001 characters long; the limit is 1000"),
        ({"q": "Iraq", "k": "0"}, "k must be an integer from 1 to 100"),
        ({"q": "Iraq", "k": "101"}, "k must be an integer from 1 to 100"),
        ({"q": "Iraq", "k": "ten"}, "k must be an integer from 1 to 100"),
        ({"q": "Iraq", "k": "2.5"}, "k must be an integer from 1 to 100"),
        ({"q": "Iraq", "k": "-3"}, "k must be an integer from 1 to 100"),
        ({"q": "Iraq", "mode": "fuzzy"}, "mode must be one of hybrid, dense, lexical"),
        ({"q": "Iraq", "group": "folder"}, "group must be file, or left out"),
    ],
)
def test_bad_get_parameters_get_a_400_that_says_why(client, query, message):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.get_json() == {"error": response.get_json()["error"], "status": 400}
    assert message in response.get_json()["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"k": 3}, "missing parameter q"),
        ({"q": 42}, "q must be a string"),
        ({"q": None}, "missing parameter q"),
        ({"q": "Iraq", "k": True}, "k must be an integer"),
        ({"q": "Iraq", "k": 3.0}, "k must be an integer"),
        ({"q": "Iraq", "k": "3"}, "k must be an integer"),
        ({"q": "Iraq", "k": 1000}, "k must be an integer from 1 to 100"),
        (["Iraq"], "must be a JSON object"),
        ("Iraq", "must be a JSON object"),
    ],
)
def test_bad_json_bodies_get_a_400_that_says_why(client, body, message):
    response = client.post("/api/search", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_malformed_json_is_a_400(client):
    response = client.post("/api/search", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "request body is not valid JSON", "status": 400}


def test_empty_body_is_a_400(client):
    response = client.post("/api/search", data="", content_type="application/json")
    assert response.status_code == 400
    assert "request body is empty" in response.get_json()["error"]


def test_oversized_body_is_a_413(client):
    response = client.post("/api/search", data="{" + " " * 70_000 + "}", content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request body is larger than 65536 bytes"


def test_unknown_endpoint_and_method_get_json_errors(client):
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and missing.get_json()["error"] == "no such endpoint: /api/nothing"
    wrong = client.put("/api/search")
    assert wrong.status_code == 405 and "method PUT is not allowed" in wrong.get_json()["error"]


def test_missing_index_is_a_503_with_the_fix(tmp_path):
    client = app_for(tmp_path).test_client()
    for path in ("/api/search?q=Iraq", "/healthz"):
        response = client.get(path)
        assert response.status_code == 503
        assert "no index at" in response.get_json()["error"]
        assert "docsearch index" in response.get_json()["error"]


def test_unexpected_errors_are_json_without_a_traceback(app, monkeypatch):
    searcher = app.extensions["docsearch"]["searcher"]
    monkeypatch.setattr(searcher, "search", lambda *args: 1 / 0)
    response = app.test_client().get("/api/search?q=Iraq")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; the server log has the details", "status": 500}
    assert b"Traceback" not in response.data and b"ZeroDivision" not in response.data
