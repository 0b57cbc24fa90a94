"""`docsearch mcp` end to end: the SDK's own client against a real server process, over stdio and over HTTP.

Each transport's server is started once for the module, on a copy of the session's
docs_corpus index; every test below runs against both. Answers are compared with
what the engine itself answers, so a tool that ranks, filters or cuts differently fails.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

import pytest
from anyio.from_thread import start_blocking_portal
from mcp import MCPError

from docsearch.index import build_index
from docsearch.search.request import SearchRequest, SimilarRequest

from .conftest import DOCS_CORPUS, copy_index
from .mcp_client import over_http, over_stdio
from .server_process import fetch

QUESTION = "Which 2008 agreement governs the strategic dialogue?"
AGREEMENT_FILE = "004_68f2a8bcaf0079e8.txt"


@pytest.fixture(scope="module")
def portal():
    """An event loop on its own thread, where the client sessions live between tests."""
    with start_blocking_portal() as portal:
        yield portal


@pytest.fixture(scope="module")
def served(tmp_path_factory, docs_index):
    """A private copy of the demo corpus and of its session index, as if built from that copy."""
    root = tmp_path_factory.mktemp("mcp")
    corpus = root / "corpus"
    shutil.copytree(DOCS_CORPUS, corpus)
    return corpus, copy_index(docs_index, root / "index", corpus)


@pytest.fixture(scope="module", params=["stdio", "http"])
def agent(request, portal, served, tmp_path_factory):
    """A client connected to `docsearch mcp` over one transport, started once per module."""
    _, index_dir = served
    log = tmp_path_factory.mktemp("mcp_log") / f"{request.param}.log"
    if request.param == "stdio":
        with over_stdio(portal, ["--index-dir", str(index_dir)], log) as connected:
            yield connected
    else:
        with over_http(portal, ["--index-dir", str(index_dir)], log) as (connected, base):
            connected.base = base
            yield connected


def test_the_four_tools_are_listed_read_only_with_schemas(agent):
    tools = {tool.name: tool for tool in agent.list_tools()}
    assert set(tools) == {"search", "read_passage", "similar", "index_status"}
    search = tools["search"]
    assert search.input_schema["required"] == ["query"]
    assert set(search.input_schema["properties"]) == {"query", "k", "mode", "path", "type", "per_file", "max_chars"}
    assert search.input_schema["properties"]["mode"]["enum"] == ["hybrid", "dense", "lexical"]
    hit = search.output_schema["$defs"]["HitFields"]
    assert {"citation", "file", "lines", "score", "text", "page", "section", "title"} <= set(hit["properties"])
    assert "page" not in hit["required"] and "citation" in hit["required"]
    assert all(tool.annotations.read_only_hint for tool in tools.values())


def test_search_ranks_as_the_engine_does_with_citations(agent, searcher):
    found = agent.answer("search", query=QUESTION, k=3)
    expected = searcher.search(SearchRequest(QUESTION, k=3)).hits
    assert [h["id"] for h in found["hits"]] == [h.id for h in expected]
    assert [h["score"] for h in found["hits"]] == [h.score for h in expected]
    best = found["hits"][0]
    assert (best["rank"], best["file"], best["lines"], best["citation"]) == (1, AGREEMENT_FILE, [10, 10],
                                                                            f"{AGREEMENT_FILE}:10")
    assert "Strategic Framework Agreement signed in 2008" in best["text"] and best["text"] == expected[0].text
    assert found["query"] == QUESTION and found["generation"] == 1 and found["low_confidence"] is False
    assert "page" not in best and "more_in_file" not in best  # plain text has no pages; no grouping asked


def test_filters_narrow_and_a_filter_matching_nothing_is_an_empty_answer(agent, searcher):
    only = agent.answer("search", query=QUESTION, k=5, path="000_*")
    assert len(only["hits"]) == 5 and {h["file"] for h in only["hits"]} == {"000_2d31320dcd4f2c91.txt"}
    per_file = agent.answer("search", query=QUESTION, k=5, per_file=True, mode="dense")
    expected = searcher.search(SearchRequest(QUESTION, k=5, mode="dense", group="file")).hits
    assert [h["file"] for h in per_file["hits"]] == [h.source for h in expected] and len(expected) == 5
    assert [h["more_in_file"] for h in per_file["hits"]] == [h.more_in_file for h in expected]
    for nothing in ({"type": "pdf"}, {"type": ["md", "pdf"]}, {"path": "reports/**"}):
        answer = agent.answer("search", query=QUESTION, **nothing)
        assert answer["hits"] == [] and answer["low_confidence"] is True


def test_max_chars_cuts_each_text_with_a_marker_and_only_when_asked(agent):
    whole = agent.answer("search", query=QUESTION, k=2)["hits"]
    cut = agent.answer("search", query=QUESTION, k=2, max_chars=40)["hits"]
    assert [h["id"] for h in cut] == [h["id"] for h in whole]
    for short, full in zip(cut, whole):
        assert len(full["text"]) > 40 and "more characters]" not in full["text"]
        assert short["text"] == f"{full['text'][:40]} [… {len(full['text']) - 40} more characters]"


def test_read_passage_returns_its_neighbours_in_order(agent, searcher):
    best = agent.answer("search", query=QUESTION, k=1)["hits"][0]
    stored = searcher.passage(best["id"])
    in_file = searcher.generation.catalog.file_passages(stored.file_id)
    read = agent.answer("read_passage", id=best["id"], before=2, after=1)
    numbers = [p["passage"] for p in read["passages"]]
    assert numbers == [stored.number - 2, stored.number - 1, stored.number, stored.number + 1]
    assert [p["text"] for p in read["passages"]] == [p.text for p in in_file[stored.number - 3:stored.number + 1]]
    first, last = read["passages"][0], read["passages"][-1]
    assert read["citation"] == f"{AGREEMENT_FILE}:{first['lines'][0]}-{last['lines'][1]}"
    assert (read["id"], read["file"], read["passages_in_file"]) == (best["id"], AGREEMENT_FILE, len(in_file))
    opening = agent.answer("read_passage", id=in_file[0].id, before=5, max_chars=10)
    assert [p["passage"] for p in opening["passages"]] == [1]  # nothing before the first passage of a file
    assert opening["passages"][0]["text"].startswith(in_file[0].text[:10] + " [… ")


def test_similar_answers_as_the_engine_does(agent, searcher):
    anchor = agent.answer("search", query=QUESTION, k=1)["hits"][0]["id"]
    found = agent.answer("similar", id=anchor, k=4)
    assert [h["id"] for h in found["hits"]] == [h.id for h in searcher.similar(SimilarRequest(anchor, k=4)).hits]
    assert anchor not in [h["id"] for h in found["hits"]] and found["id"] == anchor
    others = agent.answer("similar", id=anchor, k=4, per_file=True)["hits"]
    assert len({h["file"] for h in others}) == 4 and AGREEMENT_FILE not in {h["file"] for h in others}


def test_index_status_describes_the_live_generation(agent, searcher, served):
    _, index_dir = served
    status = agent.answer("index_status")
    assert (status["generation"], status["files"], status["passages"]) == (1, 5, searcher.stats()["passages"])
    assert status["index_dir"] == str(index_dir) and status["file_types"] == ["txt"] and status["folders"] == []


UNKNOWN = "there is no passage 1000000 in index generation 1; ids come from search results of the live generation"


@pytest.mark.parametrize("tool, arguments, message", [
    ("search", {"query": "   "}, "query is blank: type a question to search for"),
    ("search", {"query": QUESTION, "k": 101}, "k must be an integer from 1 to 100"),
    ("search", {"query": QUESTION, "path": "[abc"}, "path '[abc' opens a [ character class it does not close"),
    ("search", {"query": QUESTION, "type": "p.d.f"}, "type must be file extensions such as pdf,md (letters and digits, "
                                                     "without the dot)"),
    ("read_passage", {"id": 10**6}, UNKNOWN),
    ("read_passage", {"id": 1, "after": 21}, "after must be an integer from 0 to 20"),
    ("read_passage", {"id": 0}, "id must be a passage id: a whole number, as in a search result's id"),
    ("similar", {"id": 10**6}, UNKNOWN),
    ("similar", {"id": 1, "k": 0}, "k must be an integer from 1 to 100"),
])
def test_refused_requests_are_tool_errors_with_the_sentence(agent, tool, arguments, message):
    assert agent.error(tool, **arguments) == f"Error executing tool {tool}: {message}"


def test_each_file_is_a_resource_with_its_indexed_text(agent, served):
    corpus, _ = served
    resources = {r.name: r for r in agent.list_resources()}
    assert sorted(resources) == sorted(p.name for p in DOCS_CORPUS.iterdir())
    assert str(resources[AGREEMENT_FILE].uri) == f"docsearch://file/{AGREEMENT_FILE}"
    assert agent.read(f"docsearch://file/{AGREEMENT_FILE}") == (corpus / AGREEMENT_FILE).read_text()
    with pytest.raises(MCPError, match="nope.txt is not a file of index generation 1"):
        agent.read("docsearch://file/nope.txt")


def test_a_file_changed_since_indexing_is_read_as_its_passages(agent, served, searcher):
    corpus, _ = served
    changed = corpus / AGREEMENT_FILE
    original = changed.read_text()
    changed.write_text(original + "A line added after the index was built.\n")
    try:
        text = agent.read(f"docsearch://file/{AGREEMENT_FILE}")
    finally:
        changed.write_text(original)
    stored = next(f for f in searcher.generation.catalog.files() if f.path == AGREEMENT_FILE)
    assert text == "\n\n".join(p.text for p in searcher.generation.catalog.file_passages(stored.id))


@pytest.mark.parametrize("agent", ["http"], indirect=True)
def test_http_reports_health_and_refuses_another_sites_host(agent):
    status, body = fetch(agent.base + "/healthz")
    assert status == 200 and (body["status"], body["generation"], body["files"]) == ("ok", 1, 5)
    # A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host.
    foreign = urllib.request.Request(agent.base + "/mcp", data=b"{}", headers={"Host": "evil.example:80",
                                                                                "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(foreign, timeout=30)
    assert refused.value.code in (400, 403, 421)


def test_a_new_generation_is_answered_without_a_restart(portal, docs_index, encoder, tmp_path):
    """From no index (a tool error that says so) to generation 1, then to a generation 2 with a new file."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(DOCS_CORPUS, corpus)
    with over_stdio(portal, ["--index-dir", str(index_dir)], tmp_path / "stdio.log") as agent:
        missing = f"no index at {index_dir}; run `docsearch index` to build one"
        assert agent.error("index_status") == f"Error executing tool index_status: {missing}"
        with pytest.raises(MCPError, match="no index at"):
            agent.list_resources()
        copy_index(docs_index, index_dir, corpus)
        assert agent.answer("index_status")["generation"] == 1
        notes = corpus / "field notes" / "penguins #1?.txt"
        notes.parent.mkdir()
        notes.write_text("Emperor penguins breed on the sea ice of Antarctica through the winter.\n")
        build_index(corpus, index_dir, encoder=encoder)
        found = agent.answer("search", query="penguins on the ice shelf of Antarctica", k=1)
        assert found["generation"] == 2 and found["hits"][0]["file"] == "field notes/penguins #1?.txt"
        # The path's space, # and ? are percent-encoded, so the URI reads back as this file.
        uri = "docsearch://file/field%20notes/penguins%20%231%3F.txt"
        assert uri in {str(r.uri) for r in agent.list_resources()}
        assert agent.read(uri) == notes.read_text()
