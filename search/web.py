"""The web form: a plain GET form that works without JavaScript."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup, escape

from index.errors import DocsearchError

from . import get_searcher, settings
from .errors import BadQuery
from .params import parse_search

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__)


def mark(text: str, spans: list[list[int]]) -> Markup:
    """Escape text, then wrap the given [start, end) spans in <mark>."""
    out, at = [], 0
    for start, end in spans:
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>%s</mark>") % text[start:end])
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


@bp.app_template_filter("marked")
def marked_filter(hit) -> Markup:
    """Template filter: a hit's text with its matched words marked."""
    return mark(hit.text, hit.highlights)


@bp.route("/")
def form():
    """Show the search form and, when a question was asked, its results."""
    args = request.args
    context = {
        "q": args.get("q", ""),
        "k": args.get("k", settings.DEFAULT_K),
        "mode": args.get("mode", "hybrid"),
        "group": args.get("group", ""),
        "modes": settings.MODES,
        "hits": None,
        "error": None,
        "low_confidence": False,
    }
    status = 200
    if "q" in args:
        try:
            params = parse_search(args, max_chars=current_app.config["MAX_QUERY_CHARS"])
            searcher = get_searcher()
            hits = searcher.search(params.q, params.k, params.mode, params.group)
            context.update(k=params.k, hits=hits, low_confidence=searcher.is_low_confidence(params.q, hits))
        except BadQuery as exc:
            context["error"], status = str(exc), 400
        except DocsearchError as exc:
            log.error("search unavailable: %s", exc)
            context["error"], status = str(exc), 503
    return render_template("index.html", **context), status
