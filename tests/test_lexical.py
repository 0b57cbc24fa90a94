"""BM25 on its own: terms, scores by hand, ordering, ids and empty indexes."""

import json
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from docsearch.index import IndexFolder, build_index, lexical
from docsearch.index.lexical import (B, K1, SETTINGS, LexicalIndex, best_scores, query_terms, term_spans, terms,
                                     write_lexical)
from docsearch.index.manifest import FORMAT_VERSION, MANIFEST_NAME
from docsearch.search.engine import Searcher
from docsearch.search.highlight import highlights, holds_every_word

from .conftest import DOCS_CORPUS, ask, copy_index


@pytest.mark.parametrize(
    "query, expected",
    [
        ("What is the Strategic Framework?", ["strateg", "framework"]),
        ('"quoted" OR NEAR(x*) -minus', ["quot", "near", "x", "minu"]),  # nothing is query syntax
        ("the of and", []),  # stop words only
        ("?!", []),
        ("Café DÉJÀ running runs", ["cafe", "deja", "run"]),  # folded, accents off, stemmed, distinct
    ],
)
def test_query_terms(query, expected):
    assert query_terms(query) == expected


def test_term_spans_point_at_the_words():
    text = "Cafés and RUNNING_fast, déjà-vu"
    spans = term_spans(text)
    assert [(term, text[s:e]) for term, s, e in spans] == [
        ("cafe", "Cafés"), ("run", "RUNNING"), ("fast", "fast"), ("deja", "déjà"), ("vu", "vu")]


def test_highlights_and_every_word():
    text = "Troops withdrew; the troop withdrawal was agreed."
    spans, none = highlights("troops withdrawal", [text, "nothing here"])
    assert [text[s:e] for s, e in spans] == ["Troops", "troop", "withdrawal"] and none == []
    assert highlights("the", [text]) == [[]]
    assert holds_every_word("troop withdrawal", ["nothing here", text])
    assert not holds_every_word("troop budget", [text])
    assert not holds_every_word("the of", [text])  # no terms: nothing is held


def lucene_bm25(query: list[str], docs: list[list[str]], k1=K1, b=B) -> list[float]:
    """Lucene's BM25, written out."""
    average = sum(map(len, docs)) / len(docs)
    scores = []
    for doc in docs:
        score = 0.0
        for term in query:
            df = sum(term in d for d in docs)
            tf = doc.count(term)
            if tf:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + k1 * (1 - b + b * len(doc) / average))
        scores.append(score)
    return scores


@pytest.mark.parametrize("chunk", [lexical.CHUNK, 1, 2])  # postings read a few at a time, too
def test_scores_match_bm25_by_hand(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(lexical, "CHUNK", chunk)
    texts = [
        "Troops left the base at night.",
        "The base was rebuilt; the base has a new runway and a new base hospital.",
        "Nothing relevant here at all.",
        "Troops and more troops arrived at the northern base.",
    ]
    write_lexical(tmp_path / "lexical", texts)
    index = LexicalIndex(tmp_path / "lexical")
    found = index.search("troops base", depth=10)
    expected = lucene_bm25(["troop", "base"], [terms(t) for t in texts])
    assert [pid for pid, _ in found] == sorted((i + 1 for i in range(4) if expected[i] > 0), key=lambda p: -expected[p - 1])
    assert 3 not in {pid for pid, _ in found}  # a passage with no query term is not a match
    for pid, score in found:
        assert score == pytest.approx(expected[pid - 1], rel=1e-5)
    assert index.search("unknownword", 10) == []
    assert index.search("the of", 10) == []


def test_depth_cut_keeps_the_best_and_breaks_ties_by_passage(tmp_path):
    texts = ["alpha beta gamma delta"] * 3 + ["alpha"] + ["omega"] * 2
    write_lexical(tmp_path / "lexical", texts)
    index = LexicalIndex(tmp_path / "lexical")
    assert [pid for pid, _ in index.search("alpha", 2)] == [4, 1]  # the short passage first, then the first tie
    assert [pid for pid, _ in index.search("alpha", 10)] == [4, 1, 2, 3]


@pytest.mark.parametrize("chunk", [lexical.CHUNK, 7, 1000])
def test_best_scores_is_a_full_sort_of_the_positive_scores(monkeypatch, chunk):
    monkeypatch.setattr(lexical, "CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    # Few distinct values: ties everywhere, across chunk boundaries; a third of the rows score 0.
    scores = rng.integers(0, 12, 3 * lexical.CHUNK + 5).astype(np.float32) * (rng.random(3 * lexical.CHUNK + 5) > 0.33)
    by_hand = sorted(((row + 1, float(s)) for row, s in enumerate(scores) if s > 0), key=lambda p: (-p[1], p[0]))
    for depth in (1, 10, 100, chunk + 3, len(scores)):
        assert best_scores(scores, depth) == by_hand[:depth]
    assert best_scores(np.zeros(50, np.float32), 10) == []


def test_threads_asking_at_once_get_what_one_thread_gets(tmp_path):
    texts = [f"alpha beta {i % 7} gamma" if i % 3 else f"delta {i % 5} alpha" for i in range(300)]
    write_lexical(tmp_path / "lexical", texts)
    index = LexicalIndex(tmp_path / "lexical")
    queries = ["alpha", "beta gamma", "delta", "gamma delta 3"]
    alone = {q: index.search(q, 20) for q in queries}
    assert all(alone.values())
    with ThreadPoolExecutor(4) as pool:  # each thread sums into its own array, zeroed per query
        answers = list(pool.map(lambda q: (q, index.search(q, 20)), queries * 50))
    assert all(found == alone[q] for q, found in answers)
    filtered = index.search("alpha", 20, np.array([5, 6, 7]))
    assert [pid for pid, _ in filtered] == [7, 5, 6]  # passage 7 is the short "delta 1 alpha"
    assert index.search("alpha", 20) == alone["alpha"]  # the filter left nothing behind in the sums


def test_empty_index(tmp_path):
    write_lexical(tmp_path / "lexical", [])
    index = LexicalIndex(tmp_path / "lexical")
    assert index.passages == 0
    assert index.search("anything", 5) == []


@pytest.mark.parametrize("field, old", [("format_version", 3), ("lexical", "bm25s lucene k1=1.2 b=0.75 older")])
def test_an_older_format_is_read_again_and_older_bm25_rewritten_without_embedding(tmp_path, encoder, docs_index,
                                                                                  field, old):
    index_dir = copy_index(docs_index, tmp_path / "index")
    path = IndexFolder(index_dir).live_folder() / MANIFEST_NAME
    path.write_text(json.dumps({**json.loads(path.read_text()), field: old}))
    report = build_index(DOCS_CORPUS, index_dir, encoder=encoder)
    if field == "format_version":  # format 4 splits files otherwise: nothing of an older index is reused
        assert report.written and report.embedded == 67 and report.unchanged == 0
        assert report.rebuilt_because == ("the index was written by an older docsearch (format 3), "
                                          "which split files otherwise")
    else:
        assert report.written and report.embedded == 0 and report.unchanged == 5
    assert (report.manifest.format_version, report.manifest.lexical) == (FORMAT_VERSION, SETTINGS)
    searcher = Searcher.load(index_dir, encoder=encoder)
    assert searcher.generation.lexical.passages == searcher.manifest.passages == 67
    assert ask(searcher, "Strategic Framework Agreement 2008", k=1, mode="lexical")[0].source == "004_68f2a8bcaf0079e8.txt"


@pytest.mark.parametrize("text", [
    "Agreements were signed; the agreement holds. Happy, happier, happiest happiness! Flies fly; relational relate.",
    "Café owners' “naïve” cafés — CAFE signs",  # accented letters, folded as BM25 folds them
    "École, ÉCOLE and éclairs; β-cells, α-synuclein at 5 µg; ﬁnancial ﬂows",  # an accent or ligature first
    "İstanbul's ports, Iraq's troops and the U.S. embassy",  # İ grows when lower-cased
    "x " * 50 + "Strategic Framework Agreement signed in 2008 between the two sides",
])
def test_matching_spans_finds_what_stemming_every_word_finds(text):
    from docsearch.index.lexical import matching_spans

    for query in ("agreements signed", "happy flies relational", "cafe naive", "Iraq's troops", "2008 sides", "s",
                  "ecole eclair cells synuclein", "financial flows µg"):
        wanted = set(query_terms(query))
        assert matching_spans(text, wanted) == [span for span in term_spans(text) if span[0] in wanted], query
    assert "" not in query_terms("Iraq's")
