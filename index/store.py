"""Persist an index as a folder: SQLite for text and places, FAISS for vectors.

Layout of an index directory::

    CURRENT                 name of the live generation, replaced atomically
    gen-000001/
        passages.sqlite     files, passages (text, spans, lines), skipped files
        lexical/            BM25 index of the passages' terms (index.lexical, bm25s files)
        vectors.faiss       inner-product index of unit vectors, keyed by passage id: exact
                            (flat) up to EXACT_UP_TO passages, HNSW above; optionally
                            stored as 8-bit scalars (SQ8). With the Milvus store there is
                            no such file: the vectors are in the Milvus collection the
                            manifest names (index.milvus)
        manifest.json       written last: a generation without it is incomplete

Readers follow CURRENT, so they see either the old or the new generation.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

import faiss
import numpy as np

from .corpus import Skipped, SourceFile
from .errors import IndexCorrupt, IndexMismatch, IndexNotFound
from .lexical import LEXICAL_DIR, write_lexical
from .manifest import MANIFEST_NAME, Manifest
from .passages import Passage, retrieval_text
from .vectors import FaissStore, VectorStore

CURRENT = "CURRENT"
DB_NAME = "passages.sqlite"
VECTORS_NAME = "vectors.faiss"

SCHEMA = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    passages INTEGER NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    number INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    -- what retrieval_text(passage) needs besides the text, so an unchanged file is not split again
    section TEXT NOT NULL DEFAULT '',
    context TEXT NOT NULL DEFAULT '',
    page INTEGER,
    page_end INTEGER,
    title TEXT NOT NULL DEFAULT ''
);
CREATE TABLE skipped (path TEXT NOT NULL, reason TEXT NOT NULL);
"""

# Vector index kinds. "auto" is exact search up to EXACT_UP_TO passages and HNSW above it:
# exact search costs time in proportion to the passages, HNSW about their logarithm, and the
# recall HNSW gives up (measured in bench/, README) stays above 0.98 at these settings.
VECTOR_INDEXES = ("auto", "flat", "hnsw")
EXACT_UP_TO = 50_000
HNSW_M = 32  # graph links per vector: memory 2 * M * 4 bytes per vector on top of the vectors
# On the 100k bench passages (bench/run.py), recall@10 against exact search was 0.90 with
# efConstruction 80 / efSearch 128. With efConstruction 200, recall@10 and ms per k=100 search
# by efSearch: 128: 0.959 / 1.0, 256: 0.982 / 1.7, 384: 0.988 / 2.6, 512: 0.991 / 3.3.
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 384  # candidates kept while searching
SQ8_TRAINING_SAMPLE = 200_000  # rows used to learn each dimension's range


def _fsync_path(path: Path) -> None:
    """Flush a file or directory to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_ids(files: Sequence[SourceFile]) -> dict[str, int]:
    """Return each file's id (files.id): its 1-based place in the corpus."""
    return {f.path: file_id for file_id, f in enumerate(files, start=1)}


def _write_db(path: Path, files: Sequence[SourceFile], passages: Sequence[Passage], skipped: Iterable[Skipped]) -> None:
    """Write files, passages and skipped files to a new SQLite database."""
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.source] = counts.get(p.source, 0) + 1
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        file_ids = _file_ids(files)
        for f in files:
            file_id = file_ids[f.path]
            db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (file_id, f.path, f.sha256, f.size, f.encoding, counts.get(f.path, 0)),
            )
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (pid, file_ids[p.source], p.number, p.start, p.end, p.line_start, p.line_end, p.text,
                 p.section, p.context, p.page, p.page_end, p.title)
                for pid, p in enumerate(passages, start=1)
            ),
        )
        db.executemany("INSERT INTO skipped VALUES (?, ?)", ((s.path, s.reason) for s in skipped))
        db.commit()
    finally:
        db.close()


def vector_index_kind(passages: int, vector_index: str = "auto", sq8: bool = False) -> str:
    """Return the index kind to write for this many passages: flat, hnsw, flat-sq8 or hnsw-sq8."""
    if vector_index not in VECTOR_INDEXES:
        raise ValueError(f"vector index must be one of {', '.join(VECTOR_INDEXES)}, not {vector_index!r}")
    kind = vector_index if vector_index != "auto" else ("flat" if passages <= EXACT_UP_TO else "hnsw")
    return f"{kind}-sq8" if sq8 and passages else kind


def _new_vector_index(kind: str, dimension: int) -> faiss.Index:
    """Return an empty inner-product FAISS index of the given kind."""
    metric = faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        return faiss.IndexFlatIP(dimension)
    if kind == "flat-sq8":
        return faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_8bit, metric)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, metric)
    elif kind == "hnsw-sq8":
        index = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_8bit, HNSW_M, metric)
    else:
        raise ValueError(f"unknown vector index kind {kind!r}")
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def _write_vectors(path: Path, vectors: np.ndarray, dimension: int, kind: str = "flat") -> None:
    """Write unit vectors to a FAISS inner-product index keyed by passage id (1-based)."""
    inner = _new_vector_index(kind, dimension)
    if not inner.is_trained and len(vectors):
        sample = vectors
        if len(vectors) > SQ8_TRAINING_SAMPLE:
            rows = np.random.default_rng(0).choice(len(vectors), SQ8_TRAINING_SAMPLE, replace=False)
            sample = vectors[np.sort(rows)]
        inner.train(sample)
    index = faiss.IndexIDMap2(inner)
    if len(vectors):
        index.add_with_ids(vectors, np.arange(1, len(vectors) + 1, dtype=np.int64))
    faiss.write_index(index, str(path))


def read_vectors(path: Path) -> faiss.Index:
    """Read a generation's vector index, with its search settings applied."""
    index = faiss.read_index(str(path))
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = HNSW_EF_SEARCH  # not all FAISS versions store it in the file
    return index


def open_vectors(folder: Path, manifest: Manifest, milvus_uri: str = "") -> VectorStore:
    """Open a generation's vectors where its manifest says they live (milvus_uri overrides its URI)."""
    if manifest.vector_store == "milvus":
        from .milvus import open_collection

        return open_collection(manifest, milvus_uri)
    database = folder / DB_NAME

    def ids_of_source(file_id: int) -> np.ndarray:
        db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            return np.array([i for (i,) in db.execute("SELECT id FROM passages WHERE file_id = ?", (file_id,))], np.int64)
        finally:
            db.close()

    return FaissStore(read_vectors(folder / VECTORS_NAME), ids_of_source)


def current_generation(index_dir: Path) -> Path:
    """Return the folder of the live generation, or raise IndexNotFound."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"no index at {index_dir}; run `docsearch index` to build one") from None
    folder = index_dir / name
    if not (folder / MANIFEST_NAME).is_file():
        raise IndexNotFound(f"index at {index_dir} is incomplete ({name} has no manifest); run `docsearch index`")
    return folder


def _checksum(path: Path) -> dict:
    """Return the size and SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def verify_generation(folder: Path, manifest: Manifest) -> None:
    """Check that the generation's data files are the ones its manifest describes."""
    for name, expected in manifest.checksums.items():
        path = folder / name
        if not path.is_file() or _checksum(path) != expected:
            raise IndexCorrupt(f"{path} does not match its manifest; rebuild with `docsearch index`")


def write_index(
    index_dir: Path,
    manifest: Manifest,
    files: Sequence[SourceFile],
    passages: Sequence[Passage],
    skipped: Sequence[Skipped],
    vectors: np.ndarray,
) -> tuple[Path, Manifest]:
    """Write a complete new generation and make it the live one in one atomic step.

    Data files are written and flushed first, the manifest (with their
    checksums) last, then CURRENT is replaced by a rename. A crash at any
    moment leaves the previous generation live and loadable.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = (index_dir / CURRENT).read_text(encoding="utf-8").strip() if (index_dir / CURRENT).exists() else None
    folder = index_dir / f"gen-{manifest.generation:06d}"
    if folder.exists():
        shutil.rmtree(folder)  # left over from a build that never went live
    folder.mkdir()
    _crash_point("folder")
    _write_db(folder / DB_NAME, files, passages, skipped)
    _crash_point("database")
    lexical = write_lexical(folder / LEXICAL_DIR, [retrieval_text(p) for p in passages])
    _crash_point("lexical")
    names = [DB_NAME, *(path.relative_to(folder).as_posix() for path in lexical)]
    if manifest.vector_store == "milvus":
        from .milvus import write_collection

        file_ids = _file_ids(files)
        write_collection(manifest, vectors, np.array([file_ids[p.source] for p in passages], np.int64))
    else:
        _write_vectors(folder / VECTORS_NAME, vectors, manifest.dimension, manifest.vector_index)
        names.insert(1, VECTORS_NAME)
    for name in names:
        _fsync_path(folder / name)
    _fsync_path(folder / LEXICAL_DIR)
    _crash_point("vectors")
    manifest = replace(manifest, checksums={name: _checksum(folder / name) for name in names})
    _write_durably(folder / MANIFEST_NAME, manifest.to_json())
    _fsync_path(folder)
    _crash_point("manifest")
    _write_durably(index_dir / CURRENT, folder.name + "\n")
    _crash_point("current")
    _remove_old_generations(index_dir, keep={folder.name, previous})
    if manifest.vector_store == "milvus":
        from .milvus import drop_old_collections

        drop_old_collections(manifest, index_dir, kept_generation=previous)
    return folder, manifest


def _crash_point(name: str) -> None:
    """Die here, as `kill -9` would, when the crash tests ask for it (DOCSEARCH_CRASH_AT=name)."""
    if os.environ.get("DOCSEARCH_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _write_durably(path: Path, text: str) -> None:
    """Replace path with text atomically: write a temporary file, flush, rename, flush the folder."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    _fsync_path(temporary)
    _crash_point(f"before-rename-{path.name}")
    os.replace(temporary, path)
    _fsync_path(path.parent)


def next_generation(index_dir: Path) -> int:
    """Return the number the next generation written to index_dir gets."""
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return max(numbers, default=0) + 1


def _remove_old_generations(index_dir: Path, keep: set) -> None:
    """Delete every generation but the new live one and the one live before it, Milvus collections included."""
    for old in index_dir.glob("gen-*"):
        if old.name not in keep and old.is_dir():
            _drop_collection_of(old)
            shutil.rmtree(old, ignore_errors=True)


def _drop_collection_of(folder: Path) -> None:
    """Drop the Milvus collection of a generation about to be deleted, if it has one."""
    try:
        manifest = Manifest.read(folder / MANIFEST_NAME, for_reuse=True)
    except (IndexCorrupt, IndexMismatch):
        return  # an incomplete or foreign generation: nothing of it was made live
    if manifest.vector_store == "milvus":
        from .milvus import drop_collection

        drop_collection(manifest)


class PreviousIndex:
    """The live generation of an index, read back so a sync can reuse what did not change."""

    def __init__(self, folder: Path, manifest: Manifest):
        self.manifest = manifest
        self._db = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True)
        self.files = dict(self._db.execute("SELECT path, sha256 FROM files"))
        # A file's passages have consecutive ids (they are written file by file), so each file is
        # an id range: one pass here instead of a search of the passages table per file.
        self._ranges = {
            path: (first, last)
            for path, first, last in self._db.execute(
                "SELECT f.path, min(p.id), max(p.id) FROM passages p JOIN files f ON f.id = p.file_id GROUP BY p.file_id"
            )
        }
        self.skipped = set(self._db.execute("SELECT path, reason FROM skipped"))
        # Passages stored before sections and pages existed cannot be reused: this raises, and the build
        # starts afresh (the format version should say so; left to the index format's owner).
        self._db.execute("SELECT section, context, page, page_end, title FROM passages LIMIT 0")
        self._store = None
        if manifest.vector_store == "milvus":
            self._store, self._vectors = open_vectors(folder, manifest), None
            return
        index = read_vectors(folder / VECTORS_NAME)
        ids = faiss.vector_to_array(faiss.downcast_index(index).id_map)
        # Ids are written as 1..n in order, so row i holds passage i + 1.
        if not np.array_equal(ids, np.arange(1, len(ids) + 1)):
            raise IndexCorrupt(f"{folder / VECTORS_NAME} is not keyed 1..n")
        self._vectors = faiss.downcast_index(index).index.reconstruct_n(0, index.ntotal) if index.ntotal else None

    def take(self, path: str) -> tuple[list[Passage], np.ndarray]:
        """Return a file's stored passages and their vectors."""
        first, last = self._ranges.get(path, (0, -1))
        rows = self._db.execute(
            "SELECT id, number, text, start, end, line_start, line_end, section, context, page, page_end, title "
            "FROM passages WHERE id BETWEEN ? AND ? ORDER BY number",
            (first, last),
        ).fetchall()
        if len(rows) != last - first + 1:
            raise IndexCorrupt(f"the passages of {path} are not stored together; rebuild with `docsearch index --full`")
        passages = [Passage(path, *row[1:]) for row in rows]
        if self._store is not None:
            return passages, self._store.vectors([pid for pid, *_ in rows])
        rows_at = np.array([pid - 1 for pid, *_ in rows], dtype=np.int64)
        return passages, self._vectors[rows_at] if len(rows_at) else np.zeros((0, self.manifest.dimension), np.float32)

    def close(self) -> None:
        """Release the database and the vector store."""
        self._db.close()
        if self._store is not None:
            self._store.close()
