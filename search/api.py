"""The JSON API: /api/search, /api/similar and /healthz. Routes only call the Searcher."""

from __future__ import annotations

from flask import Blueprint, request

from . import get_searcher
from .metrics import observe
from .request import BadQuery, SearchRequest, SimilarRequest

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
        asked = SearchRequest.parse(_json_body(), from_json=True)
    else:
        asked = SearchRequest.parse(request.args)
    answer = get_searcher().search(asked)
    observe(answer)
    return answer.to_dict()


@bp.route("/api/similar", methods=["GET", "POST"])
def similar():
    """Answer with the passages most like a stored one, as JSON."""
    if request.method == "POST":
        asked = SimilarRequest.parse(_json_body(), from_json=True)
    else:
        asked = SimilarRequest.parse(request.args)
    answer = get_searcher().similar(asked)
    observe(answer)
    return answer.to_dict()


@bp.route("/healthz")
def healthz():
    """Report that the index is loaded, with its statistics."""
    return {"status": "ok", **get_searcher().stats()}
