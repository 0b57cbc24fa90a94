"""Query side of docsearch: the Searcher, the Flask app, the web form and the CLI."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from flask import Flask, current_app

from .config import Config
from .request import MAX_BODY_BYTES

log = logging.getLogger(__name__)
ARRIVED = "docsearch.arrived"  # the WSGI environ key of a request's arrival time (time.perf_counter)


def create_app(config: Config | None = None, encoder=None) -> Flask:
    """Create the Flask app for a configuration (Config.load() when None), reusing a loaded encoder if given."""
    config = config or Config.load()
    # An explicit instance path: Flask cannot find one for a package inside a namespace package (docsearch).
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent / "instance"))
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.json.sort_keys = False
    app.extensions["docsearch"] = live_state(config, encoder)
    app.wsgi_app = _stamp_arrival(app.wsgi_app)

    from . import access, api, auth, metrics, openapi, security, web
    from .errors import register_error_handlers
    from .keys import KeyRing

    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(openapi.bp)
    # Before the key check's hook: a request it refuses is still counted and logged.
    if config.metrics:
        metrics.init_app(app)
    if config.access_log:
        access.init_app(app, config.log_queries)
    auth.init_app(app, KeyRing.load(config), config.session_secret)
    security.init_app(app)
    register_error_handlers(app)
    return app


def live_state(config: Config, encoder=None) -> dict:
    """Return what live_searcher keeps between calls: the configuration, the Searcher, the model, a lock."""
    return {"config": config, "searcher": None, "encoder": encoder, "lock": threading.Lock()}


def _stamp_arrival(wsgi_app):
    """Wrap a WSGI app so each request's environ holds its arrival time, for the metrics and the access log.

    One stamp in the environ costs less than a before_request hook for each of them.
    """

    def stamped(environ, start_response):
        environ[ARRIVED] = time.perf_counter()
        return wsgi_app(environ, start_response)

    return stamped


def get_searcher():
    """Return the Searcher of the app's index (see live_searcher)."""
    return live_searcher(current_app.extensions["docsearch"])


def live_searcher(state: dict):
    """Return the Searcher of the index's live generation, loading it when it changed.

    Each request reads the name of the live generation (a few bytes). When a new
    generation went live, one request loads it while the others keep answering
    from the old one; in-flight requests finish on the generation they started
    with. A generation that fails to load is logged and the old one kept.
    """
    from docsearch.index import IndexFolder
    from docsearch.index.errors import DocsearchError

    searcher = state["searcher"]
    live = IndexFolder(state["config"].index_dir).live_name()
    if searcher is not None and live in (None, searcher.generation_name, state.get("failed")):
        return searcher
    if not state["lock"].acquire(blocking=searcher is None):
        return searcher  # another request is loading the new generation
    try:
        if state["searcher"] is searcher:  # not loaded by another request meanwhile
            state["searcher"] = _load(state["config"], searcher.encoder if searcher is not None else state["encoder"])
            log.info("serving generation %s of %s", state["searcher"].generation_name, state["config"].index_dir)
            if searcher is not None and "metrics" in state:
                state["metrics"].reloaded(searcher)
    except DocsearchError as exc:
        if searcher is None:
            raise
        state["failed"] = live
        if "metrics" in state:
            state["metrics"].reload_failures.inc()
        log.error("generation %s of %s could not be loaded; still serving %s: %s",
                  live, state["config"].index_dir, searcher.generation_name, exc)
    finally:
        state["lock"].release()
    return state["searcher"]


def _load(config: Config, encoder):
    """Load the live generation, with the loaded model unless the generation uses another one."""
    from docsearch.index.errors import IndexMismatch

    from .engine import Searcher

    try:
        return Searcher.load(config.index_dir, encoder=encoder, store=config.store_config(), backend=config.backend)
    except IndexMismatch:
        if encoder is None:
            raise
        return Searcher.load(config.index_dir, store=config.store_config(), backend=config.backend)
