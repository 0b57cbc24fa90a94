"""The `docsearch` command: index a folder, query it, serve it, watch it, score it.

Settings come from one place (docsearch.search.config): defaults, then DOCSEARCH_*
environment variables, then flags. Heavy imports (torch, FAISS) happen inside
commands so --help stays instant.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
import logging
import sys
import time
from pathlib import Path

import click

from .config import Config, ConfigError
from .request import DEFAULT_K, MAX_K, MODES

LOCAL_RAY = "local"


def setting(name: str, *declarations: str, **kwargs):
    """Return a click option for a Config setting: no default of its own, its help naming the variable."""
    from dataclasses import fields

    found = next(f for f in fields(Config) if f.name == name)
    default = found.default if found.default not in (None, "") else None
    shown = f"; default: {default}" if default is not None else ""
    kwargs.setdefault("help", f"{found.metadata['help'][0].upper()}{found.metadata['help'][1:]}.")
    kwargs["help"] += f" [env: {found.metadata['env']}{shown}]"
    if found.metadata["choices"]:
        kwargs.setdefault("type", click.Choice(found.metadata["choices"]))
    return click.option(*(declarations or (f"--{name.replace('_', '-')}",)), name, default=None, **kwargs)


index_dir_option = setting("index_dir", type=click.Path(file_okay=False, path_type=Path))
model_option = setting("model", help="Sentence-transformers model when building: a local folder or name.")
backend_option = setting("backend", help="What runs the model when embedding; an existing index keeps its own.")
store_option = setting("store", help="Where the vectors live: faiss (in the index folder) or milvus.")
milvus_uri_option = setting("milvus_uri", help="Milvus Lite folder (a path ending in .db) or server URL "
                                                "(http://host:19530) [default: where the index was written, "
                                                "else INDEX_DIR/milvus.db].")
max_file_option = setting("max_file_mb", type=click.FloatRange(min=0, min_open=True))
api_key_file_option = setting("api_key_file", type=click.Path(dir_okay=False),
                              help="File of API key hashes, one a line, as `docsearch key add` writes them.")


def load_config(**flags) -> Config:
    """Return the configuration for a command's flags, or a usage error naming the bad setting."""
    try:
        return Config.load(flags)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def domain_errors(func):
    """Turn docsearch's domain errors into one-line CLI errors, and bad settings into usage errors."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from docsearch.index.errors import DocsearchError

        try:
            return func(*args, **kwargs)
        except DocsearchError as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:  # a setting the build refuses (a Milvus URI, --sq8 on Milvus)
            raise click.UsageError(str(exc)) from None

    return wrapper


def progress_bar():
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


def build_options(config: Config, **extra):
    """Return the build options a configuration asks for (what it leaves open, the live index decides)."""
    from docsearch.index import DEFAULT_MODEL, BuildOptions

    return BuildOptions(model=config.model or DEFAULT_MODEL, backend=config.backend, store=config.store_config(),
                        max_file_bytes=int(config.max_file_mb * 2**20), ray=config.ray, cache_dir=config.cache_dir,
                        **extra)


def run_build(config: Config, **extra):
    """Build or sync the index, print what changed, and return the loaded (local) Encoder."""
    from docsearch.index import build_index

    click.echo(f"indexing {config.corpus} into {config.index_dir}", err=True)
    if config.ray:
        click.echo(f"embedding on Ray ({config.ray})", err=True)
    began = time.perf_counter()
    report = build_index(config.corpus, config.index_dir, build_options(config, **extra), progress=progress_bar())
    for s in report.skipped:
        click.echo(f"  skipped {s.path!r}: {s.reason}", err=True)
    if report.rebuilt_because and report.written:
        click.echo(f"embedded everything: {report.rebuilt_because}", err=True)
    m = report.manifest
    click.echo(f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
               f"unchanged {report.unchanged} files; embedded {report.embedded} passages{_not_embedded(report)}")
    state = f"generation {m.generation}" if report.written else f"nothing changed; generation {m.generation} is current"
    where = f" in Milvus {m.milvus_uri}" if m.milvus_uri else ""
    click.echo(f"indexed {m.files} files, {m.passages} passages, skipped {m.skipped} files "
               f"in {time.perf_counter() - began:.1f}s ({state}, model {m.model}, backend {m.backend}, "
               f"vectors {m.vector_index}{where})")
    return report.encoder


def _not_embedded(report) -> str:
    """Say how many passages of new and changed files needed no embedding, and why (empty if none)."""
    if not (report.reused or report.repeated):
        return ""
    share = (report.reused + report.repeated) / report.fresh
    return (f" (and {report.reused + report.repeated} not embedded again, {share:.0%}: {report.reused} already in "
            f"the index, {report.repeated} repeated in these files)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what is happening.")
def cli(verbose: bool) -> None:
    """Semantic search over a folder of documents."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command("index")
@click.argument("corpus", type=click.Path(path_type=Path), required=False)
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
@setting("ray", "--ray", is_flag=False, flag_value=LOCAL_RAY, metavar="[ADDRESS]",
         help="Embed on Ray: a small local instance, or the cluster at ADDRESS (ray://host:10001, or auto). "
              "Give it as --ray=ADDRESS, or after CORPUS.")
@domain_errors
def index_command(full: bool, vector_index: str, sq8: bool, **flags) -> None:
    """Build the index of CORPUS (default: docs_corpus), or bring it up to date.

    Only new and changed files are embedded; files gone from CORPUS are removed.
    """
    run_build(load_config(**flags), full=full, vector_index=vector_index, sq8=sq8)


path_option = click.option("--path", "path", default=None, metavar="GLOB",
                           help="Only files whose path matches GLOB, e.g. 'reports/2024/**' or '**/*.md'.")
type_option = click.option("--type", "types", default=None, metavar="EXT[,EXT]",
                           help="Only files of these types (extensions), e.g. pdf,md.")


def parsed(kind, fields: dict, argument: str):
    """Return a request parsed from the command's values; a bad one is a usage error naming the argument."""
    from .request import BadQuery

    try:
        return kind.parse({name: value for name, value in fields.items() if value is not None}, from_json=True)
    except BadQuery as exc:  # name the argument as the user typed it
        message = str(exc)
        raise click.UsageError(argument + message[len(message.split()[0]):] if message.split()[0] in ("q", "id")
                               else message) from None


def show(answer, as_json: bool) -> None:
    """Print an answer: the API's JSON, or each hit with its place and its matched words in bold."""
    from .highlight import mark

    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    if not answer.hits:
        click.echo("no passage found" if answer.request.filters else "the index holds no passages")
    elif answer.low_confidence:
        click.echo("low confidence: no passage answers this well; these are the closest", err=True)
    bold = functools.partial(click.style, bold=True)
    for hit in answer.hits:
        lines = f"{hit.line_start}" if hit.line_start == hit.line_end else f"{hit.line_start}-{hit.line_end}"
        more = f"  (+{hit.more_in_file} more in file)" if hit.more_in_file else ""
        click.echo(f"{hit.rank:>2}. {hit.score:.3f}  id {hit.id:<6} {hit.source}:{lines}{more}")
        click.echo(click.wrap_text(mark(hit.text, hit.highlights, bold), initial_indent="    ", subsequent_indent="    "))


@cli.command()
@click.argument("question")
@click.option("-k", type=click.IntRange(1, MAX_K), default=DEFAULT_K, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True, help="How to rank.")
@click.option("--per-file", is_flag=True, help="Only the best passage of each file (group=file).")
@path_option
@type_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer as the API's JSON.")
@index_dir_option
@milvus_uri_option
@domain_errors
def query(question: str, k: int, mode: str, per_file: bool, path: str | None, types: str | None, as_json: bool,
          **flags) -> None:
    """Print the passages that best answer QUESTION."""
    from .engine import Searcher
    from .request import SearchRequest

    config = load_config(**flags)
    asked = parsed(SearchRequest, {"q": question, "k": k, "mode": mode, "group": "file" if per_file else None,
                                   "path": path, "type": types}, "QUESTION")
    show(Searcher.load(config.index_dir, store=config.store_config()).search(asked), as_json)


@cli.command()
@click.argument("passage_id", type=int, metavar="ID")
@click.option("-k", type=click.IntRange(1, MAX_K), default=DEFAULT_K, show_default=True, help="How many passages.")
@click.option("--per-file", is_flag=True, help="One passage per file, and none of the passage's own file.")
@path_option
@type_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer as the API's JSON.")
@index_dir_option
@milvus_uri_option
@domain_errors
def similar(passage_id: int, k: int, per_file: bool, path: str | None, types: str | None, as_json: bool,
            **flags) -> None:
    """Print the passages most like passage ID (an id from a search result), by its stored vector."""
    from .engine import Searcher
    from .request import PassageNotFound, SimilarRequest

    config = load_config(**flags)
    asked = parsed(SimilarRequest, {"id": passage_id, "k": k, "group": "file" if per_file else None, "path": path,
                                    "type": types}, "ID")
    try:
        show(Searcher.load(config.index_dir, store=config.store_config()).similar(asked), as_json)
    except PassageNotFound as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
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
    from .server import serve_app

    serve_app(load_config(**flags), dev=dev, watch=watch_corpus)


@cli.command("mcp")
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
    from .mcp_server import serve_mcp

    serve_mcp(load_config(**flags), http=over_http)


@cli.group()
def key() -> None:
    """Manage the API keys a server accepts."""


@key.command("add")
@api_key_file_option
@click.option("--name", default="", help="A note kept beside the key's hash, to tell keys apart.")
def add_key_command(name: str, **flags) -> None:
    """Make a new API key, append its hash to the key file and print the key (shown only this once)."""
    from .keys import add_key

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


@cli.command("watch")
@click.argument("corpus", type=click.Path(path_type=Path), required=False)
@index_dir_option
@model_option
@backend_option
@max_file_option
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Seconds between looks.")
@click.option("--quiet", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds the corpus must stay unchanged before re-indexing.")
@domain_errors
def watch_command(interval: float, quiet: float, **flags) -> None:
    """Keep the index of CORPUS up to date as its files change (until Ctrl-C)."""
    import threading

    from docsearch.index.watch import watch

    from .server import sync_quietly

    config = load_config(**flags)
    encoder = run_build(config)  # loads the model once
    click.echo(f"watching {config.corpus} for changes (Ctrl-C to stop)", err=True)
    try:
        watch(config.corpus, lambda: sync_quietly(config, encoder), threading.Event(), interval, quiet)
    except KeyboardInterrupt:
        pass


@cli.command("eval")
@click.argument("dataset_dir", type=click.Path(path_type=Path))
@click.option("--split", default="test", show_default=True, help="Which qrels/SPLIT.tsv to score.")
@click.option("--mode", "modes", type=click.Choice(MODES), multiple=True,
              help="Retrieval mode; repeat for several [default: all three].")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures as JSON here.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the dataset's index lives [default: .docsearch-eval/DATASET].")
@click.option("--whole-documents", is_flag=True,
              help="Index each document as one passage, title and text joined by a space and truncated by the "
                   "model at its input limit, as MTEB does: to compare with published figures.")
@model_option
@backend_option
@domain_errors
def eval_command(dataset_dir: Path, split: str, modes: tuple[str, ...], json_out: Path | None, index_dir: Path | None,
                 whole_documents: bool, **flags) -> None:
    """Score retrieval on a BEIR dataset: nDCG@10, Recall@100, MRR@10, latency."""
    from docsearch.index.embed import default_backend

    from .evaluate import evaluate, load_dataset, open_index

    config = load_config(**flags)
    dataset = load_dataset(dataset_dir, split)
    backend = config.backend or default_backend()
    index_dir = index_dir or Path(".docsearch-eval") / f"{dataset.name}{'-whole' if whole_documents else ''}-{backend}"
    click.echo(f"{dataset.name}: {len(dataset.documents)} documents, {len(dataset.queries)} {split} queries", err=True)
    options = replace(build_options(config, chunking="whole" if whole_documents else "passages"), backend=backend)
    searcher, reused = open_index(dataset, index_dir, options, progress_bar())
    click.echo(f"{'reused' if reused else 'built'} index {index_dir}: {searcher.manifest.passages} passages", err=True)
    figures = []
    for mode in modes or MODES:
        with click.progressbar(length=len(dataset.queries), label=f"{mode:8s}", file=sys.stderr) as bar:
            figures.append(evaluate(searcher, dataset, mode, progress=bar.update))
    click.echo(f"{'mode':8s} {'nDCG@10':>8s} {'R@100':>7s} {'MRR@10':>7s} {'p50 ms':>7s} {'p95 ms':>7s}")
    for f in figures:
        click.echo(f"{f['mode']:8s} {f['ndcg@10']:8.4f} {f['recall@100']:7.4f} {f['mrr@10']:7.4f} "
                   f"{f['latency_ms_p50']:7.1f} {f['latency_ms_p95']:7.1f}")
    if json_out:
        report = {"dataset": dataset.name, "split": split, "queries": len(dataset.queries), "chunking": options.chunking,
                  "passages": searcher.manifest.passages, "model": searcher.manifest.model,
                  "backend": searcher.manifest.backend, "results": figures}
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    """Run the docsearch command."""
    cli(prog_name="docsearch")
