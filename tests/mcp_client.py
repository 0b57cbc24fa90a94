"""Drive a real `docsearch mcp` process with the MCP SDK's own client, from synchronous tests.

A client session lives in an event loop on another thread (an anyio blocking
portal), so one server per transport can serve every test of a module.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from .server_process import serving

COMMAND = [sys.executable, "-m", "docsearch.search", "mcp"]


class Agent:
    """An open MCP client session: call tools, list and read resources, as an agent does."""

    def __init__(self, portal, client: Client):
        self.portal = portal
        self.client = client

    def call(self, tool: str, **arguments):
        """Return the CallToolResult of one tool call."""
        return self.portal.call(self.client.call_tool, tool, arguments)

    def answer(self, tool: str, **arguments) -> dict:
        """Return a successful call's structured answer, checking that its text says the same."""
        result = self.call(tool, **arguments)
        assert not result.is_error, result.content[0].text
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    def error(self, tool: str, **arguments) -> str:
        """Return the text of a call that must be a tool error."""
        result = self.call(tool, **arguments)
        assert result.is_error, result
        return result.content[0].text

    def list_tools(self):
        return self.portal.call(self.client.list_tools).tools

    def list_resources(self):
        return self.portal.call(self.client.list_resources).resources

    def read(self, uri: str) -> str:
        """Return the text of a resource."""
        return self.portal.call(self.client.read_resource, uri).contents[0].text


@contextmanager
def over_stdio(portal, args: list[str], log: Path):
    """Start `docsearch mcp ARGS` as a desktop agent does (the handshake-era protocol); yield an Agent."""
    with open(log, "w") as errors:
        # The SDK starts the server with a few variables only (PATH, HOME, ...): pass the offline switch on.
        server = StdioServerParameters(command=COMMAND[0], args=[*COMMAND[1:], *args], env={"HF_HUB_OFFLINE": "1"})
        transport = stdio_client(server, errlog=errors)
        with portal.wrap_async_context_manager(Client(transport, mode="legacy", read_timeout_seconds=120)) as client:
            yield Agent(portal, client)


@contextmanager
def over_http(portal, args: list[str], log: Path, headers: dict[str, str] | None = None):
    """Start `docsearch mcp --http ARGS` on a free loopback port; yield an Agent (sending headers) and the base URL."""
    with serving([*args, "--http"], log, command=("mcp",)) as base:
        transport = streamable_http_client(base + "/mcp", http_client=create_mcp_http_client(headers=headers))
        with portal.wrap_async_context_manager(Client(transport, read_timeout_seconds=120)) as client:
            yield Agent(portal, client), base
