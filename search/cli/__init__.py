"""The `docsearch` command: index a folder, query it, serve it, watch it, score it.

Settings come from one place (docsearch.search.config): defaults, then DOCSEARCH_*
environment variables, then flags. Heavy imports (torch, FAISS) happen inside
commands so --help stays instant.
"""

from __future__ import annotations

import logging

import click

from .asking import query, similar
from .building import eval_command, index_command, watch_command
from .serving import key, mcp_command, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what is happening.")
def cli(verbose: bool) -> None:
    """Semantic search over a folder of documents."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


for command in (index_command, query, similar, serve, mcp_command, key, watch_command, eval_command):
    cli.add_command(command)


def main() -> None:
    """Run the docsearch command."""
    cli(prog_name="docsearch")
