"""A generation's catalog: its files, passages and skipped files in SQLite, and every query on them.

This module holds all of docsearch's SQL. Passages are written file by file,
so a file's passages have consecutive ids: ``_id_range`` is the one place that
relies on it, and a catalog where it does not hold is reported as corrupt. For
a file whose text docsearch extracted (PDF, web page, Word), the catalog keeps
that text (compressed) and its page starts: passages' offsets point into it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .corpus import Skipped, SourceFile
from .errors import IndexCorrupt
from .passages import Passage, retrieval_text

DB_NAME = "passages.sqlite"

SCHEMA = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    encoding TEXT NOT NULL,  -- "" for a file whose text was extracted (then in documents)
    passages INTEGER NOT NULL,
    title TEXT NOT NULL,
    extractor TEXT NOT NULL  -- what read it, with its version: a change means reading it again
);
CREATE TABLE documents (  -- the text extracted from a PDF, web page or Word file, and where its pages start
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    text BLOB NOT NULL,  -- zlib-compressed UTF-8
    pages TEXT NOT NULL  -- JSON list of the offset where each page starts ([] without pages)
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
    section TEXT NOT NULL,  -- heading path, joined with " › "
    context TEXT NOT NULL,  -- embedded with the passage, not shown (a table's header row)
    page INTEGER,  -- PDF: the page it begins on
    page_end INTEGER,  -- PDF: the page it ends on, when another
    vector_key INTEGER NOT NULL  -- text_key() of the text that was embedded: a later build reuses its vector
);
CREATE TABLE skipped (path TEXT NOT NULL, reason TEXT NOT NULL);
"""
INDEXES = "CREATE INDEX passages_by_vector_key ON passages(vector_key);"
BATCH = 500  # ids or keys per IN (...) query, well under SQLite's limit on parameters
PASSAGE_COLUMNS = ("p.id, p.file_id, f.path, p.number, p.start, p.end, p.line_start, p.line_end, p.text, "
                   "p.section, p.context, p.page, p.page_end, f.title")
FILE_COLUMNS = "id, path, sha256, size, encoding, passages, title, extractor"


@dataclass(frozen=True)
class StoredPassage:
    """A passage as the catalog holds it: its id in the generation, its file and its place."""

    id: int
    file_id: int
    source: str  # the file's path, relative to the corpus folder
    number: int  # its place among its file's passages, from 1
    start: int
    end: int
    line_start: int
    line_end: int
    text: str
    section: str = ""
    context: str = ""
    page: int | None = None
    page_end: int | None = None
    title: str = ""  # its file's

    def as_passage(self) -> Passage:
        """Return the passage as the splitter made it, to carry into a new generation."""
        return Passage(self.source, self.number, self.text, self.start, self.end, self.line_start, self.line_end,
                       self.section, self.context, self.page, self.page_end, self.title)


@dataclass(frozen=True)
class StoredFile:
    """An indexed file: its id, path, the hash and size of its bytes when indexed, and its passage count."""

    id: int
    path: str
    sha256: str
    size: int
    encoding: str
    passages: int
    title: str = ""
    extractor: str = ""


@dataclass(frozen=True)
class StoredDocument:
    """The text docsearch extracted from a file, as indexed, and where its pages start."""

    text: str
    pages: tuple[int, ...] = ()


def text_key(text: str) -> int:
    """Return a 64-bit key of a text, to look up a vector by the text it was embedded from."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def write_catalog(path: Path, files: Sequence[SourceFile], passages: Sequence[Passage],
                  skipped: Iterable[Skipped]) -> None:
    """Write files (ids 1..n in order), passages (ids 1..m, file by file) and skipped files to a new database."""
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.source] = counts.get(p.source, 0) + 1
    file_ids = {f.path: file_id for file_id, f in enumerate(files, start=1)}
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       ((file_ids[f.path], f.path, f.sha256, f.size, f.encoding, counts.get(f.path, 0),
                         f.document.title if f.document else "", f.document.extractor if f.document else "")
                        for f in files))
        db.executemany("INSERT INTO documents VALUES (?, ?, ?)",
                       ((file_ids[f.path], zlib.compress(f.text.encode("utf-8", "surrogatepass")),
                         json.dumps(list(f.document.pages) if f.document else []))
                        for f in files if not f.encoding))
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((pid, file_ids[p.source], p.number, p.start, p.end, p.line_start, p.line_end, p.text, p.section,
              p.context, p.page, p.page_end, text_key(retrieval_text(p))) for pid, p in enumerate(passages, start=1)),
        )
        db.executemany("INSERT INTO skipped VALUES (?, ?)", ((s.path, s.reason) for s in skipped))
        db.executescript(INDEXES)
        db.commit()
    finally:
        db.close()


class Catalog:
    """A generation's catalog opened read-only; safe to share between threads."""

    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._first_ids: np.ndarray | None = None  # first passage id of each file, by file id
        self._paths: list[tuple[int, str]] | None = None

    def _rows(self, sql: str, parameters: Sequence = ()) -> list[tuple]:
        """Run one query and return its rows."""
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def passage_count(self) -> int:
        """Return how many passages the catalog holds."""
        return self._rows("SELECT count(*) FROM passages")[0][0]

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        """Return the passages with the given ids, by id."""
        marks = ",".join("?" * len(ids))
        rows = self._rows(f"SELECT {PASSAGE_COLUMNS} FROM passages p JOIN files f ON f.id = p.file_id "
                          f"WHERE p.id IN ({marks})", list(ids))
        return {row[0]: StoredPassage(*row) for row in rows}

    def sources(self, ids: Sequence[int]) -> dict[int, str]:
        """Return the file path of each passage id."""
        marks = ",".join("?" * len(ids))
        return dict(self._rows(f"SELECT p.id, f.path FROM passages p JOIN files f ON f.id = p.file_id "
                               f"WHERE p.id IN ({marks})", list(ids)))

    def files(self) -> list[StoredFile]:
        """Return every indexed file, by id."""
        return [StoredFile(*row) for row in self._rows(f"SELECT {FILE_COLUMNS} FROM files ORDER BY id")]

    def file(self, file_id: int) -> StoredFile | None:
        """Return the file with this id, or None."""
        rows = self._rows(f"SELECT {FILE_COLUMNS} FROM files WHERE id = ?", (file_id,))
        return StoredFile(*rows[0]) if rows else None

    def document(self, file_id: int) -> StoredDocument | None:
        """Return the text extracted from a file and its page starts (None for a file read as text)."""
        rows = self._rows("SELECT text, pages FROM documents WHERE file_id = ?", (file_id,))
        if not rows:
            return None
        return StoredDocument(zlib.decompress(rows[0][0]).decode("utf-8", "surrogatepass"), tuple(json.loads(rows[0][1])))

    def file_passages(self, file_id: int) -> list[StoredPassage]:
        """Return a file's passages in order."""
        first, last = self._id_range(file_id)
        rows = self._rows(f"SELECT {PASSAGE_COLUMNS} FROM passages p JOIN files f ON f.id = p.file_id "
                          "WHERE p.id BETWEEN ? AND ? ORDER BY p.number", (first, last))
        if any(row[1] != file_id for row in rows) or len(rows) != last - first + 1:
            raise IndexCorrupt(f"{self.path}: the passages of file {file_id} are not stored together; "
                               "rebuild with `docsearch index --full`")
        return [StoredPassage(*row) for row in rows]

    def file_paths(self) -> list[tuple[int, str]]:
        """Return the (id, path) of every file, by id; read once per catalog (filters match against it)."""
        if self._paths is None:
            self._paths = self._rows("SELECT id, path FROM files ORDER BY id")
        return self._paths

    def passage_ids(self, file_ids: Sequence[int]) -> np.ndarray:
        """Return the ids of the given files' passages, in id order."""
        ranges = [self._id_range(int(f)) for f in sorted(file_ids)]
        return np.concatenate([np.arange(a, b + 1, dtype=np.int64) for a, b in ranges] or [np.zeros(0, np.int64)])

    def _id_range(self, file_id: int) -> tuple[int, int]:
        """Return the first and last passage id of a file: ids run file by file (see write_catalog)."""
        if self._first_ids is None:
            counts = [count for (count,) in self._rows("SELECT passages FROM files ORDER BY id")]
            self._first_ids = np.concatenate([[1], 1 + np.cumsum(counts, dtype=np.int64)])
        if not 1 <= file_id < len(self._first_ids):
            return 1, 0
        return int(self._first_ids[file_id - 1]), int(self._first_ids[file_id]) - 1

    def passages_by_key(self, keys: Sequence[int]) -> dict[int, StoredPassage]:
        """Return one stored passage per vector key found."""
        found: dict[int, StoredPassage] = {}
        for at in range(0, len(keys), BATCH):
            batch = list(keys[at:at + BATCH])
            rows = self._rows(f"SELECT p.vector_key, {PASSAGE_COLUMNS} FROM passages p JOIN files f ON f.id = p.file_id "
                              f"WHERE p.vector_key IN ({','.join('?' * len(batch))})", batch)
            found.update((row[0], StoredPassage(*row[1:])) for row in rows)
        return found

    def skipped(self) -> set[tuple[str, str]]:
        """Return the (path, reason) of every file the build skipped."""
        return set(self._rows("SELECT path, reason FROM skipped"))

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
