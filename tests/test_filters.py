"""Filters by path glob and file type: the right files only, k results however rare the files, clear errors."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from docsearch.index import BuildOptions, SourceFile, StoreConfig, build_documents
from docsearch.search.engine import Searcher
from docsearch.search.request import BadQuery, Filters, SearchRequest

WORDS = re.compile(r"\S+")


class HashEncoder:
    """A stand-in model for a unit test of filtering at scale: a text's vector is a hash-seeded random unit vector.

    Everything else (SQLite, BM25, FAISS or Milvus) is real; the real model is tested on docs_corpus below.
    """

    name, backend, dimension, max_passage_tokens = "hash-test-model", "hash", 32, 200

    def token_starts(self, text: str) -> list[int]:
        return [m.start() for m in WORDS.finditer(text)]

    def encode(self, texts, progress=None, **_) -> np.ndarray:
        rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:15], 16)).standard_normal(32)
                for t in texts]
        vectors = np.array(rows, np.float32).reshape(len(texts), 32)
        if progress:
            progress(len(texts))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)

    def serving(self):
        import contextlib

        return contextlib.nullcontext()


FILES = 100  # of 30 passages each; one file is 1% of the passages


def rare_corpus() -> list[SourceFile]:
    """100 files of 30 paragraphs each (blank-line separated, long enough not to merge), all about harbours."""
    files = []
    for f in range(FILES):
        folder = "rare" if f == 37 else f"bulk/{f % 7}"
        lines = [f"The harbour master of file {f} logged ship number {n} arriving with cargo crates and "
                 f"passengers at dawn on day {n * 3 + f}." for n in range(30)]
        files.append(SourceFile.from_text(f"{folder}/f{f:03d}.{'md' if f == 37 else 'txt'}", "\n\n".join(lines) + "\n"))
    return files


@pytest.fixture(scope="module", params=["faiss", "milvus-lite"])
def rare_searcher(request, tmp_path_factory):
    """A Searcher over the 3,000-passage corpus with an HNSW graph (FAISS) or in Milvus Lite."""
    index_dir = tmp_path_factory.mktemp(f"rare-{request.param}")
    if request.param == "faiss":
        store = StoreConfig("faiss")
    else:
        pytest.importorskip("milvus_lite")
        store = StoreConfig("milvus", str(index_dir / "milvus.db"))
    encoder = HashEncoder()
    report = build_documents(rare_corpus(), index_dir, options=BuildOptions(store=store, vector_index="hnsw"),
                             encoder=encoder)
    assert report.manifest.passages == FILES * 30
    searcher = Searcher.load(index_dir, encoder=encoder)
    yield searcher
    searcher.close()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
@pytest.mark.parametrize("filters", [Filters(path="rare/**"), Filters(types=("md",)), Filters(path="**/f037.*")],
                         ids=["path", "type", "glob"])
def test_a_filter_on_one_percent_of_passages_still_returns_k(rare_searcher, mode, filters):
    hits = rare_searcher.search(SearchRequest("harbour master ship cargo", k=10, mode=mode, filters=filters)).hits
    assert len(hits) == 10
    assert {h.source for h in hits} == {"rare/f037.md"}


def test_the_filtered_dense_top_k_is_the_exact_one(rare_searcher, monkeypatch):
    """Whether compared one by one or walked in the HNSW graph with a filter, the answer is the exact top k."""
    from docsearch.index import faiss_vectors

    store = rare_searcher.generation.vectors
    allowed = rare_searcher.allowed(Filters(path="rare/**"))
    query = rare_searcher.encoder.encode(["harbour at dawn"])
    vectors = store.vectors(allowed.passage_ids)
    expected = allowed.passage_ids[np.argsort(-(vectors @ query[0]), kind="stable")[:10]].tolist()
    assert [pid for pid, _ in store.search(query, 10, allowed)[0]] == expected
    monkeypatch.setattr(faiss_vectors, "EXACT_FILTER_UP_TO", 5)  # force the graph walk (and its fallback)
    assert [pid for pid, _ in store.search(query, 10, allowed)[0]] == expected


def test_filters_on_the_demo_corpus(searcher):
    only = searcher.search(SearchRequest("US troops in Iraq", k=5, filters=Filters(path="004_*"))).hits
    assert len(only) == 5 and {h.source for h in only} == {"004_68f2a8bcaf0079e8.txt"}
    by_type = searcher.search(SearchRequest("US troops in Iraq", k=5, filters=Filters(types=("txt",)))).hits
    assert len(by_type) == 5
    nothing = searcher.search(SearchRequest("US troops in Iraq", k=5, filters=Filters(types=("pdf",))))
    assert nothing.hits == [] and nothing.low_confidence  # an empty answer, not an error


def test_the_api_filters_and_echoes_the_filter(client):
    body = client.get("/api/search", query_string={"q": "troops", "k": 3, "path": "00[34]_*", "type": "TXT"}).get_json()
    assert body["path"] == "00[34]_*" and body["type"] == ["txt"]
    assert {r["source"][:3] for r in body["results"]} <= {"003", "004"} and len(body["results"]) == 3
    posted = client.post("/api/search", json={"q": "troops", "k": 3, "path": "00[34]_*", "type": ["txt"]}).get_json()
    assert posted["results"] == body["results"]
    empty = client.get("/api/search", query_string={"q": "troops", "type": "pdf"})
    assert empty.status_code == 200 and empty.get_json()["results"] == []


@pytest.mark.parametrize("query, message", [
    ({"path": "[abc"}, "path '[abc' opens a [ character class it does not close"),
    ({"path": "/etc/**"}, "path is relative to the corpus folder: leave out the leading /"),
    ({"path": "a**b"}, "** must stand alone between slashes"),
    ({"type": "p d f"}, "type must be file extensions such as pdf,md"),
    ({"type": ",".join(f"t{i}" for i in range(25))}, "type names at most 20 file extensions"),
])
def test_bad_filters_are_400s_that_say_why(client, query, message):
    response = client.get("/api/search", query_string={"q": "troops", **query})
    assert response.status_code == 400
    assert message in response.get_json()["error"] and response.get_json()["status"] == 400


def test_filters_parse_types_from_text_and_lists():
    assert Filters.parse({"type": " .PDF, md,,pdf"}).types == ("pdf", "md")
    assert Filters.parse({"type": ["MD"]}).types == ("md",)
    assert not Filters.parse({"path": "  "})
    with pytest.raises(BadQuery):
        Filters.parse({"type": [1, 2]})


def test_the_form_offers_the_index_folders_and_types_and_filters(client):
    html = client.get("/").get_data(as_text=True)
    assert '<option value="txt">txt</option>' in html and '<datalist id="folders">' in html
    page = client.get("/", query_string={"q": "troops", "path": "004_*"}).get_data(as_text=True)
    assert set(re.findall(r'class="source" href="[^"]*">([^<]+)</a>', page)) == {"004_68f2a8bcaf0079e8.txt"}
    none = client.get("/", query_string={"q": "troops", "type": "pdf"}).get_data(as_text=True)
    assert "No indexed file is in that folder or of that type." in none


def test_the_cli_filters(runner, docs_index):
    from docsearch.search.cli import cli

    result = runner.invoke(cli, ["query", "troops", "-k", "3", "--path", "004_*", "--index-dir", str(docs_index)])
    assert result.exit_code == 0, result.output
    assert [line.split()[-1].split(":")[0] for line in result.stdout.splitlines() if line[:3].strip().rstrip(".").isdigit()] \
        == ["004_68f2a8bcaf0079e8.txt"] * 3
    bad = runner.invoke(cli, ["query", "troops", "--path", "[x", "--index-dir", str(docs_index)])
    assert bad.exit_code == 2 and "opens a [ character class" in bad.stderr
