"""The access log: one line per request, its exact shape, and the question only when asked for."""

from __future__ import annotations

import io
import logging
import re

import pytest

from docsearch.search import access, create_app
from docsearch.search.config import Config

LINE = re.compile(r"^(GET|POST) (\S+) (\d{3}) (\d+\.\d)ms( q=\"(?:[^\"\\]|\\.)*\")?$")


def logged_app(docs_index, encoder, searcher, **settings):
    app = create_app(Config.load({"index_dir": docs_index, **settings}, environ={}), encoder=encoder)
    app.extensions["docsearch"]["searcher"] = searcher
    return app.test_client()


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "docsearch.access"]


def test_one_line_per_request_without_the_query_string(docs_index, encoder, searcher, caplog):
    client = logged_app(docs_index, encoder, searcher)
    with caplog.at_level(logging.INFO, logger="docsearch.access"):
        client.get("/api/search", query_string={"q": "private question about Iraq", "k": 2})
        client.post("/api/search", json={"q": "another private question"})
        client.get("/api/search", query_string={"q": "Iraq", "k": "many"})
        client.get("/healthz")
        client.get("/no/such/page")
    logged = lines(caplog)
    assert len(logged) == 5, logged
    assert [LINE.match(line).group(1, 2, 3) for line in logged] == [
        ("GET", "/api/search", "200"), ("POST", "/api/search", "200"), ("GET", "/api/search", "400"),
        ("GET", "/healthz", "200"), ("GET", "/no/such/page", "404")]
    assert not any("private" in line or "Iraq" in line or "k=" in line or "q=" in line for line in logged)


def test_questions_only_with_log_queries(docs_index, encoder, searcher, caplog):
    client = logged_app(docs_index, encoder, searcher, log_queries=True)
    with caplog.at_level(logging.INFO, logger="docsearch.access"):
        client.get("/api/search", query_string={"q": "troops in Iraq", "k": 2})
        client.post("/api/search", json={"q": 'a "quoted"\nquestion'})
        client.get("/", query_string={"q": "strategic dialogue"})
        client.get("/api/similar", query_string={"id": 1})
        client.post("/api/search", data=b"[" * 50_000, content_type="application/json")
    logged = lines(caplog)
    assert all(LINE.match(line) for line in logged), logged
    assert logged[0].endswith(' q="troops in Iraq"')
    assert logged[1].endswith(' q="a \\"quoted\\"\\x0aquestion"')  # still one line
    assert logged[2].endswith(' q="strategic dialogue"')
    assert " q=" not in logged[3] and " q=" not in logged[4] and logged[4].startswith("POST /api/search 400 ")


def test_a_hostile_path_stays_on_one_line(docs_index, encoder, searcher, caplog):
    client = logged_app(docs_index, encoder, searcher)
    with caplog.at_level(logging.INFO, logger="docsearch.access"):
        client.get("/x%0Afake 200 line%00" + "y" * 400)
    (line,) = lines(caplog)
    assert "\n" not in line and "\\x0afake" in line and "\\x00" in line and line.count("y") < 310


def test_turned_off(docs_index, encoder, searcher, caplog):
    client = logged_app(docs_index, encoder, searcher, access_log=False)
    with caplog.at_level(logging.INFO, logger="docsearch.access"):
        client.get("/api/search", query_string={"q": "Iraq"})
    assert lines(caplog) == []


def test_enable_writes_timestamped_lines(docs_index, encoder, searcher):
    out = io.StringIO()
    logger = logging.getLogger("docsearch.access")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    access.enable(out)
    try:
        logged_app(docs_index, encoder, searcher).get("/healthz")
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} GET /healthz 200 \d+\.\dms\n", out.getvalue())


@pytest.mark.parametrize("text, shown", [("plain", "plain"), ('a"b\\c', 'a\\"b\\\\c'), ("\ud800", "\\ud800"),
                                         ("\u2028", "\\u2028"), ("é中", "é中")])
def test_printable(text, shown):
    assert access.printable(text) == shown
