"""The `docsearch` command: index a folder, query it, serve it.

Every option can also be set by an environment variable (DOCSEARCH_INDEX_DIR,
DOCSEARCH_CORPUS, DOCSEARCH_MODEL, DOCSEARCH_HOST, DOCSEARCH_PORT, DOCSEARCH_STORE,
DOCSEARCH_MILVUS_URI); flags win. A Milvus token is read from DOCSEARCH_MILVUS_TOKEN only.
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

backend_option = click.option(
    "--backend", type=click.Choice(settings.BACKENDS), default=None, envvar="DOCSEARCH_BACKEND", show_envvar=True,
    help="What runs the model when embedding [default: the fastest this CPU runs without losing quality; "
         "an existing index keeps the one it was built with].",
)

store_option = click.option(
    "--store", type=click.Choice(settings.STORES), default=None, envvar="DOCSEARCH_STORE", show_envvar=True,
    help="Where the vectors live: faiss (in the index folder) or milvus [default: what the index uses, else faiss].",
)
milvus_uri_option = click.option(
    "--milvus-uri", default=None, envvar="DOCSEARCH_MILVUS_URI", show_envvar=True,
    help="Milvus Lite folder (a path ending in .db) or server URL (http://host:19530) "
         "[default: where the index was written, else INDEX_DIR/milvus.db].",
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


def run_build(corpus: Path, index_dir: Path, model: str | None, full: bool = False, max_file_mb: float = 10,
              backend: str | None = None, vector_index: str = "auto", sq8: bool = False, store: str | None = None,
              milvus_uri: str | None = None, ray_address: str | None = None):
    """Build or sync the index, print what changed, and return the loaded (local) Encoder."""
    from index import DEFAULT_MODEL, Encoder, build_index

    click.echo(f"indexing {corpus} into {index_dir}", err=True)
    began = time.perf_counter()
    built = _live_manifest(index_dir)
    encoder = Encoder(model or DEFAULT_MODEL, backend=backend or (built and built.backend))
    embedder = encoder
    if ray_address:
        from index.distributed import RayEncoder

        embedder = RayEncoder(encoder, ray_address)
        click.echo(f"embedding on Ray ({ray_address})", err=True)
    report = build_index(corpus, index_dir, encoder=embedder, progress=_progress_bar(), full=full,
                         max_file_bytes=int(max_file_mb * 2**20), vector_index=vector_index, sq8=sq8,
                         store=_store_config(built, store, milvus_uri))
    for s in report.skipped:
        click.echo(f"  skipped {s.path!r}: {s.reason}", err=True)
    if report.rebuilt_because and report.written:
        click.echo(f"embedded everything: {report.rebuilt_because}", err=True)
    m = report.manifest
    click.echo(
        f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
        f"unchanged {report.unchanged} files; embedded {report.embedded} passages"
    )
    state = f"generation {m.generation}" if report.written else f"nothing changed; generation {m.generation} is current"
    click.echo(
        f"indexed {m.files} files, {m.passages} passages, skipped {m.skipped} files "
        f"in {time.perf_counter() - began:.1f}s ({state}, model {m.model}, backend {m.backend}, "
        f"vectors {m.vector_index}{f' in Milvus {m.milvus_uri}' if m.vector_store == 'milvus' else ''})"
    )
    return encoder


def _live_manifest(index_dir: Path):
    """Return the manifest of the live index, if there is a readable one."""
    from index import Manifest
    from index.errors import DocsearchError
    from index.manifest import MANIFEST_NAME
    from index.store import current_generation

    try:
        return Manifest.read(current_generation(index_dir) / MANIFEST_NAME)
    except DocsearchError:
        return None


def _store_config(built, store: str | None, milvus_uri: str | None):
    """Return where the vectors go: as asked, else where the live index keeps them, else FAISS."""
    from index.vectors import StoreConfig

    store = store or (built.vector_store if built else "faiss")
    if store == "milvus" and not milvus_uri and built and built.vector_store == "milvus":
        milvus_uri = built.milvus_uri
    try:
        if store == "milvus" and milvus_uri:
            from index.milvus import check_uri

            check_uri(milvus_uri)  # before the model loads
        return StoreConfig(store, milvus_uri or "")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


max_file_option = click.option(
    "--max-file-mb", type=click.FloatRange(min=0, min_open=True), default=10, envvar="DOCSEARCH_MAX_FILE_MB",
    show_default=True, show_envvar=True, help="Skip corpus files larger than this.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what is happening.")
def cli(verbose: bool) -> None:
    """Semantic search over a folder of documents."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command("index")
@click.argument("corpus", type=click.Path(path_type=Path), default=settings.DEFAULT_CORPUS, envvar="DOCSEARCH_CORPUS")
@index_dir_option
@model_option
@backend_option
@max_file_option
@click.option("--full", is_flag=True, help="Embed every file again instead of only new and changed ones.")
@click.option("--vector-index", type=click.Choice(("auto", "flat", "hnsw")), default="auto", show_default=True,
              help="Exact search (flat) or HNSW; auto is exact up to 50,000 passages.")
@click.option("--sq8", is_flag=True, help="Store vectors as 8-bit scalars: a quarter of the memory, slightly lower recall.")
@store_option
@milvus_uri_option
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              envvar="DOCSEARCH_RAY", show_envvar=True,
              help="Embed on Ray: a small local instance, or the cluster at ADDRESS (ray://host:10001, or auto). "
                   "Give it as --ray=ADDRESS, or after CORPUS.")
@_domain_errors
def index_command(corpus: Path, index_dir: Path, model: str | None, backend: str | None, max_file_mb: float,
                  full: bool, vector_index: str, sq8: bool, store: str | None, milvus_uri: str | None,
                  ray_address: str | None) -> None:
    """Build the index of CORPUS (default: docs_corpus), or bring it up to date.

    Only new and changed files are embedded; files gone from CORPUS are removed.
    """
    try:
        run_build(corpus, index_dir, model, full, max_file_mb, backend, vector_index, sq8, store, milvus_uri,
                  ray_address)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _marked(text: str, spans: list[list[int]]) -> str:
    """Return text with the matched words in bold (plain when not on a terminal)."""
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], click.style(text[start:end], bold=True)]
        at = end
    return "".join(out + [text[at:]])


@cli.command()
@click.argument("question")
@click.option("-k", type=click.IntRange(1, settings.MAX_K), default=settings.DEFAULT_K, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(settings.MODES), default="hybrid", show_default=True, help="How to rank.")
@click.option("--per-file", is_flag=True, help="Only the best passage of each file (group=file).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as the API's JSON.")
@index_dir_option
@milvus_uri_option
@_domain_errors
def query(question: str, k: int, mode: str, per_file: bool, as_json: bool, index_dir: Path, milvus_uri: str | None) -> None:
    """Print the passages that best answer QUESTION."""
    from .engine import Searcher

    if not question.strip():
        raise click.UsageError("QUESTION is blank")
    if len(question) > settings.MAX_QUERY_CHARS:
        raise click.UsageError(f"QUESTION is {len(question)} characters long; the limit is {settings.MAX_QUERY_CHARS}")
    searcher = Searcher.load(index_dir, milvus_uri=milvus_uri or "")
    group = "file" if per_file else None
    hits = searcher.search(question, k, mode, group)
    low_confidence = searcher.is_low_confidence(question, hits)
    if as_json:
        body = {"query": question, "k": k, "mode": mode, "group": group, "low_confidence": low_confidence,
                "results": [h.to_dict() for h in hits]}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("the index holds no passages")
    elif low_confidence:
        click.echo("low confidence: no passage answers this well; these are the closest", err=True)
    for hit in hits:
        lines = f"{hit.line_start}" if hit.line_start == hit.line_end else f"{hit.line_start}-{hit.line_end}"
        more = f"  (+{hit.more_in_file} more in file)" if hit.more_in_file else ""
        click.echo(f"{hit.rank:>2}. {hit.score:.3f}  {hit.source}:{lines}{more}")
        click.echo(click.wrap_text(_marked(hit.text, hit.highlights), initial_indent="    ", subsequent_indent="    "))


@cli.command()
@click.option("--host", default=settings.DEFAULT_HOST, envvar="DOCSEARCH_HOST", show_default=True, show_envvar=True)
@click.option("--port", type=int, default=settings.DEFAULT_PORT, envvar="DOCSEARCH_PORT", show_default=True, show_envvar=True)
@click.option("--corpus", type=click.Path(path_type=Path), default=settings.DEFAULT_CORPUS, envvar="DOCSEARCH_CORPUS",
              show_default=True, show_envvar=True, help="Folder to index when there is no index yet.")
@index_dir_option
@model_option
@backend_option
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Worker threads of the server.")
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of waitress.")
@click.option("--watch", "watch_corpus", is_flag=True, help="Re-index CORPUS when its files change (debounced).")
@max_file_option
@store_option
@milvus_uri_option
@_domain_errors
def serve(host: str, port: int, corpus: Path, index_dir: Path, model: str | None, backend: str | None, threads: int,
          dev: bool, watch_corpus: bool, max_file_mb: float, store: str | None, milvus_uri: str | None) -> None:
    """Serve the web form and JSON API, building the index first if there is none.

    A new index generation written by `docsearch index` (or by --watch) is
    picked up without a restart.
    """
    from index.embed import set_threads
    from index.errors import IndexNotFound
    from index.store import current_generation

    from . import create_app, get_searcher

    try:
        current_generation(index_dir)
    except IndexNotFound:
        click.echo(f"no index at {index_dir} yet: building it from {corpus}", err=True)
        run_build(corpus, index_dir, model, max_file_mb=max_file_mb, backend=backend, store=store, milvus_uri=milvus_uri)
    _check_served_as_built(index_dir, backend, store)
    set_threads(1)  # parallelism comes from the server's request threads
    app = create_app({"INDEX_DIR": str(index_dir), "MILVUS_URI": milvus_uri or ""})
    with app.app_context():
        searcher = get_searcher()  # load model and index now, not on the first request
        stats = searcher.stats()
    if watch_corpus:
        _start_watching(corpus, index_dir, searcher.encoder, max_file_mb)
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


def _check_served_as_built(index_dir: Path, backend: str | None, store: str | None) -> None:
    """Refuse to serve with another backend or vector store than the index was built with."""
    from index.errors import IndexMismatch

    built = _live_manifest(index_dir)
    if built and backend not in (None, built.backend):
        raise IndexMismatch(
            f"index at {index_dir} was built with backend {built.backend!r}; queries must use the same one: "
            f"re-index with `docsearch index --backend {backend}` or serve without --backend"
        )
    if built and store not in (None, built.vector_store):
        raise IndexMismatch(
            f"index at {index_dir} keeps its vectors in {built.vector_store}, not {store}: "
            f"re-index with `docsearch index --store {store}` or serve without --store"
        )


@cli.command("eval")
@click.argument("dataset_dir", type=click.Path(path_type=Path))
@click.option("--split", default="test", show_default=True, help="Which qrels/SPLIT.tsv to score.")
@click.option("--mode", "modes", type=click.Choice(settings.MODES), multiple=True,
              help="Retrieval mode; repeat for several [default: all three].")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures as JSON here.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the dataset's index lives [default: .docsearch-eval/DATASET].")
@click.option("--whole-documents", is_flag=True,
              help="Index each document as one passage, title and text joined by a space and truncated by the "
                   "model at its input limit, as MTEB does: to compare with published figures.")
@model_option
@backend_option
@_domain_errors
def eval_command(dataset_dir: Path, split: str, modes: tuple[str, ...], json_out: Path | None, index_dir: Path | None,
                 whole_documents: bool, model: str | None, backend: str | None) -> None:
    """Score retrieval on a BEIR dataset: nDCG@10, Recall@100, MRR@10, latency."""
    from index import DEFAULT_MODEL
    from index.embed import default_backend

    from .evaluate import evaluate, load_dataset, open_index

    chunking = "whole" if whole_documents else "passages"
    dataset = load_dataset(dataset_dir, split)
    backend = backend or default_backend()
    index_dir = index_dir or Path(".docsearch-eval") / f"{dataset.name}{'-whole' if whole_documents else ''}-{backend}"
    click.echo(f"{dataset.name}: {len(dataset.documents)} documents, {len(dataset.queries)} {split} queries", err=True)
    searcher, reused = open_index(dataset, index_dir, model or DEFAULT_MODEL, chunking, _progress_bar(), backend)
    click.echo(f"{'reused' if reused else 'built'} index {index_dir}: {searcher.manifest.passages} passages", err=True)
    figures = []
    for mode in modes or settings.MODES:
        with click.progressbar(length=len(dataset.queries), label=f"{mode:8s}", file=sys.stderr) as bar:
            figures.append(evaluate(searcher, dataset, mode, progress=bar.update))
    click.echo(f"{'mode':8s} {'nDCG@10':>8s} {'R@100':>7s} {'MRR@10':>7s} {'p50 ms':>7s} {'p95 ms':>7s}")
    for f in figures:
        click.echo(
            f"{f['mode']:8s} {f['ndcg@10']:8.4f} {f['recall@100']:7.4f} {f['mrr@10']:7.4f} "
            f"{f['latency_ms_p50']:7.1f} {f['latency_ms_p95']:7.1f}"
        )
    if json_out:
        report = {"dataset": dataset.name, "split": split, "queries": len(dataset.queries), "chunking": chunking,
                  "passages": searcher.manifest.passages, "model": searcher.manifest.model,
                  "backend": searcher.manifest.backend, "results": figures}
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _sync_quietly(corpus: Path, index_dir: Path, encoder, max_file_mb: float) -> None:
    """Bring the index up to date and log one line about it."""
    from index import build_index

    store = _store_config(_live_manifest(index_dir), None, None)  # the live index's store, FAISS or Milvus
    report = build_index(corpus, index_dir, encoder=encoder, max_file_bytes=int(max_file_mb * 2**20), store=store)
    if report.written:
        click.echo(
            f"re-indexed {corpus}: added {len(report.added)}, changed {len(report.changed)}, removed "
            f"{len(report.removed)}, unchanged {report.unchanged} files (generation {report.manifest.generation})",
            err=True,
        )


def _start_watching(corpus: Path, index_dir: Path, encoder, max_file_mb: float) -> None:
    """Watch corpus in a background thread and sync the index when it changes."""
    import threading

    from index.watch import watch

    stop = threading.Event()
    thread = threading.Thread(
        target=watch, args=(corpus, lambda: _sync_quietly(corpus, index_dir, encoder, max_file_mb), stop),
        name="docsearch-watch", daemon=True,
    )
    thread.start()
    click.echo(f"watching {corpus} for changes", err=True)


@cli.command("watch")
@click.argument("corpus", type=click.Path(path_type=Path), default=settings.DEFAULT_CORPUS, envvar="DOCSEARCH_CORPUS")
@index_dir_option
@model_option
@backend_option
@max_file_option
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Seconds between looks.")
@click.option("--quiet", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds the corpus must stay unchanged before re-indexing.")
@_domain_errors
def watch_command(corpus: Path, index_dir: Path, model: str | None, backend: str | None, max_file_mb: float,
                  interval: float, quiet: float) -> None:
    """Keep the index of CORPUS up to date as its files change (until Ctrl-C)."""
    import threading

    from index.watch import watch

    encoder = run_build(corpus, index_dir, model, max_file_mb=max_file_mb, backend=backend)  # loads the model once
    click.echo(f"watching {corpus} for changes (Ctrl-C to stop)", err=True)
    try:
        watch(corpus, lambda: _sync_quietly(corpus, index_dir, encoder, max_file_mb), threading.Event(), interval, quiet)
    except KeyboardInterrupt:
        pass


def main() -> None:
    """Run the docsearch command."""
    cli(prog_name="docsearch")
