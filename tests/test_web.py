"""The web form: plain GET, results with source and lines, everything escaped."""

from html.parser import HTMLParser

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
    assert '<form method="get"' in html and 'name="q"' in html
    assert "<ol" not in html


def test_results_show_source_lines_and_score(client):
    response = client.get("/", query_string={"q": QUESTION, "k": 3})
    found = parse(response.get_data(as_text=True))
    assert response.status_code == 200
    assert found["source"][0] == "004_68f2a8bcaf0079e8.txt"
    assert found["lines"][0] == "lines 10"
    assert found["score"][0].startswith("score 0.")
    assert len(found["source"]) == 3
    assert "Strategic Framework Agreement" in found["text"][0]
    assert f'value="{QUESTION}"' in response.get_data(as_text=True)  # the question stays in the box


def test_query_is_escaped(client):
    payload = '"><script>alert(1)</script>'
    html = client.get("/", query_string={"q": payload}).get_data(as_text=True)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_corpus_text_is_escaped(tmp_path, encoder):
    from index import build_index
    from search import create_app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "<img src=x onerror=alert(1)>.txt").write_text(
        "A paragraph about gardening <script>alert('xss')</script> and growing tomatoes in summer.\n"
    )
    build_index(corpus, tmp_path / "index", encoder=encoder)
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index")})
    app.extensions["docsearch"]["encoder"] = encoder
    html = app.test_client().get("/", query_string={"q": "tomatoes"}).get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html


def test_bad_input_shows_a_message_not_a_blank_page(client):
    response = client.get("/", query_string={"q": "  "})
    assert response.status_code == 400
    assert parse(response.get_data(as_text=True))["error"] == ["q is blank: type a question to search for"]
    response = client.get("/", query_string={"q": "Iraq", "k": "500"})
    assert response.status_code == 400
    assert "k must be an integer from 1 to 100" in response.get_data(as_text=True)


def test_missing_index_shows_the_fix(tmp_path):
    from search import create_app

    response = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path)}).test_client().get("/?q=Iraq")
    assert response.status_code == 503
    assert "run `docsearch index`" in parse(response.get_data(as_text=True))["error"][0]
