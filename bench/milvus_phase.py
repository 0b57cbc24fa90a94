"""Milvus beside FAISS: the same passages in a real Milvus standalone server, served and loaded beside FAISS.

At each corpus size named by --milvus-sizes (100k by default), a Milvus 2.3
standalone server is started by the tests' helper (tests/milvus_server.py: in a
network namespace of its own, reachable only through a bridge on 127.0.0.1; it
needs root for ``unshare --net``). A copy of the size's FAISS index is moved
into it by ``build_documents`` with ``StoreConfig("milvus", uri)``, as
`docsearch index --store milvus` moves an index (the same vectors, nothing
embedded again; Milvus builds its own HNSW above 50k), then the FAISS index
and the Milvus one are each served by a fresh `docsearch serve` (``--store
milvus --milvus-uri URI`` for Milvus) and loaded with one client, then
--concurrency clients, alternately, so a busy moment of the machine falls on
both. Memory is the docsearch server's, and for Milvus also the Milvus server's
(its process and children). Unless --skip-query-path, the Milvus index's query is
also broken into stages in process (bench.stages), beside FAISS's.
"""

from __future__ import annotations

import shutil
import time

from docsearch.index import StoreConfig

from .build import build, corpus_encoder
from .footprint import index_facts, tree_memory
from .http_load import served_load
from .inputs import source_files
from .phases import Corpus, Run
from .stages import stage_summaries

STAGE_QUERIES = 100  # at most, for the in-process stages on Milvus: each query runs several Milvus calls


def unavailable() -> str | None:
    """Say why a Milvus server cannot be run here, or None when it can."""
    from tests.milvus_server import can_isolate

    try:
        import milvus  # noqa: F401  (the embedded server binary, from the test extra)
        import pymilvus  # noqa: F401
    except ImportError:
        return "the Milvus server package is missing: pip install -e '.[test]' (milvus, pymilvus)"
    if not can_isolate():
        return "the Milvus server needs a network namespace of its own (unshare --net): run as root"
    return None


def build_into_milvus(run: Run, corpus: Corpus, uri: str) -> dict:
    """Move a copy of the size's FAISS index into the Milvus server; return the write's figures and the index's facts.

    The copy's build switches store, as `docsearch index --store milvus` on an existing
    index does: the same passages and the very same vectors, nothing embedded again.
    """
    index_dir = run.args.work_dir / f"{corpus.index_dir.name}-milvus"
    shutil.rmtree(index_dir, ignore_errors=True)  # the server is new: an old index would name gone collections
    shutil.copytree(corpus.index_dir, index_dir, ignore=shutil.ignore_patterns("LOCK"))
    texts = run.inputs.texts(corpus.size)
    run.clock.say(corpus.label, f"writing a copy of the FAISS index into Milvus at {uri}")
    began = time.perf_counter()
    report = build(source_files(texts), index_dir, corpus_encoder(run, corpus, texts), run.args,
                   store=StoreConfig("milvus", uri))
    seconds = time.perf_counter() - began
    passages = report.manifest.passages
    run.clock.say(corpus.label, f"wrote {passages} passages into Milvus in {seconds:.1f}s "
                                f"({report.embedded} embedded, {report.unchanged} files unchanged)")
    facts = index_facts(index_dir)
    return {"index_dir": index_dir, "passages": passages, "embedded": report.embedded, "seconds": round(seconds, 1),
            "passages_per_s": round(passages / seconds, 1), "vector_index": facts["vector_index"],
            "disk_bytes_total": facts["disk_bytes_total"]}


def load_both(run: Run, corpus: Corpus, milvus_dir, milvus) -> dict:
    """Serve and load FAISS, then Milvus, at one client and at --concurrency clients."""
    found: dict = {"faiss": {}, "milvus": {}}
    for concurrency in (1, run.args.concurrency):
        level = f"c{concurrency}"
        found["faiss"][level] = served_load(run, corpus.index_dir, concurrency)
        found["milvus"][level] = served_load(run, milvus_dir, concurrency,
                                             extra=("--store", "milvus", "--milvus-uri", milvus.uri))
        found["milvus"][level]["milvus_server_memory"] = tree_memory(milvus.pid)
        for store in ("faiss", "milvus"):
            got = found[store][level]
            run.clock.say(corpus.label, f"{store} HTTP c={concurrency}: {got['requests_per_s']} req/s, "
                                        f"p50 {got['p50_ms']} ms, p99 {got['p99_ms']} ms, {got['errors']} errors")
    return found


def milvus_stages(run: Run, milvus_dir, uri: str) -> dict:
    """Break queries on the Milvus index into stages, in process, as bench.stages does for FAISS."""
    from docsearch.index.embed import set_threads
    from docsearch.search.engine import Searcher

    set_threads(1)
    queries = run.inputs.queries[:min(run.args.path_queries, STAGE_QUERIES)]
    searcher = Searcher.load(milvus_dir, store=StoreConfig("milvus", uri))
    try:
        return {"queries": len(queries), "stages": stage_summaries(searcher, queries)}
    finally:
        searcher.close()


def measure(run: Run, corpus: Corpus) -> dict | None:
    """Build the size into a real Milvus server and load it beside the FAISS index (sizes in --milvus-sizes)."""
    if corpus.size not in run.args.milvus_sizes:
        return None
    reason = unavailable()
    if reason:
        run.clock.say(corpus.label, f"Milvus: skipped: {reason}")
        return {"skipped": reason}
    from tests.milvus_server import running_milvus

    server_dir = run.args.work_dir / "milvus-server"
    shutil.rmtree(server_dir, ignore_errors=True)  # a fresh server each run: no collections left from another
    server_dir.mkdir(parents=True)
    began = time.perf_counter()
    with running_milvus(server_dir, wait=600) as milvus:
        started = round(time.perf_counter() - began, 1)
        built = build_into_milvus(run, corpus, milvus.uri)
        milvus_dir = built.pop("index_dir")
        found = load_both(run, corpus, milvus_dir, milvus)
        if not run.args.skip_query_path:
            found["stages"] = milvus_stages(run, milvus_dir, milvus.uri)
        found["milvus_server_memory_at_end"] = tree_memory(milvus.pid)
    faiss = index_facts(corpus.index_dir)
    return {**found, "milvus_build": built, "milvus_server_start_s": started, "milvus_version": _milvus_version(),
            "faiss_index": {"vector_index": faiss["vector_index"], "disk_bytes_total": faiss["disk_bytes_total"],
                            "vectors_bytes": faiss["disk_bytes"].get("vectors.faiss")}}


def _milvus_version() -> str | None:
    """Return the version of the Milvus server package (None if unknown)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("milvus")
    except PackageNotFoundError:
        return None
