"""Turn domain errors and HTTP errors into one JSON error shape."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from index.errors import DocsearchError

log = logging.getLogger(__name__)


class BadQuery(ValueError):
    """A request whose parameters are wrong; the message says what to fix."""


def error_response(message: str, status: int):
    """Return the one JSON error body: {"error": message, "status": status}."""
    response = jsonify(error=message, status=status)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every error with the JSON error shape, never a traceback."""

    @app.errorhandler(BadQuery)
    def bad_query(exc: BadQuery):
        return error_response(str(exc), 400)

    @app.errorhandler(DocsearchError)
    def unavailable(exc: DocsearchError):
        log.error("search unavailable: %s", exc)
        return error_response(str(exc), 503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description or exc.name
        if exc.code == 413:
            message = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        elif exc.code == 404:
            message = f"no such endpoint: {request.path}"
        elif exc.code == 405:
            message = f"method {request.method} is not allowed on {request.path}"
        return error_response(message, exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return error_response("internal error; the server log has the details", 500)
