"""Shared fixtures: the real model, real indexes of docs_corpus and the test corpus, and copies of them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DOCS_CORPUS = ROOT / "docs_corpus"
TEST_CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


def ask(searcher, q: str, k: int = 10, mode: str = "hybrid", group: str | None = None) -> list:
    """Return the hits of one search, as every client asks: through a SearchRequest."""
    from docsearch.search.request import SearchRequest

    return searcher.search(SearchRequest(q, k, mode, group)).hits


def stored_passages(index_dir: Path) -> list:
    """Return every passage of the live generation, by id, as the catalog holds it."""
    from docsearch.index import IndexFolder

    generation = IndexFolder(index_dir).open_live()
    try:
        return [p for f in generation.catalog.files() for p in generation.catalog.file_passages(f.id)]
    finally:
        generation.close()


def copy_index(source: Path, target: Path, corpus: Path | None = None) -> Path:
    """Copy an index folder; with corpus, record that folder as the one its files came from.

    The manifest is the one file whose checksum the index does not hold, so a test may
    move what it says the corpus is, as a build from that folder would have written it.
    """
    shutil.copytree(source, target)
    if corpus is not None:
        live = target / (target / "CURRENT").read_text().strip() / "manifest.json"
        manifest = json.loads(live.read_text())
        manifest["corpus"] = str(corpus.resolve())
        live.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return target


@pytest.fixture(scope="session")
def encoder():
    """The real default model, loaded once per session."""
    from docsearch.index import Encoder

    return Encoder()


@pytest.fixture(scope="session")
def docs_index(tmp_path_factory, encoder) -> Path:
    """An index of the demo corpus, built once per session; tests that change it use `workspace`."""
    from docsearch.index import build_index

    index_dir = tmp_path_factory.mktemp("docs_index")
    build_index(DOCS_CORPUS, index_dir, encoder=encoder)
    return index_dir


@pytest.fixture()
def workspace(tmp_path, docs_index) -> tuple[Path, Path]:
    """A private copy of the demo corpus and of its session index, as if built from that copy."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DOCS_CORPUS, corpus)
    return corpus, copy_index(docs_index, tmp_path / "index", corpus)


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
    from docsearch.index import build_index

    index_dir = tmp_path_factory.mktemp("test_index")
    build_index(test_corpus, index_dir, encoder=encoder)
    return index_dir


@pytest.fixture(scope="session")
def mixed(tmp_path_factory, encoder) -> tuple[Path, Path, object]:
    """A folder of every format (and hostile files), indexed once per session: (corpus, index, report)."""
    from docsearch.index import build_index

    from .documents import write_mixed_folder

    base = tmp_path_factory.mktemp("mixed")
    root = base / "corpus"
    root.mkdir()
    write_mixed_folder(root)
    return root, base / "index", build_index(root, base / "index", encoder=encoder)


@pytest.fixture()
def mixed_copy(tmp_path, mixed) -> tuple[Path, Path]:
    """A private copy of the mixed folder and of its session index, as if built from that copy."""
    root = tmp_path / "corpus"
    shutil.copytree(mixed[0], root)
    return root, copy_index(mixed[1], tmp_path / "index", root)


@pytest.fixture(scope="session")
def searcher(docs_index, encoder):
    """A Searcher over the demo corpus, sharing the session's model."""
    from docsearch.search.engine import Searcher

    return Searcher.load(docs_index, encoder=encoder)


def app_for(index_dir: Path, encoder=None, searcher=None):
    """Return the Flask app over an index, with the session's model (and a loaded Searcher) if given."""
    from docsearch.search import create_app
    from docsearch.search.config import Config

    app = create_app(Config.load({"index_dir": index_dir}, environ={}), encoder=encoder)
    app.extensions["docsearch"]["searcher"] = searcher
    return app


@pytest.fixture()
def app(docs_index, searcher, encoder):
    """The Flask app over the demo corpus index, with the loaded Searcher."""
    return app_for(docs_index, encoder, searcher)


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
