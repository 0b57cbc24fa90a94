"""Shared fixtures: the real model, real indexes of docs_corpus and the test corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DOCS_CORPUS = ROOT / "docs_corpus"
TEST_CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


@pytest.fixture(scope="session")
def encoder():
    """The real default model, loaded once per session."""
    from index import Encoder

    return Encoder()


@pytest.fixture(scope="session")
def docs_index(tmp_path_factory, encoder) -> Path:
    """An index of the demo corpus, built once per session."""
    from index import build_index

    index_dir = tmp_path_factory.mktemp("docs_index")
    build_index(DOCS_CORPUS, index_dir, encoder=encoder)
    return index_dir


@pytest.fixture(scope="session")
def test_corpus(tmp_path_factory) -> Path:
    """A copy of tests/data/corpus plus links that git cannot carry portably."""
    base = tmp_path_factory.mktemp("corpus_parent")
    root = base / "corpus"
    shutil.copytree(TEST_CORPUS, root)
    outside = base / "secret.txt"
    outside.write_text("This file lives outside the corpus and must never be indexed.\n")
    (root / "outside_link.txt").symlink_to(outside)
    (root / "inside_link.txt").symlink_to(root / "duplicates.txt")
    (root / "loop").symlink_to(root / "loop")
    (root / "nested_again").symlink_to(root / "nested")
    return root


@pytest.fixture(scope="session")
def test_index(tmp_path_factory, test_corpus, encoder) -> Path:
    """An index of the edge-case test corpus."""
    from index import build_index

    index_dir = tmp_path_factory.mktemp("test_index")
    build_index(test_corpus, index_dir, encoder=encoder)
    return index_dir


@pytest.fixture(scope="session")
def searcher(docs_index, encoder):
    """A Searcher over the demo corpus, sharing the session's model."""
    from search.engine import Searcher

    return Searcher.load(docs_index, encoder=encoder)


@pytest.fixture()
def app(docs_index, searcher):
    """The Flask app over the demo corpus index, with the loaded Searcher."""
    from search import create_app

    app = create_app({"TESTING": True, "INDEX_DIR": str(docs_index)})
    app.extensions["docsearch"]["searcher"] = searcher
    return app


@pytest.fixture()
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture()
def runner():
    """A runner for the docsearch CLI."""
    return CliRunner()


@pytest.fixture(scope="session")
def milvus_server_uri(tmp_path_factory) -> str:
    """A real Milvus standalone server in its own network namespace, reached through 127.0.0.1."""
    pytest.importorskip("milvus")
    from .milvus_server import can_isolate, isolated_milvus

    if not can_isolate():
        pytest.skip("the Milvus server test needs a network namespace (unshare --net): run it as root")
    with isolated_milvus(tmp_path_factory.mktemp("milvus_server")) as uri:
        yield uri
