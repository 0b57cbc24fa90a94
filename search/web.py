"""The web form: a plain GET form that works without JavaScript."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template, request

from index.errors import DocsearchError

from . import get_searcher, settings
from .errors import BadQuery
from .params import parse_search

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__)


@bp.route("/")
def form():
    """Show the search form and, when a question was asked, its results."""
    context = {"q": request.args.get("q", ""), "k": request.args.get("k", settings.DEFAULT_K), "hits": None, "error": None}
    status = 200
    if "q" in request.args:
        try:
            params = parse_search(request.args, max_chars=current_app.config["MAX_QUERY_CHARS"])
            context.update(k=params.k, hits=get_searcher().search(params.q, params.k))
        except BadQuery as exc:
            context["error"], status = str(exc), 400
        except DocsearchError as exc:
            log.error("search unavailable: %s", exc)
            context["error"], status = str(exc), 503
    return render_template("index.html", **context), status
