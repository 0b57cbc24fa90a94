"""Where a request's time goes over HTTP: the server's own time beside the client's, and the floor.

One client, one fresh `docsearch serve`, keep-alive connection. In order:

- ``/healthz`` (the floor: WSGI, waitress and a socket round trip around almost no work);
- six-word questions, each asked once (the issue's target question length): the SciFact
  claims of exactly six words, then the first six words of longer claims, all distinct;
- other questions asked twice in a row: the first time runs the model, the second finds
  its embedding in the query cache (a refreshed page, a popular question).

For each search the client's time (request sent to body read) is set beside the
``took_ms`` the server reports (``Searcher.search`` alone); the difference is what
routing, JSON, WSGI, waitress and the socket cost.
"""

from __future__ import annotations

import http.client
import json
import time

from tests.server_process import running_server

from .footprint import process_memory
from .http_load import SERVER_START_WAIT, ask, connect, search_path, serve_args
from .latency import summarize
from .phases import WARMUP_QUERIES, Corpus, Run

SIX = 6


def six_word_questions(queries: list[str], count: int) -> list[str]:
    """Return up to count distinct six-word questions: claims of six words first, then six-word beginnings."""
    exact = [q for q in queries if len(q.split()) == SIX]
    cut = [" ".join(q.split()[:SIX]) for q in queries if len(q.split()) > SIX]
    return list(dict.fromkeys(exact + cut))[:count]


def timed_get(connection: http.client.HTTPConnection, path: str) -> tuple[float, dict]:
    """GET path; return the seconds until the body was read, and the body parsed (after the clock stops)."""
    began = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    raw = response.read()
    seconds = time.perf_counter() - began
    if response.status != 200:
        raise ValueError(f"GET {path}: status {response.status}: {raw[:200]!r}")
    return seconds, json.loads(raw)


def client_and_server(timings: list[tuple[float, dict]]) -> dict:
    """Summarise searches: the client's time, the server's took_ms, and the client's beyond the server's."""
    client = [seconds for seconds, _ in timings]
    server = [body["took_ms"] / 1000 for _, body in timings]
    return {"client": summarize(client), "server_took": summarize(server),
            "beyond_server": summarize([c - s for c, s in zip(client, server)])}


def ask_each(connection: http.client.HTTPConnection, questions: list[str], times: int) -> list[list]:
    """Ask each question times times in a row; return the timings of each round."""
    rounds: list[list] = [[] for _ in range(times)]
    for question in questions:
        for asked in rounds:
            asked.append(timed_get(connection, search_path(question)))
    return rounds


def path_figures(base: str, six: list[str], others: list[str], floor_requests: int) -> dict:
    """Measure the floor, the six-word questions and the twice-asked ones on one connection."""
    connection = connect(base)
    try:
        for query in WARMUP_QUERIES:
            ask(connection, query)
        floor = [timed_get(connection, "/healthz")[0] for _ in range(floor_requests)]
        (six_word,) = ask_each(connection, six, 1)
        first, second = ask_each(connection, others, 2)
    finally:
        connection.close()
    return {"healthz": summarize(floor), "six_word": client_and_server(six_word),
            "first_ask": client_and_server(first), "second_ask": client_and_server(second)}


def measure(run: Run, corpus: Corpus) -> dict:
    """Start a fresh server on the corpus's index and measure one client's path through it."""
    count = run.args.path_queries
    six = six_word_questions(run.inputs.queries, count)
    others = [q for q in run.inputs.queries if q not in set(six)][:count]
    log = run.args.work_dir / f"serve-{corpus.index_dir.name}-path.log"
    with running_server(serve_args(run, corpus.index_dir), log, wait=SERVER_START_WAIT) as server:
        found = path_figures(server.base, six, others, floor_requests=count)
        found["server_memory"] = process_memory(server.pid)
    found.update(six_word_questions=len(six), twice_asked_questions=len(others))
    run.clock.say(corpus.label, f"HTTP path: /healthz p50 {found['healthz']['p50_ms']} ms; six-word p50 "
                                f"{found['six_word']['client']['p50_ms']} / p99 {found['six_word']['client']['p99_ms']} ms; "
                                f"asked again p50 {found['second_ask']['client']['p50_ms']} ms (server "
                                f"{found['second_ask']['server_took']['p50_ms']} ms)")
    return found
