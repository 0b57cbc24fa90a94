"""One indexed file for the source view: its passages as stored and, if unchanged, its whole text.

The index keeps each passage's text and offsets but not the whole file. The whole
text is read from the corpus folder the manifest records, by the path the index
stores (never one a client sends), and shown only when its SHA-256 is still the
one indexed, so every offset in the index points at the same characters.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from index.corpus import UndecodableFile, decode_text


@dataclass(frozen=True)
class StoredPassage:
    """A passage of the file as the index holds it."""

    id: int
    number: int
    start: int
    end: int
    line_start: int
    line_end: int
    text: str


@dataclass(frozen=True)
class Document:
    """An indexed file: its passages, and its text when it is the text that was indexed."""

    id: int
    path: str
    sha256: str  # of the file's bytes when indexed
    size: int
    passages: list[StoredPassage]
    text: str | None = None
    problem: str | None = None  # why text is None, in a sentence

    def passage(self, passage_id: int) -> StoredPassage | None:
        """Return the passage with this id, if it belongs to this file."""
        return next((p for p in self.passages if p.id == passage_id), None)


def stored_document(db: sqlite3.Connection, file_id: int) -> Document | None:
    """Fetch a file's row and its passages in order, or None if no file has this id."""
    row = db.execute("SELECT path, sha256, size, passages FROM files WHERE id = ?", (file_id,)).fetchone()
    if row is None:
        return None
    path, sha256, size, count = row
    # Passages are written file by file with consecutive ids, so a file's are one id range:
    # a range read instead of a scan of every passage (the file_id column has no index).
    (before,) = db.execute("SELECT coalesce(sum(passages), 0) FROM files WHERE id < ?", (file_id,)).fetchone()
    columns = "id, number, start, end, line_start, line_end, text"
    rows = db.execute(f"SELECT {columns} FROM passages WHERE id BETWEEN ? AND ? AND file_id = ? ORDER BY number",
                      (before + 1, before + count, file_id)).fetchall()
    if len(rows) != count:  # written otherwise: find them the slow way
        rows = db.execute(f"SELECT {columns} FROM passages WHERE file_id = ? ORDER BY number", (file_id,)).fetchall()
    return Document(file_id, path, sha256, size, [StoredPassage(*r) for r in rows])


def with_text(document: Document, corpus: str) -> Document:
    """Return the document with its whole text, or with the reason it cannot be shown."""
    text, problem = _indexed_text(corpus, document.path, document.sha256, document.size)
    if text is not None and any(text[p.start:p.end] != p.text for p in document.passages):
        text, problem = None, f"{document.path} no longer matches its passages in the index"
    return replace(document, text=text, problem=problem)


def _indexed_text(corpus: str, path: str, sha256: str, size: int) -> tuple[str | None, str | None]:
    """Read path under corpus; return its text if its bytes are the ones indexed, else why not."""
    if not corpus:
        return None, "this index does not record the folder its files came from (run `docsearch index` to record it)"
    root = Path(corpus)
    file = root / path
    gone = f"{path} is no longer in the corpus folder"
    try:
        if not file.resolve(strict=True).is_relative_to(root.resolve(strict=True)):
            return None, gone  # replaced by a link out of the corpus since it was indexed
        if file.stat().st_size != size:
            return None, f"{path} has changed since it was indexed"
        raw = file.read_bytes()
    except (OSError, RuntimeError):
        return None, gone
    if hashlib.sha256(raw).hexdigest() != sha256:
        return None, f"{path} has changed since it was indexed"
    try:
        return decode_text(raw)[0], None
    except UndecodableFile:  # cannot happen for bytes that were indexed; say so rather than fail
        return None, f"{path} cannot be decoded as it was when indexed"
