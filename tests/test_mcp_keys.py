"""`docsearch mcp --http` with API keys: the SDK's client with the key works, anything else is a 401."""

from __future__ import annotations

import subprocess
import sys

import pytest
from anyio.from_thread import start_blocking_portal

from docsearch.search.keys import add_key

from .mcp_client import over_http
from .server_process import fetch

WRONG_KEY = "ds_a-wrong-key-for-the-mcp-transport"


@pytest.fixture(scope="module")
def keyed_agent(tmp_path_factory, docs_index):
    """An SDK client sending the key to `docsearch mcp --http --api-key-file FILE`; with the base URL, log and key."""
    root = tmp_path_factory.mktemp("mcp_keys")
    key = add_key(root / "keys")
    log = root / "mcp.log"
    with start_blocking_portal() as portal:
        args = ["--index-dir", str(docs_index), "--api-key-file", str(root / "keys")]
        with over_http(portal, args, log, headers={"Authorization": f"Bearer {key}"}) as (agent, base):
            yield agent, base, log, key


def test_the_sdk_client_with_the_key_searches(keyed_agent):
    agent, _, log, key = keyed_agent
    answer = agent.answer("search", query="Which 2008 agreement governs the strategic dialogue?", k=1)
    assert answer["hits"][0]["file"] == "004_68f2a8bcaf0079e8.txt"
    output = log.read_text()
    assert "API keys: 1 accepted; every endpoint but /healthz needs one" in output and key not in output


def test_without_the_key_the_mcp_endpoint_is_a_401(keyed_agent):
    _, base, log, _ = keyed_agent
    hello = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
    headers = {"Accept": "application/json, text/event-stream"}
    assert fetch(base + "/mcp", hello, headers=headers) == (401, {
        "error": "this server needs an API key: send the header Authorization: Bearer KEY", "status": 401})
    assert fetch(base + "/mcp", hello, headers={**headers, "Authorization": f"Bearer {WRONG_KEY}"}) == (
        401, {"error": "the API key is not valid", "status": 401})
    assert fetch(base + "/healthz")[0] == 200  # for load balancers, as in serve
    assert WRONG_KEY not in log.read_text()


def test_mcp_http_refuses_a_non_loopback_address_without_keys(tmp_path):
    result = subprocess.run([sys.executable, "-m", "docsearch.search", "mcp", "--http", "--host", "0.0.0.0",
                             "--port", "0", "--index-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "refusing to listen on 0.0.0.0 without API keys" in result.stderr


def test_keys_are_for_http_only(tmp_path):
    add_key(tmp_path / "keys")
    result = subprocess.run([sys.executable, "-m", "docsearch.search", "mcp", "--api-key-file", str(tmp_path / "keys")],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "--api-key-file and --no-auth are for --http" in result.stderr
