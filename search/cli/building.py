"""`docsearch index`, `watch` and `eval`: build or sync an index, keep it current, score it on a dataset."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from ..config import Config
from ..request import MODES
from .options import (LOCAL_RAY, backend_option, corpus_options, domain_errors, load_config, milvus_uri_option,
                      model_option, progress_bar, setting, store_option)


def run_build(config: Config, **extra):
    """Build or sync the index, print what changed, and return the loaded (local) Encoder."""
    from docsearch.index import build_index

    click.echo(f"indexing {config.corpus} into {config.index_dir}", err=True)
    if config.ray:
        click.echo(f"embedding on Ray ({config.ray})", err=True)
    began = time.perf_counter()
    report = build_index(config.corpus, config.index_dir, config.build_options(**extra), progress=progress_bar())
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


@click.command("index")
@corpus_options
@click.option("--full", is_flag=True, help="Embed every file again instead of only new and changed ones.")
@click.option("--vector-index", type=click.Choice(("auto", "flat", "hnsw")), default="auto", show_default=True,
              help="Exact search (flat) or HNSW; auto is exact up to 50,000 passages.")
@click.option("--sq8", is_flag=True, help="Store vectors as 8-bit scalars: a quarter of the memory, slightly lower recall.")
@click.option("--sq4", is_flag=True, help="Keep 4-bit scalars in memory (an eighth) to find candidates, and rank "
                                          "them by the exact vectors, read from disk.")
@store_option
@milvus_uri_option
@setting("ray", "--ray", is_flag=False, flag_value=LOCAL_RAY, metavar="[ADDRESS]",
         help="Embed on Ray: a small local instance, or the cluster at ADDRESS (ray://host:10001, or auto). "
              "Give it as --ray=ADDRESS, or after CORPUS.")
@domain_errors
def index_command(full: bool, vector_index: str, sq8: bool, sq4: bool, **flags) -> None:
    """Build the index of CORPUS (default: docs_corpus), or bring it up to date.

    Only new and changed files are embedded; files gone from CORPUS are removed.
    """
    run_build(load_config(**flags), full=full, vector_index=vector_index, sq8=sq8, sq4=sq4)


@click.command("watch")
@corpus_options
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Seconds between looks.")
@click.option("--quiet", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds the corpus must stay unchanged before re-indexing.")
@domain_errors
def watch_command(interval: float, quiet: float, **flags) -> None:
    """Keep the index of CORPUS up to date as its files change (until Ctrl-C)."""
    import threading

    from docsearch.index.watch import watch

    from ..server import sync_quietly

    config = load_config(**flags)
    encoder = run_build(config)  # loads the model once
    click.echo(f"watching {config.corpus} for changes (Ctrl-C to stop)", err=True)
    try:
        watch(config.corpus, lambda: sync_quietly(config, encoder), threading.Event(), interval, quiet)
    except KeyboardInterrupt:
        pass


@click.command("eval")
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

    from ..evaluate import evaluate, load_dataset, open_index

    config = load_config(**flags)
    dataset = load_dataset(dataset_dir, split)
    backend = config.backend or default_backend()
    index_dir = index_dir or Path(".docsearch-eval") / f"{dataset.name}{'-whole' if whole_documents else ''}-{backend}"
    click.echo(f"{dataset.name}: {len(dataset.documents)} documents, {len(dataset.queries)} {split} queries", err=True)
    options = replace(config.build_options(chunking="whole" if whole_documents else "passages"), backend=backend)
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
