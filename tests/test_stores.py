"""One contract for every VectorStore: FAISS, Milvus Lite and (slow) a real Milvus server.

Every store gets the same synthetic unit vectors and must give the same exact
neighbours as a NumPy brute-force search, see deletes at once, and filter by
source file.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

DIMENSION = 16
PASSAGES = 300
SOURCES = 7
K = 10

_collections = itertools.count(1)


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory) -> str:
    """A Milvus Lite folder shared by the module's tests (each test has its own collection)."""
    pytest.importorskip("milvus_lite")
    return str(tmp_path_factory.mktemp("milvus_lite") / "milvus.db")


@pytest.fixture(params=["faiss", "milvus-lite", pytest.param("milvus-server", marks=pytest.mark.slow)])
def make_store(request):
    """A factory of empty exact stores of one kind, closed after the test."""
    made = []

    def make(dimension: int = DIMENSION):
        if request.param == "faiss":
            from docsearch.index.faiss_vectors import FaissStore

            store = FaissStore.empty(dimension)
        else:
            from docsearch.index.milvus import MilvusStore, connect

            uri = request.getfixturevalue("lite_uri" if request.param == "milvus-lite" else "milvus_server_uri")
            store = MilvusStore.create(connect(uri), f"contract_{next(_collections)}", dimension)
        made.append(store)
        return store

    yield make
    for store in made:
        if hasattr(store, "collection"):
            store.client.drop_collection(store.collection)
        store.close()


def unit_vectors(n: int, seed: int) -> np.ndarray:
    """Return n random unit vectors (distinct enough that no two scores tie)."""
    rows = np.random.default_rng(seed).standard_normal((n, DIMENSION)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def corpus():
    """Passage ids 1..n, their vectors and source file ids, and some queries."""
    ids = np.arange(1, PASSAGES + 1, dtype=np.int64)
    sources = (ids % SOURCES) + 1
    return ids, unit_vectors(PASSAGES, 0), sources, unit_vectors(5, 1)


def brute_force(vectors, ids, queries, k, keep=None):
    """Return the exact top-k (id, score) lists by NumPy, over the ids kept."""
    keep = np.ones(len(ids), bool) if keep is None else keep
    scores = queries @ vectors[keep].T
    kept_ids = ids[keep]
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [[(int(kept_ids[j]), float(row[j])) for j in top] for row, top in zip(scores, order)]


def assert_same(found, expected):
    """Assert the same ids in the same order, and scores equal to float32 precision."""
    assert [[pid for pid, _ in hits] for hits in found] == [[pid for pid, _ in hits] for hits in expected]
    for hits, truth in zip(found, expected):
        np.testing.assert_allclose([s for _, s in hits], [s for _, s in truth], rtol=0, atol=1e-5)


def filled(make_store, corpus):
    """Return a new store holding the corpus."""
    ids, vectors, sources, _ = corpus
    store = make_store()
    store.add(ids, vectors, sources)
    return store


def test_exact_top_k_as_brute_force(make_store, corpus):
    ids, vectors, _, queries = corpus
    store = filled(make_store, corpus)
    assert store.count() == PASSAGES
    assert_same(store.search(queries, K), brute_force(vectors, ids, queries, K))


def test_k_above_count_returns_every_passage_and_no_padding(make_store, corpus):
    ids, vectors, sources, queries = corpus
    store = make_store()
    store.add(ids[:3], vectors[:3], sources[:3])
    found = store.search(queries[:1], K)
    assert sorted(pid for pid, _ in found[0]) == [1, 2, 3]


def test_deletes_are_visible_at_once(make_store, corpus):
    ids, vectors, _, queries = corpus
    store = filled(make_store, corpus)
    best = [hits[0][0] for hits in store.search(queries, 1)]
    store.delete(best)
    assert store.count() == PASSAGES - len(set(best))
    keep = ~np.isin(ids, best)
    found = store.search(queries, K)
    assert not {pid for hits in found for pid, _ in hits} & set(best)
    assert_same(found, brute_force(vectors, ids, queries, K, keep))


def test_filter_by_file(make_store, corpus):
    from docsearch.index.vectors import Allowed

    ids, vectors, sources, queries = corpus
    store = filled(make_store, corpus)
    found = store.search(queries, K, allowed=Allowed(passage_ids=ids[sources == 3], file_ids=np.array([3])))
    assert all(sources[pid - 1] == 3 for hits in found for pid, _ in hits)
    assert_same(found, brute_force(vectors, ids, queries, K, sources == 3))


def test_vectors_by_id_in_the_order_asked(make_store, corpus):
    _, vectors, _, _ = corpus
    store = filled(make_store, corpus)
    asked = [42, 7, 300, 1]
    np.testing.assert_allclose(store.vectors(asked), vectors[np.array(asked) - 1], atol=1e-6)
    assert store.vectors([]).shape == (0, DIMENSION)


def test_empty_store_finds_nothing(make_store, corpus):
    store = make_store()
    assert store.count() == 0
    assert store.search(corpus[3][:2], K) == [[], []]
