"""The manifest: what an index holds and how it was made, written last."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .errors import IndexCorrupt, IndexMismatch

# 2: passages_fts (BM25) in passages.sqlite; 3: BM25 in lexical/ (bm25s); 4: documents of every format
# (sections, pages, titles, extracted texts), each passage's vector key, no FAISS id map
FORMAT_VERSION = 4
# Versions whose passages and vectors a sync can reuse. Format 4 splits documents otherwise (paragraphs
# as the writer made them, sections), so an older index is read again and embedded anew.
REUSABLE_VERSIONS = (4,)
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """Facts about one complete index generation."""

    model: str
    dimension: int
    max_passage_tokens: int
    min_words: int
    files: int
    passages: int
    skipped: int
    corpus_fingerprint: str
    built_at: str
    build_seconds: float
    generation: int = 1
    chunking: str = "passages"  # or "whole": one passage per document, truncated by the model
    backend: str = "torch"  # what embedded the passages (index.embed.BACKENDS); queries use the same
    vector_index: str = "flat"  # FAISS index kind: flat or hnsw, plain, -sq8 or -sq4 (index.faiss_vectors)
    lexical: str = ""  # how the BM25 index was made (index.lexical.SETTINGS)
    # The absolute folder the files were read from, so the query side can show a whole file;
    # "" when the documents did not come from a folder (a dataset) or an older docsearch built it.
    corpus: str = ""
    paragraphs: str = "auto"  # how plain text marked paragraphs when it was split (index.extract.text)
    extractors: dict = field(default_factory=dict)  # format -> what read it, with versions (index.extract)
    vector_store: str = "faiss"  # where the vectors live: faiss (vectors.faiss) or milvus (index.vectors)
    milvus_uri: str = ""  # the Milvus Lite folder or server the vectors were written to
    milvus_collection: str = ""  # the collection that holds this generation's vectors
    # name -> {"bytes": size, "sha256": hash} of each data file, checked on load
    checksums: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """Return the manifest as indented JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path, for_reuse: bool = False) -> "Manifest":
        """Read and check a manifest file; for_reuse also accepts the REUSABLE_VERSIONS."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexCorrupt(f"{path} cannot be read ({exc}); rebuild with `docsearch index`") from None
        if not isinstance(raw, dict):
            raise IndexCorrupt(f"{path} is not a manifest; rebuild with `docsearch index`")
        version = raw.get("format_version")
        if version != FORMAT_VERSION and not (for_reuse and version in REUSABLE_VERSIONS):
            raise IndexMismatch(
                f"index at {path.parent} has format version {version}, this docsearch reads "
                f"{FORMAT_VERSION}; rebuild it with `docsearch index`"
            )
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise IndexCorrupt(f"{path} lacks fields ({exc}); rebuild with `docsearch index`") from None
