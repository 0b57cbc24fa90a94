"""The `docsearch` command: index a folder, query it, serve it.

Every option can also be set by an environment variable (DOCSEARCH_INDEX_DIR,
DOCSEARCH_CORPUS, DOCSEARCH_MODEL, DOCSEARCH_HOST, DOCSEARCH_PORT); flags win.
Heavy imports (torch, FAISS) happen inside commands so --help stays instant.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import click

from . import settings

index_dir_option = click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), default=settings.DEFAULT_INDEX_DIR,
    envvar="DOCSEARCH_INDEX_DIR", show_default=True, show_envvar=True, help="Folder that holds the index.",
)
model_option = click.option(
    "--model", default=None, envvar="DOCSEARCH_MODEL", show_envvar=True,
    help="sentence-transformers model: a local folder or name [default: all-MiniLM-L6-v2, bundled].",
)


def _domain_errors(func):
    """Turn docsearch's domain errors into one-line CLI errors."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from index.errors import DocsearchError

        try:
            return func(*args, **kwargs)
        except DocsearchError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def _progress_bar():
    """Return a progress(done, total) callback that draws a bar on stderr."""
    state = {"bar": None, "done": 0}

    def progress(done: int, total: int) -> None:
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=total, label="embedding passages", file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done
        if done >= total:
            state["bar"].__exit__(None, None, None)

    return progress


def run_build(corpus: Path, index_dir: Path, model: str | None) -> None:
    """Build the index and print what was built."""
    from index import DEFAULT_MODEL, build_index

    click.echo(f"indexing {corpus} into {index_dir}", err=True)
    began = time.perf_counter()
    report = build_index(corpus, index_dir, model=model or DEFAULT_MODEL, progress=_progress_bar())
    m = report.manifest
    click.echo(
        f"indexed {m.files} files, {m.passages} passages, skipped {m.skipped} files "
        f"in {time.perf_counter() - began:.1f}s (generation {m.generation}, model {m.model})"
    )
    for s in report.skipped:
        click.echo(f"  skipped {s.path}: {s.reason}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what is happening.")
def cli(verbose: bool) -> None:
    """Semantic search over a folder of documents."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command("index")
@click.argument("corpus", type=click.Path(path_type=Path), default=settings.DEFAULT_CORPUS, envvar="DOCSEARCH_CORPUS")
@index_dir_option
@model_option
@_domain_errors
def index_command(corpus: Path, index_dir: Path, model: str | None) -> None:
    """Build the index of CORPUS (default: docs_corpus)."""
    run_build(corpus, index_dir, model)


@cli.command()
@click.argument("question")
@click.option("-k", type=click.IntRange(1, settings.MAX_K), default=settings.DEFAULT_K, show_default=True, help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@index_dir_option
@_domain_errors
def query(question: str, k: int, as_json: bool, index_dir: Path) -> None:
    """Print the passages that best answer QUESTION."""
    from .engine import Searcher

    if not question.strip():
        raise click.UsageError("QUESTION is blank")
    if len(question) > settings.MAX_QUERY_CHARS:
        raise click.UsageError(f"QUESTION is {len(question)} characters long; the limit is {settings.MAX_QUERY_CHARS}")
    searcher = Searcher.load(index_dir)
    hits = searcher.search(question, k)
    if as_json:
        click.echo(json.dumps({"query": question, "k": k, "results": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("the index holds no passages")
    for hit in hits:
        lines = f"{hit.line_start}" if hit.line_start == hit.line_end else f"{hit.line_start}-{hit.line_end}"
        click.echo(f"{hit.rank:>2}. {hit.score:.3f}  {hit.source}:{lines}")
        click.echo(click.wrap_text(hit.text, initial_indent="    ", subsequent_indent="    "))


@cli.command()
@click.option("--host", default=settings.DEFAULT_HOST, envvar="DOCSEARCH_HOST", show_default=True, show_envvar=True)
@click.option("--port", type=int, default=settings.DEFAULT_PORT, envvar="DOCSEARCH_PORT", show_default=True, show_envvar=True)
@click.option("--corpus", type=click.Path(path_type=Path), default=settings.DEFAULT_CORPUS, envvar="DOCSEARCH_CORPUS",
              show_default=True, show_envvar=True, help="Folder to index when there is no index yet.")
@index_dir_option
@model_option
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Worker threads of the server.")
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of waitress.")
@_domain_errors
def serve(host: str, port: int, corpus: Path, index_dir: Path, model: str | None, threads: int, dev: bool) -> None:
    """Serve the web form and JSON API, building the index first if there is none."""
    from index.errors import IndexNotFound
    from index.store import current_generation

    from . import create_app, get_searcher

    try:
        current_generation(index_dir)
    except IndexNotFound:
        click.echo(f"no index at {index_dir} yet: building it from {corpus}", err=True)
        run_build(corpus, index_dir, model)
    app = create_app({"INDEX_DIR": str(index_dir)})
    with app.app_context():
        stats = get_searcher().stats()  # load model and index now, not on the first request
    click.echo(
        f"docsearch: {stats['passages']} passages from {stats['files']} files, model {stats['model']}, "
        f"index {index_dir} (generation {stats['generation']}, built {stats['built_at']})"
    )
    click.echo(f"serving on http://{host}:{port}/  (JSON API at /api/search, health at /healthz)")
    if dev:
        app.run(host=host, port=port, debug=False, use_reloader=False)
    else:
        import waitress

        waitress.serve(app, host=host, port=port, threads=threads, ident="docsearch")


def main() -> None:
    """Run the docsearch command."""
    cli(prog_name="docsearch")
