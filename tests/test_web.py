"""The web form: plain GET, results with source and lines, everything escaped."""

from html.parser import HTMLParser

import pytest

from .conftest import DOCS_CORPUS, ask

QUESTION = "Which 2008 agreement governs the strategic dialogue?"


class HitParser(HTMLParser):
    """Collect the whole text of each element that has a class, by class name."""

    def __init__(self):
        super().__init__()
        self.found: dict[str, list[str]] = {}
        self._open: list[tuple[str | None, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("input", "meta", "link", "br", "img"):
            self._open.append((dict(attrs).get("class"), []))

    def handle_endtag(self, tag):
        if self._open:
            cls, parts = self._open.pop()
            if cls:
                self.found.setdefault(cls, []).append("".join(parts))

    def handle_data(self, data):
        for _, parts in self._open:
            parts.append(data)


def parse(html: str) -> dict[str, list[str]]:
    parser = HitParser()
    parser.feed(html)
    return parser.found


def test_empty_form_has_a_query_box(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form id="search" method="get"' in html and 'name="q"' in html and 'autofocus' in html
    assert "<ol" not in html


def test_results_show_source_lines_and_score(client):
    response = client.get("/", query_string={"q": QUESTION, "k": 3})
    found = parse(response.get_data(as_text=True))
    assert response.status_code == 200
    assert found["source"][0] == "004_68f2a8bcaf0079e8.txt"
    assert found["lines"][0] == "lines 10"
    # The best passage in both lists has the whole fused score; the others less, best first.
    scores = [float(text.removeprefix("score ")) for text in found["score"]]
    assert scores[0] == 1.0 and 0 < scores[2] <= scores[1] < 1.0, scores
    assert len(found["source"]) == 3
    assert "Strategic Framework Agreement" in found["text"][0]
    assert f'value="{QUESTION}"' in response.get_data(as_text=True)  # the question stays in the box


def test_query_is_escaped(client):
    payload = '"><script>alert(1)</script>'
    html = client.get("/", query_string={"q": payload}).get_data(as_text=True)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_corpus_text_is_escaped(tmp_path, encoder):
    from docsearch.index import build_index
    from .conftest import app_for

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "<img src=x onerror=alert(1)>.txt").write_text(
        "A paragraph about gardening <script>alert('xss')</script> and growing tomatoes in summer.\n"
    )
    build_index(corpus, tmp_path / "index", encoder=encoder)
    app = app_for(tmp_path / "index")
    app.extensions["docsearch"]["encoder"] = encoder
    html = app.test_client().get("/", query_string={"q": "tomatoes"}).get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html


def test_bad_input_shows_a_message_not_a_blank_page(client):
    response = client.get("/", query_string={"q": "  "})
    assert response.status_code == 400
    assert parse(response.get_data(as_text=True))["error"] == ["Type a question to search for."]
    response = client.get("/", query_string={"q": "Iraq", "k": "500"})
    assert response.status_code == 400
    assert "k must be an integer from 1 to 100" in response.get_data(as_text=True)


def test_missing_index_shows_the_fix(tmp_path):
    from .conftest import app_for

    response = app_for(tmp_path).test_client().get("/?q=Iraq")
    assert response.status_code == 503
    assert "run `docsearch index`" in parse(response.get_data(as_text=True))["error"][0]


def test_an_empty_box_for_k_or_page_means_the_default(client):
    found = parse(client.get("/", query_string={"q": QUESTION, "k": "", "page": ""}).get_data(as_text=True))
    assert len(found["source"]) == 10


def test_server_error_is_a_page_with_a_message(app, monkeypatch):
    monkeypatch.setattr(app.extensions["docsearch"]["searcher"], "search", lambda *args: 1 / 0)
    response = app.test_client().get("/", query_string={"q": QUESTION})
    html = response.get_data(as_text=True)
    assert (response.status_code, response.mimetype) == (500, "text/html")
    assert parse(html)["error"] == ["Something went wrong on the server, not in your question; its log has the details."]
    assert "Traceback" not in html and "ZeroDivisionError" not in html
    assert f'value="{QUESTION}"' in html


def test_empty_corpus_says_so(tmp_path, encoder):
    from docsearch.index import build_index
    from .conftest import app_for

    (tmp_path / "corpus").mkdir()
    build_index(tmp_path / "corpus", tmp_path / "index", encoder=encoder)
    app = app_for(tmp_path / "index")
    app.extensions["docsearch"]["encoder"] = encoder
    response = app.test_client().get("/", query_string={"q": "Iraq"})
    assert response.status_code == 200
    assert parse(response.get_data(as_text=True))["empty"] == ["The index holds no passages: there is nothing to search yet."]


def test_no_lexical_match_says_so(client):
    found = parse(client.get("/", query_string={"q": "zzyzx qwfp", "mode": "lexical"}).get_data(as_text=True))
    assert found["empty"] == ["No passage holds any of these words. Try the hybrid or dense mode, which match by meaning."]


# --- paging -------------------------------------------------------------------------------------


def result_ranks(html: str) -> list[int]:
    start = int(html.split('<ol class="results" start="', 1)[1].split('"', 1)[0])
    return list(range(start, start + len(parse(html)["source"])))


def test_more_results_pages_through_the_api_ranking(client):
    ranking = client.get("/api/search", query_string={"q": QUESTION, "k": 9}).get_json()["results"]
    first = client.get("/", query_string={"q": QUESTION, "k": 3}).get_data(as_text=True)
    more = first.split('<a class="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert more.endswith("&page=2")
    second = client.get(more).get_data(as_text=True)
    third = client.get(more.replace("page=2", "page=3")).get_data(as_text=True)
    assert result_ranks(first) + result_ranks(second) + result_ranks(third) == list(range(1, 10))
    assert parse(second)["summary"] == ["Results 4–6, hybrid"]
    shown = [parse(page)["text"] for page in (first, second, third)]
    assert [text for page in shown for text in page] == [hit["text"] for hit in ranking]


def test_the_last_page_says_so(client, searcher):
    total = searcher.manifest.passages  # dense mode ranks every passage of docs_corpus (fewer than 100)
    last = (total + 9) // 10
    html = client.get("/", query_string={"q": "Iraq", "mode": "dense", "page": last}).get_data(as_text=True)
    found = parse(html)
    assert "next" not in found and found["end"] == [f"No more results: {total} in all."]
    assert result_ranks(html)[-1] == total
    beyond = parse(client.get("/", query_string={"q": "Iraq", "mode": "dense", "page": last + 1}).get_data(as_text=True))
    assert beyond["empty"] == [f"There is no page {last + 1}: this question has {total} results. Back to the first page."]


def test_paging_stops_at_the_api_cap(app, searcher, monkeypatch):
    from dataclasses import replace

    real = searcher.search

    def many(asked):  # the best hit, as often as asked
        answer = real(replace(asked, k=1))
        return replace(answer, hits=[replace(hit, rank=rank) for rank, hit in enumerate((answer.hits * 200)[:asked.k], 1)])

    monkeypatch.setattr(searcher, "search", many)
    client = app.test_client()
    html = client.get("/", query_string={"q": QUESTION, "k": 40, "page": 3}).get_data(as_text=True)
    assert result_ranks(html) == list(range(81, 101))
    assert parse(html)["end"] == ["The form shows the best 100 results: ask a narrower question to see others."]
    assert client.get("/", query_string={"q": QUESTION, "k": 40, "page": 2}).get_data(as_text=True).count('class="next"') == 1
    for page in ("0", "101", "two"):
        response = client.get("/", query_string={"q": QUESTION, "page": page})
        assert response.status_code == 400 and parse(response.get_data(as_text=True))["error"] == [
            "page must be an integer from 1 to 100"]


# --- the source view ------------------------------------------------------------------------------


def first_source_link(client, question: str = QUESTION) -> str:
    html = client.get("/", query_string={"q": question, "k": 1}).get_data(as_text=True)
    return html.split('<a class="source" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_source_link_opens_the_file_with_the_passage_marked(client, searcher):
    from docsearch.index import read_text

    hit = ask(searcher, QUESTION, 1)[0]
    link = first_source_link(client)
    assert link == f"/doc/{hit.file_id}?passage_id={hit.id}&generation=1#passage-{hit.id}"
    response = client.get(link)
    html = response.get_data(as_text=True)
    found = parse(html)
    assert response.status_code == 200
    assert found["path"] == [hit.source]
    assert found["document"] == [read_text(DOCS_CORPUS / hit.source)]  # the whole file, exactly as indexed
    assert found["passage"] == [hit.text]
    assert f'<mark id="passage-{hit.id}" class="passage">' in html
    assert "notice" not in found


def corpus_app(tmp_path, encoder, files: dict[str, str]):
    """An app over an index of a fresh corpus of the given files."""
    from docsearch.index import build_index
    from .conftest import app_for

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build_index(corpus, tmp_path / "index", encoder=encoder)
    app = app_for(tmp_path / "index")
    app.extensions["docsearch"]["encoder"] = encoder
    return app, corpus


GARDEN = {"garden.txt": "Tomatoes need full sun and steady watering through the summer months.\n\n"
                        "Basil grows well beside tomatoes and keeps some pests away from the plants.\n"}


@pytest.mark.parametrize("change, notice", [
    (lambda f: f.write_text(f.read_text() + "A new line about compost heaps and earthworms in the garden.\n"),
     "garden.txt has changed since it was indexed; these are its passages as indexed."),
    (lambda f: f.write_text(f.read_text().replace("Basil", "Mint!")),  # same size, other bytes
     "garden.txt has changed since it was indexed; these are its passages as indexed."),
    (lambda f: f.unlink(), "garden.txt is no longer in the corpus folder; these are its passages as indexed."),
    (lambda f: f.unlink() or f.symlink_to(f.parent.parent / "outside.txt"),
     "garden.txt is no longer in the corpus folder; these are its passages as indexed."),
])
def test_a_file_changed_since_indexing_shows_its_indexed_passages(tmp_path, encoder, change, notice):
    app, corpus = corpus_app(tmp_path, encoder, GARDEN)
    client = app.test_client()
    link = first_source_link(client, "basil pests")
    (tmp_path / "outside.txt").write_text(GARDEN["garden.txt"])
    change(corpus / "garden.txt")
    response = client.get(link)
    found = parse(response.get_data(as_text=True))
    assert response.status_code == 200
    assert found["notice"] == [notice]
    assert "compost" not in response.get_data(as_text=True) and "outside" not in response.get_data(as_text=True)
    assert found["passage"] == ["Basil grows well beside tomatoes and keeps some pests away from the plants."]
    assert found["document"][0].startswith("Tomatoes need full sun")


def test_an_index_without_a_corpus_folder_shows_passages(tmp_path, encoder):
    from docsearch.index import SourceFile, build_documents
    from .conftest import app_for

    build_documents([SourceFile.from_text("doc1", GARDEN["garden.txt"])], tmp_path / "index", encoder=encoder)
    app = app_for(tmp_path / "index")
    app.extensions["docsearch"]["encoder"] = encoder
    response = app.test_client().get("/doc/1?passage_id=1")
    assert response.status_code == 200
    assert parse(response.get_data(as_text=True))["notice"][0].startswith(
        "this index does not record the folder its files came from")


@pytest.mark.parametrize("path, message", [
    ("/doc/999", "There is no document 999 in the index."),
    ("/doc/abc", "There is no document 'abc': document ids are the numbers in the results' links."),
    ("/doc/-1", "There is no document '-1': document ids are the numbers in the results' links."),
    ("/doc/1?passage_id=999999", "Document 1 (000_2d31320dcd4f2c91.txt) has no passage 999999."),
    ("/doc/999?generation=7", "There is no document 999 in the index. This link was made for index generation 7; "
                              "the index has been rebuilt since (generation 1), so its ids may now name another "
                              "passage: search again if this is not the one you meant."),
])
def test_unknown_document_or_passage_is_a_404_page_or_json(client, path, message):
    page = client.get(path)
    assert (page.status_code, page.mimetype) == (404, "text/html")
    assert parse(page.get_data(as_text=True))["error"] == [message]
    answer = client.get(path, headers={"Accept": "application/json"})
    assert (answer.status_code, answer.get_json()) == (404, {"error": message, "status": 404})


def test_bad_passage_parameter_is_a_400_page(client):
    response = client.get("/doc/1?passage_id=x")
    assert response.status_code == 400
    assert parse(response.get_data(as_text=True))["error"] == [
        "passage_id must be a whole number, as in the results' links, not 'x'"]


def test_a_link_from_another_generation_gets_a_notice(client):
    response = client.get("/doc/1?generation=3")
    assert response.status_code == 200
    assert parse(response.get_data(as_text=True))["notice"][0].startswith("This link was made for index generation 3;")


def test_no_index_source_view_is_a_503_page(tmp_path):
    from .conftest import app_for

    response = app_for(tmp_path).test_client().get("/doc/1")
    assert (response.status_code, response.mimetype) == (503, "text/html")
    assert "run `docsearch index`" in parse(response.get_data(as_text=True))["error"][0]
