"""Turn domain errors and HTTP errors into one JSON error shape."""

from __future__ import annotations

import logging

from typing import Callable

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from docsearch.index.errors import DocsearchError

from .request import BadQuery, PassageNotFound

log = logging.getLogger(__name__)


def error_response(message: str, status: int):
    """Return the one JSON error body: {"error": message, "status": status}."""
    response = jsonify(error=message, status=status)
    response.status_code = status
    return response


Respond = Callable[[str, int], Response]


def handle_errors(target: Flask | Blueprint, respond: Respond, internal: str,
                  describe: Callable[[HTTPException], str] = lambda exc: exc.description or exc.name) -> None:
    """Answer errors on an app or a blueprint through respond(message, status), never with a traceback.

    The one mapping of errors to statuses: a BadQuery is 400, an unknown passage 404, a DocsearchError 503,
    an HTTP error its own code (described by describe), anything else 500 with
    the message internal and the traceback in the log.
    """

    @target.errorhandler(BadQuery)
    def bad_query(exc: BadQuery):
        return respond(str(exc), 400)

    @target.errorhandler(PassageNotFound)
    def not_found(exc: PassageNotFound):
        return respond(str(exc), 404)

    @target.errorhandler(DocsearchError)
    def unavailable(exc: DocsearchError):
        log.error("search unavailable: %s", exc)
        return respond(str(exc), 503)

    @target.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return respond(describe(exc), exc.code or 500)

    @target.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return respond(internal, 500)


def register_error_handlers(app: Flask) -> None:
    """Answer every error with the JSON error shape, never a traceback."""

    def describe(exc: HTTPException) -> str:
        if exc.code == 413:
            return f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        if exc.code == 404:
            return f"no such endpoint: {request.path}"
        if exc.code == 405:
            return f"method {request.method} is not allowed on {request.path}"
        return exc.description or exc.name

    handle_errors(app, error_response, "internal error; the server log has the details", describe)
