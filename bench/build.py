"""Build an index of one corpus size with build_documents, and time it."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from docsearch.index import BuildOptions, BuildReport, StoreConfig, build_documents

from .inputs import source_files
from .phases import Corpus, Run
from .precomputed import PrecomputedEncoder, ensure_sentence_vectors

PROGRESS_EVERY = 60  # seconds between progress lines of a build: a 1M build takes most of an hour


def build_options(args: argparse.Namespace, store: StoreConfig = StoreConfig()) -> BuildOptions:
    """Return the build options the command line asks for (docsearch's defaults otherwise), into store."""
    # SQ8 and SQ4 are FAISS's own: a Milvus store refuses them, and builds its HNSW from float vectors.
    faiss = store.kind in (None, "faiss")
    return BuildOptions(vector_index=args.vector_index or BuildOptions.vector_index, sq8=args.sq8 and faiss,
                        sq4=args.sq4 and faiss, store=store)


def build(files: list, index_dir: Path, encoder, args: argparse.Namespace, progress=None,
          store: StoreConfig = StoreConfig()) -> BuildReport:
    """Run build_documents on files with the run's options and the given encoder, into store."""
    return build_documents(files, index_dir, options=build_options(args, store), encoder=encoder, progress=progress)


def corpus_encoder(run: Run, corpus: Corpus, texts: list[str]):
    """Return the encoder a corpus size is built with: the model, or its precomputed vectors."""
    if not corpus.precomputed:
        return run.inputs.encoder
    ensure_sentence_vectors(run.inputs, run.args.work_dir, run.clock)
    return PrecomputedEncoder(run.inputs.encoder, texts, run.inputs.sentence_vectors, run.inputs.rows)


def progress_lines(run: Run, label: str, every: float = PROGRESS_EVERY):
    """Return a build progress callback that says how far embedding got, at most once per every seconds."""
    said = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        """Say how far embedding got, if a line is due."""
        if time.perf_counter() - said[0] >= every:
            said[0] = time.perf_counter()
            run.clock.say(label, f"embedded {done} of {total} passages")

    return progress


def measure(run: Run, corpus: Corpus) -> dict:
    """Build the index of the first size passages, with real or precomputed embeddings.

    With --reuse-indexes the old index is kept and build_documents syncs it: it
    writes nothing when files, model, backend and settings are all unchanged.
    """
    texts = run.inputs.texts(corpus.size)
    files = source_files(texts)
    if not run.args.reuse_indexes:
        shutil.rmtree(corpus.index_dir, ignore_errors=True)
    encoder = corpus_encoder(run, corpus, texts)
    run.clock.say(corpus.label, f"building the index ({corpus.embeddings} embeddings)")
    began = time.perf_counter()
    report = build(files, corpus.index_dir, encoder, run.args, progress_lines(run, corpus.label))
    seconds = time.perf_counter() - began
    passages = report.manifest.passages
    found = {"embeddings": corpus.embeddings, "reused": not report.written, "files": len(files), "passages": passages}
    if not report.written:
        run.clock.say(corpus.label, f"reused the index already built from this corpus ({passages} passages)")
        return found
    run.clock.say(corpus.label, f"built {passages} passages in {seconds:.1f}s ({passages / seconds:.1f}/s)")
    return {**found, "seconds": round(seconds, 1), "passages_per_s": round(passages / seconds, 1),
            "precomputed_misses": encoder.misses if corpus.precomputed else None}
