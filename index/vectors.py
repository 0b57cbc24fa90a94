"""Where an index's vectors live: the VectorStore interface and the registry of stores.

Every store holds the same thing, a unit vector per passage id and the id of the
passage's file (files.id), and answers the same questions:

- ``faiss`` (the default, index.faiss_vectors): an inner-product FAISS index in the
  generation folder, loaded into the query process.
- ``milvus`` (index.milvus): a Milvus collection per generation, on Milvus Lite
  (a local folder, embedded) or a Milvus server or cluster.

Passage text, places, files and the BM25 index stay in the generation folder
with either store: a store holds only id, vector and file id, which is what
vector search and filtering need. Code outside this module picks a store by
the name a manifest or the configuration gives, through ``store_class``; nothing
else branches on a store's name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from .manifest import Manifest

# name -> "module:class", imported on first use so a FAISS index never imports pymilvus.
STORES = {"faiss": "faiss_vectors:FaissStore", "milvus": "milvus:MilvusStore"}
VECTOR_INDEXES = ("auto", "flat", "hnsw")
# "auto" is exact search up to EXACT_UP_TO passages and HNSW above it: exact search costs time
# in proportion to the passages, HNSW about their logarithm, and the recall HNSW gives up
# (measured in bench/, README) stays above 0.98 at the stores' settings.
EXACT_UP_TO = 50_000

# One list per query vector of (passage id, inner product), best first, never padded.
Neighbours = list[list[tuple[int, float]]]


@dataclass(frozen=True)
class Allowed:
    """The passages a filtered search may return, by id and by file: each store filters by what suits it."""

    passage_ids: np.ndarray
    file_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.passage_ids)


@dataclass(frozen=True)
class StoreConfig:
    """Which vector store an index uses, and how to reach Milvus (a .db folder for Lite, or a URL).

    ``kind`` None means the store the live index uses (FAISS when there is none); an empty
    URI, where that index put its vectors. The token of a Milvus server with authentication
    is configuration, never written to the index.
    """

    kind: str | None = None
    milvus_uri: str = ""
    milvus_token: str = ""

    def __post_init__(self):
        if self.kind is not None and self.kind not in STORES:
            raise ValueError(f"vector store must be one of {', '.join(STORES)}, not {self.kind!r}")

    def __repr__(self) -> str:
        return f"StoreConfig(kind={self.kind!r}, milvus_uri={self.milvus_uri!r})"  # never the token


def vector_index_kind(passages: int, vector_index: str = "auto", sq8: bool = False, sq4: bool = False) -> str:
    """Return the index kind to write for this many passages: flat or hnsw, plain, -sq8 or -sq4."""
    if vector_index not in VECTOR_INDEXES:
        raise ValueError(f"vector index must be one of {', '.join(VECTOR_INDEXES)}, not {vector_index!r}")
    if sq8 and sq4:
        raise ValueError("choose 8-bit (--sq8) or 4-bit (--sq4) vector components, not both")
    kind = vector_index if vector_index != "auto" else ("flat" if passages <= EXACT_UP_TO else "hnsw")
    if not passages:  # nothing to learn the components' ranges from
        return kind
    return f"{kind}-sq8" if sq8 else f"{kind}-sq4" if sq4 else kind


class VectorStore(Protocol):
    """Unit vectors keyed by passage id, each tagged with its file id.

    The class methods are a store's life cycle in an index generation; the
    instance methods are what an open store answers.
    """

    dimension: int

    @classmethod
    def prepare(cls, config: StoreConfig, index_dir: Path, generation: int, kind: str) -> dict:
        """Check the config for a new generation; return the manifest fields that say where its vectors go."""

    @classmethod
    def write(cls, folder: Path, manifest: "Manifest", vectors: np.ndarray, file_ids: np.ndarray,
              config: StoreConfig) -> list[Path]:
        """Write a new generation's vectors (ids 1..n); return the files written into folder."""

    @classmethod
    def open(cls, folder: Path, manifest: "Manifest", config: StoreConfig) -> "VectorStore":
        """Open a generation's vectors, or raise IndexNotFound when they are gone."""

    @classmethod
    def drop(cls, folder: Path, manifest: "Manifest", config: StoreConfig) -> None:
        """Delete what a generation keeps outside its folder (its folder is deleted by the caller)."""

    @classmethod
    def sweep(cls, index_dir: Path, manifest: "Manifest", kept: set[int], config: StoreConfig) -> None:
        """Delete what builds of this index left outside it, but the generations kept."""

    def add(self, ids: np.ndarray, vectors: np.ndarray, file_ids: np.ndarray) -> None:
        """Store vectors under the given passage ids, with their file ids."""

    def delete(self, ids: Sequence[int]) -> None:
        """Remove passages; searches made after this call no longer see them."""

    def search(self, queries: np.ndarray, k: int, allowed: Allowed | None = None) -> Neighbours:
        """Return the k nearest passages of each query, only among the allowed passages if given."""

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Return the stored vectors of the given passage ids, in that order."""

    def count(self) -> int:
        """Return how many passages the store holds."""

    def close(self) -> None:
        """Release connections and memory."""


def store_class(kind: str) -> type[VectorStore]:
    """Return the VectorStore class registered under a name (a manifest's or the configuration's)."""
    try:
        module, name = STORES[kind].split(":")
    except KeyError:
        raise ValueError(f"vector store must be one of {', '.join(STORES)}, not {kind!r}") from None
    return getattr(importlib.import_module(f".{module}", __package__), name)


def neighbours(scores: np.ndarray, ids: np.ndarray) -> Neighbours:
    """Turn FAISS-style padded result arrays into lists, dropping the -1 padding."""
    return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0] for row_ids, row_scores in zip(ids, scores)]
