"""An indexed file's document for the source view: its passages as stored and, when it can be shown, its text.

For a PDF, web page or Word file the index keeps the text it extracted, so that
text is always shown (with a notice if the file has changed since). For plain
text and Markdown the index keeps each passage but not the whole file: the file
is read from the corpus folder the manifest records, by the path the index
stores (never one a client sends), and shown only when its SHA-256 is still the
one indexed, so every offset in the index points at the same characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from docsearch.index.catalog import StoredDocument, StoredFile, StoredPassage
from docsearch.index.corpus import UndecodableFile, decode_text


@dataclass(frozen=True)
class DocumentView:
    """An indexed file: its passages, and its text when it is the text that was indexed."""

    id: int
    path: str
    passages: list[StoredPassage]
    text: str | None = None
    problem: str | None = None  # why text is None, or (extracted text) that the file changed since, in a sentence
    title: str = ""
    pages: tuple[int, ...] = ()  # where each page starts in text (PDF)
    extracted: bool = False  # the text is what docsearch extracted from the file, not the file itself
    original: Path | None = None  # the file in the corpus folder, if it is still there

    def passage(self, passage_id: int) -> StoredPassage | None:
        """Return the passage with this id, if it belongs to this file."""
        return next((p for p in self.passages if p.id == passage_id), None)


def view_of(file: StoredFile, passages: list[StoredPassage], corpus: str,
            extracted: StoredDocument | None = None) -> DocumentView:
    """Return the file's document with its whole text, or with the reason it cannot be shown."""
    path = original_file(corpus, file)
    raw = _indexed_bytes(path, file)
    if extracted is not None:
        changed = None if raw is not None else (
            f"{file.path} is no longer in the corpus folder; this is the text docsearch extracted from it"
            if path is None else f"{file.path} has changed since it was indexed; this is the text extracted from it then")
        return DocumentView(file.id, file.path, passages, extracted.text, changed, file.title, extracted.pages,
                            extracted=True, original=path)
    text, problem = _indexed_text(corpus, file, path, raw)
    if text is not None and any(text[p.start:p.end] != p.text for p in passages):
        text, problem = None, f"{file.path} no longer matches its passages in the index"
    return DocumentView(file.id, file.path, passages, text, problem, file.title, original=path)


def original_file(corpus: str, file: StoredFile) -> Path | None:
    """Return where an indexed file is in the corpus folder, or None if it is gone (or now leads outside)."""
    if not corpus:
        return None
    root = Path(corpus)
    try:
        path = (root / file.path).resolve(strict=True)
        return path if path.is_relative_to(root.resolve(strict=True)) and path.is_file() else None
    except (OSError, RuntimeError):
        return None


def _indexed_bytes(path: Path | None, file: StoredFile) -> bytes | None:
    """Return the file's bytes if they are still the ones indexed (same size, same SHA-256), else None."""
    if path is None:
        return None
    try:
        if path.stat().st_size != file.size:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    return raw if hashlib.sha256(raw).hexdigest() == file.sha256 else None


def _indexed_text(corpus: str, file: StoredFile, path: Path | None, raw: bytes | None) -> tuple[str | None, str | None]:
    """Return a text file's text if its bytes are the ones indexed, else why not."""
    if not corpus:
        return None, "this index does not record the folder its files came from (run `docsearch index` to record it)"
    if path is None:
        return None, f"{file.path} is no longer in the corpus folder"
    if raw is None:
        return None, f"{file.path} has changed since it was indexed"
    try:
        return decode_text(raw)[0], None
    except UndecodableFile:  # cannot happen for bytes that were indexed; say so rather than fail
        return None, f"{file.path} cannot be decoded as it was when indexed"
