"""FAISS index kinds: exact up to a size, HNSW above, SQ8 or SQ4 on request; recall against exact search."""

from __future__ import annotations

import numpy as np
import pytest

from docsearch.index import BuildOptions, IndexFolder, build_index
from docsearch.index.errors import IndexCorrupt
from docsearch.index.faiss_vectors import HNSW_EF_SEARCH, FaissStore, read_vectors, write_vectors
from docsearch.index.ondisk import DiskArray
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
    assert vector_index_kind(10**6, sq4=True) == "hnsw-sq4"
    assert vector_index_kind(10, "flat", sq4=True) == "flat-sq4"
    with pytest.raises(ValueError, match=r"choose 8-bit \(--sq8\) or 4-bit \(--sq4\)"):
        vector_index_kind(10, sq8=True, sq4=True)
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


@pytest.mark.parametrize("kind", ["hnsw-sq4", "flat-sq4"])
def test_sq4_ranks_its_candidates_by_the_exact_vectors_on_disk(kind, clustered, tmp_path):
    """4-bit codes alone lose the order of close neighbours; ranked by the exact vectors, the top 10 is exact."""
    write_vectors(tmp_path / "exact.faiss", clustered, 384, "flat")
    write_vectors(tmp_path / f"{kind}.faiss", clustered, 384, kind)
    np.save(tmp_path / "exact.npy", clustered)
    exact = FaissStore(read_vectors(tmp_path / "exact.faiss"))
    codes_only = FaissStore(read_vectors(tmp_path / f"{kind}.faiss"))
    ranked = FaissStore(read_vectors(tmp_path / f"{kind}.faiss"), DiskArray(tmp_path / "exact.npy"))
    queries = clustered[::100] + 0.05
    truth = exact.search(queries, 10)

    def recall(found) -> float:
        return np.mean([len({p for p, _ in t} & {p for p, _ in f}) / 10 for t, f in zip(truth, found)])

    found = ranked.search(queries, 10)
    assert recall(found) >= 0.98 > recall(codes_only.search(queries, 10))
    # The scores are the exact inner products, best first.
    for query, hits in zip(queries, found):
        ids = [pid for pid, _ in hits]
        assert np.allclose([s for _, s in hits], clustered[np.array(ids) - 1] @ query, atol=1e-5)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert np.array_equal(ranked.vectors([7, 1, 300]), clustered[[6, 0, 299]])  # exact, not decoded


def test_disk_array_reads_rows_in_the_order_asked_and_refuses_what_is_not_there(clustered, tmp_path):
    np.save(tmp_path / "rows.npy", clustered[:50])
    rows = DiskArray(tmp_path / "rows.npy")
    assert rows.length == 50 and rows.row_shape == (384,)
    assert np.array_equal(rows.rows(np.array([9, 3, 49])), clustered[[9, 3, 49]])
    assert np.array_equal(rows.rows(np.arange(10, 20)), clustered[10:20])  # a run: one read
    mixed = np.array([30, 4, 5, 6, 30, 0, 49, 48])  # runs, repeats and order at once
    assert np.array_equal(rows.rows(mixed), clustered[mixed])
    assert rows.rows(np.array([], np.int64)).shape == (0, 384)
    with pytest.raises(IndexError, match="row 50 is outside"):
        rows.rows(np.array([2, 50]))
    with pytest.raises(IndexError, match="row -1 is outside"):
        rows.rows(np.array([-1, 3]))
    (tmp_path / "short.npy").write_bytes((tmp_path / "rows.npy").read_bytes()[:-1000])
    with pytest.raises(IndexCorrupt, match="shorter than its header says"):
        DiskArray(tmp_path / "short.npy").rows(np.array([49]))


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


@pytest.mark.parametrize("vector_index, codes, kind", [("hnsw", {}, "hnsw"), ("flat", {"sq8": True}, "flat-sq8"),
                                                       ("hnsw", {"sq8": True}, "hnsw-sq8"),
                                                       ("hnsw", {"sq4": True}, "hnsw-sq4")])
def test_each_kind_answers_the_demo_questions_like_exact_search(vector_index, codes, kind, searcher, encoder, tmp_path,
                                                               docs_index):
    copy_index(docs_index, tmp_path / "index")
    report = build_index(DOCS_CORPUS, tmp_path / "index", BuildOptions(vector_index=vector_index, **codes),
                         encoder=encoder)
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


def test_sq4_keeps_the_exact_vectors_checked_and_switching_back_loses_nothing(tmp_path, encoder, docs_index):
    index_dir = copy_index(docs_index, tmp_path / "index")
    original = IndexFolder(index_dir).open_live().vectors
    original = original.vectors(range(1, original.count() + 1))
    report = build_index(DOCS_CORPUS, index_dir, BuildOptions(vector_index="hnsw", sq4=True), encoder=encoder)
    assert report.written and report.embedded == 0 and report.manifest.vector_index == "hnsw-sq4"
    assert "vectors.exact.npy" in report.manifest.checksums
    back = build_index(DOCS_CORPUS, index_dir, encoder=encoder)
    assert back.written and back.embedded == 0 and back.manifest.vector_index == "flat"
    stored = IndexFolder(index_dir).open_live().vectors
    assert np.array_equal(stored.vectors(range(1, stored.count() + 1)), original)  # not decoded from 4 bits
    # A damaged exact-vector file is found when the generation opens, not at a query.
    build_index(DOCS_CORPUS, index_dir, BuildOptions(sq4=True), encoder=encoder)
    exact = IndexFolder(index_dir).live_folder() / "vectors.exact.npy"
    exact.write_bytes(exact.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(IndexCorrupt):
        IndexFolder(index_dir).open_live()
