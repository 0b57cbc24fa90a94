"""Hybrid retrieval: fusion, lexical matching, highlights, grouping, low confidence."""

import json
from pathlib import Path

import pytest

from docsearch.search.fusion import Candidate, best_per_file, fuse

from .conftest import ask

QUESTIONS = json.loads((Path(__file__).parent / "data" / "docs_questions.json").read_text())


def test_fusion_by_hand():
    """Each list's scores are scaled to 0..1 (best 1, last 0) and mixed by the dense share."""
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 12.0), (4, 9.0), (5, 3.0)]
    fused = fuse(dense, lexical, "hybrid", dense_share=0.4)
    scores = {c.pid: c.score for c in fused}
    assert scores[1] == pytest.approx(0.4)
    assert scores[2] == pytest.approx(0.2)
    assert scores[3] == pytest.approx(0.6)  # last of dense, first of lexical
    assert scores[4] == pytest.approx(0.6 * 6 / 9)
    assert scores[5] == 0.0
    assert [c.pid for c in fused] == [3, 1, 4, 2, 5]
    assert fuse(dense, lexical, "hybrid", dense_share=0.4, limit=2) == fused[:2]
    assert fused[0] == Candidate(3, scores[3], dense_rank=3, dense_score=0.7, lexical_rank=1, lexical_score=12.0)


def test_fusion_keeps_a_wide_lexical_lead_that_rank_fusion_loses():
    """A passage far ahead in BM25 and third in meaning beats the first in meaning, second in BM25.

    Weighted RRF (k 10, dense weight 0.8) put passage 1 first: 0.8/11 + 1/12 > 0.8/13 + 1/11.
    """
    dense = [(1, 0.60), (2, 0.55), (3, 0.50), (4, 0.40)]
    lexical = [(3, 8.0), (1, 3.5), (4, 2.5)]
    fused = fuse(dense, lexical, "hybrid", dense_share=0.45)
    assert [c.pid for c in fused][:2] == [3, 1]
    assert fused[0].score == pytest.approx(0.45 * 0.5 + 0.55)


def test_fusion_of_one_result_or_equal_scores_gives_the_whole_share():
    assert fuse([(7, 0.3)], [], "hybrid", dense_share=0.45)[0].score == pytest.approx(0.45)
    assert [c.score for c in fuse([], [(1, 2.0), (2, 2.0)], "hybrid", dense_share=0.45)] == [
        pytest.approx(0.55), pytest.approx(0.55)]
    assert fuse([], [], "hybrid") == []


def test_single_modes_rank_by_their_own_list_only():
    dense = [(1, 0.9), (2, 0.8)]
    lexical = [(3, 12.0), (1, 3.0)]
    assert [c.pid for c in fuse(dense, lexical, "dense")] == [1, 2]
    assert [(c.pid, c.score) for c in fuse(dense, lexical, "lexical")] == [(3, 12.0), (1, 3.0)]


def test_best_per_file_counts_the_rest():
    ranked = [Candidate(i, 1.0 / i) for i in range(1, 6)]
    sources = {1: "a", 2: "b", 3: "a", 4: "a", 5: "c"}
    kept, more = best_per_file(ranked, sources)
    assert [c.pid for c in kept] == [1, 2, 5]
    assert more == {1: 2, 2: 0, 5: 0}


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(", "a AND OR NOT", "*", "col:value", "^start"])
def test_fts_syntax_in_a_query_is_harmless(searcher, query):
    ask(searcher, query, k=3, mode="lexical")
    ask(searcher, query, k=3, mode="hybrid")


def test_each_mode_reports_both_retrievers(searcher):
    question = "Which 2008 agreement governs the strategic dialogue?"
    hybrid = ask(searcher, question, k=5)
    assert hybrid[0].dense_rank == 1 and hybrid[0].lexical_rank == 1
    assert hybrid[0].dense_score > 0.7 and hybrid[0].lexical_score > 5
    dense = ask(searcher, question, k=5, mode="dense")
    assert all(h.lexical_rank is None for h in dense)
    assert [h.dense_rank for h in dense] == [1, 2, 3, 4, 5]
    assert [h.score for h in dense] == [h.dense_score for h in dense]
    lexical = ask(searcher, question, k=5, mode="lexical")
    assert [h.lexical_rank for h in lexical] == [1, 2, 3, 4, 5]
    assert lexical[0].score == lexical[0].lexical_score


def test_lexical_finds_an_exact_name(searcher):
    hits = ask(searcher, "Yahya Rasul", k=1, mode="lexical")
    assert hits[0].source == "000_2d31320dcd4f2c91.txt" and "Yahya Rasul" in hits[0].text


def test_highlights_mark_stemmed_query_words(searcher):
    hits = ask(searcher, "agreements signed in 2008", k=1)
    hit = hits[0]
    marked = [hit.text[s:e] for s, e in hit.highlights]
    assert marked == ["Agreement", "signed", "2008"]
    assert all(0 <= s < e <= len(hit.text) for s, e in hit.highlights)


def test_group_by_file_returns_each_file_once(searcher):
    hits = ask(searcher, "US troops in Iraq", k=10, group="file")
    sources = [h.source for h in hits]
    assert len(sources) == len(set(sources)) == 5
    assert all(h.more_in_file >= 1 for h in hits)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert "more_in_file" not in ask(searcher, "US troops in Iraq", k=3)[0].to_dict()


def test_hybrid_puts_the_right_file_first_for_19_of_20(searcher):
    answered = [ask(searcher, q["question"], k=1)[0].source == q["file"] for q in QUESTIONS["answerable"]]
    assert len(answered) == 20
    assert sum(answered) >= 19, [q["question"] for q, ok in zip(QUESTIONS["answerable"], answered) if not ok]


def test_low_confidence_separates_answerable_from_unanswerable(searcher):
    for item in QUESTIONS["answerable"]:
        assert not searcher.is_low_confidence(item["question"], ask(searcher, item["question"], k=5)), item
    for question in QUESTIONS["unanswerable"]:
        assert searcher.is_low_confidence(question, ask(searcher, question, k=5)), question


def test_an_exact_name_is_confident_though_embeddings_score_it_low(searcher):
    hits = ask(searcher, "Qassem Allaji", k=5)
    assert hits[0].dense_score < 0.3
    assert not searcher.is_low_confidence("Qassem Allaji", hits)


def test_api_modes_group_and_low_confidence(client):
    body = client.get("/api/search", query_string={"q": "chocolate cake recipe", "k": 3}).get_json()
    assert body["low_confidence"] is True and len(body["results"]) == 3
    body = client.post("/api/search", json={"q": "Yahya Rasul", "k": 2, "mode": "lexical", "group": "file"}).get_json()
    assert body["mode"] == "lexical" and body["group"] == "file"
    assert body["results"][0]["source"] == "000_2d31320dcd4f2c91.txt"
    assert body["results"][0]["more_in_file"] == 0
    first = body["results"][0]
    assert [first["text"][s:e] for s, e in first["highlights"]] == ["Yahya", "Rasul"]


def test_form_marks_matches_after_escaping(tmp_path, encoder):
    from docsearch.index import build_index
    from .conftest import app_for

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "garden.txt").write_text("Growing <b>tomatoes</b> needs sun, water and patience through the summer months.\n")
    build_index(corpus, tmp_path / "index", encoder=encoder)
    app = app_for(tmp_path / "index")
    app.extensions["docsearch"]["encoder"] = encoder
    html = app.test_client().get("/", query_string={"q": "tomato"}).get_data(as_text=True)
    assert "Growing &lt;b&gt;<mark>tomatoes</mark>&lt;/b&gt; needs sun" in html


def test_form_offers_modes_grouping_and_shows_low_confidence(client):
    html = client.get("/", query_string={"q": "chocolate cake recipe", "mode": "dense", "group": "file"}).get_data(as_text=True)
    assert '<option value="dense" selected>' in html
    assert 'name="group" value="file" checked' in html
    assert 'class="low-confidence"' in html
    html = client.get("/", query_string={"q": "Which 2008 agreement governs the strategic dialogue?"}).get_data(as_text=True)
    assert 'class="low-confidence"' not in html and "<mark>" in html
