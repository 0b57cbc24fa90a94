"""Build or sync an index from a corpus: read, split, embed only what changed, store."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .corpus import MAX_FILE_BYTES, Skipped, SourceFile, read_corpus
from .embed import DEFAULT_MODEL, Encoder
from .errors import IndexCorrupt, IndexMismatch, IndexNotFound
from .lexical import SETTINGS as LEXICAL_SETTINGS
from .lock import IndexLock
from .manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest
from .passages import MIN_WORDS, Passage, retrieval_text, split_document, split_passages, whole_passage
from .store import PreviousIndex, current_generation, next_generation, vector_index_kind, verify_generation, write_index
from .vectors import StoreConfig

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
CHUNKINGS = ("passages", "whole")


@dataclass
class BuildReport:
    """What a build or sync did: the files it added, changed, removed or kept, and what it wrote."""

    manifest: Manifest
    generation_dir: Path
    skipped: list[Skipped] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0
    written: bool = True
    rebuilt_because: str | None = None  # why nothing was reused, if so


def corpus_fingerprint(files) -> str:
    """Return a hash of every file's path and content hash."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.path}\0{f.sha256}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def build_index(
    corpus: Path | str,
    index_dir: Path | str,
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    min_words: int = MIN_WORDS,
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    full: bool = False,
    vector_index: str = "auto",
    sq8: bool = False,
    store: StoreConfig | None = None,
) -> BuildReport:
    """Build or sync the index of a corpus folder into index_dir and make it live.

    ``progress(done, total)`` is called as passages are embedded.
    """
    files, skipped = read_corpus(corpus, max_file_bytes)
    return build_documents(files, index_dir, skipped, model, encoder, min_words, progress, full=full,
                           vector_index=vector_index, sq8=sq8, store=store, corpus=str(Path(corpus).resolve()))


def _open_previous(index_dir: Path, wanted: dict, full: bool) -> tuple[PreviousIndex | None, str | None]:
    """Open the live generation for reuse, or say why everything must be embedded anew."""
    if full:
        return None, "a full rebuild was asked for"
    try:
        folder = current_generation(index_dir)
        manifest = Manifest.read(folder / MANIFEST_NAME, for_reuse=True)
    except IndexNotFound:
        return None, "there was no index"
    except (IndexMismatch, IndexCorrupt, OSError, ValueError, TypeError) as exc:
        return None, f"the index could not be read ({exc})"
    had = {key: getattr(manifest, key) for key in wanted}
    if had != wanted:
        changed = ", ".join(f"{k} {had[k]!r} -> {wanted[k]!r}" for k in wanted if had[k] != wanted[k])
        return None, f"settings changed ({changed})"
    try:
        verify_generation(folder, manifest)
        return PreviousIndex(folder, manifest), None
    except (IndexCorrupt, IndexNotFound, sqlite3.Error, RuntimeError) as exc:  # IndexNotFound: a Milvus collection gone
        return None, f"the index is damaged ({exc})"


def build_documents(
    files: Sequence[SourceFile],
    index_dir: Path | str,
    skipped: Sequence[Skipped] = (),
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    min_words: int = MIN_WORDS,
    progress: Progress | None = None,
    chunking: str = "passages",
    full: bool = False,
    vector_index: str = "auto",
    sq8: bool = False,
    store: StoreConfig | None = None,
    corpus: str = "",
) -> BuildReport:
    """Build or sync an index of documents already read (a folder's, or a dataset's).

    Files whose content hash is unchanged keep their passages and vectors; new
    and changed files are split and embedded; files gone from the corpus are
    dropped. An index made with another model or chunking is rebuilt whole,
    never mixed. Only one writer at a time: a second one raises IndexBusy.
    ``chunking="whole"`` makes each document one passage that the model
    truncates: only for reproducing benchmark protocols that do so.
    ``vector_index`` ("auto", "flat" or "hnsw") and ``sq8`` choose how the
    vectors are stored and searched (see index.store); changing them rewrites
    the index without embedding anything again. ``store`` says where the
    vectors go (index.vectors): FAISS by default, or Milvus; changing it also
    rewrites without embedding. ``corpus`` is the folder the files were read
    from, recorded in the manifest ("" for a dataset).
    """
    vector_index_kind(0, vector_index)  # refuse a bad name before any work
    store = _resolve_store(store or StoreConfig(), Path(index_dir))
    if store.kind == "milvus" and sq8:
        raise ValueError("the Milvus store keeps float vectors; --sq8 is for the FAISS store")
    if chunking not in CHUNKINGS:
        raise ValueError(f"chunking must be passages or whole, not {chunking!r}")
    began = time.perf_counter()
    index_dir = Path(index_dir)
    with IndexLock(index_dir):
        encoder = encoder or Encoder(model)
        wanted = {"model": encoder.name, "backend": encoder.backend, "dimension": encoder.dimension, "chunking": chunking,
                  "max_passage_tokens": encoder.max_passage_tokens, "min_words": min_words}
        previous, rebuilt_because = _open_previous(index_dir, wanted, full)
        try:
            storage = {"vector_index": vector_index, "sq8": sq8}
            return _sync(files, index_dir, skipped, encoder, wanted, storage, store, previous, rebuilt_because, progress,
                         began, corpus)
        finally:
            if previous:
                previous.close()


def _split(f: SourceFile, encoder: Encoder, wanted: dict) -> list[Passage]:
    """Split one document as the index's settings say."""
    if wanted["chunking"] == "whole":
        return whole_passage(f.path, f.text)
    if f.document is not None:  # read from a folder: blocks, sections and pages known
        return split_document(f.path, f.document, encoder.token_starts, wanted["max_passage_tokens"], wanted["min_words"])
    return split_passages(f.path, f.text, encoder.token_starts, wanted["max_passage_tokens"], wanted["min_words"])


def _sync(files, index_dir, skipped, encoder, wanted, storage, store, previous, rebuilt_because, progress,
          began, corpus) -> BuildReport:
    """Reuse unchanged files, embed the rest, and write a new generation if anything changed."""
    report = BuildReport(manifest=None, generation_dir=index_dir, skipped=list(skipped), rebuilt_because=rebuilt_because)
    known = previous.files if previous else {}
    segments: list[tuple[list[Passage], np.ndarray | None]] = []
    for f in files:
        if known.get(f.path) == f.sha256:
            segments.append(previous.take(f.path))
            report.unchanged += 1
            continue
        (report.changed if f.path in known else report.added).append(f.path)
        segments.append((_split(f, encoder, wanted), None))
    report.removed = sorted(set(known) - {f.path for f in files})
    # An index written by an older format, with other vector storage or BM25 settings, or from a corpus
    # in another folder, is rewritten (without embedding).
    same_storage = (previous and previous.manifest.format_version == FORMAT_VERSION
                    and previous.manifest.lexical == LEXICAL_SETTINGS and previous.manifest.corpus == corpus
                    and previous.manifest.vector_index == vector_index_kind(previous.manifest.passages, **storage)
                    and (previous.manifest.vector_store, previous.manifest.milvus_uri) == (store.kind, store.milvus_uri))
    if same_storage and not (report.added or report.changed or report.removed) and previous.skipped == {
        (s.path, s.reason) for s in skipped
    }:
        report.manifest, report.written = previous.manifest, False
        report.generation_dir = current_generation(index_dir)
        return report
    fresh = [retrieval_text(p) for passages, vectors in segments if vectors is None for p in passages]
    report.embedded = len(fresh)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(fresh))

    new_rows = iter(encoder.encode(fresh, progress=advance))
    parts = [np.zeros((0, encoder.dimension), np.float32)]
    for ps, vs in segments:
        parts.append(vs if vs is not None else np.array([next(new_rows) for _ in ps], np.float32).reshape(len(ps), -1))
    vectors = np.vstack(parts)
    passages = [p for ps, _ in segments for p in ps]
    generation = next_generation(index_dir)
    manifest = Manifest(
        **wanted,
        files=len(files),
        passages=len(passages),
        skipped=len(skipped),
        corpus_fingerprint=corpus_fingerprint(files),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - began, 3),
        generation=generation,
        vector_index=vector_index_kind(len(passages), **storage),
        lexical=LEXICAL_SETTINGS,
        corpus=corpus,
        **_store_fields(store, index_dir, generation),
    )
    report.generation_dir, report.manifest = write_index(index_dir, manifest, files, passages, skipped, vectors)
    return report


def _resolve_store(store: StoreConfig, index_dir: Path) -> StoreConfig:
    """Return the store with its Milvus URI checked; Milvus Lite in index_dir/milvus.db by default."""
    if store.kind == "faiss":
        return StoreConfig()
    from .milvus import check_uri

    return StoreConfig("milvus", check_uri(store.milvus_uri or str(index_dir / "milvus.db")))


def _store_fields(store: StoreConfig, index_dir: Path, generation: int) -> dict:
    """Return the manifest fields that say where a generation's vectors live."""
    if store.kind == "faiss":
        return {"vector_store": "faiss"}
    from .milvus import collection_name

    return {"vector_store": "milvus", "milvus_uri": store.milvus_uri,
            "milvus_collection": collection_name(index_dir, generation)}
