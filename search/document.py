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

    def passage(self, passage_id: int) -> StoredPassage | None:
        """Return the passage with this id, if it belongs to this file."""
        return next((p for p in self.passages if p.id == passage_id), None)


def view_of(file: StoredFile, passages: list[StoredPassage], corpus: str,
            extracted: StoredDocument | None = None) -> DocumentView:
    """Return the file's document with its whole text, or with the reason it cannot be shown."""
    if extracted is not None:
        return DocumentView(file.id, file.path, passages, extracted.text, _changed(corpus, file), file.title,
                            extracted.pages, extracted=True)
    text, problem = _indexed_text(corpus, file)
    if text is not None and any(text[p.start:p.end] != p.text for p in passages):
        text, problem = None, f"{file.path} no longer matches its passages in the index"
    return DocumentView(file.id, file.path, passages, text, problem, file.title)


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


def _changed(corpus: str, file: StoredFile) -> str | None:
    """Say, for a file whose extracted text is shown, if the file itself has changed or gone since."""
    path = original_file(corpus, file)
    if path is None:
        return f"{file.path} is no longer in the corpus folder; this is the text docsearch extracted from it"
    try:
        same = path.stat().st_size == file.size and hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
    except OSError:
        same = False
    return None if same else f"{file.path} has changed since it was indexed; this is the text extracted from it then"


def _indexed_text(corpus: str, file: StoredFile) -> tuple[str | None, str | None]:
    """Read the file under corpus; return its text if its bytes are the ones indexed, else why not."""
    if not corpus:
        return None, "this index does not record the folder its files came from (run `docsearch index` to record it)"
    root = Path(corpus)
    path = root / file.path
    gone = f"{file.path} is no longer in the corpus folder"
    try:
        if not path.resolve(strict=True).is_relative_to(root.resolve(strict=True)):
            return None, gone  # replaced by a link out of the corpus since it was indexed
        if path.stat().st_size != file.size:
            return None, f"{file.path} has changed since it was indexed"
        raw = path.read_bytes()
    except (OSError, RuntimeError):
        return None, gone
    if hashlib.sha256(raw).hexdigest() != file.sha256:
        return None, f"{file.path} has changed since it was indexed"
    try:
        return decode_text(raw)[0], None
    except UndecodableFile:  # cannot happen for bytes that were indexed; say so rather than fail
        return None, f"{file.path} cannot be decoded as it was when indexed"
