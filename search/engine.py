"""The query side's one facade: load an index, answer a question with ranked hits.

Three modes: ``dense`` (cosine similarity of unit vectors in FAISS or Milvus), ``lexical``
(BM25 over Porter-stemmed words, index.lexical) and ``hybrid``, the default:
reciprocal rank fusion of both lists, each drawn from a pool larger than k.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from index import Encoder, IndexMismatch, Manifest
from index.manifest import MANIFEST_NAME
from index.lexical import LEXICAL_DIR
from index.store import DB_NAME, current_generation, open_vectors, verify_generation
from index.vectors import VectorStore

from .document import Document, stored_document, with_text
from .fusion import Candidate, best_per_file, fuse
from .lexical import LexicalIndex, highlights, holds_every_word
from .settings import MAX_K, MODES

GROUPS = (None, "file")
POOL = 100
QUERY_CACHE = 1024  # recent query embeddings kept per Searcher
# Below this cosine similarity the best hit is not close in meaning. On docs_corpus the
# answerable questions' best hits score 0.40 to 0.87, questions it cannot answer 0.17 at most.
LOW_CONFIDENCE_BELOW = 0.30


@dataclass(frozen=True)
class Hit:
    """One ranked passage: where it is, how well it matched, and why."""

    rank: int
    score: float
    text: str
    source: str
    passage: int
    line_start: int
    line_end: int
    start: int
    end: int
    id: int = 0  # the passage's id in this index generation
    dense_rank: int | None = None
    dense_score: float | None = None
    lexical_rank: int | None = None
    lexical_score: float | None = None
    highlights: list[list[int]] = field(default_factory=list)
    more_in_file: int | None = None
    file_id: int = 0  # the file's id in this index generation: the form's source links use it

    def to_dict(self) -> dict:
        """Return the hit as a JSON-ready dict (the API's fields: file_id is for the form)."""
        # Shallow: every field is a number, a string or a list made for this hit (asdict deep-copies).
        found = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "file_id"}
        if self.more_in_file is None:
            del found["more_in_file"]
        return found


def check_request(k: int, mode: str, group: str | None) -> None:
    """Raise ValueError when k, mode or group is not one the Searcher takes."""
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be an integer from 1 to {MAX_K}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if group not in GROUPS:
        raise ValueError("group must be file, or left out")


class Searcher:
    """Answer questions from one loaded index generation."""

    def __init__(self, index_dir: Path, manifest: Manifest, store: VectorStore, db: sqlite3.Connection, encoder: Encoder,
                 lexical: LexicalIndex):
        self.index_dir = index_dir
        self.manifest = manifest
        self.store = store
        self.lexical = lexical
        self.encoder = encoder
        self.pool = POOL
        self.generation_name = f"gen-{manifest.generation:06d}"
        # A repeated question (paging, a refreshed page, a popular query) skips the model.
        self.query_vector = functools.lru_cache(maxsize=QUERY_CACHE)(self._embed_query)
        self._db = db
        self._db_lock = threading.Lock()

    @property
    def vectors(self):
        """The raw FAISS index (FAISS store only), for benchmarks and tests that inspect it."""
        return self.store.index

    @classmethod
    def load(cls, index_dir: Path | str, encoder: Encoder | None = None, milvus_uri: str = "") -> "Searcher":
        """Load the live generation of index_dir, with the model its manifest names.

        A Milvus-stored index is read from milvus_uri, or else from where it was written.
        """
        index_dir = Path(index_dir)
        folder = current_generation(index_dir)
        manifest = Manifest.read(folder / MANIFEST_NAME)
        verify_generation(folder, manifest)
        if encoder is None:
            encoder = Encoder(manifest.model, backend=manifest.backend)
        elif (encoder.name, encoder.backend) != (manifest.model, manifest.backend):
            raise IndexMismatch(
                f"index at {index_dir} was built with model {manifest.model!r} on backend {manifest.backend!r}, "
                f"not {encoder.name!r} on {encoder.backend!r}; rebuild it or query it with its own model and backend"
            )
        if encoder.dimension != manifest.dimension:
            raise IndexMismatch(
                f"model {encoder.name!r} gives {encoder.dimension}-dimensional vectors, "
                f"the index at {index_dir} holds {manifest.dimension}"
            )
        store = open_vectors(folder, manifest, milvus_uri)
        db = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True, check_same_thread=False)
        stored = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        lexical = LexicalIndex(folder / LEXICAL_DIR)
        vectors = store.count()
        if not vectors == stored == lexical.passages == manifest.passages or store.dimension != manifest.dimension:
            db.close()
            store.close()
            raise IndexMismatch(
                f"index at {index_dir} is inconsistent: manifest {manifest.passages} passages, "
                f"database {stored}, vectors {vectors}, BM25 {lexical.passages}; rebuild it with `docsearch index`"
            )
        return cls(index_dir, manifest, store, db, encoder, lexical)

    def stats(self) -> dict:
        """Return what the index holds, for health checks and start-up messages."""
        m = self.manifest
        return {
            "passages": m.passages,
            "files": m.files,
            "skipped": m.skipped,
            "model": m.model,
            "dimension": m.dimension,
            "built_at": m.built_at,
            "generation": m.generation,
        }

    def search(self, query: str, k: int = 10, mode: str = "hybrid", group: str | None = None) -> list[Hit]:
        """Return the k passages that best answer query, best first.

        With ``group="file"``, only the best passage of each file, with how many
        more passages of that file were among the candidates.
        """
        check_request(k, mode, group)
        if not query.strip():
            raise ValueError("query is blank")
        with self.encoder.serving():
            query_vector = self.query_vector(query)
            ranked = self.candidates(query, mode, max(self.pool, k), query_vector)
            more: dict[int, int] | None = None
            if group == "file":
                ranked, more = best_per_file(ranked, self.sources([c.pid for c in ranked]))
            return self._hits(query, ranked[:k], query_vector, more)

    def is_low_confidence(self, query: str, hits: list[Hit]) -> bool:
        """Tell whether even the best hit is a weak answer.

        Weak means: no hits, or the best hit's cosine similarity is below
        LOW_CONFIDENCE_BELOW and no hit holds every word of the query (an exact
        name or number can be a good answer that embeddings score low).
        """
        if not hits:
            return True
        if hits[0].dense_score is not None and hits[0].dense_score >= LOW_CONFIDENCE_BELOW:
            return False
        return not holds_every_word(query, [h.text for h in hits])

    def candidates(self, query: str, mode: str, depth: int, query_vector: np.ndarray | None = None) -> list[Candidate]:
        """Return up to depth passages ranked by the mode, with both retrievers' ranks and scores."""
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid") and self.manifest.passages:
            if query_vector is None:
                query_vector = self.query_vector(query)
            dense = self.store.search(query_vector[None, :], min(depth, self.manifest.passages))[0]
        if mode in ("lexical", "hybrid"):
            lexical = self.lexical.search(query, depth)
        return fuse(dense, lexical, mode)[:depth]

    def _embed_query(self, query: str) -> np.ndarray:
        """Embed one query; the result is read-only because it is cached and shared."""
        vector = self.encoder.encode([query])[0]
        vector.setflags(write=False)
        return vector

    def sources(self, ids: list[int]) -> dict[int, str]:
        """Return the source file of each passage id."""
        marks = ",".join("?" * len(ids))
        with self._db_lock:
            rows = self._db.execute(
                f"SELECT p.id, f.path FROM passages p JOIN files f ON f.id = p.file_id WHERE p.id IN ({marks})", ids
            ).fetchall()
        return dict(rows)

    def _hits(self, query: str, ranked: list[Candidate], query_vector: np.ndarray, more: dict[int, int] | None) -> list[Hit]:
        """Turn ranked candidates into hits with text, places, cosine scores and highlights."""
        ids = [c.pid for c in ranked]
        if not ids:
            return []
        cosines = self.store.vectors(ids) @ query_vector
        rows = self._passages(ids)
        marked = highlights(query, [rows[pid]["text"] for pid in ids])
        return [
            Hit(
                rank=rank,
                score=round(c.score, 6),
                **rows[c.pid],
                id=c.pid,
                dense_rank=c.dense_rank,
                dense_score=round(float(cosine), 6),
                lexical_rank=c.lexical_rank,
                lexical_score=None if c.lexical_score is None else round(c.lexical_score, 6),
                highlights=spans,
                more_in_file=None if more is None else more.get(c.pid, 0),
            )
            for rank, (c, cosine, spans) in enumerate(zip(ranked, cosines, marked), start=1)
        ]

    def _passages(self, ids: list[int]) -> dict[int, dict]:
        """Fetch the stored passages with the given ids."""
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT p.id, p.text, f.path, p.number, p.line_start, p.line_end, p.start, p.end, p.file_id "
            f"FROM passages p JOIN files f ON f.id = p.file_id WHERE p.id IN ({marks})"
        )
        with self._db_lock:
            rows = self._db.execute(sql, ids).fetchall()
        keys = ("text", "source", "passage", "line_start", "line_end", "start", "end", "file_id")
        return {row[0]: dict(zip(keys, row[1:])) for row in rows}

    def document(self, file_id: int) -> Document | None:
        """Return an indexed file with its passages and, if unchanged since indexing, its whole text."""
        with self._db_lock:
            stored = stored_document(self._db, file_id)
        return None if stored is None else with_text(stored, self.manifest.corpus)

    def close(self) -> None:
        """Release the database connection and the vector store."""
        self._db.close()
        self.store.close()
