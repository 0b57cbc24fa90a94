"""`docsearch serve`: build the index if there is none, load it once, print the configuration, serve.

The server binds before it says where it listens, so ``--port 0`` takes any free
port and the line ``serving on http://HOST:PORT/`` names the one it got. It refuses,
before any work, to listen beyond this machine without API keys unless told --no-auth.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading

import click

from .config import Config

log = logging.getLogger(__name__)


def serve_app(config: Config, dev: bool = False, watch: bool = False) -> None:
    """Serve the form and API for config until interrupted, reusing the model of a build it runs."""
    from docsearch.index import IndexFolder
    from docsearch.index.embed import set_threads

    from . import access, create_app, get_searcher
    from .cli.building import run_build

    keys = check_exposure(config)
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
        start_watching(config, searcher.encoder, app.extensions["docsearch"].get("metrics"))
    click.echo("configuration:\n" + "\n".join(config.describe()))
    click.echo(describe_keys(keys, config))
    if config.access_log:
        access.enable()
    if dev:  # werkzeug's own request lines carry the query string: the access log replaces them
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    m = searcher.manifest
    click.echo(f"docsearch: {stats['passages']} passages from {stats['files']} files, model {m.model} on {m.backend}, "
               f"vectors {m.vector_index} in {m.vector_store}, index {config.index_dir} "
               f"(generation {m.generation}, built {m.built_at})")
    server, host, port = _bind(app, config, dev)
    click.echo(f"serving on http://{host}:{port}/  (JSON API at /api/search, health at /healthz)")
    server()


def check_exposure(config: Config):
    """Return the server's API keys; refuse a non-loopback address without any unless config says no_auth."""
    from .keys import KeyFileError, KeyRing

    try:
        keys = KeyRing.load(config)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    if keys and config.no_auth:
        raise click.UsageError("--no-auth and API keys exclude each other: drop --no-auth, or the keys")
    if not keys and not config.no_auth and not is_loopback(config.host):
        raise click.ClickException(
            f"refusing to listen on {config.host} without API keys: add one with `docsearch key add --api-key-file "
            f"FILE` and serve with --api-key-file FILE, or pass --no-auth to serve anyone who can reach it")
    return keys


def describe_keys(keys, config: Config) -> str:
    """Return the start-up line that says whether the server needs a key."""
    if keys:
        return f"API keys: {len(keys)} accepted; every endpoint but /healthz needs one"
    return "API keys: none; anyone who can reach the server may use it" + (" (--no-auth)" if config.no_auth else "")


def is_loopback(host: str) -> bool:
    """Tell whether host (an address or a name) is only reachable from this machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False  # cannot be resolved: the bind fails and says so
    return all(ipaddress.ip_address(address[4][0].split("%")[0]).is_loopback for address in found)


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


def sync_quietly(config: Config, encoder):
    """Bring the index up to date with the loaded model, log one line about it and return the BuildReport."""
    from docsearch.index import build_index

    report = build_index(config.corpus, config.index_dir, config.build_options(), encoder=encoder)
    if report.written:
        click.echo(
            f"re-indexed {config.corpus}: added {len(report.added)}, changed {len(report.changed)}, removed "
            f"{len(report.removed)}, unchanged {report.unchanged} files (generation {report.manifest.generation})",
            err=True,
        )
    return report


def start_watching(config: Config, encoder, metrics=None) -> threading.Event:
    """Watch the corpus in a background thread and sync the index when it changes; return the event that stops it."""
    from docsearch.index.watch import watch

    def sync() -> None:
        try:
            report = sync_quietly(config, encoder)
        except Exception:
            if metrics is not None:
                metrics.syncs.labels("failed").inc()
            raise  # watch logs it and goes on
        if metrics is not None:
            metrics.syncs.labels("written" if report.written else "unchanged").inc()

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(config.corpus, sync, stop), name="docsearch-watch", daemon=True)
    thread.start()
    click.echo(f"watching {config.corpus} for changes", err=True)
    return stop
