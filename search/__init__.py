"""Query side of docsearch: the Searcher, the Flask app, the web form and the CLI."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app

from . import settings

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Create the Flask app: defaults, then DOCSEARCH_* environment, then ``config``."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=settings.DEFAULT_INDEX_DIR,
        MILVUS_URI="",  # where a Milvus-stored index's vectors are read; "" means where they were written
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
    """Return the Searcher of the index's live generation, loading it when it changed.

    Each request reads the index's CURRENT pointer (a few bytes). When a new
    generation went live, one request loads it while the others keep answering
    from the old one; in-flight requests finish on the generation they started
    with. A generation that fails to load is logged and the old one kept.
    """
    from index.errors import DocsearchError, IndexMismatch

    from .engine import Searcher

    state = current_app.extensions["docsearch"]
    index_dir = Path(current_app.config["INDEX_DIR"])
    searcher = state["searcher"]
    live = live_generation(index_dir)
    if searcher is not None and live in (None, searcher.generation_name, state.get("failed")):
        return searcher
    if not state["lock"].acquire(blocking=searcher is None):
        return searcher  # another request is loading the new generation
    try:
        if state["searcher"] is not searcher:
            return state["searcher"]  # loaded by another request meanwhile
        encoder = searcher.encoder if searcher is not None else state.get("encoder")
        milvus_uri = current_app.config["MILVUS_URI"]
        try:
            state["searcher"] = Searcher.load(index_dir, encoder=encoder, milvus_uri=milvus_uri)
        except IndexMismatch:
            state["searcher"] = Searcher.load(index_dir, milvus_uri=milvus_uri)  # the new generation uses another model
        log.info("serving generation %s of %s", state["searcher"].generation_name, index_dir)
    except DocsearchError as exc:
        if searcher is None:
            raise
        state["failed"] = live
        log.error("generation %s of %s could not be loaded; still serving %s: %s",
                  live, index_dir, searcher.generation_name, exc)
    finally:
        state["lock"].release()
    return state["searcher"]


def live_generation(index_dir: Path) -> str | None:
    """Return the name of the index's live generation, or None if there is none."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
