"""`docsearch serve`: build the index if there is none, load it once, print the configuration, serve.

The server binds before it says where it listens, so ``--port 0`` takes any free
port and the line ``serving on http://HOST:PORT/`` names the one it got.
"""

from __future__ import annotations

import logging
import threading

import click

from .config import Config

log = logging.getLogger(__name__)


def serve_app(config: Config, dev: bool = False, watch: bool = False) -> None:
    """Serve the form and API for config until interrupted, reusing the model of a build it runs."""
    from docsearch.index import IndexFolder
    from docsearch.index.embed import set_threads

    from . import create_app, get_searcher
    from .cli import run_build

    encoder = None
    if IndexFolder(config.index_dir).live_name() is None:
        click.echo(f"no index at {config.index_dir} yet: building it from {config.corpus}", err=True)
        encoder = run_build(config)
    set_threads(1)  # parallelism comes from the server's request threads
    app = create_app(config, encoder=encoder)
    with app.app_context():
        searcher = get_searcher()  # load model and index now, not on the first request
        stats = searcher.stats()
    if watch:
        start_watching(config, searcher.encoder)
    click.echo("configuration:\n" + "\n".join(config.describe()))
    m = searcher.manifest
    click.echo(f"docsearch: {stats['passages']} passages from {stats['files']} files, model {m.model} on {m.backend}, "
               f"vectors {m.vector_index} in {m.vector_store}, index {config.index_dir} "
               f"(generation {m.generation}, built {m.built_at})")
    server, host, port = _bind(app, config, dev)
    click.echo(f"serving on http://{host}:{port}/  (JSON API at /api/search, health at /healthz)")
    server()


def _bind(app, config: Config, dev: bool):
    """Listen on the configured address; return the loop to run and the host and port bound."""
    try:
        if dev:
            from werkzeug.serving import make_server

            server = make_server(config.host, config.port, app, threaded=True)
            return server.serve_forever, config.host, server.server_port
        import waitress

        server = waitress.create_server(app, host=config.host, port=config.port, threads=config.threads,
                                        ident="docsearch")
        return server.run, config.host, server.effective_port
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None


def sync_quietly(config: Config, encoder) -> None:
    """Bring the index up to date with the loaded model and log one line about it."""
    from docsearch.index import build_index

    from .cli import build_options

    report = build_index(config.corpus, config.index_dir, build_options(config), encoder=encoder)
    if report.written:
        click.echo(
            f"re-indexed {config.corpus}: added {len(report.added)}, changed {len(report.changed)}, removed "
            f"{len(report.removed)}, unchanged {report.unchanged} files (generation {report.manifest.generation})",
            err=True,
        )


def start_watching(config: Config, encoder) -> None:
    """Watch the corpus in a background thread and sync the index when it changes."""
    from docsearch.index.watch import watch

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(config.corpus, lambda: sync_quietly(config, encoder), stop),
                              name="docsearch-watch", daemon=True)
    thread.start()
    click.echo(f"watching {config.corpus} for changes", err=True)
