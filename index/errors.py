"""Domain errors raised by the build and query sides, translated at the edges."""


class DocsearchError(Exception):
    """Base class for every error docsearch reports to a user in one line."""


class IndexNotFound(DocsearchError):
    """The index directory holds no complete index."""


class IndexMismatch(DocsearchError):
    """The index does not fit the model or format it is used with."""


class ModelLoadError(DocsearchError):
    """A sentence-transformers model could not be loaded."""


class CorpusNotFound(DocsearchError):
    """The corpus folder does not exist or is not a folder."""


class IndexBusy(DocsearchError):
    """Another process is writing the index."""


class IndexCorrupt(DocsearchError):
    """An index generation's files do not match its manifest."""


class EngineUnavailable(DocsearchError):
    """An outside engine (a Milvus server, a Ray cluster) cannot be reached, or its client is not installed."""


class NoSpace(DocsearchError):
    """A write failed because the disk (or the file size limit) is full; nothing of it was kept."""
