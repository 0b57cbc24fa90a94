"""The query side's one facade: load an index, answer a question with ranked hits."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
from index import Encoder, IndexMismatch, Manifest
from index.manifest import MANIFEST_NAME
from index.store import DB_NAME, VECTORS_NAME, current_generation

MAX_K = 100


@dataclass(frozen=True)
class Hit:
    """One ranked passage: where it is and how well it matched."""

    rank: int
    score: float
    text: str
    source: str
    passage: int
    line_start: int
    line_end: int
    start: int
    end: int

    def to_dict(self) -> dict:
        """Return the hit as a JSON-ready dict."""
        return asdict(self)


class Searcher:
    """Answer questions from one loaded index generation."""

    def __init__(self, index_dir: Path, manifest: Manifest, vectors: faiss.Index, db: sqlite3.Connection, encoder: Encoder):
        self.index_dir = index_dir
        self.manifest = manifest
        self.vectors = vectors
        self.encoder = encoder
        self._db = db
        self._db_lock = threading.Lock()

    @classmethod
    def load(cls, index_dir: Path | str, encoder: Encoder | None = None) -> "Searcher":
        """Load the live generation of index_dir, with the model its manifest names."""
        index_dir = Path(index_dir)
        folder = current_generation(index_dir)
        manifest = Manifest.read(folder / MANIFEST_NAME)
        if encoder is None:
            encoder = Encoder(manifest.model)
        elif encoder.name != manifest.model:
            raise IndexMismatch(
                f"index at {index_dir} was built with model {manifest.model!r}, not {encoder.name!r}; "
                "rebuild it or query it with its own model"
            )
        if encoder.dimension != manifest.dimension:
            raise IndexMismatch(
                f"model {encoder.name!r} gives {encoder.dimension}-dimensional vectors, "
                f"the index at {index_dir} holds {manifest.dimension}"
            )
        vectors = faiss.read_index(str(folder / VECTORS_NAME))
        db = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True, check_same_thread=False)
        stored = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        if not vectors.ntotal == stored == manifest.passages or vectors.d != manifest.dimension:
            db.close()
            raise IndexMismatch(
                f"index at {index_dir} is inconsistent: manifest {manifest.passages} passages, "
                f"database {stored}, vectors {vectors.ntotal}; rebuild it with `docsearch index`"
            )
        return cls(index_dir, manifest, vectors, db, encoder)

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

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Return the k passages closest in meaning to query, best first."""
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be an integer from 1 to {MAX_K}")
        if not query.strip():
            raise ValueError("query is blank")
        if self.vectors.ntotal == 0:
            return []
        vector = self.encoder.encode([query])
        scores, ids = self.vectors.search(vector, min(k, self.vectors.ntotal))
        # FAISS pads missing neighbours with id -1: never let it index a row.
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        rows = self._passages([i for i, _ in found])
        return [
            Hit(rank=rank, score=round(score, 6), **rows[pid])
            for rank, (pid, score) in enumerate(found, start=1)
        ]

    def _passages(self, ids: list[int]) -> dict[int, dict]:
        """Fetch the stored passages with the given ids."""
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT p.id, p.text, f.path, p.number, p.line_start, p.line_end, p.start, p.end "
            f"FROM passages p JOIN files f ON f.id = p.file_id WHERE p.id IN ({marks})"
        )
        with self._db_lock:
            rows = self._db.execute(sql, ids).fetchall()
        keys = ("text", "source", "passage", "line_start", "line_end", "start", "end")
        return {row[0]: dict(zip(keys, row[1:])) for row in rows}

    def close(self) -> None:
        """Release the database connection."""
        self._db.close()

