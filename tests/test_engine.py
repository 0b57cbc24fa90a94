"""The Searcher: rankings, hit fields, k at the edges."""

import pytest

from docsearch.index import read_text
from docsearch.search.engine import Searcher

from .conftest import DOCS_CORPUS, ask


def test_strategic_framework_question_ranks_file_004_first(searcher):
    hits = ask(searcher, "Which 2008 agreement governs the strategic dialogue?", k=5)
    assert hits[0].source == "004_68f2a8bcaf0079e8.txt"
    assert "Strategic Framework Agreement signed in 2008" in hits[0].text


def test_hits_are_ranked_and_point_at_their_text(searcher):
    hits = ask(searcher, "How many US troops remain in Iraq?", k=10)
    assert [h.rank for h in hits] == list(range(1, 11))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        assert read_text(DOCS_CORPUS / hit.source)[hit.start:hit.end] == hit.text
    assert "2,500" in hits[0].text


def test_k_larger_than_the_index_returns_every_passage_once(searcher):
    hits = ask(searcher, "Iraq", k=100)
    assert len(hits) == searcher.manifest.passages < 100
    assert len({(h.source, h.passage) for h in hits}) == len(hits)


@pytest.mark.parametrize("k", [0, 101, -1, True, 2.0, "5"])
def test_k_out_of_range_is_refused(searcher, k):
    with pytest.raises(ValueError, match="k must be an integer from 1 to 100"):
        ask(searcher, "Iraq", k=k)


def test_blank_query_is_refused(searcher):
    with pytest.raises(ValueError, match="blank"):
        ask(searcher, "   ", k=3)


def test_index_of_test_corpus_finds_the_latin1_file(test_index, encoder):
    searcher = Searcher.load(test_index, encoder=encoder)
    assert ask(searcher, "Where can I get croissants at the station?", k=1)[0].source == "cafe_latin1.txt"
    assert ask(searcher, "What causes ocean tides?", k=1)[0].source == "tides_bom.txt"
    assert ask(searcher, "how to bake sourdough bread in a dutch oven", k=1)[0].source == "bread_crlf.txt"


def test_repeated_queries_are_embedded_once(searcher, monkeypatch):
    calls = []
    encode = searcher.encoder.encode
    monkeypatch.setattr(searcher.encoder, "encode", lambda texts, **kw: calls.append(list(texts)) or encode(texts, **kw))
    question = "a question asked twice about the embassy in Baghdad"
    first = ask(searcher, question, k=3)
    second = ask(searcher, question, k=3, mode="dense")
    assert calls == [[question]]
    assert first and second and not searcher.query_vector(question).flags.writeable


def test_document_is_the_file_as_indexed_with_its_passages_in_order(searcher):
    hit = ask(searcher, "Which 2008 agreement governs the strategic dialogue?", k=1)[0]
    document = searcher.document(hit.file_id)
    assert document.path == hit.source and document.problem is None
    assert document.text == read_text(DOCS_CORPUS / hit.source)
    assert [p.number for p in document.passages] == list(range(1, len(document.passages) + 1))
    assert all(document.text[p.start:p.end] == p.text for p in document.passages)
    assert document.passage(hit.id).text == hit.text and document.passage(10**6) is None
    assert searcher.document(10**6) is None


def test_api_results_do_not_carry_the_file_id(searcher):
    hit = ask(searcher, "Iraq", k=1)[0]
    assert hit.file_id >= 1 and "file_id" not in hit.to_dict()
