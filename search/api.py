"""The JSON API: /api/search and /healthz. Routes only call the Searcher."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, request

from . import get_searcher
from .errors import BadQuery
from .params import parse_search

bp = Blueprint("api", __name__)


def _json_body() -> dict:
    """Return the request's JSON object, or raise BadQuery saying what is wrong."""
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # silent=True does not cover the parser's own recursion limit
        raise BadQuery("request body is nested too deeply") from None
    if body is None:
        raise BadQuery("request body is not valid JSON" if request.get_data() else "request body is empty; send JSON like {\"q\": \"...\"}")
    if not isinstance(body, dict):
        raise BadQuery("request body must be a JSON object like {\"q\": \"...\", \"k\": 10}")
    return body


@bp.route("/api/search", methods=["GET", "POST"])
def search():
    """Answer a question with ranked passages as JSON."""
    if request.method == "POST":
        params = parse_search(_json_body(), from_json=True, max_chars=current_app.config["MAX_QUERY_CHARS"])
    else:
        params = parse_search(request.args, max_chars=current_app.config["MAX_QUERY_CHARS"])
    searcher = get_searcher()
    began = time.perf_counter()
    hits = searcher.search(params.q, params.k, params.mode, params.group)
    low_confidence = searcher.is_low_confidence(params.q, hits)
    took_ms = round((time.perf_counter() - began) * 1000, 2)
    return {
        "query": params.q,
        "k": params.k,
        "mode": params.mode,
        "group": params.group,
        "took_ms": took_ms,
        "generation": searcher.manifest.generation,
        "low_confidence": low_confidence,
        "results": [hit.to_dict() for hit in hits],
    }


@bp.route("/healthz")
def healthz():
    """Report that the index is loaded, with its statistics."""
    return {"status": "ok", **get_searcher().stats()}
