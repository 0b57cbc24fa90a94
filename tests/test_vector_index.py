"""FAISS index kinds: exact up to a size, HNSW above, SQ8 on request; recall against exact search."""

from __future__ import annotations

import numpy as np
import pytest

from docsearch.index import BuildOptions, IndexFolder, build_index
from docsearch.index.faiss_vectors import HNSW_EF_SEARCH, FaissStore, read_vectors, write_vectors
from docsearch.index.vectors import EXACT_UP_TO, vector_index_kind
from docsearch.search.engine import Searcher

from .conftest import DOCS_CORPUS, ask, copy_index


def test_auto_is_exact_up_to_the_threshold_then_hnsw():
    assert vector_index_kind(EXACT_UP_TO) == "flat"
    assert vector_index_kind(EXACT_UP_TO + 1) == "hnsw"
    assert vector_index_kind(10, "hnsw") == "hnsw"
    assert vector_index_kind(10**7, "flat") == "flat"
    assert vector_index_kind(10, sq8=True) == "flat-sq8"
    assert vector_index_kind(10**6, sq8=True) == "hnsw-sq8"
    assert vector_index_kind(0, sq8=True) == "flat"  # nothing to learn 8-bit ranges from
    with pytest.raises(ValueError, match="vector index must be one of auto, flat, hnsw, not 'ivf'"):
        vector_index_kind(10, "ivf")


def test_cli_help_states_the_threshold(runner):
    from docsearch.search.cli import cli

    result = runner.invoke(cli, ["index", "--help"])
    assert f"exact up to {EXACT_UP_TO:,} passages" in " ".join(result.output.split())


@pytest.fixture(scope="module")
def clustered() -> np.ndarray:
    """Unit vectors in 200 tight clusters, shaped like sentence embeddings of related passages."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(200, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, 10_000)] + 0.6 * rng.normal(size=(10_000, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind, least_recall", [("hnsw", 0.98), ("flat-sq8", 0.95), ("hnsw-sq8", 0.93)])
def test_approximate_kinds_keep_recall_at_10(kind, least_recall, clustered, tmp_path):
    write_vectors(tmp_path / "exact.faiss", clustered, 384, "flat")
    write_vectors(tmp_path / f"{kind}.faiss", clustered, 384, kind)
    exact = FaissStore(read_vectors(tmp_path / "exact.faiss"))
    approximate = FaissStore(read_vectors(tmp_path / f"{kind}.faiss"))
    queries = clustered[::100] + 0.05
    truth = [[pid for pid, _ in hits] for hits in exact.search(queries, 10)]
    found = [[pid for pid, _ in hits] for hits in approximate.search(queries, 10)]
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= least_recall, recall
    assert {pid for hits in found for pid in hits} <= set(range(1, len(clustered) + 1))  # passage ids, not rows


def test_hnsw_search_depth_is_applied_on_load(clustered, tmp_path):
    import faiss

    write_vectors(tmp_path / "hnsw.faiss", clustered[:500], 384, "hnsw")
    index = read_vectors(tmp_path / "hnsw.faiss")
    assert faiss.downcast_index(index).hnsw.efSearch == HNSW_EF_SEARCH


def test_a_generation_file_holds_no_id_map_and_older_ones_still_read(clustered, tmp_path):
    """Rows are passage ids - 1 in a generation's file; an IndexIDMap2 file (format 3) answers the same."""
    import faiss

    write_vectors(tmp_path / "plain.faiss", clustered[:300], 384, "flat")
    plain = read_vectors(tmp_path / "plain.faiss")
    assert not isinstance(plain, faiss.IndexIDMap2)
    mapped = faiss.IndexIDMap2(faiss.IndexFlatIP(384))
    mapped.add_with_ids(clustered[:300], np.arange(1, 301, dtype=np.int64))
    new, old = FaissStore(plain), FaissStore(mapped)
    queries = clustered[:3] + 0.01
    assert new.search(queries, 10) == old.search(queries, 10)
    assert new.search(queries, 10)[0][0][0] == 1  # the first row is passage 1
    assert np.array_equal(new.vectors([300, 1, 7]), old.vectors([300, 1, 7]))
    from docsearch.index.vectors import Allowed

    allowed = Allowed(np.array([5, 9, 200]), np.array([1]))
    assert new.search(queries, 2, allowed) == old.search(queries, 2, allowed)
    assert {pid for pid, _ in new.search(queries, 2, allowed)[0]} <= {5, 9, 200}


@pytest.mark.parametrize("vector_index, sq8, kind", [("hnsw", False, "hnsw"), ("flat", True, "flat-sq8"),
                                                     ("hnsw", True, "hnsw-sq8")])
def test_each_kind_answers_the_demo_questions_like_exact_search(vector_index, sq8, kind, searcher, encoder, tmp_path,
                                                               docs_index):
    copy_index(docs_index, tmp_path / "index")
    report = build_index(DOCS_CORPUS, tmp_path / "index", BuildOptions(vector_index=vector_index, sq8=sq8), encoder=encoder)
    assert report.manifest.vector_index == kind and report.embedded == 0
    other = Searcher.load(tmp_path / "index", encoder=encoder)
    for question in ["Which 2008 agreement governs the strategic dialogue?", "Suleimani drone strike",
                     "troop withdrawal timetable"]:
        for mode in ("dense", "hybrid"):
            expected = [(h.source, h.start) for h in ask(searcher, question, k=3, mode=mode)]
            assert [(h.source, h.start) for h in ask(other, question, k=3, mode=mode)] == expected


def test_changing_the_kind_rewrites_without_embedding(tmp_path, encoder, docs_index):
    def stored() -> np.ndarray:
        vectors = IndexFolder(index_dir).open_live().vectors
        return vectors.vectors(range(1, vectors.count() + 1))

    index_dir = copy_index(docs_index, tmp_path / "index")
    original = stored()
    report = build_index(DOCS_CORPUS, index_dir, BuildOptions(vector_index="hnsw", sq8=True), encoder=encoder)
    assert report.written and report.embedded == 0 and report.manifest.vector_index == "hnsw-sq8"
    assert report.manifest.generation == 2
    same = build_index(DOCS_CORPUS, index_dir, BuildOptions(vector_index="hnsw", sq8=True), encoder=encoder)
    assert not same.written
    back = build_index(DOCS_CORPUS, index_dir, encoder=encoder)
    assert back.written and back.embedded == 0 and back.manifest.vector_index == "flat"
    # vectors decoded from 8 bits and stored exactly again stay within the quantisation step
    cosines = np.sum(stored() * original, axis=1)
    assert len(cosines) == 67 and cosines.min() >= 0.999
