"""The OpenAPI document, and a fuzzer that holds the real app to it.

Schemathesis generates requests from /openapi.json (valid and invalid ones);
hand-written Hypothesis strategies add hostile ones it would not think of
(NUL bytes, huge strings, k as a boolean, float or string, deep JSON, wrong
content types, bodies over the limit, odd paths and methods). Every response
must be a non-5xx, declared for its operation and status, with the declared
content type, a body valid against the declared schema, and the security
headers. Each fuzz test asserts how many requests it sent, and when every fuzz
test ran, the module checks that they sent at least 1,000 together. Three 500s it found (deep JSON, a lone surrogate in
q, a k of over 4,300 digits) are fixed and pinned by tests at the end.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings as hypothesis_settings, strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode

from docsearch.search import request as settings

QUESTION = "Which 2008 agreement governs the strategic dialogue?"
DOC_URI = "urn:docsearch:openapi"
JSON = "application/json"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")

POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
SCHEMATHESIS_RUNS = [
    ("GET", "/api/search", POSITIVE, 120),
    ("GET", "/api/search", NEGATIVE, 120),
    ("POST", "/api/search", POSITIVE, 120),
    ("POST", "/api/search", NEGATIVE, 120),
    ("GET", "/", POSITIVE, 60),
    ("GET", "/", NEGATIVE, 60),
    ("GET", "/api/similar", POSITIVE, 60),
    ("GET", "/api/similar", NEGATIVE, 60),
    ("POST", "/api/similar", POSITIVE, 60),
    ("POST", "/api/similar", NEGATIVE, 60),
]
HOSTILE_RUNS = {"query_strings": 200, "json_bodies": 220, "methods_and_paths": 100}
# The same document and app with an API key: schemathesis sends no key or random ones (401s), or the key.
KEYED_RUNS = [
    ("GET", "/api/search", POSITIVE, 60),
    ("POST", "/api/search", NEGATIVE, 40),
    ("POST", "/api/similar", POSITIVE, 30),
    ("GET", "/", POSITIVE, 30),
    ("GET", "/doc/{file_id}", POSITIVE, 20),
    ("GET", "/metrics", POSITIVE, 15),
    ("GET", "/openapi.json", POSITIVE, 10),
    ("POST", "/sign-in", POSITIVE, 20),
    ("POST", "/sign-in", NEGATIVE, 20),
]
KEYED_HOSTILE_RUNS = 150
FUZZ_TESTS = len(SCHEMATHESIS_RUNS) + len(HOSTILE_RUNS) + len(KEYED_RUNS) + 1
KEY = "ds_fuzzing-key-0123456789abcdefghij"
OPEN_TO_ALL = ("/healthz", "/sign-in", "/sign-out")
SENT: list[int] = []  # the requests each fuzz test of this run sent


def fuzz_settings(examples: int):
    """Hypothesis settings for a fuzz run: no deadline (the model is real), nothing saved in the checkout."""
    return hypothesis_settings(
        max_examples=examples, deadline=None, database=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _pointer(document: dict, pointer: str):
    node = document
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Contract:
    """Check responses against the OpenAPI document, and count them."""

    def __init__(self, document: dict):
        self.document = document
        resource = Resource(contents=document, specification=DRAFT202012)
        self.registry = Registry().with_resource(DOC_URI, resource)
        self.sent = 0
        self.validator = lru_cache(maxsize=None)(self._validator)

    def _validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{DOC_URI}#{pointer}"}, registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def declared(self, path: str, method: str, status: int) -> str:
        """Return the JSON pointer of the response the document declares, following $refs."""
        operation = self.document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            keyed = "security" in self.document  # a server with keys tells a client without one nothing, not even 404
            assert status in (404, 405) or (keyed and status == 401), f"{method} {path}: undocumented, answered {status}"
            pointer = "/components/responses/" + ("Unauthorized" if status == 401 else "Error")
        else:
            assert str(status) in operation["responses"], f"{method} {path}: status {status} is not declared"
            pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/{status}"
        while "$ref" in (node := _pointer(self.document, pointer)):
            pointer = node["$ref"].removeprefix("#")
        return pointer

    def check(self, method: str, path: str, status: int, headers: dict[str, str], body: bytes, sent=None):
        """Assert that one response is what the document promises."""
        self.sent += 1
        where = f"{method} {path} {repr(sent)[:300]} -> {status}: {body[:300]!r}"
        assert status < 500, where
        assert all(name in headers for name in SECURITY_HEADERS), where
        if status in (301, 302, 303, 307, 308):  # werkzeug merging slashes, or signed in: same host, never elsewhere
            assert urlsplit(headers["location"]).netloc in ("", "localhost"), where
            return None
        if path.startswith("/static/") and status == 200:
            return None
        pointer = self.declared(path, method, status)
        media_type = headers["content-type"].split(";")[0].strip()
        content = _pointer(self.document, pointer)["content"]
        assert media_type in content, f"{where}: {media_type} is not declared"
        if media_type != JSON:
            body.decode("utf-8")  # a page: UTF-8 text
            return None
        found = json.loads(body, parse_constant=_no_constant)
        errors = sorted(self.validator(f"{pointer}/content/{_escape(JSON)}/schema").iter_errors(found), key=str)
        assert not errors, f"{where}: {[e.message for e in errors[:3]]}"
        if status >= 400:
            assert found["status"] == status, where
        return found

    def request(self, client, method: str, path: str, **kwargs):
        """Send one request through the Flask client and check the response."""
        response = client.open(path, method=method, **kwargs)
        headers = {name.lower(): value for name, value in response.headers.items()}
        sent = kwargs.get("data") or kwargs.get("json") or kwargs.get("query_string")
        checked = self.check(method, path, response.status_code, headers, response.get_data(), sent)
        return response, checked


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Encode on one thread while fuzzing: a one-question batch gains nothing from two, and on
    a busy 2-core machine two threads contend (15 ms a question on one thread, 70-300 ms on two)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", autouse=True)
def fuzz_total():
    """After the module: when every fuzz test ran, together they sent at least 1,000 checked requests."""
    SENT.clear()
    yield
    if len(SENT) == FUZZ_TESTS:
        assert sum(SENT) >= 1000, SENT


@pytest.fixture()
def contract(client):
    """The app's own OpenAPI document, as a response checker."""
    return Contract(client.get("/openapi.json").get_json())


@pytest.fixture()
def keyed_app(docs_index, encoder, searcher):
    """The app over the demo corpus index with one API key, KEY."""
    from docsearch.search import create_app
    from docsearch.search.config import Config

    app = create_app(Config.load({"index_dir": docs_index, "api_keys": KEY}, environ={}), encoder=encoder)
    app.extensions["docsearch"]["searcher"] = searcher
    return app


@pytest.fixture()
def keyed_contract(keyed_app):
    """The keyed app's OpenAPI document (which needs the key too), as a response checker."""
    return Contract(keyed_app.test_client().get("/openapi.json", headers={"Authorization": f"Bearer {KEY}"}).get_json())


def sent_at_least(contract: Contract, examples: int) -> None:
    """Assert that a fuzz test sent (and checked) at least its number of requests, and count them."""
    assert contract.sent >= examples
    SENT.append(contract.sent)


# --- the document ---------------------------------------------------------------------------------


def test_openapi_json_is_a_valid_openapi_document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == JSON
    document = response.get_json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/api/search", "/api/similar", "/healthz", "/", "/openapi.json", "/doc/{file_id}",
                                      "/metrics"}
    assert set(document["paths"]["/api/search"]) == {"get", "post"}
    schema = schemathesis.openapi.from_dict(document)
    assert {op.ok().label for op in schema.get_all_operations()} >= {
        "GET /api/search", "POST /api/search", "GET /healthz", "GET /",
    }


def test_document_limits_match_the_code(client, contract):
    document = client.get("/openapi.json").get_json()
    params = {p["name"]: p for p in document["paths"]["/api/search"]["get"]["parameters"]}
    body = document["paths"]["/api/search"]["post"]["requestBody"]
    request_schema = document["components"]["schemas"]["SearchRequest"]
    assert params["q"]["required"] is True and params["q"]["schema"]["maxLength"] == settings.MAX_QUERY_CHARS == 1000
    for k in (params["k"]["schema"], request_schema["properties"]["k"]):
        assert (k["type"], k["minimum"], k["maximum"], k["default"]) == ("integer", 1, settings.MAX_K, settings.DEFAULT_K)
    assert params["mode"]["schema"]["enum"] == request_schema["properties"]["mode"]["enum"] == list(settings.MODES)
    assert params["group"]["schema"]["enum"] == ["file"]
    assert body["x-max-body-bytes"] == settings.MAX_BODY_BYTES == 64 * 1024
    assert request_schema["properties"]["q"] == params["q"]["schema"]
    # "Not blank" in the document is what the code strips: the same white space, character by character.
    not_blank = re.compile(params["q"]["schema"]["pattern"])
    assert [hex(c) for c in range(0x110000) if bool(not_blank.search(chr(c))) != bool(chr(c).strip())] == []
    # And the code takes exactly what the document says, at the edges.
    longest = params["q"]["schema"]["maxLength"]
    for q, status in (("x" * longest, 200), ("x" * (longest + 1), 400)):
        assert contract.request(client, "GET", "/api/search", query_string={"q": q, "k": 1})[0].status_code == status
    for k, status in ((1, 200), (settings.MAX_K, 200), (0, 400), (settings.MAX_K + 1, 400)):
        assert contract.request(client, "POST", "/api/search", json={"q": "Iraq", "k": k})[0].status_code == status
    for mode in params["mode"]["schema"]["enum"]:
        assert contract.request(client, "GET", "/api/search", query_string={"q": "Iraq", "mode": mode})[0].status_code == 200
    limit = body["x-max-body-bytes"]
    at_limit = json.dumps({"q": "Iraq"}).encode().ljust(limit)
    assert contract.request(client, "POST", "/api/search", data=at_limit, content_type=JSON)[0].status_code == 200
    assert contract.request(client, "POST", "/api/search", data=at_limit + b" ", content_type=JSON)[0].status_code == 413


def test_keyed_document_declares_the_401s_and_the_key(keyed_contract):
    document = keyed_contract.document
    validate_openapi(document)
    assert document["security"] == [{"apiKey": []}]
    assert document["components"]["securitySchemes"]["apiKey"] == {**document["components"]["securitySchemes"]["apiKey"],
                                                                   "type": "http", "scheme": "bearer"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in OPEN_TO_ALL:
                assert operation["security"] == [], (method, path)
            else:
                assert "401" in operation["responses"] and "security" not in operation, (method, path)


def test_responses_match_the_declared_schemas(client, contract):
    _, got = contract.request(client, "GET", "/api/search", query_string={"q": QUESTION, "k": 3, "group": "file"})
    assert all("more_in_file" in hit for hit in got["results"])
    _, got = contract.request(client, "POST", "/api/search", json={"q": QUESTION, "mode": "lexical"})
    assert got["results"] and all("more_in_file" not in hit for hit in got["results"])
    assert contract.request(client, "GET", "/healthz")[1]["status"] == "ok"
    assert contract.request(client, "GET", "/", query_string={"q": QUESTION})[0].status_code == 200
    assert contract.request(client, "GET", "/api/nothing")[0].status_code == 404


def test_schemas_reject_what_the_code_never_sends(contract):
    results = contract.validator("/components/schemas/SearchResponse")
    good = {"query": "x", "k": 1, "mode": "dense", "group": None, "took_ms": 1.0, "low_confidence": True, "results": []}
    assert results.is_valid(good) and results.is_valid({**good, "generation": 3})
    assert not results.is_valid({**good, "group": "folder"})
    hit = {"rank": 1, "score": 0.5, "text": "t", "source": "a.txt", "passage": 1, "line_start": 1, "line_end": 1,
           "start": 0, "end": 1, "title": None, "section": None, "page": None, "page_end": None, "id": 0,
           "dense_rank": 1, "dense_score": 0.5, "lexical_rank": None, "lexical_score": None, "highlights": [[0, 1]]}
    assert results.is_valid({**good, "results": [hit]})
    assert not results.is_valid({**good, "results": [{**hit, "more_in_file": 2}]})  # only with group=file
    assert not results.is_valid({**good, "group": "file", "results": [hit]})
    assert not results.is_valid({**good, "results": [{**hit, "highlights": [[0, 1, 2]]}]})
    assert not results.is_valid({**good, "results": [{**hit, "surprise": 1}]})
    assert not contract.validator("/components/schemas/Error").is_valid({"error": "x"})


# --- schemathesis: requests generated from the document -------------------------------------------


@pytest.mark.parametrize("method, path, mode, examples", SCHEMATHESIS_RUNS, ids=lambda v: str(v))
def test_generated_requests_get_declared_answers(app, contract, method, path, mode, examples):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operation = schema[path][method]

    @fuzz_settings(examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        # JSON Schema calls 3.0 an integer and cannot say otherwise; the code rejects it, as documented.
        assume(mode is NEGATIVE or not isinstance(case.body, dict)
               or not any(isinstance(case.body.get(name), float) for name in ("k", "id")))
        response = case.call()
        headers = {name: values[0] for name, values in response.headers.items()}
        sent = case.body if method == "POST" else case.query
        found = contract.check(method, path, response.status_code, headers, response.content, sent)
        asked = case.body if method == "POST" else case.query
        # A passage id valid by the document may name no passage: the document's 404 says so.
        fields = asked if isinstance(asked, dict) else {}
        names_a_passage = "id" in fields or ("like" in fields and "q" not in fields)
        if mode is POSITIVE:  # valid by the document, so the code must take it
            assert response.status_code == 200 or (names_a_passage and response.status_code == 404), (
                case.query, case.body, response.content[:300])
            if path == "/api/search":
                assert found["query"] == asked["q"].strip() and found["k"] == int(asked.get("k", settings.DEFAULT_K))

    run()
    sent_at_least(contract, examples)


@pytest.mark.parametrize("method, path, mode, examples", KEYED_RUNS, ids=lambda v: str(v))
def test_generated_requests_to_a_keyed_app_get_declared_answers(keyed_app, keyed_contract, method, path, mode, examples):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", keyed_app, headers={"Authorization": f"Bearer {KEY}"})
    operation = schema[path][method]

    @fuzz_settings(examples)
    @given(case=operation.as_strategy(generation_mode=mode), with_key=st.booleans())
    def run(case, with_key):
        assume(mode is NEGATIVE or not isinstance(case.body, dict)
               or not any(isinstance(case.body.get(name), float) for name in ("k", "id")))
        if with_key:  # in place of any Authorization header schemathesis made up, whatever its case
            case.headers = {name: value for name, value in (case.headers or {}).items()
                            if name.lower() != "authorization"}
            case.headers["Authorization"] = f"Bearer {KEY}"
        response = case.call()
        sent = next((value for name, value in (case.headers or {}).items() if name.lower() == "authorization"), None)
        found_headers = {name: values[0] for name, values in response.headers.items()}
        keyed_contract.check(method, path, response.status_code, found_headers, response.content, (sent, case.query))
        if path in OPEN_TO_ALL:
            return
        assert (response.status_code == 401) == (sent != f"Bearer {KEY}"), (sent, response.status_code)
        fields = case.body if isinstance(case.body, dict) else case.query or {}
        if with_key and mode is POSITIVE:  # valid by the document, with the key: the code must take it
            assert response.status_code == 200 or (response.status_code == 404 and (
                "id" in fields or "file_id" in (case.path_parameters or {}) or "like" in fields)), response.content[:300]

    run()
    sent_at_least(keyed_contract, examples)


AUTHORIZATION = st.one_of(
    st.none(), st.just(f"Bearer {KEY}"), st.just(f"bearer {KEY}"), st.just(f"Bearer {KEY}x"), st.just(KEY),
    st.just(f"Basic {KEY}"), st.just("Bearer"), st.just("Bearer "), st.just(f"Bearer {KEY[:-1]}"),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
)
COOKIE_VALUE = st.one_of(st.none(), st.just(KEY), st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                                                                          exclude_characters=";,\\\""), max_size=80))


def test_hostile_requests_to_a_keyed_app(keyed_app, keyed_contract):
    """Random keys, headers and cookies: a 401 unless the key is right, wherever it is sent."""
    client = keyed_app.test_client()
    paths = st.sampled_from(["/api/search", "/api/similar", "/", "/metrics", "/openapi.json", "/healthz",
                             "/sign-in", *ODD_PATHS])

    @fuzz_settings(KEYED_HOSTILE_RUNS)
    @given(path=paths, query=QUERY, authorization=AUTHORIZATION, cookie=COOKIE_VALUE)
    def run(path, query, authorization, cookie):
        headers = {} if authorization is None else {"Authorization": authorization}
        if cookie is not None:
            headers["Cookie"] = f"docsearch_session={cookie}"
        response, _ = keyed_contract.request(client, "GET", path, query_string=query, headers=headers)
        open_to_all = path in OPEN_TO_ALL or (path.startswith("/static/") and response.status_code in (200, 404))
        keyed = authorization is not None and authorization.strip().lower() == f"bearer {KEY}".lower() \
            and authorization.split(None, 1)[1:] == [KEY]
        if not open_to_all:
            assert (response.status_code == 401) == (not keyed), (path, authorization, cookie, response.status_code)

    run()
    sent_at_least(keyed_contract, KEYED_HOSTILE_RUNS)


# --- hostile requests written by hand -------------------------------------------------------------

# Three 500s this fuzzer found (now fixed), each pinned by a regression test at the end of the file.
MAX_NESTING = 50_000  # deep JSON once gave RecursionError (test_deeply_nested_json_is_a_400)
MAX_K_DIGITS = 10_000  # a k over 4,300 digits once made int() raise (test_k_with_more_than_4300_digits_is_a_400)
SURROGATES = True  # lone surrogates once reached the tokenizer (test_lone_surrogate_in_q_is_a_400)

NASTY = [
    "", " ", "\t\r\n", "\x00", "Iraq\x00troops", "\x00" * 50, "\u3000", "\ufeff", "\u200b", "\u202eIraq", "\x02Iraq\x03",
    "\x1c\x1f", "İstanbul", "ﬁnance", "Straße", "👩‍👩‍👧‍👦", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇", "مرحبا بالعالم", "中文字符",
    '"Iraq" OR "troops"', "Iraq*", "NEAR(Iraq troops)", "' OR 1=1 --", "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>', "../../etc/passwd", "Iraq\r\nSet-Cookie: x=1", "%00", "null", "true", "[]", "{}",
    "\\", "\\u0000",
]
HUGE = st.builds(lambda piece, n: piece * n, st.sampled_from(["x", "é", "💩", "\x00", " ", "Iraq ", "\u200b"]),
                 st.integers(900, 20_000))
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), HUGE)
# A question the code takes, so that the parameters checked after q are reached.
QUESTION_TEXT = st.one_of(
    st.sampled_from(["Iraq", "US troops", "strategic dialogue agreement", "¿Qué pasó?", "Iraq\x00troops", "💩"]),
    st.text(min_size=1, max_size=30).filter(str.strip),
)
LONE_SURROGATE = st.builds(lambda q, c: q + c, QUESTION_TEXT, st.characters(categories=["Cs"]))
JSON_TEXT = st.one_of(TEXT, LONE_SURROGATE) if SURROGATES else TEXT
HUGE_DIGITS = st.integers(1000, MAX_K_DIGITS).map(lambda n: "9" * n)
K_TEXT = st.one_of(  # the code takes ASCII digits only
    st.integers(-1000, 1000).map(str), HUGE_DIGITS, TEXT,
    st.sampled_from(["", " 7 ", "+5", "05", "007", "1.0", "1e2", "0x10", "１０", "٣", "²", "true", "NaN", "5\x00"]),
)
MODE_TEXT = st.one_of(st.sampled_from([*settings.MODES, "", "HYBRID", "fuzzy", "dense\x00", " dense"]), TEXT)
GROUP_TEXT = st.one_of(st.sampled_from(["file", "", "FILE", "folder", "file\x00"]), TEXT)
GLOB_TEXT = st.one_of(st.sampled_from(["0*", "**/*.txt", "[", "[]", "[!", "a//b", "/etc/**", "../**", "***", "**x",
                                       "\\", "[a-", "0[0-4]*.txt", "?" * 600, "*\x00*", "{a,b}"]), TEXT)
TYPE_TEXT = st.one_of(st.sampled_from(["txt", "md,txt", ".TXT", ",", "pdf,,md", "t" * 11, "ä", "txt;rm", "a," * 30]),
                      TEXT)
ID_TEXT = st.one_of(st.integers(-5, 200).map(str), K_TEXT)
PARAMETER = st.one_of(
    st.tuples(st.just("q"), TEXT), st.tuples(st.just("k"), K_TEXT), st.tuples(st.just("mode"), MODE_TEXT),
    st.tuples(st.just("group"), GROUP_TEXT), st.tuples(st.just("path"), GLOB_TEXT),
    st.tuples(st.just("type"), TYPE_TEXT), st.tuples(st.sampled_from(["id", "like"]), ID_TEXT),
    st.tuples(st.text(max_size=8), TEXT),
)
RAW_QUERY = st.lists(
    st.sampled_from(["q=%FF%FE", "q=%ED%A0%80", "q=%", "q=%zz", "q=%00", "k=%00", "k=1%2E0", "q=Iraq", "q=a&q=b",
                     "q=%C0%AF", "&&", "q", "=x", "k=", "mode=%64ense", "group=file", "q=+", "q=Iraq%0D%0A"]),
    min_size=1, max_size=5,
).map("&".join)
QUERY = st.one_of(
    st.fixed_dictionaries({"q": QUESTION_TEXT}, optional={"k": K_TEXT, "mode": MODE_TEXT, "group": GROUP_TEXT,
                                                          "path": GLOB_TEXT, "type": TYPE_TEXT}).map(
        lambda found: list(found.items())),
    st.fixed_dictionaries({"id": ID_TEXT}, optional={"k": K_TEXT, "group": GROUP_TEXT, "path": GLOB_TEXT,
                                                     "type": TYPE_TEXT}).map(lambda found: list(found.items())),
    st.lists(PARAMETER, max_size=5),  # repeated, missing and unknown names too
    RAW_QUERY,
)

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), JSON_TEXT)
JSON_VALUE = st.recursive(
    JSON_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
K_JSON = st.one_of(
    st.integers(1, settings.MAX_K), st.integers(-(10**30), 10**30), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 10.0, 1e2, "3", "10", [5], {"k": 5}]),
    JSON_VALUE,
)
SEARCH_OBJECT = st.fixed_dictionaries(
    {"q": st.one_of(QUESTION_TEXT, JSON_TEXT, JSON_VALUE)},
    optional={
        "k": st.one_of(st.integers(1, settings.MAX_K), K_JSON),
        "mode": st.one_of(st.sampled_from(settings.MODES), MODE_TEXT, JSON_VALUE),
        "group": st.one_of(st.just("file"), GROUP_TEXT, JSON_VALUE),
        "path": st.one_of(GLOB_TEXT, JSON_VALUE),
        "type": st.one_of(TYPE_TEXT, st.lists(TYPE_TEXT, max_size=25), JSON_VALUE),
        "id": st.one_of(st.integers(-5, 200), K_JSON),
        "nested": JSON_VALUE,
    },
)


def _dumps(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()  # NaN and Infinity: not JSON, but Python reads them


def _nested(depth: int, opener: str) -> bytes:
    return (opener * depth + "1" + {"[": "]", '{"q":': "}"}[opener] * depth).encode()


BODY = st.one_of(
    SEARCH_OBJECT.map(_dumps),
    SEARCH_OBJECT.map(lambda o: json.dumps(o).encode("utf-16")),
    SEARCH_OBJECT.map(lambda o: json.dumps(o).encode("utf-8-sig")),
    JSON_VALUE.map(_dumps),
    st.builds(lambda o, cut: _dumps(o)[:cut], SEARCH_OBJECT, st.integers(0, 50)),
    st.builds(_nested, st.integers(1, MAX_NESTING), st.sampled_from(["[", '{"q":'])),
    st.binary(max_size=200),
    st.integers(settings.MAX_BODY_BYTES - 20, 3 * settings.MAX_BODY_BYTES).map(lambda n: b'{"q": "' + b"a" * n + b'"}'),
)
CONTENT_TYPE = st.sampled_from([
    JSON, "application/json; charset=utf-8", "application/json; charset=latin-1", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/xml", "image/png", "",
])


def test_hostile_query_strings(client, contract):
    @fuzz_settings(HOSTILE_RUNS["query_strings"])
    @given(path=st.sampled_from(["/api/search", "/api/similar", "/"]), query=QUERY)
    def run(path, query):
        response, found = contract.request(client, "GET", path, query_string=query)
        if response.status_code == 200 and path == "/api/search":
            assert found["query"] and found["query"] == found["query"].strip()

    run()
    sent_at_least(contract, HOSTILE_RUNS["query_strings"])


def test_hostile_json_bodies(client, contract):
    @fuzz_settings(HOSTILE_RUNS["json_bodies"])
    @given(body=BODY, content_type=CONTENT_TYPE, path=st.sampled_from(["/api/search", "/api/similar"]))
    def run(body, content_type, path):
        response, _ = contract.request(client, "POST", path, data=body, content_type=content_type)
        assert (response.status_code == 413) == (len(body) > settings.MAX_BODY_BYTES), len(body)

    run()
    sent_at_least(contract, HOSTILE_RUNS["json_bodies"])


ODD_PATHS = ["/api", "/api/search/", "/api/searchx", "/API/SEARCH", "/api//search", "/healthz/", "/index.html",
             "/static/", "/static/../search/api.py", "/static/%2e%2e/search/api.py", "/static/%00", "/%00",
             "/openapi.json/", "/static/style.css", "/.docsearch/CURRENT", "/api/search%00", "/%ff%fe"]


def test_hostile_methods_and_paths(client, contract):
    documented = list(contract.document["paths"])
    wrong_method = st.tuples(st.sampled_from(["PUT", "DELETE", "PATCH", "TRACE"]), st.sampled_from(documented))
    post_elsewhere = st.tuples(st.just("POST"), st.sampled_from(
        [p for p in documented if "post" not in contract.document["paths"][p]]))
    odd_path = st.tuples(st.just("GET"), st.sampled_from(ODD_PATHS) | st.text(min_size=1, max_size=30).map(lambda t: "/" + quote(t, safe="")))

    @fuzz_settings(HOSTILE_RUNS["methods_and_paths"])
    @given(request=st.one_of(wrong_method, post_elsewhere, odd_path), body=st.binary(max_size=50))
    def run(request, body):
        method, path = request
        response, _ = contract.request(client, method, path, data=body)
        if method != "GET" and not (method == "POST" and "post" in contract.document["paths"].get(path, {})):
            assert response.status_code == 405

    run()
    sent_at_least(contract, HOSTILE_RUNS["methods_and_paths"])


# --- 500s the fuzzer found, now 400s -------------------------------------------------------------


def test_deeply_nested_json_is_a_400(client, contract):
    response, _ = contract.request(client, "POST", "/api/search", data=b"[" * 50_000, content_type=JSON)
    assert response.status_code == 400
    assert response.get_json() == {"error": "request body is nested too deeply", "status": 400}


def test_lone_surrogate_in_q_is_a_400(client, contract):
    response, _ = contract.request(client, "POST", "/api/search", data=b'{"q": "Iraq \\ud800"}', content_type=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"] == "q is not valid Unicode text"


@pytest.mark.parametrize("path", ["/api/search", "/"])
def test_k_with_more_than_4300_digits_is_a_400(client, contract, path):
    response, _ = contract.request(client, "GET", path, query_string={"q": "Iraq", "k": "9" * 4301})
    assert response.status_code == 400
    assert "k must be an integer from 1 to 100" in response.get_data(as_text=True)
