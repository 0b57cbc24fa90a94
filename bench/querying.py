"""Query latency in process: Searcher.search over every distinct query, per mode, and dense recall."""

from __future__ import annotations

import gc
import time

import numpy as np

from docsearch.index.embed import set_threads
from docsearch.search.engine import Searcher
from docsearch.search.request import SearchRequest

from .latency import time_each
from .phases import K, WARMUP_QUERIES, Corpus, Run
from .recall import dense_recall

MODES = ("hybrid", "dense")


def mode_latency(searcher: Searcher, queries: list[str], mode: str) -> dict:
    """Time one mode over the queries, with the query cache emptied first so every query runs the model."""
    searcher.query_vector.cache_clear()
    for warm in WARMUP_QUERIES:
        searcher.search(SearchRequest(warm, K, mode))
    return time_each(lambda query: searcher.search(SearchRequest(query, K, mode)), queries)


def recall_against_exact(searcher: Searcher, queries: list[str]) -> float | None:
    """Return dense recall@K against exact search, or None when the vector index is exact already."""
    if searcher.manifest.vector_index == "flat" or not queries:
        return None
    asked = np.vstack([searcher.query_vector(q) for q in queries]).astype(np.float32)
    return dense_recall(searcher.generation.vectors, asked, K)


def measure(run: Run, corpus: Corpus) -> dict:
    """Load the index in this process and time every mode; then measure dense recall."""
    set_threads(1)  # as `docsearch serve` does: FAISS and torch threads would fight the model's
    began = time.perf_counter()
    searcher = Searcher.load(corpus.index_dir)
    manifest = searcher.manifest
    found = {"load_s": round(time.perf_counter() - began, 1),
             "vectors": f"{manifest.vector_index} ({manifest.vector_store})",
             "vector_store_class": type(searcher.generation.vectors).__name__}
    try:
        for mode in MODES:
            found[mode] = mode_latency(searcher, run.inputs.queries, mode)
            run.clock.say(corpus.label, f"in-process {mode}: p50 {found[mode]['p50_ms']} ms, "
                                        f"p99 {found[mode]['p99_ms']} ms")
        found["dense_recall_at_10_vs_exact"] = recall_against_exact(searcher, run.inputs.queries)
    finally:
        searcher.close()
    gc.collect()  # the HTTP phase's server should not share the machine with this index
    return found
