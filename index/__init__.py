"""Build side of docsearch: read a corpus, split it into passages, embed, store.

Nothing here imports Flask or ``search``; the build can run and be tested alone.
"""

from .build import BuildReport, build_documents, build_index
from .corpus import SourceFile, Skipped, read_corpus, read_text
from .embed import DEFAULT_MODEL, Encoder
from .errors import CorpusNotFound, DocsearchError, IndexMismatch, IndexNotFound, ModelLoadError
from .manifest import Manifest
from .passages import Passage, split_passages

__all__ = [
    "BuildReport", "build_documents", "CorpusNotFound", "DEFAULT_MODEL", "DocsearchError", "Encoder", "IndexMismatch",
    "IndexNotFound", "Manifest", "ModelLoadError", "Passage", "Skipped", "SourceFile", "build_index",
    "read_corpus", "read_text", "split_passages",
]
