"""Defaults shared by the web app and the CLI, overridden by environment and flags."""

DEFAULT_CORPUS = "docs_corpus"
DEFAULT_INDEX_DIR = ".docsearch"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_K = 10
MAX_K = 100
MAX_QUERY_CHARS = 1000
MAX_BODY_BYTES = 64 * 1024
MAX_ID = 2**63 - 1  # SQLite's largest row id: the most a document or passage id in a URL can be
MODES = ("hybrid", "dense", "lexical")
# The embedding backends of index.embed.BACKENDS, named here so --help needs no heavy import.
BACKENDS = ("torch", "torch-bf16", "onnx", "onnx-int8")
# Where the vectors live (index.vectors.STORES).
STORES = ("faiss", "milvus")
