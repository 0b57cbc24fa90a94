"""The index folder and its generations: the one owner of the index's on-disk format.

Layout of an index folder::

    CURRENT                 name of the live generation, replaced atomically
    LOCK                    held by the one process writing (index.lock)
    gen-000001/
        passages.sqlite     the catalog: files, passages (text, spans, lines), skipped files (index.catalog)
        lexical/            BM25 index of the passages' terms (index.lexical)
        vectors.faiss       the vectors, with the FAISS store (index.faiss_vectors); the Milvus
                            store keeps them in a collection the manifest names (index.milvus)
        manifest.json       written last: a generation without it is incomplete

A generation is written whole, then made live by replacing CURRENT, so readers
see either the old or the new one. Opening one checks its manifest, checksums
and counts, for the query side and the sync alike.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .catalog import DB_NAME, Catalog, text_key, write_catalog
from .corpus import Skipped, SourceFile
from .errors import IndexCorrupt, IndexMismatch, IndexNotFound
from .lexical import LEXICAL_DIR, LexicalIndex, write_lexical
from .lock import IndexLock
from .manifest import MANIFEST_NAME, Manifest
from .passages import Passage, retrieval_text
from .durable import checksum, fail_safe, fsync_path, write_durably
from .vectors import StoreConfig, VectorStore, store_class

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
PREFIX = "gen-"
# Called with the name of each step of a write as it is reached; the crash tests set it to kill
# the process there. None in normal use.
checkpoint: Callable[[str], None] | None = None


def _reached(step: str) -> None:
    """Tell the checkpoint hook, if any, that a write reached a step."""
    if checkpoint is not None:
        checkpoint(step)


def folder_name(number: int) -> str:
    """Return the folder name of generation number."""
    return f"{PREFIX}{number:06d}"


def _number(name: str) -> int | None:
    """Return the number in a generation folder's name, or None for another name."""
    digits = name[len(PREFIX):]
    return int(digits) if name.startswith(PREFIX) and digits.isdigit() else None


class Generation:
    """One complete generation, opened and verified: its manifest, catalog, BM25 index and vectors."""

    def __init__(self, folder: Path, manifest: Manifest, catalog: Catalog, vectors: VectorStore,
                 lexical: LexicalIndex | None):
        self.folder = folder
        self.name = folder.name
        self.manifest = manifest
        self.catalog = catalog
        self.vectors = vectors
        self.lexical = lexical

    @classmethod
    def open(cls, folder: Path, store: StoreConfig = StoreConfig(), for_reuse: bool = False) -> "Generation":
        """Open a generation and check it against its manifest: files, checksums and counts.

        ``for_reuse`` also accepts older formats whose passages and vectors a sync can carry
        over; their BM25 index is not opened (a sync writes a new one).
        """
        manifest = Manifest.read(folder / MANIFEST_NAME, for_reuse=for_reuse)
        for name, expected in manifest.checksums.items():
            if not (folder / name).is_file() or checksum(folder / name) != expected:
                raise IndexCorrupt(f"{folder / name} does not match its manifest; rebuild with `docsearch index`")
        catalog = Catalog(folder / DB_NAME)
        vectors = None
        try:
            vectors = store_class(manifest.vector_store).open(folder, manifest, store)
            lexical = None if for_reuse else LexicalIndex(folder / LEXICAL_DIR)
            stored, held = catalog.passage_count(), vectors.count()
            if not held == stored == manifest.passages or (lexical and lexical.passages != stored):
                raise IndexMismatch(
                    f"index at {folder.parent} is inconsistent: manifest {manifest.passages} passages, "
                    f"database {stored}, vectors {held}, BM25 {lexical.passages if lexical else '-'}; "
                    "rebuild it with `docsearch index`")
            if vectors.dimension != manifest.dimension:
                raise IndexMismatch(f"index at {folder.parent} is inconsistent: {vectors.dimension}-dimensional vectors, "
                                    f"but its manifest holds {manifest.dimension}; rebuild it with `docsearch index`")
        except BaseException:
            catalog.close()
            if vectors is not None:
                vectors.close()
            raise
        return cls(folder, manifest, catalog, vectors, lexical)

    def vectors_for_texts(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vector of each of texts that this generation embedded (by the text embedded)."""
        keys = {text_key(text): text for text in texts}
        stored = self.catalog.passages_by_key(list(keys))
        # A 64-bit key could collide: only a passage whose embedded text is the same gives its vector.
        same = {key: p for key, p in stored.items() if retrieval_text(p.as_passage()) == keys[key]}
        vectors = self.vectors.vectors([p.id for p in same.values()])
        return {keys[key]: vector for key, vector in zip(same, vectors)}

    def passages_of(self, file_id: int) -> tuple[list[Passage], np.ndarray]:
        """Return a file's passages and their vectors, to carry into a new generation."""
        stored = self.catalog.file_passages(file_id)
        return [p.as_passage() for p in stored], self.vectors.vectors([p.id for p in stored])

    def close(self) -> None:
        """Release the catalog and the vectors."""
        self.catalog.close()
        self.vectors.close()


class IndexFolder:
    """An index folder: which generation is live, opening it, writing the next one and cleaning up."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def lock(self) -> IndexLock:
        """Return the writer lock of this folder."""
        return IndexLock(self.path)

    def live_name(self) -> str | None:
        """Return the name of the live generation, or None if there is none (a few bytes read).

        Every request asks, so it reads with os.open and os.read rather than a text file
        object: 0.27 ms at p50 measured between a query's other stages with read_text.
        """
        try:
            fd = os.open(self.path / CURRENT, os.O_RDONLY)
        except OSError:
            return None
        try:
            return os.read(fd, 4096).decode("utf-8").strip() or None
        except OSError:
            return None
        finally:
            os.close(fd)

    def live_folder(self) -> Path:
        """Return the folder of the live generation, or raise IndexNotFound."""
        name = self.live_name()
        if name is None:
            raise IndexNotFound(f"no index at {self.path}; run `docsearch index` to build one")
        folder = self.path / name
        if not (folder / MANIFEST_NAME).is_file():
            raise IndexNotFound(f"index at {self.path} is incomplete ({name} has no manifest); run `docsearch index`")
        return folder

    def live_format(self) -> int | None:
        """Return the format version the live generation's manifest names, or None if it cannot say."""
        try:
            return json.loads((self.live_folder() / MANIFEST_NAME).read_text(encoding="utf-8")).get("format_version")
        except (IndexNotFound, OSError, ValueError, AttributeError):
            return None

    def known_files(self) -> dict[str, tuple[str, str]]:
        """Return path -> (sha256, reader) of the live generation's files ({} without a readable one).

        Only a hint, read without verifying the generation: the build that uses it opens
        the generation properly and reads again whatever it does not find there.
        """
        try:
            catalog = Catalog(self.live_folder() / DB_NAME)
        except (IndexNotFound, sqlite3.Error):
            return {}
        try:
            return {f.path: (f.sha256, f.extractor) for f in catalog.files()}
        except sqlite3.Error:
            return {}
        finally:
            catalog.close()

    def live_manifest(self, for_reuse: bool = False) -> Manifest | None:
        """Return the live generation's manifest, or None when there is no readable one."""
        try:
            return Manifest.read(self.live_folder() / MANIFEST_NAME, for_reuse=for_reuse)
        except (IndexNotFound, IndexCorrupt, IndexMismatch):
            return None

    def open_live(self, store: StoreConfig = StoreConfig(), for_reuse: bool = False) -> Generation:
        """Open and verify the live generation."""
        return Generation.open(self.live_folder(), store, for_reuse)

    def next_number(self) -> int:
        """Return the number the next generation written here gets."""
        numbers = [n for p in self.path.glob(f"{PREFIX}*") if (n := _number(p.name)) is not None]
        return max(numbers, default=0) + 1

    def write(self, manifest: Manifest, files: Sequence[SourceFile], passages: Sequence[Passage],
              skipped: Sequence[Skipped], vectors: np.ndarray, store: StoreConfig) -> tuple[Path, Manifest]:
        """Write a complete new generation and make it the live one in one atomic step.

        Data files are written and flushed first, the manifest (with their checksums)
        last, then CURRENT is replaced by a rename. A crash at any moment leaves the
        previous generation live; a failed write (a full disk, say) removes what it
        wrote and raises a one-line error.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        previous = self.live_name()
        folder = self.path / folder_name(manifest.generation)
        kind = store_class(manifest.vector_store)
        with fail_safe(self.path, undo=lambda: self._discard(folder, manifest, kind, store)):
            if folder.exists():
                shutil.rmtree(folder)  # left over from a build that never went live
            folder.mkdir()
            _reached("folder")
            write_catalog(folder / DB_NAME, files, passages, skipped)
            _reached("database")
            written = [folder / DB_NAME, *write_lexical(folder / LEXICAL_DIR, [retrieval_text(p) for p in passages])]
            _reached("lexical")
            file_ids = _file_ids_of(files, passages)
            written += kind.write(folder, manifest, vectors, file_ids, store)
            _reached("vectors")
            for path in written:
                fsync_path(path)
            manifest = replace(manifest, checksums={p.relative_to(folder).as_posix(): checksum(p) for p in written})
            write_durably(folder / MANIFEST_NAME, manifest.to_json(), _reached)
            _reached("manifest")
            write_durably(self.path / CURRENT, folder.name + "\n", _reached)
        _reached("current")
        self._remove_old(keep={folder.name, previous}, live=manifest, store=store)
        return folder, manifest

    def _discard(self, folder: Path, manifest: Manifest, kind: type[VectorStore], store: StoreConfig) -> None:
        """Remove a generation that failed to be written, with what it kept outside its folder."""
        shutil.rmtree(folder, ignore_errors=True)
        try:
            kind.drop(folder, manifest, store)
        except Exception as exc:  # the write's own error is the one to report
            log.warning("could not remove the vectors of the failed generation %s: %s", folder.name, exc)

    def _remove_old(self, keep: set, live: Manifest, store: StoreConfig) -> None:
        """Delete every generation but those kept, with what each kept outside its folder."""
        for old in self.path.glob(f"{PREFIX}*"):
            if old.name in keep or not old.is_dir():
                continue
            try:
                manifest = Manifest.read(old / MANIFEST_NAME, for_reuse=True)
                store_class(manifest.vector_store).drop(old, manifest, store)
            except (IndexCorrupt, IndexMismatch, ValueError):
                pass  # an incomplete or foreign generation: nothing of it was made live
            shutil.rmtree(old, ignore_errors=True)
        kept = {n for name in keep if name and (n := _number(name)) is not None}
        store_class(live.vector_store).sweep(self.path, live, kept, store)


def _file_ids_of(files: Sequence[SourceFile], passages: Sequence[Passage]) -> np.ndarray:
    """Return the file id (1-based place in files) of each passage."""
    ids = {f.path: file_id for file_id, f in enumerate(files, start=1)}
    return np.array([ids[p.source] for p in passages], dtype=np.int64)
