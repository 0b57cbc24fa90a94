"""`docsearch query` and `similar`: ask the index from the command line, as the API would."""

from __future__ import annotations

import functools
import json

import click

from ..request import DEFAULT_K, MAX_K, MODES
from .options import domain_errors, index_dir_option, load_config, milvus_uri_option, stacked


path_option = click.option("--path", "path", default=None, metavar="GLOB",
                           help="Only files whose path matches GLOB, e.g. 'reports/2024/**' or '**/*.md'.")
type_option = click.option("--type", "types", default=None, metavar="EXT[,EXT]",
                           help="Only files of these types (extensions), e.g. pdf,md.")
# What a command that prints hits takes besides its question: filters, JSON, and which index to ask.
answer_options = stacked(path_option, type_option,
                         click.option("--json", "as_json", is_flag=True, help="Print the answer as the API's JSON."),
                         index_dir_option, milvus_uri_option)


def parsed(kind, fields: dict, argument: str):
    """Return a request parsed from the command's values; a bad one is a usage error naming the argument."""
    from ..request import BadQuery

    try:
        return kind.parse({name: value for name, value in fields.items() if value is not None}, from_json=True)
    except BadQuery as exc:  # name the argument as the user typed it
        message = str(exc)
        raise click.UsageError(argument + message[len(message.split()[0]):] if message.split()[0] in ("q", "id")
                               else message) from None


def show(answer, as_json: bool) -> None:
    """Print an answer: the API's JSON, or each hit with its place and its matched words in bold."""
    from ..highlight import mark

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
        pages = f"{hit.page}-{hit.page_end}" if hit.page_end else f"{hit.page}"
        where = f"{hit.source} p. {pages}" if hit.page else f"{hit.source}:{lines}"
        more = f"  (+{hit.more_in_file} more in file)" if hit.more_in_file else ""
        click.echo(f"{hit.rank:>2}. {hit.score:.3f}  id {hit.id:<6} {where}{more}")
        section = hit.section or ""
        about = section if hit.title and section.startswith(hit.title) else " › ".join(
            part for part in (hit.title, section) if part)
        if about:
            click.echo(f"    {about}")
        click.echo(click.wrap_text(mark(hit.text, hit.highlights, bold), initial_indent="    ", subsequent_indent="    "))


@click.command()
@click.argument("question")
@click.option("-k", type=click.IntRange(1, MAX_K), default=DEFAULT_K, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True, help="How to rank.")
@click.option("--per-file", is_flag=True, help="Only the best passage of each file (group=file).")
@answer_options
@domain_errors
def query(question: str, k: int, mode: str, per_file: bool, path: str | None, types: str | None, as_json: bool,
          **flags) -> None:
    """Print the passages that best answer QUESTION."""
    from ..engine import Searcher
    from ..request import SearchRequest

    config = load_config(**flags)
    asked = parsed(SearchRequest, {"q": question, "k": k, "mode": mode, "group": "file" if per_file else None,
                                   "path": path, "type": types}, "QUESTION")
    show(Searcher.load(config.index_dir, store=config.store_config()).search(asked), as_json)


@click.command()
@click.argument("passage_id", type=int, metavar="ID")
@click.option("-k", type=click.IntRange(1, MAX_K), default=DEFAULT_K, show_default=True, help="How many passages.")
@click.option("--per-file", is_flag=True, help="One passage per file, and none of the passage's own file.")
@answer_options
@domain_errors
def similar(passage_id: int, k: int, per_file: bool, path: str | None, types: str | None, as_json: bool,
            **flags) -> None:
    """Print the passages most like passage ID (an id from a search result), by its stored vector."""
    from ..engine import Searcher
    from ..request import PassageNotFound, SimilarRequest

    config = load_config(**flags)
    asked = parsed(SimilarRequest, {"id": passage_id, "k": k, "group": "file" if per_file else None, "path": path,
                                    "type": types}, "ID")
    try:
        show(Searcher.load(config.index_dir, store=config.store_config()).similar(asked), as_json)
    except PassageNotFound as exc:
        raise click.ClickException(str(exc)) from None
