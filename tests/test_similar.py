"""More like this: the passages nearest a stored passage's vector, without it (and, per file, without its file)."""

from __future__ import annotations

import numpy as np
import pytest

from docsearch.search.request import SimilarRequest

ANCHOR_QUESTION = "Which 2008 agreement governs the strategic dialogue?"


@pytest.fixture(scope="module")
def anchor(searcher):
    """The best passage for a question: the one to find others like."""
    from docsearch.search.request import SearchRequest

    return searcher.search(SearchRequest(ANCHOR_QUESTION, k=1)).hits[0]


def brute_force(searcher, passage_id: int) -> list[tuple[int, float]]:
    """Every other passage by cosine to the stored vector of passage_id, best first (NumPy)."""
    store = searcher.generation.vectors
    ids = np.arange(1, store.count() + 1)
    vectors = store.vectors(ids)
    scores = vectors @ vectors[passage_id - 1]
    order = [int(i) for i in np.argsort(-scores, kind="stable") if ids[i] != passage_id]
    return [(int(ids[i]), float(scores[i])) for i in order]


def test_similar_passages_are_the_nearest_stored_vectors_without_the_passage(searcher, anchor, monkeypatch):
    calls = []
    monkeypatch.setattr(searcher.encoder, "encode", lambda texts, **kw: calls.append(texts))
    answer = searcher.similar(SimilarRequest(anchor.id, k=5))
    assert calls == []  # the stored vector, not a new embedding
    expected = brute_force(searcher, anchor.id)[:5]
    assert [h.id for h in answer.hits] == [pid for pid, _ in expected]
    assert [h.score for h in answer.hits] == pytest.approx([s for _, s in expected], abs=1e-5)
    assert [h.rank for h in answer.hits] == [h.dense_rank for h in answer.hits] == [1, 2, 3, 4, 5]
    assert anchor.id not in [h.id for h in answer.hits] and answer.low_confidence is None


def test_per_file_leaves_out_the_passage_own_file(searcher, anchor):
    hits = searcher.similar(SimilarRequest(anchor.id, k=5, group="file")).hits
    assert anchor.source not in {h.source for h in hits}
    assert len({h.source for h in hits}) == len(hits) == 4  # the other four files of docs_corpus, once each


def test_the_api_answers_similar_passages_and_404s_an_unknown_id(client, anchor):
    body = client.get("/api/similar", query_string={"id": anchor.id, "k": 3}).get_json()
    assert list(body) == ["id", "k", "group", "took_ms", "generation", "results"]
    assert body["id"] == anchor.id and len(body["results"]) == 3
    assert client.post("/api/similar", json={"id": anchor.id, "k": 3}).get_json()["results"] == body["results"]
    missing = client.get("/api/similar", query_string={"id": 10**6})
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "there is no passage 1000000 in index generation 1; ids come from search "
                                           "results of the live generation", "status": 404}
    for bad in ({}, {"id": "x"}, {"id": 0}, {"id": anchor.id, "k": 101}):
        response = client.get("/api/similar", query_string=bad)
        assert response.status_code == 400 and response.get_json()["status"] == 400


def test_each_result_in_the_form_links_to_more_like_it(client, anchor):
    html = client.get("/", query_string={"q": ANCHOR_QUESTION, "k": 1}).get_data(as_text=True)
    assert f'<a class="like" href="/?like={anchor.id}">more like this</a>' in html
    page = client.get("/", query_string={"like": anchor.id, "k": 2}).get_data(as_text=True)
    assert f"Passages like passage {anchor.passage} of" in page and page.count('class="hit"') == 2


def test_the_cli_prints_similar_passages(runner, docs_index, anchor, searcher):
    import json

    from docsearch.search.cli import cli

    result = runner.invoke(cli, ["similar", str(anchor.id), "-k", "2", "--json", "--index-dir", str(docs_index)])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == [pid for pid, _ in brute_force(searcher, anchor.id)[:2]]
    missing = runner.invoke(cli, ["similar", "999999", "--index-dir", str(docs_index)])
    assert missing.exit_code == 1 and "there is no passage 999999" in missing.stderr
