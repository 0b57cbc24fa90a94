"""End to end: `docsearch serve` builds the index, starts a real server, answers over HTTP."""

import json
import shutil
import time
import urllib.parse

import pytest

from .conftest import DOCS_CORPUS
from .server_process import fetch, serving

QUESTION = "Which 2008 agreement governs the strategic dialogue?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real docsearch server on a loopback port, over an index it builds itself, watching its corpus."""
    base_dir = tmp_path_factory.mktemp("served")
    corpus = base_dir / "corpus"
    shutil.copytree(DOCS_CORPUS, corpus)
    log = base_dir / "server.log"
    args = ["--corpus", str(corpus), "--index-dir", str(base_dir / "index"), "--watch"]
    with serving(args, log) as base:
        yield base, log, corpus


def test_serve_built_the_missing_index(server):
    base, log, _ = server
    status, body = fetch(base + "/healthz")
    assert status == 200 and body["files"] == 5 and body["generation"] == 1
    output = log.read_text()
    assert "building it from" in output and "indexed 5 files" in output


def test_search_over_http(server):
    base, *_ = server
    status, body = fetch(base + "/api/search?" + urllib.parse.urlencode({"q": QUESTION, "k": 3}))
    assert status == 200
    assert body["results"][0]["source"] == "004_68f2a8bcaf0079e8.txt"
    assert len(body["results"]) == 3
    status, posted = fetch(base + "/api/search", json.dumps({"q": QUESTION, "k": 3}).encode())
    assert status == 200 and posted["results"] == body["results"]


def test_bad_requests_over_http_are_json_400s(server):
    base, *_ = server
    status, body = fetch(base + "/api/search?q=Iraq&k=abc")
    assert status == 400 and body == {"error": "k must be an integer from 1 to 100", "status": 400}
    status, body = fetch(base + "/api/search", b"{oops")
    assert status == 400 and body["error"] == "request body is not valid JSON"


def test_form_over_http(server):
    base, *_ = server
    status, html = fetch(base + "/?" + urllib.parse.urlencode({"q": QUESTION}))
    assert status == 200
    assert html.index("004_68f2a8bcaf0079e8.txt") < html.index("lines")


def test_watch_reindexes_a_new_file_without_a_restart(server):
    base, log, corpus = server
    (corpus / "penguins.txt").write_text("Emperor penguins huddle together through the Antarctic winter night.\n")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, body = fetch(base + "/api/search?" + urllib.parse.urlencode({"q": "penguins in Antarctica", "k": 1}))
        if status == 200 and body["generation"] == 2:
            break
        time.sleep(0.5)
    assert body["generation"] == 2, log.read_text()
    assert body["results"][0]["source"] == "penguins.txt"
    assert "re-indexed" in log.read_text() and "added 1, changed 0, removed 0, unchanged 5 files" in log.read_text()
