"""Where one query's time goes, in process: each call Searcher.search makes, timed on its own.

For each query, bench makes the calls the Searcher makes, in its order and with
its arguments, and times each (nothing in search/ or index/ is changed): the
query embedding with the cache emptied and then from the cache, reading the
live generation's name (as every request does), BM25, the vector search,
fusion, the SQLite fetch of the k hits, their stored vectors (for the cosine
scores), highlights, the low-confidence check, the answer as a dict and as
JSON, and the whole request through Flask in process (the app called as WSGI
with an environ made beforehand: routing, parsing, hooks, headers, the body; no
socket, and not Flask's test client, which adds its own work to every request).
``search()`` itself is timed too, with the embedding cached and not, so what no
stage covers shows as the remainder.
"""

from __future__ import annotations

import gc
import json
import time
from contextlib import contextmanager

from werkzeug.test import EnvironBuilder, run_wsgi_app

from docsearch.index import IndexFolder
from docsearch.index.embed import set_threads
from docsearch.search import create_app
from docsearch.search.config import Config
from docsearch.search.engine import Searcher
from docsearch.search.fusion import fuse
from docsearch.search.highlight import highlights, holds_every_word
from docsearch.search.request import SearchRequest

from .http_load import search_path
from .latency import summarize
from .phases import K, WARMUP_QUERIES, Corpus, Run

# The stages of search() once its embedding is cached: search() minus their sum is the remainder.
PARTS = ("query embedding, cached", "BM25", "vector search", "fusion", "SQLite fetch of the hits",
         "stored vectors of the hits", "highlights", "low-confidence check (as answered)")
REMAINDER = "search() remainder (hits, bookkeeping)"


class Stopwatch:
    """Collect the seconds of named stages, one row per query."""

    def __init__(self):
        self.rows: list[dict[str, float]] = []

    def next_query(self) -> None:
        """Start the row of the next query."""
        self.rows.append({})

    @contextmanager
    def __call__(self, stage: str):
        """Time the block as stage of the current query."""
        began = time.perf_counter()
        yield
        self.rows[-1][stage] = time.perf_counter() - began

    def add(self, stage: str, seconds: float) -> None:
        """Record a derived figure (a difference of timed ones) for the current query."""
        self.rows[-1][stage] = seconds

    def summaries(self) -> dict[str, dict]:
        """Return each stage's latency summary over the queries that reached it, in the order first timed."""
        stages = dict.fromkeys(stage for row in self.rows for stage in row)
        return {stage: summarize([row[stage] for row in self.rows if stage in row]) for stage in stages}


def served_app(searcher: Searcher):
    """Return the product's Flask app for the searcher's index, answering from this very searcher."""
    app = create_app(Config.load({"index_dir": searcher.index_dir}, environ={}))
    # The app would load its own copy of the index on the first request; give it this one
    # (what get_searcher keeps on the app), so a 1M index is not held twice.
    app.extensions["docsearch"]["searcher"] = searcher
    return app


def time_retrieval(watch: Stopwatch, searcher: Searcher, query: str, folder: IndexFolder) -> None:
    """Time the embedding, uncached then cached, and each retrieval stage of one hybrid query."""
    generation = searcher.generation
    searcher.query_vector.cache_clear()
    with searcher.encoder.serving():  # as in search(): a lone request may use both cores
        with watch("query embedding, uncached"):
            vector = searcher.query_vector(query)
        with watch("query embedding, cached"):
            searcher.query_vector(query)
    with watch("live generation name"):
        folder.live_name()
    depth = max(searcher.pool, K)
    with watch("BM25"):
        lexical = generation.lexical.search(query, depth, None)
    with watch("vector search"):
        dense = generation.vectors.search(vector[None, :], min(depth, searcher.manifest.passages), None)[0]
    with watch("fusion"):
        ids = [c.pid for c in fuse(dense, lexical, "hybrid")[:K]]
    if not ids:
        return
    with watch("SQLite fetch of the hits"):
        stored = generation.catalog.passages(ids)
    with watch("stored vectors of the hits"):
        generation.vectors.vectors(ids) @ vector
    with watch("highlights"):
        highlights(query, [stored[pid].text for pid in ids])


def wsgi_get(app, environ: dict) -> bytes:
    """Call the WSGI app with environ as a server would; return the body of its 200 answer."""
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    data = b"".join(body)
    if not status.startswith("200"):
        raise RuntimeError(f"the app answered {status}: {data[:200]!r}")
    return data


def time_answer(watch: Stopwatch, searcher: Searcher, query: str, app) -> None:
    """Time search() cached and not, the low-confidence check, JSON, Flask in process and lexical mode."""
    request = SearchRequest(query, K, "hybrid")
    searcher.query_vector.cache_clear()
    with watch("search() hybrid, uncached"):
        searcher.search(request)
    with watch("search() hybrid, embedding cached"):
        answer = searcher.search(request)
    with watch("low-confidence check (as answered)"):
        searcher.is_low_confidence(query, answer.hits)
    with watch("low-confidence check (every-word test)"):  # its cost when the best cosine is low
        holds_every_word(query, [hit.text for hit in answer.hits])
    with watch("answer to dict"):
        body = answer.to_dict()
    with watch("JSON encoding"):
        app.json.dumps(body)
    environ = EnvironBuilder(path=search_path(query)).get_environ()
    with watch("Flask request in process, embedding cached"):
        body = wsgi_get(app, environ)
    watch.add("Flask beyond search() (in process)", watch.rows[-1]["Flask request in process, embedding cached"]
              - json.loads(body)["took_ms"] / 1000)
    searcher.query_vector.cache_clear()
    with watch("search() lexical, uncached"):  # no embedding: the low-confidence check uses the words
        searcher.search(SearchRequest(query, K, "lexical"))


def stage_summaries(searcher: Searcher, queries: list[str]) -> dict[str, dict]:
    """Return each stage's latency summary over the queries (after warm-up queries, not counted)."""
    folder = IndexFolder(searcher.index_dir)
    app = served_app(searcher)
    watch = Stopwatch()
    for query in [*WARMUP_QUERIES, *queries]:
        watch.next_query()
        time_retrieval(watch, searcher, query, folder)
        time_answer(watch, searcher, query, app)
        row = watch.rows[-1]
        watch.add(REMAINDER, row["search() hybrid, embedding cached"] - sum(row.get(part, 0.0) for part in PARTS))
    del watch.rows[:len(WARMUP_QUERIES)]
    return watch.summaries()


def measure(run: Run, corpus: Corpus) -> dict:
    """Load the corpus's index in process and break --path-queries queries into stages."""
    set_threads(1)  # as `docsearch serve` does
    queries = run.inputs.queries[:run.args.path_queries]
    searcher = Searcher.load(corpus.index_dir)
    try:
        stages = stage_summaries(searcher, queries)
    finally:
        searcher.close()
    gc.collect()
    run.clock.say(corpus.label, "in-process stages (p50 ms): " + ", ".join(
        f"{stage} {found['p50_ms']}" for stage, found in stages.items()))
    return {"queries": len(queries), "mode": "hybrid", "k": K, "stages": stages}
