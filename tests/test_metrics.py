"""/metrics: figures that move exactly as requests, reloads and watch syncs happen."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from docsearch.index import BuildOptions, IndexFolder, build_index
from docsearch.search.config import Config
from docsearch.search.metrics import Metrics

from .conftest import app_for


def scrape(client, **kwargs) -> dict[tuple, float]:
    """Return every sample of /metrics as {(name, (label, value), ...): value}."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def requests(endpoint: str, status: int) -> tuple:
    return ("docsearch_http_requests_total", ("endpoint", endpoint), ("status", str(status)))


def searches(mode: str) -> tuple:
    return ("docsearch_search_duration_seconds_count", ("mode", mode))


def test_counters_go_up_by_exactly_the_requests_made(client):
    before = scrape(client)
    for q in ("Iraq", "US troops", "strategic dialogue"):
        assert client.get("/api/search", query_string={"q": q, "mode": "dense"}).status_code == 200
    assert client.post("/api/search", json={"q": "Iraq", "mode": "lexical"}).status_code == 200
    assert client.get("/", query_string={"q": "Iraq"}).status_code == 200
    assert client.get("/api/similar", query_string={"id": 1}).status_code == 200
    assert client.get("/api/search", query_string={"q": "Iraq", "k": 0}).status_code == 400
    after = scrape(client)

    def grew(key: tuple) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert grew(requests("api.search", 200)) == 4 and grew(requests("api.search", 400)) == 1
    assert grew(requests("web.form", 200)) == 1 and grew(requests("api.similar", 200)) == 1
    assert grew(requests("metrics.metrics", 200)) == 1  # the first scrape, counted after it answered
    assert (grew(searches("dense")), grew(searches("lexical")), grew(searches("hybrid")), grew(searches("similar"))) \
        == (3, 1, 1, 1)
    assert grew(("docsearch_http_request_duration_seconds_count", ("endpoint", "api.search"))) == 5
    assert grew(("docsearch_http_request_duration_seconds_sum", ("endpoint", "api.search"))) > 0


def test_query_cache_hits_and_misses(client):
    question = f"a question never asked before {time.time_ns()}"
    before = scrape(client)
    client.get("/api/search", query_string={"q": question, "mode": "dense"})
    middle = scrape(client)
    client.get("/api/search", query_string={"q": question, "mode": "dense"})
    client.get("/api/search", query_string={"q": question, "mode": "hybrid"})
    after = scrape(client)
    hits, misses = "docsearch_query_cache_hits_total", "docsearch_query_cache_misses_total"
    assert (middle[(misses,)] - before[(misses,)], middle[(hits,)] - before[(hits,)]) == (1, 0)
    assert (after[(misses,)] - middle[(misses,)], after[(hits,)] - middle[(hits,)]) == (0, 2)


def test_index_figures_follow_the_live_generation_and_its_reloads(workspace, encoder):
    corpus, index_dir = workspace
    client = app_for(index_dir, encoder).test_client()
    client.get("/api/search", query_string={"q": "a question for generation one"})
    first = scrape(client)
    manifest = IndexFolder(index_dir).open_live().manifest
    assert first[("docsearch_index_generation",)] == manifest.generation == 1
    assert (first[("docsearch_index_passages",)], first[("docsearch_index_files",)]) == (manifest.passages, manifest.files)
    assert first[("docsearch_index_build_seconds",)] == manifest.build_seconds
    assert first[("docsearch_reloads_total",)] == 0

    (corpus / "penguins.txt").write_text("Emperor penguins breed on the sea ice of Antarctica through the winter.\n")
    (corpus / "huge.txt").write_text("x" * (2 * 2**20))
    build_index(corpus, index_dir, BuildOptions(max_file_bytes=2**20), encoder=encoder)
    second = scrape(client)  # a scrape picks up the new generation by itself
    manifest = IndexFolder(index_dir).open_live().manifest
    assert second[("docsearch_index_generation",)] == manifest.generation == 2
    assert second[("docsearch_index_files",)] == 6 and second[("docsearch_index_skipped_files",)] == 1
    assert second[("docsearch_reloads_total",)] == 1
    # The replaced Searcher's cache counts are kept: the counter never goes down.
    assert second[("docsearch_query_cache_misses_total",)] >= first[("docsearch_query_cache_misses_total",)] >= 1

    (index_dir / "gen-000009").mkdir()
    (index_dir / "gen-000009" / "manifest.json").write_text("{not json")
    (index_dir / "CURRENT").write_text("gen-000009\n")
    third = scrape(client)
    assert third[("docsearch_reload_failures_total",)] == 1 and third[("docsearch_index_generation",)] == 2
    assert scrape(client)[("docsearch_reload_failures_total",)] == 1  # once per generation, not per request


def test_metrics_can_be_turned_off(docs_index, encoder, searcher):
    from docsearch.search import create_app

    app = create_app(Config.load({"index_dir": docs_index, "metrics": False}, environ={}), encoder=encoder)
    app.extensions["docsearch"]["searcher"] = searcher
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert "/metrics" not in client.get("/openapi.json").get_json()["paths"]


def test_watch_syncs_are_counted(workspace, encoder):
    from docsearch.search.server import start_watching

    corpus, index_dir = workspace
    metrics = Metrics({})
    config = Config.load({"corpus": corpus, "index_dir": index_dir}, environ={})
    stop = start_watching(config, encoder, metrics)
    try:
        time.sleep(1.5)  # let the watcher take its first look
        (corpus / "penguins.txt").write_text("Emperor penguins huddle together through the Antarctic winter night.\n")
        deadline = time.monotonic() + 60
        while not syncs(metrics, "written") and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
    assert syncs(metrics, "written") == 1 and not syncs(metrics, "failed")
    assert IndexFolder(index_dir).open_live().manifest.generation == 2


def syncs(metrics: Metrics, result: str) -> float:
    return metrics.registry.get_sample_value("docsearch_watch_syncs_total", {"result": result}) or 0
