"""Build side of docsearch: read a corpus, split it into passages, embed, store.

Nothing here imports Flask or ``search``; the build can run and be tested alone.
"""

from .build import BuildReport, build_documents, build_index
from .corpus import SourceFile, Skipped, read_corpus, read_text
from .embed import DEFAULT_MODEL, Encoder
from .errors import CorpusNotFound, DocsearchError, IndexMismatch, IndexNotFound, ModelLoadError
from .manifest import Manifest
from .extract import Block, Extracted, Unreadable
from .passages import Passage, retrieval_text, split_document, split_passages

__all__ = [
    "Block", "BuildReport", "build_documents", "Extracted", "Unreadable", "retrieval_text", "split_document", "CorpusNotFound", "DEFAULT_MODEL", "DocsearchError", "Encoder", "IndexMismatch",
    "IndexNotFound", "Manifest", "ModelLoadError", "Passage", "Skipped", "SourceFile", "build_index",
    "read_corpus", "read_text", "split_passages",
]
