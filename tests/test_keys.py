"""API keys: the key file, `docsearch key add`, the 401s, the sign-in page and its cookie (Flask test client)."""

from __future__ import annotations

import logging
import stat

import pytest
from click.testing import CliRunner

from docsearch.search import create_app
from docsearch.search.auth import COOKIE
from docsearch.search.cli import cli
from docsearch.search.config import Config
from docsearch.search.keys import KeyFileError, KeyRing, add_key, bearer, key_hash

KEY = "ds_test-key-for-the-flask-client-0001"
OTHER_KEY = "ds_test-key-for-the-flask-client-0002"
# One request for each documented operation a key guards; a new endpoint without one here fails
# test_every_endpoint_but_healthz_needs_a_key, so it cannot slip out unguarded.
GUARDED = {
    ("get", "/api/search"): {"path": "/api/search", "query_string": {"q": "Iraq", "k": 2}},
    ("post", "/api/search"): {"path": "/api/search", "json": {"q": "Iraq", "k": 2}},
    ("get", "/api/similar"): {"path": "/api/similar", "query_string": {"id": 1, "k": 2}},
    ("post", "/api/similar"): {"path": "/api/similar", "json": {"id": 1, "k": 2}},
    ("get", "/"): {"path": "/", "query_string": {"q": "Iraq"}},
    ("get", "/doc/{file_id}"): {"path": "/doc/1"},
    ("get", "/openapi.json"): {"path": "/openapi.json"},
    ("get", "/metrics"): {"path": "/metrics"},
}
OPEN = {("get", "/healthz"), ("get", "/sign-in"), ("post", "/sign-in"), ("post", "/sign-out")}


def keyed_app(index_dir, encoder, searcher=None, **settings):
    """Return the app over index_dir with KEY (or the given settings) as its keys."""
    config = Config.load({"index_dir": index_dir, "api_keys": KEY, **settings}, environ={})
    app = create_app(config, encoder=encoder)
    app.extensions["docsearch"]["searcher"] = searcher
    return app


@pytest.fixture()
def keyed(docs_index, encoder, searcher):
    """A test client of the app with one key."""
    return keyed_app(docs_index, encoder, searcher).test_client()


def with_key(key: str = KEY) -> dict:
    return {"Authorization": f"Bearer {key}"}


def send(client, method: str, request: dict, headers: dict | None = None):
    return client.open(request["path"], method=method.upper(), query_string=request.get("query_string"),
                       json=request.get("json"), headers=headers or {})


# --- the ring and the key file ----------------------------------------------------------------------


def test_key_add_writes_only_the_hash_and_prints_the_key_once(tmp_path):
    key_file = tmp_path / "keys"
    first = CliRunner().invoke(cli, ["key", "add", "--api-key-file", str(key_file), "--name", "ci bot"])
    second = CliRunner().invoke(cli, ["key", "add", "--api-key-file", str(key_file)])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    keys = [first.stdout.strip(), second.stdout.strip()]
    assert keys[0] != keys[1] and all(k.startswith("ds_") and len(k) == 46 for k in keys)
    written = key_file.read_text()
    assert keys[0] not in written and keys[1] not in written
    assert f"sha256:{key_hash(keys[0]).hex()}" in written and "ci bot" in written
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    ring = KeyRing.load(Config.load({"api_key_file": str(key_file)}, environ={}))
    assert len(ring) == 2 and ring.accepts(keys[0]) and ring.accepts(keys[1])
    assert not ring.accepts(keys[0][:-1]) and not ring.accepts(key_hash(keys[0]).hex()) and not ring.accepts("")


def test_key_add_needs_a_file():
    result = CliRunner().invoke(cli, ["key", "add"], env={"DOCSEARCH_API_KEY_FILE": ""})
    assert result.exit_code == 2 and "--api-key-file FILE" in result.output


def test_environment_keys_are_hashed_and_trimmed():
    ring = KeyRing.load(Config.load(environ={"DOCSEARCH_API_KEYS": f" {KEY} ,{OTHER_KEY},"}))
    assert len(ring) == 2 and ring.accepts(KEY) and ring.accepts(OTHER_KEY) and not ring.accepts(KEY + "x")
    assert KEY not in repr(ring) and "\n".join(Config.load(environ={"DOCSEARCH_API_KEYS": KEY}).describe()).count(KEY) == 0


@pytest.mark.parametrize("content, message", [
    ("", "holds no key"),
    ("# only a comment\n\n", "holds no key"),
    ("sha256:" + "0" * 64 + "\nds_plain_key_by_mistake\n", "line 2, is not a key hash"),
    ("sha256:" + "A" * 64 + "\n", "line 1, is not a key hash"),
])
def test_a_bad_key_file_is_one_clear_error(tmp_path, content, message):
    key_file = tmp_path / "keys"
    key_file.write_text(content)
    with pytest.raises(KeyFileError, match=message):
        KeyRing.load(Config.load({"api_key_file": str(key_file)}, environ={}))
    with pytest.raises(KeyFileError, match="cannot read API key file"):
        KeyRing.load(Config.load({"api_key_file": str(tmp_path / "missing")}, environ={}))


def test_a_short_environment_key_is_refused():
    with pytest.raises(KeyFileError, match="at least 16"):
        KeyRing.load(Config.load(environ={"DOCSEARCH_API_KEYS": "secret"}))


def test_add_key_keeps_a_file_without_a_final_newline_parseable(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"sha256:{key_hash(KEY).hex()}")
    made = add_key(key_file)
    ring = KeyRing.load(Config.load({"api_key_file": str(key_file)}, environ={}))
    assert ring.accepts(KEY) and ring.accepts(made)


@pytest.mark.parametrize("header, key", [
    (f"Bearer {KEY}", KEY), (f"bearer  {KEY} ", KEY), ("Bearer", None), ("Bearer ", None), (f"Basic {KEY}", None),
    (KEY, None), (None, None),
])
def test_bearer(header, key):
    assert bearer(header) == key


# --- the app -------------------------------------------------------------------------------------


def test_every_endpoint_but_healthz_needs_a_key(keyed):
    document = keyed.get("/openapi.json", headers=with_key()).get_json()
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == set(GUARDED) | OPEN
    for (method, path), request in GUARDED.items():
        missing, wrong, right = (send(keyed, method, request, headers) for headers in
                                 ({}, with_key(OTHER_KEY), with_key()))
        assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200), (method, path)
        assert document["paths"][path][method]["responses"]["401"]
    missing = keyed.get("/api/search", query_string={"q": "Iraq"})
    assert missing.get_json() == {"error": "this server needs an API key: send the header Authorization: Bearer KEY",
                                  "status": 401}
    wrong = keyed.get("/api/search", query_string={"q": "Iraq"}, headers=with_key(OTHER_KEY))
    assert wrong.get_json() == {"error": "the API key is not valid", "status": 401}
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="docsearch"'
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/static/style.css").status_code == 200  # the sign-in page's stylesheet
    assert keyed.get("/no-such-page").status_code == 401  # nothing about the server without a key


def test_pages_without_a_key_show_the_sign_in_page(keyed):
    page = keyed.get("/", query_string={"q": "Iraq troops"})
    assert page.status_code == 401 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'action="/sign-in"' in html and 'name="next" value="/?q=Iraq+troops"' in html
    assert "Iraq" not in html.replace("/?q=Iraq+troops", "")  # no result leaked
    document = keyed.get("/doc/1", headers={"Accept": "application/json"})
    assert document.status_code == 401 and document.get_json()["status"] == 401


def test_sign_in_sets_a_signed_httponly_strict_cookie_that_opens_the_pages(keyed):
    refused = keyed.post("/sign-in", data={"key": OTHER_KEY, "next": "/?q=Iraq"})
    assert refused.status_code == 401 and "That key is not valid." in refused.get_data(as_text=True)
    assert "Set-Cookie" not in refused.headers
    response = keyed.post("/sign-in", data={"key": KEY, "next": "/?q=Iraq"})
    assert response.status_code == 303 and response.headers["Location"] == "/?q=Iraq"
    cookie = response.headers["Set-Cookie"]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= set(flags) and flags["samesite"] == "SameSite=Strict"
    assert "secure" not in flags  # plain HTTP here; over HTTPS (request.is_secure) it is Secure
    assert KEY not in cookie and key_hash(KEY).hex() not in cookie
    page = keyed.get("/", query_string={"q": "Iraq"})
    assert page.status_code == 200 and "Sign out" in page.get_data(as_text=True)
    assert keyed.get("/api/search", query_string={"q": "Iraq"}).status_code == 200  # the cookie serves fetches too
    # A header that is there decides, even beside a good cookie.
    assert keyed.get("/api/search", query_string={"q": "Iraq"}, headers=with_key(OTHER_KEY)).status_code == 401
    signed_out = keyed.post("/sign-out")
    assert signed_out.status_code == 303 and "Max-Age=0" in signed_out.headers["Set-Cookie"]
    assert keyed.get("/", query_string={"q": "Iraq"}).status_code == 401


def test_cookie_over_https_is_secure(keyed):
    response = keyed.post("/sign-in", data={"key": KEY}, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_tampered_or_foreign_cookie_is_refused(docs_index, encoder, searcher):
    app = keyed_app(docs_index, encoder, searcher)
    cookie = app.test_client().post("/sign-in", data={"key": KEY}).headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    for value in (cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), "x", KEY):
        client = app.test_client()
        client.set_cookie(COOKIE, value)
        response = client.get("/api/search", query_string={"q": "Iraq"})
        assert response.status_code == 401 and response.get_json()["error"] == "the API key is not valid"
    other_server = keyed_app(docs_index, encoder, searcher).test_client()  # its own random secret
    other_server.set_cookie(COOKIE, cookie)
    assert other_server.get("/api/search", query_string={"q": "Iraq"}).status_code == 401


def test_replicas_with_one_session_secret_accept_each_others_cookies(docs_index, encoder, searcher):
    secret = {"session_secret": "shared-by-every-replica-0123456789"}
    one, two = (keyed_app(docs_index, encoder, searcher, **secret).test_client() for _ in range(2))
    cookie = one.post("/sign-in", data={"key": KEY}).headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    two.set_cookie(COOKIE, cookie)
    assert two.get("/api/search", query_string={"q": "Iraq"}).status_code == 200


def test_a_cookie_dies_with_its_key(docs_index, encoder, searcher, tmp_path):
    signed_in = keyed_app(docs_index, encoder, searcher, session_secret="s" * 32, api_keys=f"{KEY},{OTHER_KEY}")
    cookie = signed_in.test_client().post("/sign-in", data={"key": OTHER_KEY}).headers["Set-Cookie"]
    restarted = keyed_app(docs_index, encoder, searcher, session_secret="s" * 32).test_client()  # OTHER_KEY revoked
    restarted.set_cookie(COOKIE, cookie.split(";")[0].split("=", 1)[1])
    assert restarted.get("/api/search", query_string={"q": "Iraq"}).status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_sign_in_never_sends_the_browser_elsewhere(keyed, target):
    response = keyed.post("/sign-in", data={"key": KEY, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_wrong_key_is_never_logged(docs_index, encoder, searcher, caplog):
    client = keyed_app(docs_index, encoder, searcher, log_queries=True).test_client()
    wrong = "ds_wrong-key-that-must-never-be-logged"
    with caplog.at_level(logging.DEBUG):
        client.get("/api/search", query_string={"q": "Iraq"}, headers=with_key(wrong))
        client.post("/sign-in", data={"key": wrong})
        client.post("/sign-in", data={"key": KEY})
        client.get("/?q=Iraq")
    assert caplog.records and "401" in caplog.text
    assert wrong not in caplog.text and KEY not in caplog.text and COOKIE not in caplog.text


def test_without_keys_nothing_needs_one(client):
    assert client.get("/api/search", query_string={"q": "Iraq"}).status_code == 200
    assert client.get("/sign-in").status_code == 404
    document = client.get("/openapi.json").get_json()
    assert "security" not in document and "/sign-in" not in document["paths"]
    assert "401" not in document["paths"]["/api/search"]["get"]["responses"]
