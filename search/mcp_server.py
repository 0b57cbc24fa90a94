"""`docsearch mcp`: serve the index to AI agents over MCP, on stdio or on Streamable HTTP.

Over stdio (what a desktop agent starts) stdout carries the protocol and nothing
else: messages go to stderr, and the model and index load in the background once
the agent is connected, so its start-up is not held up. Over HTTP (``--http``) the
index is loaded first, then the server binds and says where it listens, as
`docsearch serve` does: ``serving on http://HOST:PORT/`` (the MCP endpoint is
``/mcp``; ``/healthz`` reports the index), so ``--port 0`` takes any free port. On a
loopback address the SDK refuses requests whose Host or Origin names another site
(DNS rebinding). With API keys (``--api-key-file``, ``DOCSEARCH_API_KEYS``) every HTTP
request but /healthz needs ``Authorization: Bearer KEY``, checked by the same KeyRing as
`docsearch serve`; without keys, a non-loopback ``--host`` is refused unless ``--no-auth``.

Either way the server follows the index as the web app does (live_searcher): a
generation written by `docsearch index` answers the next call, and an index that is
missing or cannot be loaded is a tool error, with the reason, until it can be.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
from typing import Any, Callable

import click

from .config import Config
from .keys import MISSING, WRONG, KeyRing, bearer
from .server import check_exposure, describe_keys


def serve_mcp(config: Config, http: bool = False) -> None:
    """Serve the index of config over MCP until the agent disconnects (stdio) or until interrupted (HTTP)."""
    from . import live_searcher, live_state

    if not http and "flag" in (config.origins.get("host"), config.origins.get("port")):
        raise click.UsageError("--host and --port are for --http; over stdio the agent starts docsearch itself")
    if not http and "flag" in (config.origins.get("api_key_file"), config.origins.get("no_auth")):
        raise click.UsageError("--api-key-file and --no-auth are for --http; over stdio only the agent that "
                               "started docsearch can reach it")
    searcher = functools.partial(live_searcher, live_state(config))
    if http:
        serve_http(config, searcher, check_exposure(config))
    else:
        serve_stdio(searcher)


def load_now(searcher: Callable[[], Any]) -> None:
    """Load the live generation now and say what it holds, or say why it cannot be loaded yet."""
    from docsearch.index.errors import DocsearchError

    try:
        loaded = searcher()
    except DocsearchError as exc:
        click.echo(f"docsearch mcp: {exc}; tools answer with this until the index can be loaded", err=True)
        return
    m = loaded.manifest
    click.echo(f"docsearch mcp: {m.passages} passages from {m.files} files, model {m.model} on {m.backend}, "
               f"index {loaded.index_dir} (generation {m.generation}, built {m.built_at})", err=True)


def serve_stdio(searcher: Callable[[], Any]) -> None:
    """Serve one agent over stdin and stdout."""
    from .mcp_tools import build_server

    @contextlib.asynccontextmanager
    async def load_in_background(server):
        # Started once the SDK holds stdout, so nothing the loading prints can reach the protocol.
        threading.Thread(target=load_now, args=(searcher,), name="docsearch-load", daemon=True).start()
        yield {}

    build_server(searcher, lifespan=load_in_background).run("stdio")


def serve_http(config: Config, searcher: Callable[[], Any], keys: KeyRing = KeyRing()) -> None:
    """Load the index, bind, say where, and serve Streamable HTTP (with keys, only to their holders) until interrupted."""
    import uvicorn

    from docsearch.index.embed import set_threads

    set_threads(1)  # parallelism comes from concurrent requests
    load_now(searcher)
    app = http_app(config, searcher, keys)
    click.echo("configuration:\n" + "\n".join(config.describe()))
    click.echo(describe_keys(keys, config))
    listening = bind(config.host, config.port)
    host, port = listening.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving on http://{shown}:{port}/  (MCP endpoint at /mcp, health at /healthz)")
    uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)).run(sockets=[listening])


def http_app(config: Config, searcher: Callable[[], Any], keys: KeyRing = KeyRing()):
    """Return the ASGI app of the HTTP transport: the MCP endpoint at /mcp, and /healthz; with keys, guarded."""
    from .mcp_tools import build_server

    server = build_server(searcher)

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(request):
        return await health(searcher)

    app = server.streamable_http_app(host=config.host)
    # Not the SDK's AuthSettings/TokenVerifier: they announce an OAuth authorization server, which keys are not.
    return require_key(app, keys) if keys else app


def require_key(app, keys: KeyRing, open_paths: tuple[str, ...] = ("/healthz",)):
    """Wrap an ASGI app: an HTTP request outside open_paths without one of keys' keys is a 401 in the error shape."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http" or scope["path"] in open_paths:
            return await app(scope, receive, send)  # lifespan events and /healthz pass
        header = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"authorization"), None)
        if keys.accepts(bearer(header)):
            return await app(scope, receive, send)
        body = json.dumps({"error": MISSING if header is None else WRONG, "status": 401}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="docsearch"')]})
        await send({"type": "http.response.body", "body": body})

    return guarded


async def health(searcher: Callable[[], Any]):
    """Report that the index is loaded, with its statistics, or why it is not (503), as /healthz does in serve."""
    import anyio.to_thread
    from starlette.responses import JSONResponse

    from docsearch.index.errors import DocsearchError

    try:
        stats = await anyio.to_thread.run_sync(lambda: searcher().stats())
    except DocsearchError as exc:
        return JSONResponse({"error": str(exc), "status": 503}, status_code=503)
    return JSONResponse({"status": "ok", **stats})


def bind(host: str, port: int) -> socket.socket:
    """Listen on host:port (port 0: any free one), or fail in one line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind, proto)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return listening
