"""End to end: `docsearch serve` builds the index, starts a real server, answers over HTTP."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .conftest import DOCS_CORPUS

QUESTION = "Which 2008 agreement governs the strategic dialogue?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, data: bytes | None = None) -> tuple[int, dict | str]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers.get_content_type()
    return status, json.loads(body) if kind == "application/json" else body.decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real docsearch server on a loopback port, over an index it builds itself."""
    index_dir = tmp_path_factory.mktemp("served") / "index"
    port = free_port()
    log = tmp_path_factory.mktemp("log") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "search", "serve", "--corpus", str(DOCS_CORPUS), "--index-dir", str(index_dir),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {log.read_text()}")
        try:
            if fetch(base + "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"server did not answer in time: {log.read_text()}")
    yield base, log
    process.terminate()
    process.wait(timeout=30)


def test_serve_built_the_missing_index(server):
    base, log = server
    status, body = fetch(base + "/healthz")
    assert status == 200 and body["files"] == 5 and body["generation"] == 1
    output = log.read_text()
    assert "building it from" in output and "indexed 5 files" in output


def test_search_over_http(server):
    base, _ = server
    status, body = fetch(base + "/api/search?" + urllib.parse.urlencode({"q": QUESTION, "k": 3}))
    assert status == 200
    assert body["results"][0]["source"] == "004_68f2a8bcaf0079e8.txt"
    assert len(body["results"]) == 3
    status, posted = fetch(base + "/api/search", json.dumps({"q": QUESTION, "k": 3}).encode())
    assert status == 200 and posted["results"] == body["results"]


def test_bad_requests_over_http_are_json_400s(server):
    base, _ = server
    status, body = fetch(base + "/api/search?q=Iraq&k=abc")
    assert status == 400 and body == {"error": "k must be an integer from 1 to 100", "status": 400}
    status, body = fetch(base + "/api/search", b"{oops")
    assert status == 400 and body["error"] == "request body is not valid JSON"


def test_form_over_http(server):
    base, _ = server
    status, html = fetch(base + "/?" + urllib.parse.urlencode({"q": QUESTION}))
    assert status == 200
    assert html.index("004_68f2a8bcaf0079e8.txt") < html.index("lines")
