"""What the docsearch commands share: options bound to Config settings, errors as one line, a progress bar."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ..config import Config, ConfigError

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


def stacked(*decorators):
    """Return one decorator applying several, the first outermost (as if written one above the other)."""

    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


# How files are read: paragraphs of plain text, and extraction's limits.
reading_options = stacked(setting("paragraphs"),
                          setting("extract_seconds", type=click.FloatRange(min=0, min_open=True)),
                          setting("extract_memory_mb", type=click.IntRange(min=64)))
# What a command that reads a corpus folder takes: the folder, where its index goes, and how it is read.
corpus_options = stacked(click.argument("corpus", type=click.Path(path_type=Path), required=False), index_dir_option,
                         model_option, backend_option, max_file_option, reading_options)

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
