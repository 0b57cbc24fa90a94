"""Read a folder of documents: which files, in what order, decoded or extracted how.

Plain text and Markdown are decoded here and split into blocks in this
process; PDF, HTML and Word files are extracted in sandboxed worker processes
(index.extract.sandbox), the files read one at a time as workers take them.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from .errors import CorpusNotFound
from .extract import Extracted, Unreadable, format_of
from .extract.sandbox import Limits, Sandbox

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024  # larger files are skipped with a reason; raise with --max-file-mb
BINARY_PROBE_BYTES = 8192
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class SourceFile:
    """A corpus file that was read: its relative path, text (decoded or extracted) and hash."""

    path: str
    text: str
    encoding: str  # "" for a file whose text was extracted (PDF, HTML, Word)
    sha256: str
    size: int
    document: Extracted | None = None  # its blocks and title; None: split text as plain text
    # True: unchanged since the live index read it (same bytes, same reader), so it was not read
    # again: text and document are empty, and the build takes them from that index.
    carried: bool = False

    @property
    def extractor(self) -> str:
        """Return what read the file and its version ("" for a dataset record)."""
        return self.document.extractor if self.document else ""

    @classmethod
    def from_text(cls, path: str, text: str) -> "SourceFile":
        """Make a document that did not come from a file (a dataset record, say)."""
        raw = text.encode("utf-8", "surrogatepass")
        return cls(path, text, "utf-8", hashlib.sha256(raw).hexdigest(), len(raw))


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not indexed, and why."""

    path: str
    reason: str


class UndecodableFile(ValueError):
    """The bytes are not text docsearch can read."""


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode file bytes to text, returning the text and the encoding used.

    UTF-8 and UTF-16 with a byte-order mark are decoded as such (the mark is
    not part of the text); otherwise UTF-8, then Windows-1252, then Latin-1,
    which accepts any byte. Bytes with a NUL outside UTF-16 are binary.
    Line endings are kept as they are, so offsets match the file's own text.
    """
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise UndecodableFile(f"invalid {encoding} after a byte-order mark: {exc.reason}") from exc
    if b"\x00" in raw[:BINARY_PROBE_BYTES] or b"\x00" in raw:
        raise UndecodableFile("binary file (contains NUL bytes)")
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def read_text(path: Path) -> str:
    """Return the decoded text of one file exactly as the index saw it."""
    return decode_text(path.read_bytes())[0]


def _candidates(root: Path) -> list[Path]:
    """Return every path under root sorted by relative path, without entering symlinked folders."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        found.extend(here / name for name in dirnames if (here / name).is_symlink())
        found.extend(here / name for name in filenames)
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _is_document(path: Path) -> bool:
    return format_of(path.name) is not None


def _why_skip(path: Path, root: Path) -> str | None:
    """Return why a candidate path is not read, or None to read it ("" to pass over silently)."""
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "broken symlink or symlink loop"
        if target.is_file() and not _is_document(path) and not _is_document(target):
            return ""
        if not target.is_relative_to(root):
            return "symlink leads outside the corpus folder"
        if target.is_dir():
            return f"symlinked folder; its files are indexed under {_relative(target, root)}/"
        return f"symlink to {_relative(target, root)}, which is indexed under its own name"
    if not _is_document(path):
        return ""
    if not path.is_file():
        return "not a regular file"
    return None


@dataclass
class _Pending:
    """A file waiting for a sandboxed extractor."""

    path: Path
    rel: str


def _read_bytes(path: Path, rel: str, max_file_bytes: int) -> bytes | Skipped:
    """Return a file's bytes, or why it is skipped (too large, unreadable, empty)."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            return Skipped(rel, f"file is {size / 2**20:.1f} MB, over the {max_file_bytes / 2**20:g} MB limit (--max-file-mb)")
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror or exc}")
    if not raw.strip():
        return Skipped(rel, "empty file" if not raw else "file holds only white space")
    return raw


def _read_text_file(rel: str, raw: bytes, paragraphs: str) -> SourceFile | Skipped:
    """Decode a text file and find its blocks."""
    try:
        text, encoding = decode_text(raw)
    except UndecodableFile as exc:
        return Skipped(rel, str(exc))
    if encoding not in ("utf-8", "utf-8-sig", "utf-16"):
        log.warning("%r is not UTF-8; decoded as %s", rel, encoding)
    if not text.strip():
        return Skipped(rel, "file holds only white space")
    fmt = format_of(rel)
    try:
        document = replace(fmt.read(text, paragraphs=paragraphs), extractor=fmt.version())
    except Exception as exc:  # a parser's bug on one odd file must not stop the read
        log.exception("cannot read %r as %s", rel, fmt.name)
        return Skipped(rel, f"cannot read as {fmt.name} ({type(exc).__name__}: {exc})")
    return SourceFile(rel, text, encoding, hashlib.sha256(raw).hexdigest(), len(raw), document)


def _extract_all(pending: list[_Pending], entries: list, paragraphs: str, limits: Limits, max_file_bytes: int,
                 known: Mapping[str, tuple[str, str]]) -> None:
    """Extract the pending files in the sandbox, putting each SourceFile or Skipped in its place.

    A file the live index read from the same bytes with the same reader (``known``: path ->
    (sha256, reader version)) is not extracted again: it is carried.
    """
    places = {id(p): i for i, p in enumerate(entries) if isinstance(p, _Pending)}
    submitted: list[tuple[_Pending, str, int]] = []  # grows as the sandbox takes jobs, ahead of its answers

    def jobs():
        for item in pending:
            raw = _read_bytes(item.path, item.rel, max_file_bytes)
            if isinstance(raw, Skipped):
                entries[places[id(item)]] = raw
                continue
            digest, fmt = hashlib.sha256(raw).hexdigest(), format_of(item.rel)
            if known.get(item.rel) == (digest, fmt.version()):
                entries[places[id(item)]] = SourceFile(item.rel, "", "", digest, len(raw), carried=True)
                continue
            submitted.append((item, digest, len(raw)))
            yield fmt.read, raw, {"paragraphs": paragraphs}

    with Sandbox(limits) as sandbox:
        for n, result in enumerate(sandbox.map(jobs())):
            item, digest, size = submitted[n]
            if isinstance(result, Unreadable):
                entries[places[id(item)]] = Skipped(item.rel, str(result))
            elif not result.text.strip():
                entries[places[id(item)]] = Skipped(item.rel, "no text found")
            else:
                result = replace(result, extractor=format_of(item.rel).version())
                entries[places[id(item)]] = SourceFile(item.rel, result.text, "", digest, size, result)


def read_corpus(root: Path | str, max_file_bytes: int = MAX_FILE_BYTES, paragraphs: str = "auto",
                limits: Limits | None = None, known: Mapping[str, tuple[str, str]] | None = None,
                ) -> tuple[list[SourceFile], list[Skipped]]:
    """Read every document under root (.txt, .md, .pdf, .html, .htm, .docx), in a stable order.

    One bad file never stops the read: it is logged and listed as skipped.
    ``paragraphs`` says how plain text marks paragraphs (index.extract.text);
    ``limits`` bounds each PDF, HTML or Word file's extraction in time and memory;
    a PDF, HTML or Word file ``known`` to the live index by its hash and reader is carried, not extracted.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusNotFound(f"corpus folder not found: {root}")
    root = root.resolve()
    entries: list[SourceFile | Skipped | _Pending] = []
    for path in _candidates(root):
        rel = _relative(path, root)
        reason = _why_skip(path, root)
        if reason is not None:
            if reason:
                entries.append(Skipped(rel, reason))
            continue
        if format_of(rel).binary:
            entries.append(_Pending(path, rel))
            continue
        raw = _read_bytes(path, rel, max_file_bytes)
        entries.append(raw if isinstance(raw, Skipped) else _read_text_file(rel, raw, paragraphs))
    pending = [e for e in entries if isinstance(e, _Pending)]
    if pending:
        _extract_all(pending, entries, paragraphs, limits or Limits(), max_file_bytes, known or {})
    for entry in entries:
        if isinstance(entry, Skipped):
            log.warning("skipped %r: %s", entry.path, entry.reason)
    return [e for e in entries if isinstance(e, SourceFile)], [e for e in entries if isinstance(e, Skipped)]
