"""`docsearch serve`, `mcp` and `key add`: serve people, agents and other machines, and give them keys."""

from __future__ import annotations

from pathlib import Path

import click

from .options import (api_key_file_option, backend_option, domain_errors, index_dir_option, load_config,
                      max_file_option, milvus_uri_option, model_option, reading_options, setting, store_option)


@click.command()
@setting("host")
@setting("port", type=click.IntRange(0, 65535))
@setting("corpus", type=click.Path(path_type=Path), help="Folder to index when there is no index yet.")
@index_dir_option
@model_option
@backend_option
@setting("threads", type=click.IntRange(1, 64))
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of waitress.")
@click.option("--watch", "watch_corpus", is_flag=True, help="Re-index CORPUS when its files change (debounced).")
@max_file_option
@reading_options
@store_option
@milvus_uri_option
@api_key_file_option
@setting("no_auth", is_flag=True, help="Serve an address other than loopback without API keys.")
@setting("access_log", "--access-log/--no-access-log", help="Log one line per request to stderr.")
@setting("log_queries", is_flag=True, help="Put each request's question in the access log.")
@setting("metrics", "--metrics/--no-metrics", help="Serve Prometheus metrics at /metrics.")
@domain_errors
def serve(dev: bool, watch_corpus: bool, **flags) -> None:
    """Serve the web form and JSON API, building the index first if there is none.

    A new index generation written by `docsearch index` (or by --watch) is
    picked up without a restart. With API keys (--api-key-file, or
    DOCSEARCH_API_KEYS), every endpoint but /healthz needs one; without, the
    server listens only on a loopback address unless told --no-auth.
    """
    from ..server import serve_app

    serve_app(load_config(**flags), dev=dev, watch=watch_corpus)


@click.command("mcp")
@click.option("--http", "over_http", is_flag=True, help="Serve Streamable HTTP at /mcp instead of stdio.")
@setting("host", help="Address to listen on with --http.")
@setting("port", type=click.IntRange(0, 65535), help="Port to listen on with --http (0: any free port).")
@index_dir_option
@milvus_uri_option
@api_key_file_option
@setting("no_auth", is_flag=True, help="With --http, serve an address other than loopback without API keys.")
@domain_errors
def mcp_command(over_http: bool, **flags) -> None:
    """Serve the index to AI agents over MCP: stdio for a desktop agent, or --http.

    A new index generation is picked up without a restart.
    """
    from ..mcp_server import serve_mcp

    serve_mcp(load_config(**flags), http=over_http)


@click.group()
def key() -> None:
    """Manage the API keys a server accepts."""


@key.command("add")
@api_key_file_option
@click.option("--name", default="", help="A note kept beside the key's hash, to tell keys apart.")
def add_key_command(name: str, **flags) -> None:
    """Make a new API key, append its hash to the key file and print the key (shown only this once)."""
    from ..keys import add_key

    config = load_config(**flags)
    if not config.api_key_file:
        raise click.UsageError("name the key file with --api-key-file FILE (or DOCSEARCH_API_KEY_FILE)")
    try:
        made = add_key(Path(config.api_key_file), name)
    except OSError as exc:
        raise click.ClickException(f"cannot write {config.api_key_file}: {exc.strerror or exc}") from None
    click.echo(f"added a key to {config.api_key_file}; it is shown only this once. Clients send it as the header "
               "Authorization: Bearer KEY", err=True)
    click.echo(made)
