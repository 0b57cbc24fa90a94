"""Build an index from a corpus folder: read, split, embed, store."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from .corpus import MAX_FILE_BYTES, Skipped, SourceFile, read_corpus
from .embed import DEFAULT_MODEL, Encoder
from .manifest import Manifest
from .passages import MIN_WORDS, Passage, split_passages, whole_passage
from .store import next_generation, write_index

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    """What a build did: the manifest it wrote and the files it skipped."""

    manifest: Manifest
    generation_dir: Path
    skipped: list[Skipped] = field(default_factory=list)


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
) -> BuildReport:
    """Build a complete index of a corpus folder into index_dir and make it live.

    ``progress(done, total)`` is called as passages are embedded.
    """
    files, skipped = read_corpus(corpus, max_file_bytes)
    return build_documents(files, index_dir, skipped, model, encoder, min_words, progress)


def build_documents(
    files: Sequence[SourceFile],
    index_dir: Path | str,
    skipped: Sequence[Skipped] = (),
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    min_words: int = MIN_WORDS,
    progress: Progress | None = None,
    chunking: str = "passages",
) -> BuildReport:
    """Build a complete index of documents already read (a folder's, or a dataset's).

    ``chunking="whole"`` makes each document one passage that the model truncates
    at its input limit: only for reproducing benchmark protocols that do so.
    """
    if chunking not in ("passages", "whole"):
        raise ValueError(f"chunking must be passages or whole, not {chunking!r}")
    began = time.perf_counter()
    index_dir = Path(index_dir)
    encoder = encoder or Encoder(model)
    passages: list[Passage] = []
    for f in files:
        if chunking == "whole":
            found = whole_passage(f.path, f.text)
        else:
            found = split_passages(f.path, f.text, encoder.token_starts, encoder.max_passage_tokens, min_words)
        passages.extend(found)
        log.debug("%s: %d passages", f.path, len(found))
    total = len(passages)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    vectors = encoder.encode([p.text for p in passages], progress=advance)
    manifest = Manifest(
        model=encoder.name,
        dimension=encoder.dimension,
        max_passage_tokens=encoder.max_passage_tokens,
        min_words=min_words,
        files=len(files),
        passages=total,
        skipped=len(skipped),
        corpus_fingerprint=corpus_fingerprint(files),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - began, 3),
        generation=next_generation(index_dir) if index_dir.exists() else 1,
        chunking=chunking,
    )
    folder = write_index(index_dir, manifest, files, passages, skipped, vectors)
    return BuildReport(manifest, folder, list(skipped))
