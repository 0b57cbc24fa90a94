"""Build or sync an index from a corpus: read, split, embed only what changed, write a generation."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .corpus import MAX_FILE_BYTES, Skipped, SourceFile, read_corpus
from .extract import PARAGRAPHS, Extracted, format_of
from .extract.sandbox import Limits
from .embed import DEFAULT_MODEL, Encoder
from .errors import EngineUnavailable, IndexCorrupt, IndexMismatch, IndexNotFound
from .generation import Generation, IndexFolder
from .lexical import SETTINGS as LEXICAL_SETTINGS
from .manifest import FORMAT_VERSION, REUSABLE_VERSIONS, Manifest
from .passages import MIN_WORDS, Passage, retrieval_text, split_document, split_passages, whole_passage
from .vectors import StoreConfig, store_class, vector_index_kind

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
CHUNKINGS = ("passages", "whole")


@dataclass(frozen=True)
class BuildOptions:
    """How to build an index. ``None`` means: as the live index was built, or the default without one.

    ``chunking="whole"`` makes each document one passage that the model truncates: only
    for reproducing benchmark protocols that do so. ``vector_index`` ("auto", "flat" or
    "hnsw") and ``sq8`` or ``sq4`` choose how vectors are searched, ``store`` where they live;
    changing either rewrites the index without embedding anything again.
    """

    model: str = DEFAULT_MODEL
    backend: str | None = None
    store: StoreConfig = StoreConfig()
    min_words: int = MIN_WORDS
    chunking: str = "passages"
    vector_index: str = "auto"
    sq8: bool = False
    sq4: bool = False  # 4-bit components in memory, exact vectors on disk to rank the candidates
    max_file_bytes: int = MAX_FILE_BYTES
    full: bool = False
    ray: str | None = None  # embed on Ray: "local" or a cluster address (index.distributed)
    cache_dir: str = ""  # where the ONNX backends keep their exports ("": the platform's cache folder)
    paragraphs: str = "auto"  # how plain text marks paragraphs: auto, lines or blank (index.extract.text)
    limits: Limits = Limits()  # time and memory each PDF, web page or Word file may take to read

    def vector_kind(self, passages: int) -> str:
        """Return the vector index kind these options write for this many passages."""
        return vector_index_kind(passages, self.vector_index, self.sq8, self.sq4)

    def resolved(self, live: Manifest | None) -> "BuildOptions":
        """Return the options with what was left open taken from the live index, every choice checked."""
        self.vector_kind(0)  # refuse bad choices before any work
        if self.chunking not in CHUNKINGS:
            raise ValueError(f"chunking must be passages or whole, not {self.chunking!r}")
        if self.paragraphs not in PARAGRAPHS:
            raise ValueError(f"paragraphs must be one of {', '.join(PARAGRAPHS)}, not {self.paragraphs!r}")
        store = self.store
        if store.kind is None:
            store = replace(store, kind=live.vector_store if live else "faiss")
        if live and store.kind == live.vector_store and not store.milvus_uri:
            store = replace(store, milvus_uri=live.milvus_uri)  # the same store where the index already is
        return replace(self, backend=self.backend or (live.backend if live else None), store=store)


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
    encoder: Encoder | None = None  # the model the build loaded (or was given), for a server to reuse
    # Passages of new and changed files that were not embedded: their text was in the live index
    # (a moved file, an unchanged paragraph of a changed file), or already in this build (a copy).
    reused: int = 0
    repeated: int = 0

    @property
    def fresh(self) -> int:
        """Return how many passages new and changed files have."""
        return self.embedded + self.reused + self.repeated


def corpus_fingerprint(files) -> str:
    """Return a hash of every file's path and content hash."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.path}\0{f.sha256}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def build_index(corpus: Path | str, index_dir: Path | str, options: BuildOptions = BuildOptions(),
                encoder: Encoder | None = None, progress: Progress | None = None) -> BuildReport:
    """Build or sync the index of a corpus folder into index_dir and make it live.

    ``progress(done, total)`` is called as passages are embedded. A PDF, web page or Word
    file the live index read from the same bytes with the same reader is not read again.
    """
    known = IndexFolder(index_dir).known_files() if not options.full else {}
    for attempt in (known, {}):
        files, skipped = read_corpus(corpus, options.max_file_bytes, options.paragraphs, options.limits, attempt)
        try:
            return build_documents(files, index_dir, skipped, options, encoder, progress,
                                   corpus=str(Path(corpus).resolve()))
        except CarriedFileLost as exc:  # the live index changed or broke meanwhile: read everything
            log.info("reading every file again: %s", exc)
    raise AssertionError("a read with nothing known carries no file")  # pragma: no cover


class CarriedFileLost(Exception):
    """A file carried over unread is not in the live generation the build opened."""


def build_documents(files: Sequence[SourceFile], index_dir: Path | str, skipped: Sequence[Skipped] = (),
                    options: BuildOptions = BuildOptions(), encoder: Encoder | None = None,
                    progress: Progress | None = None, corpus: str = "") -> BuildReport:
    """Build or sync an index of documents already read (a folder's, or a dataset's).

    Files whose content hash is unchanged keep their passages and vectors; new and
    changed files are split and embedded; files gone from the corpus are dropped. An
    index made with another model or chunking is rebuilt whole, never mixed. Only one
    writer at a time: a second one raises IndexBusy. ``corpus`` is the folder the files
    were read from, recorded in the manifest ("" for a dataset).
    """
    began = time.perf_counter()
    folder = IndexFolder(index_dir)
    options = options.resolved(folder.live_manifest(for_reuse=True))
    # The store checks its settings before any work; where it would put the vectors tells a move.
    target = store_class(options.store.kind).prepare(options.store, folder.path, 0,
                                                     options.vector_kind(1))
    with folder.lock():
        encoder = encoder or Encoder(options.model, backend=options.backend, cache_dir=options.cache_dir)
        wanted = {"model": encoder.name, "backend": encoder.backend, "dimension": encoder.dimension,
                  "chunking": options.chunking, "max_passage_tokens": encoder.max_passage_tokens,
                  "min_words": options.min_words, "paragraphs": options.paragraphs}
        previous, rebuilt_because = _open_previous(folder, wanted, options)
        report = BuildReport(manifest=None, generation_dir=folder.path, skipped=list(skipped),
                             rebuilt_because=rebuilt_because, encoder=encoder)
        try:
            segments, files = _plan(files, previous, report, lambda f: _split(f, encoder, wanted))
            if previous and _nothing_to_write(previous, options, target, corpus, report, skipped):
                report.manifest, report.written, report.generation_dir = previous.manifest, False, previous.folder
                return report
            vectors = _embed(segments, _embedder(encoder, options), previous, report, progress)
        finally:
            if previous:
                previous.close()
        passages = [p for ps, _ in segments for p in ps]
        manifest = _manifest(folder, options, wanted, files, passages, skipped, corpus, began)
        report.generation_dir, report.manifest = folder.write(manifest, files, passages, skipped, vectors, options.store)
        return report


def _open_previous(folder: IndexFolder, wanted: dict, options: BuildOptions) -> tuple[Generation | None, str | None]:
    """Open the live generation for reuse, or say why everything must be embedded anew."""
    if options.full:
        return None, "a full rebuild was asked for"
    written_as = folder.live_format()
    if written_as is not None and written_as not in REUSABLE_VERSIONS:
        return None, f"the index was written by an older docsearch (format {written_as}), which split files otherwise"
    try:
        # Where the manifest says its vectors are, whatever this build's store: it may be moving them.
        previous = folder.open_live(StoreConfig(milvus_token=options.store.milvus_token), for_reuse=True)
    except IndexNotFound as exc:
        if folder.live_name() is None:
            return None, "there was no index"
        return None, f"the index could not be read ({exc})"  # incomplete, or its Milvus collection is gone
    except (IndexMismatch, IndexCorrupt, EngineUnavailable, OSError, ValueError, sqlite3.Error, RuntimeError) as exc:
        return None, f"the index is damaged ({exc})"
    had = {key: getattr(previous.manifest, key) for key in wanted}
    if had != wanted:
        previous.close()
        changed = ", ".join(f"{k} {had[k]!r} -> {wanted[k]!r}" for k in wanted if had[k] != wanted[k])
        return None, f"settings changed ({changed})"
    return previous, None


def _embedder(encoder: Encoder, options: BuildOptions):
    """Return what embeds this build's passages: the encoder, or Ray actors running the same model."""
    if not options.ray:
        return encoder
    from .distributed import RayEncoder

    return RayEncoder(encoder, options.ray)


def _split(f: SourceFile, encoder: Encoder, wanted: dict) -> list[Passage]:
    """Split one document as the index's settings say."""
    if wanted["chunking"] == "whole":
        return whole_passage(f.path, f.text)
    if f.document is not None:  # read from a folder: blocks, sections and pages known
        return split_document(f.path, f.document, encoder.token_starts, wanted["max_passage_tokens"], wanted["min_words"])
    return split_passages(f.path, f.text, encoder.token_starts, wanted["max_passage_tokens"], wanted["min_words"],
                          wanted["paragraphs"])


Segment = tuple[list[Passage], "np.ndarray | None"]  # a file's passages, and their vectors if reused


def _plan(files: Sequence[SourceFile], previous: Generation | None, report: BuildReport,
          split: Callable[[SourceFile], list[Passage]]) -> tuple[list[Segment], list[SourceFile]]:
    """Reuse the passages and vectors of unchanged files; split the others. Counts go into report.

    Unchanged means the same bytes read by the same reader. Returns the segments and the
    files, those carried unread completed with their text from the live generation.
    """
    known = {f.path: f for f in previous.catalog.files()} if previous else {}
    segments: list[Segment] = []
    complete: list[SourceFile] = []
    for f in files:
        old = known.get(f.path)
        if old is not None and old.sha256 == f.sha256 and (f.carried or old.extractor == f.extractor):
            segments.append(previous.passages_of(old.id))
            complete.append(_carried(f, old, previous) if f.carried else f)
            report.unchanged += 1
            continue
        if f.carried:
            raise CarriedFileLost(f"{f.path} is not in generation {previous.name if previous else '-'} as it was")
        (report.changed if old is not None else report.added).append(f.path)
        segments.append((split(f), None))
        complete.append(f)
    report.removed = sorted(set(known) - {f.path for f in files})
    return segments, complete


def _carried(f: SourceFile, stored, previous: Generation) -> SourceFile:
    """Return a file carried unread with the text, title and pages the live generation read from it."""
    document = previous.catalog.document(stored.id)
    if document is None:
        raise CarriedFileLost(f"generation {previous.name} holds no text of {f.path}")
    return replace(f, text=document.text, document=Extracted(document.text, stored.title, [], document.pages,
                                                             stored.extractor))


def _nothing_to_write(previous: Generation, options: BuildOptions, target: dict, corpus: str, report: BuildReport,
                      skipped: Sequence[Skipped]) -> bool:
    """Tell whether the live generation already is what this build would write.

    An index written by an older format, with other vector storage or BM25 settings, or
    from a corpus in another folder, is rewritten (without embedding).
    """
    had = previous.manifest
    same_storage = (had.format_version == FORMAT_VERSION and had.lexical == LEXICAL_SETTINGS and had.corpus == corpus
                    and had.vector_index == options.vector_kind(had.passages)
                    and (had.vector_store, had.milvus_uri) == (target["vector_store"], target["milvus_uri"]))
    same_files = not (report.added or report.changed or report.removed)
    return same_storage and same_files and previous.catalog.skipped() == {(s.path, s.reason) for s in skipped}


def _embed(segments: list[Segment], encoder: Encoder, previous: Generation | None, report: BuildReport,
           progress: Progress | None) -> np.ndarray:
    """Return every passage's vector in order, embedding each text of new and changed files once.

    A text the live generation embedded keeps its vector; a text repeated in this build
    (copied files, boilerplate) is embedded the first time only.
    """
    fresh = [retrieval_text(p) for passages, vectors in segments if vectors is None for p in passages]
    unique = list(dict.fromkeys(fresh))
    known = previous.vectors_for_texts(unique) if previous else {}
    wanted = [text for text in unique if text not in known]
    report.embedded, report.reused = len(wanted), sum(1 for text in fresh if text in known)
    report.repeated = len(fresh) - report.embedded - report.reused
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(wanted))

    by_text = {**known, **dict(zip(wanted, encoder.encode(wanted, progress=advance)))}
    parts = [np.zeros((0, encoder.dimension), np.float32)]
    for ps, vs in segments:
        parts.append(vs if vs is not None else
                     np.array([by_text[retrieval_text(p)] for p in ps], np.float32).reshape(len(ps), -1))
    return np.vstack(parts)


def _manifest(folder: IndexFolder, options: BuildOptions, wanted: dict, files: Sequence[SourceFile],
              passages: list[Passage], skipped: Sequence[Skipped], corpus: str, began: float) -> Manifest:
    """Return the manifest of the next generation (its checksums are added as it is written)."""
    generation = folder.next_number()
    kind = options.vector_kind(len(passages))
    return Manifest(
        **wanted, files=len(files), passages=len(passages), skipped=len(skipped),
        corpus_fingerprint=corpus_fingerprint(files),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - began, 3), generation=generation, vector_index=kind,
        lexical=LEXICAL_SETTINGS, corpus=corpus,
        extractors=dict(sorted({fmt.name: fmt.version() for f in files if (fmt := format_of(f.path))}.items())),
        **store_class(options.store.kind).prepare(options.store, folder.path, generation, kind),
    )
