"""Prometheus metrics at /metrics: requests, latencies, the query cache, the served index and its reloads.

Each app has its own registry (so apps in one process, as in the tests, never share
counts). Requests are counted and timed in one after-request hook; the served index's
figures are read from the live Searcher when /metrics is scraped, so they cost the
query path nothing.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics,
                               generate_latest)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector

from docsearch.index.errors import DocsearchError

from . import ARRIVED

# Seconds: a cached lexical search takes about 1 ms, a hybrid search on a busy 2-core machine up to a second.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

bp = Blueprint("metrics", __name__)
disable_created_metrics()  # the *_created series double the output and say only when a label was first seen


class Metrics:
    """The metrics of one app, in a registry of their own."""

    def __init__(self, state: dict):
        self.registry = CollectorRegistry()
        self.requests = Counter("docsearch_http_requests", "HTTP requests answered, by endpoint and status",
                                ["endpoint", "status"], registry=self.registry)
        self.request_seconds = Histogram("docsearch_http_request_duration_seconds",
                                         "time from request to response, by endpoint", ["endpoint"],
                                         buckets=BUCKETS, registry=self.registry)
        self.search_seconds = Histogram("docsearch_search_duration_seconds",
                                        "time the engine took to answer, by mode (similar: more like this)",
                                        ["mode"], buckets=BUCKETS, registry=self.registry)
        self.reloads = Counter("docsearch_reloads", "new index generations loaded while serving",
                               registry=self.registry)
        self.reload_failures = Counter("docsearch_reload_failures",
                                       "index generations that failed to load (the old one kept serving)",
                                       registry=self.registry)
        self.syncs = Counter("docsearch_watch_syncs", "re-index runs of serve --watch, by result",
                             ["result"], registry=self.registry)
        self.retired_cache = [0, 0]  # query-cache hits and misses of Searchers no longer served
        self.children: dict[tuple[str, int], tuple] = {}  # (endpoint, status) -> its counter and histogram
        self.registry.register(ServedIndex(state, self.retired_cache))
        ProcessCollector(registry=self.registry)

    def count(self, response: Response) -> Response:
        """Count and time one answered request under its endpoint (none: no route matched)."""
        key = (request.endpoint or "none", response.status_code)
        children = self.children.get(key)
        if children is None:  # labels() looks up and locks; a request needs only the children
            children = self.children[key] = (self.requests.labels(key[0], str(key[1])),
                                              self.request_seconds.labels(key[0]))
        children[0].inc()
        arrived = request.environ.get(ARRIVED)
        if arrived is not None:
            children[1].observe(time.perf_counter() - arrived)
        return response

    def reloaded(self, old) -> None:
        """Count a reload, keeping the replaced Searcher's query-cache counts so the totals never go down."""
        info = old.query_vector.cache_info()
        self.retired_cache[0] += info.hits
        self.retired_cache[1] += info.misses
        self.reloads.inc()


class ServedIndex:
    """Figures of the Searcher being served, read when metrics are collected."""

    def __init__(self, state: dict, retired_cache: list[int]):
        self.state = state
        self.retired_cache = retired_cache

    def describe(self):
        return []  # figures appear only once an index is loaded

    def collect(self):
        searcher = self.state.get("searcher")
        if searcher is None:
            return
        info = searcher.query_vector.cache_info()
        yield CounterMetricFamily("docsearch_query_cache_hits", "questions whose embedding came from the cache",
                                  value=self.retired_cache[0] + info.hits)
        yield CounterMetricFamily("docsearch_query_cache_misses", "questions embedded by the model",
                                  value=self.retired_cache[1] + info.misses)
        m = searcher.manifest
        for name, help_text, value in (
            ("docsearch_index_generation", "the index generation being served", m.generation),
            ("docsearch_index_passages", "passages in the served generation", m.passages),
            ("docsearch_index_files", "files in the served generation", m.files),
            ("docsearch_index_skipped_files", "corpus files the build of the served generation skipped", m.skipped),
            ("docsearch_index_build_seconds", "how long the build of the served generation took", m.build_seconds),
        ):
            yield GaugeMetricFamily(name, help_text, value=value)


def init_app(app: Flask) -> Metrics:
    """Count and time every request of app, and serve /metrics."""
    metrics = Metrics(app.extensions["docsearch"])
    app.extensions["docsearch"]["metrics"] = metrics
    app.after_request(metrics.count)
    app.register_blueprint(bp)
    return metrics


def observe(answer) -> None:
    """Time an engine answer under its mode, when the app keeps metrics."""
    metrics = current_app.extensions["docsearch"].get("metrics")
    if metrics is not None:
        metrics.search_seconds.labels(getattr(answer.request, "mode", "similar")).observe(answer.took_ms / 1000)


@bp.route("/metrics", endpoint="metrics")
def metrics_text():
    """Serve the metrics in Prometheus' text format, first picking up a new generation if one went live."""
    from . import get_searcher

    try:
        get_searcher()
    except DocsearchError:  # no index yet: the request and process figures still say something
        pass
    registry = current_app.extensions["docsearch"]["metrics"].registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
