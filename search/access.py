"""The access log: one line per request through the logger ``docsearch.access``.

A line is ``METHOD PATH STATUS MSms``: the path without its query string, and the
question (``q="..."``) only when the server was told ``--log-queries``, since
questions can be private. Headers, cookies and bodies are never logged, so neither is a key.
"""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import ARRIVED

log = logging.getLogger("docsearch.access")
MAX_LOGGED_CHARS = 300
ESCAPES = {'"': '\\"', "\\": "\\\\"}


def init_app(app: Flask, log_queries: bool = False) -> None:
    """Log each request of app, with its question only if log_queries."""
    app.after_request(lambda response: _log(response, log_queries))


def enable(stream=None) -> None:
    """Write the access log to stderr (or stream), one timestamped line per request, whatever the root logger says."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def _log(response: Response, log_queries: bool) -> Response:
    """Log one answered request."""
    if not log.isEnabledFor(logging.INFO):
        return response
    arrived = request.environ.get(ARRIVED)
    took = f"{(time.perf_counter() - arrived) * 1000:.1f}ms" if arrived is not None else "-"
    line = f"{printable(request.method)} {printable(request.path)} {response.status_code} {took}"
    question = _question(response) if log_queries else None
    if question is not None:
        line += f' q="{printable(question)}"'
    log.info("%s", line)
    return response


def _question(response: Response) -> str | None:
    """Return the request's question (q in the query string, or in a search's JSON body), if it has one."""
    if "q" in request.args:
        return request.args["q"]
    if request.method != "POST" or request.endpoint != "api.search" or response.status_code == 413:
        return None
    try:  # parsed once already by the view: Flask keeps the result
        body = request.get_json(force=True, silent=True)
    except (RecursionError, HTTPException):
        return None
    return body["q"] if isinstance(body, dict) and isinstance(body.get("q"), str) else None


def printable(text: str) -> str:
    """Return text cut to MAX_LOGGED_CHARS with quotes, backslashes and unprintable characters escaped.

    A log line stays one line whatever a client sends: no newline, no control character, no lone surrogate.
    """
    cut = text[:MAX_LOGGED_CHARS]
    escaped = "".join(ESCAPES.get(c, c) if c.isprintable() else _escape(c) for c in cut)
    return escaped + ("..." if len(text) > MAX_LOGGED_CHARS else "")


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
