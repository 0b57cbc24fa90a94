"""Security headers on every response, and no script injection through queries, passages or file names."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import escape

from .conftest import app_for

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "'><svg onload=alert(1)>",
]
# The tags the pages themselves use; anything else in a page was injected. Their one script is
# checked apart: SCRIPT, by src, with nothing inline.
PAGE_TAGS = {"html", "head", "meta", "title", "link", "body", "main", "header", "section", "h1", "a", "form", "label",
             "input", "button", "div", "select", "option", "datalist", "p", "ol", "li", "span", "mark"}
SCRIPT = "/static/search.js"
URL_ATTRIBUTES = {"href", "src", "action", "formaction"}


class PageParser(HTMLParser):
    """Collect the tags, attributes and inline scripts and styles of a page."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.inline: list[str] = []  # text inside script and style elements

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)

    def handle_data(self, data):
        if self.tags and self.tags[-1] in ("script", "style") and data.strip():
            self.inline.append(data)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def assert_nothing_injected(html: str) -> None:
    """Fail if the page holds a tag, event handler or javascript: URL the form does not put there."""
    page = parse(html)
    assert set(page.tags) - {"script"} <= PAGE_TAGS, set(page.tags) - PAGE_TAGS
    assert_only_own_script(page)
    assert not [a for a in page.attributes if a[1].startswith("on")]
    assert not [a for a in page.attributes if a[1] in URL_ATTRIBUTES and (a[2] or "").strip().lower().startswith("javascript:")]
    for payload in PAYLOADS:
        if any(c in payload for c in "<>\"'"):
            assert payload not in html


def assert_only_own_script(page: PageParser) -> None:
    """Fail unless every script element is the form's own file, loaded by src, with nothing inline."""
    sources = [value for tag, name, value in page.attributes if tag == "script" and name == "src"]
    assert sources == [SCRIPT] * page.tags.count("script"), sources
    assert page.inline == []


def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


# --- headers ----------------------------------------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    policy = directives(headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    for kind in ("style-src", "script-src", "img-src", "form-action", "connect-src"):
        assert policy[kind] == ["'self'"], kind
    assert policy["frame-ancestors"] == policy["base-uri"] == policy["object-src"] == ["'none'"]
    assert not any(value in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:") for values in policy.values() for value in values)


@pytest.mark.parametrize(
    "method, path, status, mimetype",
    [
        ("GET", "/", 200, "text/html"),
        ("GET", "/?q=Iraq", 200, "text/html"),
        ("GET", "/?q=+", 400, "text/html"),
        ("GET", "/api/search?q=Iraq", 200, "application/json"),
        ("GET", "/api/search", 400, "application/json"),
        ("POST", "/api/search", 400, "application/json"),
        ("GET", "/healthz", 200, "application/json"),
        ("GET", "/openapi.json", 200, "application/json"),
        ("GET", "/static/style.css", 200, "text/css"),
        ("GET", "/static/search.js", 200, "text/javascript"),
        ("GET", "/doc/1?passage_id=1", 200, "text/html"),
        ("GET", "/doc/999", 404, "text/html"),
        ("GET", "/no/such/page", 404, "application/json"),
        ("GET", "/static/missing.css", 404, "application/json"),
        ("DELETE", "/api/search", 405, "application/json"),
    ],
)
def test_every_response_has_the_security_headers(client, method, path, status, mimetype):
    response = client.open(path, method=method)
    assert (response.status_code, response.mimetype) == (status, mimetype)
    assert_security_headers(response)


def test_security_headers_on_413_500_and_503(app, tmp_path, monkeypatch):
    too_big = app.test_client().post("/api/search", data=b" " * 70_000, content_type="application/json")
    assert too_big.status_code == 413
    assert_security_headers(too_big)
    monkeypatch.setattr(app.extensions["docsearch"]["searcher"], "search", lambda *args: 1 / 0)
    broken = app.test_client().get("/api/search?q=Iraq")
    assert broken.status_code == 500
    assert_security_headers(broken)
    no_index = app_for(tmp_path).test_client()
    for path in ("/api/search?q=Iraq", "/?q=Iraq", "/doc/1"):
        response = no_index.get(path)
        assert response.status_code == 503
        assert_security_headers(response)


def test_the_form_works_under_its_policy(client):
    """Nothing on the page needs more than the policy allows: no inline script or style, only own files."""
    html = client.get("/", query_string={"q": "Iraq agreement"}).get_data(as_text=True)
    page = parse(html)
    assert page.tags.count("script") == 1 and "style" not in page.tags
    assert_only_own_script(page)
    assert not [a for a in page.attributes if a[1] == "style"]
    for tag, name, value in page.attributes:
        if name in URL_ATTRIBUTES:
            assert value.startswith("/") and not value.startswith("//"), (tag, name, value)
    stylesheet = next(v for t, n, v in page.attributes if t == "link" and n == "href")
    assert client.get(stylesheet).status_code == 200
    script = client.get(SCRIPT)
    assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")
    assert "innerHTML" not in script.get_data(as_text=True)  # it never turns text into markup


# --- payloads in the query ----------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", ["q", "k", "mode", "group"])
def test_payload_in_the_form_parameters_is_escaped(client, payload, field):
    query = {"q": "Iraq", field: payload}
    response = client.get("/", query_string=query)
    assert response.status_code == (200 if field == "q" else 400)
    assert response.mimetype == "text/html"
    assert_nothing_injected(response.get_data(as_text=True))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_the_api_comes_back_as_json(client, payload):
    got = client.get("/api/search", query_string={"q": payload, "k": 2})
    posted = client.post("/api/search", json={"q": payload, "k": 2})
    for response in (got, posted):
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_json()["query"] == payload
    for bad in ({"q": "Iraq", "mode": payload}, {"q": "Iraq", "k": payload}, {"q": "Iraq", "group": payload}):
        response = client.get("/api/search", query_string=bad)
        assert response.status_code == 400 and response.mimetype == "application/json"


# --- payloads in the corpus: passage text and file names ----------------------------------------

CORPUS = {
    # A name with a folder in it, so that the source reads as a whole script element.
    "<script>alert(1)</script>.txt": "The zebra keeper fed the zebras <script>alert('zebra')</script> every morning at dawn.",
    '"><img src=x onerror=alert(1)>.txt': 'The walrus colony sunbathed on the rocks "><img src=x onerror=alert(1)> near the harbour.',
    "javascript:alert(1).md": "The pelican flock <a href=\"javascript:alert(1)\">flew</a> south over the marsh for the winter.",
    "'><svg onload=alert(1)>.txt": "The flamingo flock waded '><svg onload=alert(1)> through the shallow pink lagoon.",
}


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, encoder):
    """An app over an index of files whose names and text carry script payloads."""
    from docsearch.index import build_index

    base = tmp_path_factory.mktemp("xss")
    corpus = base / "corpus"
    for name, text in CORPUS.items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    report = build_index(corpus, base / "index", encoder=encoder)
    assert report.manifest.files == len(CORPUS)
    app = app_for(base / "index")
    app.extensions["docsearch"]["encoder"] = encoder
    return app


@pytest.mark.parametrize(
    "question, source",
    [
        ("zebra keeper", "<script>alert(1)</script>.txt"),
        ("walrus colony", '"><img src=x onerror=alert(1)>.txt'),
        ("pelican flock", "javascript:alert(1).md"),
        ("flamingo lagoon", "'><svg onload=alert(1)>.txt"),
    ],
)
def test_corpus_text_and_file_names_are_escaped(hostile_app, question, source):
    client = hostile_app.test_client()
    page = client.get("/", query_string={"q": question, "k": 1})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert_nothing_injected(html)
    assert str(escape(source)) in html
    answer = client.get("/api/search", query_string={"q": question, "k": 1})
    assert answer.mimetype == "application/json"
    hit = answer.get_json()["results"][0]
    assert hit["source"] == source and hit["text"] == CORPUS[source]
    link = html.split('<a class="source" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    view = client.get(link)
    assert view.status_code == 200
    assert_nothing_injected(view.get_data(as_text=True))
    assert str(escape(CORPUS[source])) in view.get_data(as_text=True)


def test_highlights_inside_a_payload_stay_escaped(hostile_app):
    """Marking the matched words must not cut an escaped payload open."""
    html = hostile_app.test_client().get("/", query_string={"q": "script alert zebra", "k": 1}).get_data(as_text=True)
    assert "<mark>zebra</mark>" in html and "<mark>script</mark>" in html
    assert_nothing_injected(html)
    assert "&lt;<mark>script</mark>&gt;" in html
