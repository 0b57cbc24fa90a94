"""HTTP load on `docsearch serve`: one client's latency, then N clients at once, and the server's memory.

Servers are started by the tests' helper (tests/server_process.py) on a port they
pick themselves. Each concurrency level gets a fresh server, so no query is
answered from the query cache. Clients are threads with keep-alive connections
on this machine, so they share its cores with the server.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from tests.server_process import running_server

from .footprint import process_memory
from .latency import summarize
from .phases import K, WARMUP_QUERIES, Corpus, Run

SERVER_START_WAIT = 1800  # seconds: loading a 1M-passage index takes minutes on 2 cores
REQUEST_TIMEOUT = 300


def search_path(query: str) -> str:
    """Return the API path that searches for query (hybrid, the default mode)."""
    return "/api/search?" + urllib.parse.urlencode({"q": query, "k": K})


class QueryFeed:
    """Hand out each query once, to any number of client threads, until a deadline."""

    def __init__(self, queries: list[str], duration: float):
        self._queries = iter(queries)
        self._lock = threading.Lock()
        self.deadline = time.perf_counter() + duration
        self.ran_out = False

    def next(self) -> str | None:
        """Return the next query, or None when time is up or none are left."""
        if time.perf_counter() >= self.deadline:
            return None
        with self._lock:
            query = next(self._queries, None)
        self.ran_out |= query is None
        return query


def connect(base: str) -> http.client.HTTPConnection:
    """Open a keep-alive connection to the server at base."""
    address = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=REQUEST_TIMEOUT)


def ask(connection: http.client.HTTPConnection, query: str) -> None:
    """Search for query; raise ValueError unless the server answers with results."""
    connection.request("GET", search_path(query))
    response = connection.getresponse()
    body = response.read()
    if response.status != 200 or "results" not in json.loads(body):
        raise ValueError(f"status {response.status}: {body[:200]!r}")


def client(base: str, feed: QueryFeed) -> tuple[list[float], int, str | None]:
    """Send queries on one keep-alive connection; return latencies, the error count and the first error."""
    connection = connect(base)
    latencies, errors, first_error = [], 0, None
    while (query := feed.next()) is not None:
        began = time.perf_counter()
        try:
            ask(connection, query)
            latencies.append(time.perf_counter() - began)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
            connection.close()  # a broken connection cannot be reused: start a new one
            connection = connect(base)
    connection.close()
    return latencies, errors, first_error


def load(base: str, queries: list[str], concurrency: int, duration: float) -> dict:
    """Run concurrency clients for duration seconds (or until the queries run out)."""
    feed = QueryFeed(queries, duration)
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(lambda _: client(base, feed), range(concurrency)))
    seconds = time.perf_counter() - began
    latencies = [t for got, _, _ in outcomes for t in got]
    return {"concurrency": concurrency, "seconds": round(seconds, 2), "requests": len(latencies),
            "requests_per_s": round(len(latencies) / seconds, 2), "errors": sum(e for _, e, _ in outcomes),
            "first_error": next((e for _, _, e in outcomes if e), None),
            "ran_out_of_queries": feed.ran_out, **summarize(latencies)}


def served_load(run: Run, corpus: Corpus, concurrency: int) -> dict:
    """Start a fresh server on the corpus's index, load it, and read its memory before it stops."""
    args = ["--index-dir", str(corpus.index_dir), "--threads", str(run.args.server_threads)]
    log = run.args.work_dir / f"serve-{corpus.index_dir.name}-c{concurrency}.log"
    began = time.perf_counter()
    with running_server(args, log, wait=SERVER_START_WAIT) as server:
        startup = time.perf_counter() - began
        warm = connect(server.base)
        for query in WARMUP_QUERIES:
            ask(warm, query)
        warm.close()
        found = load(server.base, run.inputs.queries, concurrency, run.args.duration)
        found["server_memory"] = process_memory(server.pid)
    return {**found, "startup_s": round(startup, 1)}


def measure(run: Run, corpus: Corpus) -> dict:
    """Measure one client, then --concurrency clients, each on a fresh server."""
    found = {"server_threads": run.args.server_threads}
    for concurrency in (1, run.args.concurrency):
        phase = found[f"c{concurrency}"] = served_load(run, corpus, concurrency)
        run.clock.say(corpus.label, f"HTTP c={concurrency}: {phase['requests_per_s']} req/s, p50 {phase['p50_ms']} ms, "
                                    f"p99 {phase['p99_ms']} ms, {phase['errors']} errors, RSS {phase['server_memory']}")
    return found
