"""An index whose vectors live in Milvus Lite answers as the FAISS default does."""

from __future__ import annotations

import subprocess
import sys
import urllib.parse

import pytest

from .conftest import DOCS_CORPUS, ask
from .server_process import fetch, serving

pytest.importorskip("milvus_lite")

QUESTIONS = [
    "Which 2008 agreement governs the strategic dialogue?",
    "how do I install it",
    "what happens to the passages when a file changes",
]


@pytest.fixture(scope="module")
def milvus_searcher(tmp_path_factory, encoder):
    """A Searcher over docs_corpus built with its vectors in Milvus Lite."""
    from docsearch.index import BuildOptions, StoreConfig, build_index
    from docsearch.search.engine import Searcher

    index_dir = tmp_path_factory.mktemp("milvus_index")
    build_index(DOCS_CORPUS, index_dir, BuildOptions(store=StoreConfig("milvus", str(index_dir / "milvus.db"))),
                encoder=encoder)
    searcher = Searcher.load(index_dir, encoder=encoder)
    yield searcher
    searcher.close()


def answers(hits) -> list[tuple]:
    """Return what a user sees of each hit, scores rounded past float noise."""
    return [(h.id, h.source, h.passage, round(h.score, 4), None if h.dense_score is None else round(h.dense_score, 4))
            for h in hits]


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_same_answers_as_faiss(searcher, milvus_searcher, question, mode):
    assert answers(ask(milvus_searcher, question, 10, mode)) == answers(ask(searcher, question, 10, mode))


def test_grouped_by_file_as_faiss(searcher, milvus_searcher):
    found = ask(milvus_searcher, QUESTIONS[0], 5, group="file")
    assert answers(found) == answers(ask(searcher, QUESTIONS[0], 5, group="file"))
    assert [h.more_in_file for h in found] == [h.more_in_file for h in ask(searcher, QUESTIONS[0], 5, group="file")]


def test_manifest_names_the_store_and_no_faiss_file(milvus_searcher):
    from docsearch.index.faiss_vectors import VECTORS_NAME

    m = milvus_searcher.manifest
    assert m.vector_store == "milvus" and m.milvus_collection.endswith("_gen_000001")
    assert not (milvus_searcher.generation.folder / VECTORS_NAME).exists()
    assert VECTORS_NAME not in m.checksums


def test_sync_reuses_milvus_vectors_and_drops_old_collections(tmp_path, encoder):
    import shutil

    from docsearch.index import BuildOptions, StoreConfig, build_index
    from docsearch.index.milvus import collection_prefix, connect

    corpus = tmp_path / "corpus"
    shutil.copytree(DOCS_CORPUS, corpus)
    store = BuildOptions(store=StoreConfig("milvus", str(tmp_path / "milvus.db")))
    build_index(corpus, tmp_path / "index", store, encoder=encoder)
    for generation in (2, 3):
        (corpus / f"new_{generation}.txt").write_text(f"A new file, number {generation}, about the strategic dialogue. " * 3)
        report = build_index(corpus, tmp_path / "index", store, encoder=encoder)
        assert report.manifest.generation == generation and report.embedded == 1 and report.unchanged == 3 + generation
    client = connect(store.store.milvus_uri)
    prefix = collection_prefix(tmp_path / "index")
    assert sorted(n for n in client.list_collections() if n.startswith(prefix)) == [
        f"{prefix}_gen_000002", f"{prefix}_gen_000003"]


def test_switching_back_to_faiss_drops_the_milvus_collections(tmp_path, encoder):
    from docsearch.index import BuildOptions, StoreConfig, build_index
    from docsearch.index.milvus import collection_prefix, connect

    milvus = StoreConfig("milvus", str(tmp_path / "milvus.db"))
    for store in (milvus, milvus, StoreConfig("faiss"), StoreConfig("faiss")):
        report = build_index(DOCS_CORPUS, tmp_path / "index", BuildOptions(store=store, full=True), encoder=encoder)
    assert report.manifest.vector_store == "faiss" and report.manifest.generation == 4
    prefix = collection_prefix(tmp_path / "index")
    assert [n for n in connect(milvus.milvus_uri).list_collections() if n.startswith(prefix)] == []


@pytest.mark.parametrize("milvus", ["lite", pytest.param("server", marks=pytest.mark.slow)])
def test_cli_index_then_serve_with_milvus_answers_as_faiss(tmp_path, searcher, request, milvus):
    index_dir = tmp_path / "index"
    uri = str(index_dir / "milvus.db") if milvus == "lite" else request.getfixturevalue("milvus_server_uri")
    store = ["--store", "milvus"] if milvus == "lite" else ["--store", "milvus", "--milvus-uri", uri]
    build = subprocess.run(
        [sys.executable, "-m", "docsearch.search", "index", str(DOCS_CORPUS), "--index-dir", str(index_dir), *store],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert f"in Milvus {uri}" in build.stdout
    with serving(["--index-dir", str(index_dir), *store], tmp_path / "serve.log") as base:
        for question in QUESTIONS:
            status, body = fetch(base + "/api/search?" + urllib.parse.urlencode({"q": question, "k": 5, "mode": "dense"}))
            assert status == 200, body
            expected = [h.to_dict() for h in ask(searcher, question, 5, "dense")]
            assert [(r["id"], r["source"]) for r in body["results"]] == [(r["id"], r["source"]) for r in expected]
            assert [r["score"] for r in body["results"]] == pytest.approx([r["score"] for r in expected], abs=1e-4)


def test_serve_refuses_another_store_than_built(runner, docs_index):
    from docsearch.search.cli import cli

    result = runner.invoke(cli, ["serve", "--index-dir", str(docs_index), "--store", "milvus"])
    assert result.exit_code == 1
    assert "keeps its vectors in faiss, not milvus" in result.output


def test_lite_uri_must_end_in_db(runner, tmp_path):
    from docsearch.search.cli import cli

    result = runner.invoke(cli, ["index", str(DOCS_CORPUS), "--index-dir", str(tmp_path), "--store", "milvus",
                                 "--milvus-uri", str(tmp_path / "folder")])
    assert result.exit_code == 2
    assert "a Milvus Lite URI is a folder path ending in .db" in result.output
