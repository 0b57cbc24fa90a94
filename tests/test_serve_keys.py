"""End to end: `docsearch serve` with API keys, metrics and the access log, as a real process on loopback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.parse

import pytest

from docsearch.search.keys import add_key

from .server_process import fetch, serving, wait_for_address

WRONG_KEY = "ds_a-wrong-key-that-must-never-reach-the-log"
QUESTION = "Which 2008 agreement governs the strategic dialogue?"
ACCESS_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (GET|POST) (/\S*) (\d{3}) \d+\.\dms$", re.MULTILINE)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory, docs_index):
    """A server with one key from a key file, on a loopback port: its URL, log and key."""
    base_dir = tmp_path_factory.mktemp("keyed")
    key = add_key(base_dir / "keys")
    log = base_dir / "server.log"
    with serving(["--index-dir", str(docs_index), "--api-key-file", str(base_dir / "keys")], log) as base:
        yield base, log, key


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def metric(text: str, name: str) -> float:
    return float(re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE).group(1))


def test_keyed_server_needs_its_key_everywhere_but_healthz(keyed_server):
    base, log, key = keyed_server
    search = base + "/api/search?" + urllib.parse.urlencode({"q": QUESTION, "k": 2})
    assert fetch(base + "/healthz")[0] == 200
    for url in (search, base + "/metrics", base + "/openapi.json", base + "/api/similar?id=1", base + "/"):
        assert fetch(url)[0] == 401, url
        assert fetch(url, headers=bearer(WRONG_KEY))[0] == 401, url
        assert fetch(url, headers=bearer(key))[0] == 200, url
    status, body = fetch(search, headers=bearer(WRONG_KEY))
    assert (status, body) == (401, {"error": "the API key is not valid", "status": 401})
    output = log.read_text()
    assert "API keys: 1 accepted; every endpoint but /healthz needs one" in output
    assert "api_key_file" in output and WRONG_KEY not in output and key not in output


def test_search_counter_goes_up_by_exactly_the_searches_made(keyed_server):
    base, _, key = keyed_server
    before = fetch(base + "/metrics", headers=bearer(key))[1]
    for q in ("Iraq", "troops", "strategic dialogue"):
        assert fetch(base + "/api/search?" + urllib.parse.urlencode({"q": q}), headers=bearer(key))[0] == 200
    fetch(base + "/api/search?q=Iraq", headers=bearer(WRONG_KEY))
    after = fetch(base + "/metrics", headers=bearer(key))[1]
    ok = 'docsearch_http_requests_total{endpoint="api.search",status="200"}'
    refused = 'docsearch_http_requests_total{endpoint="api.search",status="401"}'
    hybrid = 'docsearch_search_duration_seconds_count{mode="hybrid"}'
    assert metric(after, ok) - metric(before, ok) == 3 and metric(after, hybrid) - metric(before, hybrid) == 3
    assert metric(after, refused) - metric(before, refused) == 1
    assert metric(after, "docsearch_index_generation") == 1 and metric(after, "docsearch_index_files") == 5


def test_access_log_has_one_line_per_request_and_no_question(keyed_server):
    base, log, key = keyed_server
    marker = "zebra-marker-question"
    fetch(base + "/api/search?" + urllib.parse.urlencode({"q": marker}), headers=bearer(key))
    fetch(base + "/api/search?" + urllib.parse.urlencode({"q": marker}), headers=bearer(WRONG_KEY))
    output = log.read_text()
    lines = [m.group(1, 2, 3) for m in ACCESS_LINE.finditer(output)]
    assert lines[-2:] == [("GET", "/api/search", "200"), ("GET", "/api/search", "401")]
    assert marker not in output and WRONG_KEY not in output


def test_log_queries_puts_the_question_in_the_access_log(tmp_path, docs_index):
    log = tmp_path / "server.log"
    with serving(["--index-dir", str(docs_index), "--log-queries"], log) as base:
        fetch(base + "/api/search?" + urllib.parse.urlencode({"q": "zebra question", "k": 1}))
    assert re.search(r" GET /api/search 200 \d+\.\dms q=\"zebra question\"$", log.read_text(), re.MULTILINE)


def run_serve(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "docsearch.search", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_serve_refuses_a_non_loopback_address_without_keys(tmp_path, host):
    result = run_serve("--host", host, "--index-dir", str(tmp_path / "none"), "--corpus", str(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: refusing to listen on {host} without API keys: add one with `docsearch key add --api-key-file FILE` "
        "and serve with --api-key-file FILE, or pass --no-auth to serve anyone who can reach it"]
    assert "building" not in result.stdout + result.stderr  # refused before any work


def test_no_auth_and_keys_exclude_each_other(tmp_path):
    add_key(tmp_path / "keys")
    result = run_serve("--host", "0.0.0.0", "--no-auth", "--api-key-file", str(tmp_path / "keys"))
    assert result.returncode == 2 and "--no-auth and API keys exclude each other" in result.stderr


def test_no_auth_serves_a_non_loopback_address(tmp_path, docs_index):
    """Started in a network namespace of its own, so 0.0.0.0 reaches nothing beyond the test."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--net", "true"]).returncode != 0:
        pytest.skip("needs a network namespace (unshare --net): run as root")
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["unshare", "--net", sys.executable, "-m", "docsearch.search", "serve", "--host", "0.0.0.0", "--port", "0",
             "--no-auth", "--index-dir", str(docs_index)], stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        assert wait_for_address(process, log, 180).startswith("http://0.0.0.0:")
        assert "API keys: none; anyone who can reach the server may use it (--no-auth)" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)
