"""Where an index's vectors live: the VectorStore interface and its FAISS implementation.

Two stores hold the same thing, a unit vector per passage id and the id of the
passage's source file (files.id), and answer the same questions:

- ``faiss`` (the default): an inner-product FAISS index in the generation folder
  (``vectors.faiss``, see index.store), loaded into the query process.
- ``milvus`` (index.milvus): a Milvus collection per generation, on Milvus Lite
  (a local folder, embedded) or a Milvus server or cluster.

Passage text, places, files and the BM25 index stay in the generation folder
(SQLite and lexical/) with either store: Milvus holds only id, vector and
source file id, which is what vector search and filtering need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import faiss
import numpy as np

STORES = ("faiss", "milvus")

# One list per query vector of (passage id, inner product), best first, never padded.
Neighbours = list[list[tuple[int, float]]]


@dataclass(frozen=True)
class StoreConfig:
    """Which vector store an index uses, and where Milvus is (a folder for Milvus Lite, or a URL)."""

    kind: str = "faiss"
    milvus_uri: str = ""

    def __post_init__(self):
        if self.kind not in STORES:
            raise ValueError(f"vector store must be one of {', '.join(STORES)}, not {self.kind!r}")


class VectorStore(Protocol):
    """Unit vectors keyed by passage id, each tagged with its source file id."""

    dimension: int

    def add(self, ids: np.ndarray, vectors: np.ndarray, sources: np.ndarray) -> None:
        """Store vectors under the given passage ids, with their source file ids."""

    def delete(self, ids: Sequence[int]) -> None:
        """Remove passages; searches made after this call no longer see them."""

    def search(self, queries: np.ndarray, k: int, source: int | None = None) -> Neighbours:
        """Return the k nearest passages of each query, optionally only those of one source file."""

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Return the stored vectors of the given passage ids, in that order."""

    def count(self) -> int:
        """Return how many passages the store holds."""

    def close(self) -> None:
        """Release connections and memory."""


def neighbours(scores: np.ndarray, ids: np.ndarray) -> Neighbours:
    """Turn FAISS-style padded result arrays into lists, dropping the -1 padding."""
    return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0] for row_ids, row_scores in zip(ids, scores)]


class FaissStore:
    """A VectorStore over a FAISS IndexIDMap2 held in memory."""

    def __init__(self, index: faiss.Index, ids_of_source: Callable[[int], np.ndarray] | None = None):
        self.index = index  # the raw FAISS index, for benchmarks that inspect it
        self.dimension = index.d
        # Source files are not in the FAISS file: filtering asks ids_of_source (the passages
        # table) or, for vectors added in this process, what add() was told.
        self._ids_of_source = ids_of_source
        self._added: dict[int, list[int]] = {}

    @classmethod
    def empty(cls, dimension: int) -> "FaissStore":
        """Return an empty exact (flat) store."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    def add(self, ids: np.ndarray, vectors: np.ndarray, sources: np.ndarray) -> None:
        """Store vectors under the given passage ids, with their source file ids."""
        self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64))
        for pid, source in zip(ids, sources):
            self._added.setdefault(int(source), []).append(int(pid))

    def delete(self, ids: Sequence[int]) -> None:
        """Remove passages (exact indexes only: FAISS cannot remove from HNSW graphs)."""
        self.index.remove_ids(np.asarray(ids, np.int64))

    def search(self, queries: np.ndarray, k: int, source: int | None = None) -> Neighbours:
        """Return the k nearest passages of each query, optionally only those of one source file."""
        k = min(k, self.index.ntotal)
        if k <= 0:
            return [[] for _ in queries]
        params = None
        if source is not None:
            params = self._search_parameters(self._source_ids(source))
        scores, ids = self.index.search(np.ascontiguousarray(queries, np.float32), k, params=params)
        return neighbours(scores, ids)

    def _source_ids(self, source: int) -> np.ndarray:
        """Return the passage ids of one source file."""
        found = list(self._added.get(source, ()))
        if self._ids_of_source is not None:
            found.extend(int(i) for i in self._ids_of_source(source))
        return np.array(found, np.int64)

    def _search_parameters(self, allowed: np.ndarray) -> faiss.SearchParameters:
        """Return search parameters that admit only the allowed ids and keep HNSW's efSearch."""
        selector = faiss.IDSelectorBatch(allowed)
        inner = faiss.downcast_index(self.index.index) if isinstance(self.index, faiss.IndexIDMap2) else self.index
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
        return np.vstack([self.index.reconstruct(int(pid)) for pid in ids])

    def count(self) -> int:
        """Return how many passages the store holds."""
        return int(self.index.ntotal)

    def close(self) -> None:
        """Nothing to release: the index is freed with the object."""
