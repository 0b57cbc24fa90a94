"""Read a folder of text documents: which files, in what order, decoded how."""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusNotFound

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 10 * 1024 * 1024  # larger files are skipped with a reason; raise with --max-file-mb
BINARY_PROBE_BYTES = 8192
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class SourceFile:
    """A corpus file that was read: its relative path, decoded text and hash."""

    path: str
    text: str
    encoding: str
    sha256: str
    size: int

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
    return path.suffix.lower() in SUFFIXES


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


def read_corpus(root: Path | str, max_file_bytes: int = MAX_FILE_BYTES) -> tuple[list[SourceFile], list[Skipped]]:
    """Read every .txt and .md file under root, in a stable order.

    One bad file never stops the read: it is logged and listed as skipped.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusNotFound(f"corpus folder not found: {root}")
    root = root.resolve()
    files: list[SourceFile] = []
    skipped: list[Skipped] = []

    def skip(rel: str, reason: str) -> None:
        log.warning("skipped %r: %s", rel, reason)
        skipped.append(Skipped(rel, reason))

    for path in _candidates(root):
        rel = _relative(path, root)
        reason = _why_skip(path, root)
        if reason is not None:
            if reason:
                skip(rel, reason)
            continue
        try:
            size = path.stat().st_size
            if size > max_file_bytes:
                skip(rel, f"file is {size / 2**20:.1f} MB, over the {max_file_bytes / 2**20:g} MB limit (--max-file-mb)")
                continue
            raw = path.read_bytes()
        except OSError as exc:
            skip(rel, f"cannot read: {exc.strerror or exc}")
            continue
        if not raw.strip():
            skip(rel, "empty file" if not raw else "file holds only white space")
            continue
        try:
            text, encoding = decode_text(raw)
        except UndecodableFile as exc:
            skip(rel, str(exc))
            continue
        if encoding not in ("utf-8", "utf-8-sig", "utf-16"):
            log.warning("%r is not UTF-8; decoded as %s", rel, encoding)
        if not text.strip():
            skip(rel, "file holds only white space")
            continue
        files.append(SourceFile(rel, text, encoding, hashlib.sha256(raw).hexdigest(), len(raw)))
    return files, skipped
