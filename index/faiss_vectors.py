"""The FAISS VectorStore: an inner-product index of unit vectors in the generation folder.

Kinds: exact (``flat``) or HNSW graphs (``hnsw``), either optionally with 8-bit
scalar components (``-sq8``: a quarter of the memory, slightly lower recall) or
4-bit ones (``-sq4``: an eighth), whose search only finds candidates: the exact
vectors, kept on disk beside the index and read a row at a time, rank them.
A generation's passage ids are 1..n in order, so row i of the file holds passage
i + 1 and no id map is stored (an IndexIDMap2's two maps cost about 60 MB at 1M
passages); files of format 3 and older, and stores made in memory, map ids with
an IndexIDMap2. File ids are not in the file, so a filtered search is given the
allowed passage ids (index.vectors.Allowed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from .errors import IndexCorrupt
from .manifest import Manifest
from .ondisk import DiskArray
from .vectors import Allowed, Neighbours, StoreConfig, neighbours

VECTORS_NAME = "vectors.faiss"
EXACT_NAME = "vectors.exact.npy"  # -sq4 kinds: the float vectors, row i for passage i + 1
HNSW_M = 32  # graph links per vector: memory 2 * M * 4 bytes per vector on top of the vectors
# On the 100k bench passages (bench/), recall@10 against exact search was 0.90 with
# efConstruction 80 / efSearch 128. With efConstruction 200, recall@10 and ms per k=100 search
# by efSearch: 128: 0.959 / 1.0, 256: 0.982 / 1.7, 384: 0.988 / 2.6, 512: 0.991 / 3.3.
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 384  # candidates kept while searching
SQ8_TRAINING_SAMPLE = 200_000  # rows used to learn each dimension's range
# A -sq4 search asks the graph for at least this many candidates and ranks them by their exact
# vectors. On the 100k bench passages (hnsw, M 32, efSearch 384), recall@10 against exact search
# over the float vectors: 0.868 for the 4-bit codes' own order, 0.988 ranked exactly; hnsw-sq8
# without ranking: 0.979.
RANKED_CANDIDATES = 100
# A filtered search over at most this many passages compares the query with each of them: an
# HNSW walk that skips what the filter leaves out finds too few neighbours when it leaves out
# nearly everything. 20,000 stored vectors are read and compared in a few milliseconds.
EXACT_FILTER_UP_TO = 20_000


def new_index(kind: str, dimension: int) -> faiss.Index:
    """Return an empty inner-product FAISS index of the given kind."""
    metric = faiss.METRIC_INNER_PRODUCT
    bits = {"sq8": faiss.ScalarQuantizer.QT_8bit, "sq4": faiss.ScalarQuantizer.QT_4bit}
    base, _, codes = kind.partition("-")
    if base not in ("flat", "hnsw") or codes not in ("", *bits):
        raise ValueError(f"unknown vector index kind {kind!r}")
    if base == "flat":
        return faiss.IndexScalarQuantizer(dimension, bits[codes], metric) if codes else faiss.IndexFlatIP(dimension)
    if codes:
        index = faiss.IndexHNSWSQ(dimension, bits[codes], HNSW_M, metric)
    else:
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, metric)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def write_vectors(path: Path, vectors: np.ndarray, dimension: int, kind: str = "flat") -> None:
    """Write unit vectors to a FAISS inner-product index, row i holding passage id i + 1."""
    inner = new_index(kind, dimension)
    if not inner.is_trained and len(vectors):
        sample = vectors
        if len(vectors) > SQ8_TRAINING_SAMPLE:
            rows = np.random.default_rng(0).choice(len(vectors), SQ8_TRAINING_SAMPLE, replace=False)
            sample = vectors[np.sort(rows)]
        inner.train(sample)
    if len(vectors):
        inner.add(np.ascontiguousarray(vectors, np.float32))
    faiss.write_index(inner, str(path))


def ranks_exactly(kind: str) -> bool:
    """Tell whether a kind's search ranks its candidates by exact vectors kept on disk (-sq4)."""
    return kind.endswith("-sq4")


def read_vectors(path: Path) -> faiss.Index:
    """Read a FAISS index file with its search settings applied."""
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorrupt(f"{path} cannot be read ({str(exc).splitlines()[0][:200]}); rebuild with `docsearch index`") from None
    inner = _inner(index)
    if hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = HNSW_EF_SEARCH  # not all FAISS versions store it in the file
    return index


def _inner(index: faiss.Index) -> faiss.Index:
    """Return the index under an id map, or the index itself."""
    return faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index


class FaissStore:
    """A VectorStore over a FAISS index held in memory: rows are passage ids - 1, or an IndexIDMap2 maps them."""

    def __init__(self, index: faiss.Index, exact: DiskArray | None = None):
        self._index = index
        self._exact_rows = exact  # the exact vectors that rank a -sq4 search's candidates
        self.dimension = index.d
        self._offset = 0 if isinstance(index, faiss.IndexIDMap2) else 1  # passage id - FAISS label

    @classmethod
    def empty(cls, dimension: int) -> "FaissStore":
        """Return an empty exact (flat) store in memory."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def prepare(cls, config: StoreConfig, index_dir: Path, generation: int, kind: str) -> dict:
        """Return the manifest fields of a FAISS generation: every kind is allowed."""
        return {"vector_store": "faiss", "milvus_uri": "", "milvus_collection": ""}

    @classmethod
    def write(cls, folder: Path, manifest: Manifest, vectors: np.ndarray, file_ids: np.ndarray,
              config: StoreConfig) -> list[Path]:
        """Write the generation's vectors to its folder's FAISS file."""
        write_vectors(folder / VECTORS_NAME, vectors, manifest.dimension, manifest.vector_index)
        if not ranks_exactly(manifest.vector_index):
            return [folder / VECTORS_NAME]
        np.save(folder / EXACT_NAME, np.ascontiguousarray(vectors, np.float32).reshape(-1, manifest.dimension))
        return [folder / VECTORS_NAME, folder / EXACT_NAME]

    @classmethod
    def open(cls, folder: Path, manifest: Manifest, config: StoreConfig) -> "FaissStore":
        """Read the generation's FAISS file into memory (and open its exact vectors, for -sq4 kinds)."""
        index = read_vectors(folder / VECTORS_NAME)
        exact = DiskArray(folder / EXACT_NAME) if ranks_exactly(manifest.vector_index) else None
        if exact is not None and (exact.length, exact.row_shape) != (index.ntotal, (index.d,)):
            raise IndexCorrupt(f"{folder / EXACT_NAME} holds {exact.length} vectors, not {index.ntotal}; "
                               "rebuild with `docsearch index --full`")
        return cls(index, exact)

    @classmethod
    def drop(cls, folder: Path, manifest: Manifest, config: StoreConfig) -> None:
        """Nothing lives outside the folder."""

    @classmethod
    def sweep(cls, index_dir: Path, manifest: Manifest, kept: set[int], config: StoreConfig) -> None:
        """Nothing lives outside the index folder."""

    def add(self, ids: np.ndarray, vectors: np.ndarray, file_ids: np.ndarray) -> None:
        """Store vectors under the given passage ids (file ids are the caller's to filter by)."""
        vectors, ids = np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64)
        if self._offset and not np.array_equal(ids, np.arange(1, len(ids) + 1) + self._index.ntotal):
            raise ValueError("a generation's vectors are added in passage id order, from the next id")
        self._index.add(vectors) if self._offset else self._index.add_with_ids(vectors, ids)

    def delete(self, ids: Sequence[int]) -> None:
        """Remove passages (an id-mapped exact index only: FAISS cannot remove from HNSW graphs)."""
        if self._offset:
            raise ValueError("a generation's vectors are never deleted: a sync writes a new generation")
        self._index.remove_ids(np.asarray(ids, np.int64))

    def search(self, queries: np.ndarray, k: int, allowed: Allowed | None = None) -> Neighbours:
        """Return the k nearest passages of each query, only among the allowed passages if given.

        A filtered search returns k passages whenever the filter allows k: exactly when
        it allows few, else by a filtered graph walk, made exact if it came back short.
        """
        queries = np.ascontiguousarray(queries, np.float32)
        k = min(k, self._index.ntotal if allowed is None else len(allowed))
        if k <= 0:
            return [[] for _ in queries]
        graph = hasattr(_inner(self._index), "hnsw")
        if allowed is not None and graph and len(allowed) <= EXACT_FILTER_UP_TO:
            return self._exact(queries, k, allowed.passage_ids)
        params = None if allowed is None else self._search_parameters(allowed.passage_ids)
        asked = k if self._exact_rows is None else max(k, RANKED_CANDIDATES)
        scores, labels = self._index.search(queries, asked, params=params)
        found = neighbours(scores, np.where(labels >= 0, labels + self._offset, -1))
        if self._exact_rows is not None:
            found = [self._ranked(query, row, k) for query, row in zip(queries, found)]
        if allowed is not None and any(len(row) < k for row in found):
            return self._exact(queries, k, allowed.passage_ids)
        return found

    def _ranked(self, query: np.ndarray, candidates: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        """Return the k best candidates by their exact vectors' inner product with the query."""
        ids = np.array([pid for pid, _ in candidates], np.int64)
        scores = self.vectors(ids) @ query
        best = np.lexsort((ids, -scores))[:k]  # equal scores in id order
        return [(int(ids[i]), float(scores[i])) for i in best]

    def _exact(self, queries: np.ndarray, k: int, ids: np.ndarray) -> Neighbours:
        """Return the exact k nearest of the given passages, comparing the queries with each, a chunk at a time."""
        ids = np.sort(np.asarray(ids, np.int64))
        best_ids = np.zeros((len(queries), 0), np.int64)
        best = np.zeros((len(queries), 0), np.float32)
        for at in range(0, len(ids), EXACT_FILTER_UP_TO):  # bounded memory however many are allowed
            chunk = ids[at:at + EXACT_FILTER_UP_TO]
            best_ids = np.hstack([best_ids, np.broadcast_to(chunk, (len(queries), len(chunk)))])
            best = np.hstack([best, queries @ self.vectors(chunk).T])
            keep = np.argsort(-best, axis=1, kind="stable")[:, :k]
            best_ids, best = np.take_along_axis(best_ids, keep, 1), np.take_along_axis(best, keep, 1)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row)] for row_ids, row in zip(best_ids, best)]

    def _search_parameters(self, allowed: np.ndarray) -> faiss.SearchParameters:
        """Return search parameters that admit only the allowed ids and keep HNSW's efSearch."""
        selector = faiss.IDSelectorBatch(np.asarray(allowed, np.int64) - self._offset)
        inner = _inner(self._index)
        if hasattr(inner, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
        else:
            params = faiss.SearchParameters(sel=selector)
        params.keep_alive = selector  # the parameters hold a raw pointer to the selector
        return params

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Return the stored vectors of the given passage ids, in that order."""
        if not len(ids):
            return np.zeros((0, self.dimension), np.float32)
        if self._exact_rows is not None:
            return self._exact_rows.rows(np.asarray(ids, np.int64) - 1)
        return self._index.reconstruct_batch(np.asarray(ids, np.int64) - self._offset)

    def count(self) -> int:
        """Return how many passages the store holds."""
        return int(self._index.ntotal)

    def describe(self) -> str:
        """Return the FAISS kind, for benchmarks' reports."""
        return type(_inner(self._index)).__name__

    def close(self) -> None:
        """Close the exact vectors' file, if any: the index is freed with the object."""
        if self._exact_rows is not None:
            self._exact_rows.close()
