"""Persist an index as a folder: SQLite for text and places, FAISS for vectors.

Layout of an index directory::

    CURRENT                 name of the live generation, replaced atomically
    gen-000001/
        passages.sqlite     files, passages (text, spans, lines), skipped files, and
                            passages_fts: an FTS5 full-text index of the passages (BM25)
        vectors.faiss       inner-product index of unit vectors, keyed by passage id
        manifest.json       written last: a generation without it is incomplete

Readers follow CURRENT, so they see either the old or the new generation.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

import faiss
import numpy as np

from .corpus import Skipped, SourceFile
from .errors import IndexNotFound
from .manifest import MANIFEST_NAME, Manifest
from .passages import Passage

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
    text TEXT NOT NULL
);
CREATE TABLE skipped (path TEXT NOT NULL, reason TEXT NOT NULL);
CREATE VIRTUAL TABLE passages_fts USING fts5(
    text, content='passages', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
"""
LEXICAL_TABLE = "passages_fts"


def _fsync_path(path: Path) -> None:
    """Flush a file or directory to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_db(path: Path, files: Sequence[SourceFile], passages: Sequence[Passage], skipped: Iterable[Skipped]) -> None:
    """Write files, passages and skipped files to a new SQLite database."""
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.source] = counts.get(p.source, 0) + 1
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        file_ids = {}
        for file_id, f in enumerate(files, start=1):
            file_ids[f.path] = file_id
            db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (file_id, f.path, f.sha256, f.size, f.encoding, counts.get(f.path, 0)),
            )
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (pid, file_ids[p.source], p.number, p.start, p.end, p.line_start, p.line_end, p.text)
                for pid, p in enumerate(passages, start=1)
            ),
        )
        db.executemany("INSERT INTO skipped VALUES (?, ?)", ((s.path, s.reason) for s in skipped))
        # BM25 over the same passages, English words stemmed (Porter), kept in the same file.
        db.execute(f"INSERT INTO {LEXICAL_TABLE}({LEXICAL_TABLE}) VALUES ('rebuild')")
        db.commit()
    finally:
        db.close()


def _write_vectors(path: Path, vectors: np.ndarray, dimension: int) -> None:
    """Write unit vectors to a FAISS inner-product index keyed by passage id (1-based)."""
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if len(vectors):
        index.add_with_ids(vectors, np.arange(1, len(vectors) + 1, dtype=np.int64))
    faiss.write_index(index, str(path))


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


def write_index(
    index_dir: Path,
    manifest: Manifest,
    files: Sequence[SourceFile],
    passages: Sequence[Passage],
    skipped: Sequence[Skipped],
    vectors: np.ndarray,
) -> Path:
    """Write a complete new generation and make it the live one in one atomic step."""
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / f"gen-{manifest.generation:06d}"
    if folder.exists():
        shutil.rmtree(folder)  # left over from a build that never went live
    folder.mkdir()
    _write_db(folder / DB_NAME, files, passages, skipped)
    _write_vectors(folder / VECTORS_NAME, vectors, manifest.dimension)
    (folder / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    for name in (DB_NAME, VECTORS_NAME, MANIFEST_NAME):
        _fsync_path(folder / name)
    _fsync_path(folder)
    pointer = index_dir / f"{CURRENT}.tmp"
    pointer.write_text(folder.name + "\n", encoding="utf-8")
    _fsync_path(pointer)
    os.replace(pointer, index_dir / CURRENT)
    _fsync_path(index_dir)
    _remove_old_generations(index_dir, keep=folder.name)
    return folder


def next_generation(index_dir: Path) -> int:
    """Return the number the next generation written to index_dir gets."""
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return max(numbers, default=0) + 1


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    """Delete generations other than the live one and the one before it."""
    gens = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    for old in gens[:-2]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
