"""Query side of docsearch: the Searcher, the Flask app, the web form and the CLI."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from . import settings


def create_app(config: dict | None = None) -> Flask:
    """Create the Flask app: defaults, then DOCSEARCH_* environment, then ``config``."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=settings.DEFAULT_INDEX_DIR,
        MAX_CONTENT_LENGTH=settings.MAX_BODY_BYTES,
        MAX_QUERY_CHARS=settings.MAX_QUERY_CHARS,
        JSON_SORT_KEYS=False,
    )
    app.config.from_prefixed_env("DOCSEARCH")
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    app.extensions["docsearch"] = {"searcher": None, "lock": threading.Lock()}

    from . import api, openapi, security, web
    from .errors import register_error_handlers

    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(openapi.bp)
    security.init_app(app)
    register_error_handlers(app)
    return app


def get_searcher():
    """Return the app's Searcher, loading the index and model on first use."""
    state = current_app.extensions["docsearch"]
    if state["searcher"] is None:
        with state["lock"]:
            if state["searcher"] is None:
                from .engine import Searcher

                state["searcher"] = Searcher.load(current_app.config["INDEX_DIR"], encoder=state.get("encoder"))
    return state["searcher"]
