"""Build side of docsearch: read a corpus, split it into passages, embed, write index generations.

Nothing here imports Flask or ``docsearch.search``; the build can run and be tested alone.
"""

from .build import BuildOptions, BuildReport, build_documents, build_index
from .corpus import Skipped, SourceFile, read_corpus, read_text
from .embed import DEFAULT_MODEL, Encoder
from .errors import CorpusNotFound, DocsearchError, IndexMismatch, IndexNotFound, ModelLoadError
from .generation import Generation, IndexFolder
from .manifest import Manifest
from .extract import Block, Extracted, Unreadable
from .passages import Passage, retrieval_text, split_document, split_passages
from .vectors import StoreConfig

__all__ = [
    "Block", "BuildOptions", "BuildReport", "build_documents", "build_index", "CorpusNotFound", "DEFAULT_MODEL",
    "DocsearchError", "Encoder", "Extracted", "Generation", "IndexFolder", "IndexMismatch", "IndexNotFound",
    "Manifest", "ModelLoadError", "Passage", "Skipped", "SourceFile", "StoreConfig", "Unreadable", "read_corpus",
    "read_text", "retrieval_text", "split_document", "split_passages",
]
