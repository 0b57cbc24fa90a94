"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json.

The document is plain data built from the limits the code checks requests
against (docsearch.search.request), so its limits (question length, k, modes, body size) cannot drift.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, current_app

from . import request as limits

bp = Blueprint("openapi", __name__)

JSON = "application/json"
HTML = "text/html"
# A character that str.strip() keeps. Spelled out because JSON Schema's \S is not Python's:
# it counts \x1c-\x1f and \x85 as text and a byte-order mark as white space.
NOT_WHITE_SPACE = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
HIT_FIELDS = {
    "rank": {"type": "integer", "minimum": 1, "description": "1 for the best passage"},
    "score": {"type": "number", "description": "fused score, 0 to 1 (hybrid), cosine (dense) or BM25 (lexical)"},
    "text": {"type": "string", "description": "the passage, exactly as in the file's document text"},
    "source": {"type": "string", "description": "the file, relative to the corpus folder"},
    "passage": {"type": "integer", "minimum": 1, "description": "the passage's number within its file, from 1"},
    "line_start": {"type": "integer", "minimum": 1},
    "line_end": {"type": "integer", "minimum": 1},
    "start": {"type": "integer", "minimum": 0, "description": "character offset: document_text[start:end] == text"},
    "end": {"type": "integer", "minimum": 0},
    "title": {"type": ["string", "null"], "description": "the file's title (its first heading, metadata title or "
                                                          "headline), null if it has none"},
    "section": {"type": ["string", "null"], "description": "the passage's heading path, such as "
                                                            "\"Install › From source\"; null outside any section"},
    "page": {"type": ["integer", "null"], "minimum": 1, "description": "PDF: the page the passage begins on"},
    "page_end": {"type": ["integer", "null"], "minimum": 1, "description": "PDF: the page it ends on, when another"},
    "id": {"type": "integer", "minimum": 0, "description": "the passage's id in the index generation that answered"},
    "dense_rank": {"type": ["integer", "null"], "minimum": 1},
    "dense_score": {"type": ["number", "null"], "description": "cosine similarity to the question"},
    "lexical_rank": {"type": ["integer", "null"], "minimum": 1},
    "lexical_score": {"type": ["number", "null"], "description": "BM25 score"},
    "highlights": {
        "type": "array",
        "description": "[start, end) offsets in text of the query words that matched",
        "items": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
    },
}
MORE_IN_FILE = {"type": "integer", "minimum": 0, "description": "with group=file only: other passages of the file"}
PAGE = {"name": "page", "in": "query", "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": limits.MAX_K, "default": 1},
        "description": f"which k results: ranks (page - 1) * k + 1 to page * k; the form shows none past rank "
                       f"{limits.MAX_K}. ASCII digits; empty means 1"}
ID = {"type": "integer", "minimum": 1, "maximum": limits.MAX_ID}
# The globs a filter takes, documented as a subset the code always accepts (docsearch.search.globs
# takes more): folder and file names of plain characters with * and ? wildcards, or ** alone.
_NAME = r"[A-Za-z0-9._ -]"
_PART = rf"(?:\*\*|[*?]|{_NAME}+(?:[*?]{_NAME}+)*[*?]?|[*?]{_NAME}+(?:[*?]{_NAME}+)*[*?]?)"
FILTER_FIELDS = {
    "path": {"type": "string", "maxLength": limits.MAX_GLOB_CHARS, "pattern": f"^{_PART}(?:/{_PART})*$",
             "description": "only files whose path in the corpus matches this glob: * and ? within a name, "
                            "** across folders, [abc] a class (e.g. reports/2024/**, **/*.md)"},
    "type": {"type": "string", "pattern": r"^\.?[A-Za-z0-9]{1,10}(?:,\.?[A-Za-z0-9]{1,10}){0,19}$",
             "description": "only files of these types: extensions, comma-separated (e.g. pdf,md)"},
}
TYPE_LIST = {"type": "array", "maxItems": limits.MAX_TYPES,
             "items": {"type": "string", "pattern": r"^\.?[A-Za-z0-9]{1,10}$"}}
DOCUMENT_PARAMETERS = [
    {"name": "file_id", "in": "path", "required": True, "schema": ID,
     "description": "a file's id in the index, as the form's result links give it; anything else is a 404"},
    {"name": "passage_id", "in": "query", "required": False, "schema": ID, "description": "the passage id to mark"},
    {"name": "generation", "in": "query", "required": False, "schema": ID,
     "description": "the index generation the link was made for; another one gets a notice that ids may have moved"},
]


def _ref(kind: str, name: str) -> dict:
    """Return a reference to a named component."""
    return {"$ref": f"#/components/{kind}/{name}"}


def _fields(max_chars: int) -> dict:
    """Return the schemas of the search parameters q, k, mode, group, path and type."""
    return {
        "q": {"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": NOT_WHITE_SPACE,
              "description": "the question: not blank; white space around it is removed"},
        "k": {"type": "integer", "minimum": 1, "maximum": limits.MAX_K, "default": limits.DEFAULT_K},
        "mode": {"type": "string", "enum": list(limits.MODES), "default": "hybrid"},
        "group": {"type": "string", "enum": ["file"], "description": "only the best passage of each file"},
        **FILTER_FIELDS,
    }


def _similar_fields() -> dict:
    """Return the schemas of the parameters of passages like a stored one."""
    fields = _fields(1)
    return {"id": {**ID, "description": "the passage to find others like: a search result's id"}, "k": fields["k"],
            "group": {**fields["group"], "description": "one passage per file, and none of the passage's own file"},
            **FILTER_FIELDS}


def _query_parameters(fields: dict, required: tuple[str, ...]) -> list[dict]:
    """Return query-string parameters of these fields (numbers as ASCII digits)."""
    return [{"name": name, "in": "query", "required": name in required, "schema": schema,
             **({"description": "ASCII digits"} if schema.get("type") == "integer" else {})}
            for name, schema in fields.items()]


def _search_schemas(max_chars: int) -> dict:
    """Return the schemas of a search: its JSON request, a hit and the response."""
    fields = _fields(max_chars)
    k_in_json = {**fields["k"], "description": "a JSON number: true, 3.0 and \"3\" are refused"}
    types = {"anyOf": [FILTER_FIELDS["type"], TYPE_LIST]}
    echo = {"path": {"type": "string"}, "type": {"type": "array", "items": {"type": "string"}}}
    return {
        "SearchRequest": {"type": "object", "required": ["q"], "properties": {**fields, "k": k_in_json, "type": types}},
        "SimilarRequest": {"type": "object", "required": ["id"],
                           "properties": {**_similar_fields(), "k": k_in_json, "type": types}},
        "SimilarResponse": {
            "type": "object", "required": ["id", "k", "group", "took_ms", "generation", "results"],
            "properties": {"id": ID, "k": fields["k"], "group": {"enum": ["file", None]}, **echo,
                           "took_ms": {"type": "number", "minimum": 0}, "generation": {"type": "integer", "minimum": 1},
                           "results": {"type": "array", "maxItems": limits.MAX_K, "items": _ref("schemas", "Hit")}},
        },
        "Hit": {"type": "object", "required": list(HIT_FIELDS), "additionalProperties": False,
                "properties": {**HIT_FIELDS, "more_in_file": MORE_IN_FILE}},
        "SearchResponse": {
            "type": "object",
            "required": ["query", "k", "mode", "group", "took_ms", "low_confidence", "results"],
            "additionalProperties": True,
            "properties": {
                "query": {"type": "string"}, "k": fields["k"], "mode": fields["mode"], **echo,
                "group": {"enum": ["file", None]}, "took_ms": {"type": "number", "minimum": 0},
                "low_confidence": {"type": "boolean"},
                "results": {"type": "array", "maxItems": limits.MAX_K, "items": _ref("schemas", "Hit")},
                "generation": {"type": "integer", "minimum": 1, "description": "the index generation that answered"},
            },
            # more_in_file is in every result with group=file, and in none without.
            "if": {"required": ["group"], "properties": {"group": {"const": "file"}}},
            "then": {"properties": {"results": {"items": {"required": ["more_in_file"]}}}},
            "else": {"properties": {"results": {"items": {"not": {"required": ["more_in_file"]}}}}},
        },
    }


def _other_schemas() -> dict:
    """Return the schemas of the health report and of the one error shape."""
    count = {"type": "integer", "minimum": 0}
    return {
        "Health": {
            "type": "object", "additionalProperties": True,
            "required": ["status", "passages", "files", "skipped", "model", "dimension", "built_at", "generation"],
            "properties": {
                "status": {"const": "ok"}, "passages": count, "files": count, "skipped": count,
                "model": {"type": "string"}, "dimension": {"type": "integer", "minimum": 1},
                "built_at": {"type": "string", "format": "date-time"}, "generation": {"type": "integer", "minimum": 1},
            },
        },
        "Error": {
            "type": "object", "required": ["error", "status"], "additionalProperties": False,
            "properties": {"error": {"type": "string", "minLength": 1},
                           "status": {"type": "integer", "minimum": 400, "maximum": 599}},
        },
    }


def _responses() -> dict:
    """Return the named responses; every error but the form's is the one JSON error shape."""
    def json_body(description: str, schema: str | dict) -> dict:
        schema = _ref("schemas", schema) if isinstance(schema, str) else schema
        return {"description": description, "content": {JSON: {"schema": schema}}}

    def page(description: str) -> dict:
        return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}

    return {
        "SearchResults": json_body("ranked passages, best first", "SearchResponse"),
        "SimilarResults": json_body("the passages most like the one asked about, best first", "SimilarResponse"),
        "NotFound": json_body("no passage with this id in the live generation", "Error"),
        "PageNotFound": page("the form, with a message saying there is no such passage"),
        "Health": json_body("the index is loaded; what it holds", "Health"),
        "OpenAPI": json_body("this document", {"type": "object", "required": ["openapi", "info", "paths"]}),
        "BadRequest": json_body("a bad parameter or malformed JSON; the message says what to fix", "Error"),
        "TooLarge": json_body("the request body is over the size limit", "Error"),
        "Unavailable": json_body("no index, or one its model does not fit; the message says what to run", "Error"),
        "InternalError": json_body("an unexpected error; the server log has the details", "Error"),
        "Error": json_body("any other error: 404 for an unknown endpoint, 405 for a method it does not take", "Error"),
        "Page": page("the form, with the results when a question was asked"),
        "PageBadRequest": page("the form, with a message saying which parameter is wrong"),
        "PageUnavailable": page("the form, with a message saying how to build the index"),
        "PageInternalError": page("the form, with a message saying the error is the server's"),
        "Document": page("the file as indexed, escaped, the passage marked as #passage-ID; or, if the file "
                         "changed since indexing, its passages as indexed, with a notice"),
        "DocumentBadRequest": page("a message saying which parameter is wrong"),
        "DocumentNotFound": {
            "description": "no such document, or no such passage in it: a page, or the error shape "
                           "when the request accepts JSON before HTML",
            "content": {HTML: {"schema": {"type": "string"}}, JSON: {"schema": _ref("schemas", "Error")}},
        },
        "DocumentUnavailable": page("a message saying how to build the index"),
        "DocumentInternalError": page("a message saying the error is the server's"),
        "Metrics": {"description": "the server's metrics in Prometheus' text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
        "Unauthorized": json_body("no API key, or one the server does not accept", "Error"),
        "PageUnauthorized": page("the sign-in page: no API key, or one the server does not accept"),
        "DocumentUnauthorized": {
            "description": "the sign-in page, or the error shape when the request accepts JSON before HTML",
            "content": {HTML: {"schema": {"type": "string"}}, JSON: {"schema": _ref("schemas", "Error")}},
        },
        "SignIn": page("the sign-in form"),
        "SignedIn": {"description": "the key is accepted: a signed, HttpOnly, SameSite=Strict cookie is set and the "
                                    "browser sent back to the page it came from"},
        "SignedOut": {"description": "the cookie is cleared; on to the sign-in page"},
    }


def _operation(operation_id: str, summary: str, responses: dict[str, str], **extra) -> dict:
    """Return an operation answering with the named responses, or the error shape."""
    answers = {status: _ref("responses", name) for status, name in responses.items()}
    return {"operationId": operation_id, "summary": summary, **extra,
            "responses": {**answers, "default": _ref("responses", "Error")}}


def _paths(max_chars: int, max_body: int) -> dict:
    """Return every endpoint of the app."""
    failures = {"400": "BadRequest", "500": "InternalError", "503": "Unavailable"}
    def body(schema: str) -> dict:
        return {"required": True, "x-max-body-bytes": max_body,
                "description": f"a JSON object of at most {max_body} bytes (its Content-Type is not checked)",
                "content": {JSON: {"schema": _ref("schemas", schema)}}}

    similar = {"200": "SimilarResults", **failures, "404": "NotFound"}
    form = {"200": "Page", "400": "PageBadRequest", "404": "PageNotFound", "500": "PageInternalError",
            "503": "PageUnavailable"}
    like = {"name": "like", "in": "query", "required": False, "schema": ID,
            "description": "show the passages like this passage id instead of answering q"}
    source = {"200": "Document", "400": "DocumentBadRequest", "404": "DocumentNotFound", "500": "DocumentInternalError",
              "503": "DocumentUnavailable"}
    return {
        "/api/search": {
            "get": _operation("searchGet", "Search, with query-string parameters", {"200": "SearchResults", **failures},
                              parameters=_query_parameters(_fields(max_chars), ("q",))),
            "post": _operation("searchPost", "Search, with a JSON body",
                               {"200": "SearchResults", **failures, "413": "TooLarge"}, requestBody=body("SearchRequest")),
        },
        "/api/similar": {
            "get": _operation("similarGet", "Passages like a stored one, by its vector", similar,
                              parameters=_query_parameters(_similar_fields(), ("id",))),
            "post": _operation("similarPost", "Passages like a stored one, with a JSON body",
                               {**similar, "413": "TooLarge"}, requestBody=body("SimilarRequest")),
        },
        "/healthz": {"get": _operation("health", "Report the loaded index's statistics",
                                       {"200": "Health", "500": "InternalError", "503": "Unavailable"})},
        "/": {"get": _operation("form", "The web form, with a page of results when q is given", form,
                                parameters=[*_query_parameters(_fields(max_chars), ()), like, PAGE])},
        "/doc/{file_id}": {"get": _operation("document", "A source file, its passage marked and scrolled to", source,
                                             parameters=DOCUMENT_PARAMETERS)},
        "/openapi.json": {"get": _operation("openapi", "This OpenAPI document", {"200": "OpenAPI"})},
    }


# A refused page request gets the sign-in page; everything else the error shape.
UNAUTHORIZED = {"form": "PageUnauthorized", "document": "DocumentUnauthorized"}
SIGN_IN = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["key"],
    "properties": {"key": {"type": "string", "description": "an API key"},
                   "next": {"type": "string", "description": "the page to go back to: a path on this server"}},
}}}}


def _sign_in_paths() -> dict:
    """Return the sign-in and sign-out pages of a server with API keys."""
    return {
        "/sign-in": {
            "get": _operation("signInForm", "The sign-in form", {"200": "SignIn"}, security=[],
                              parameters=[{"name": "next", "in": "query", "required": False,
                                           "schema": {"type": "string"}, "description": "where to go back to"}]),
            "post": _operation("signIn", "Sign in with an API key: sets the sign-in cookie",
                               {"303": "SignedIn", "401": "PageUnauthorized"}, security=[], requestBody=SIGN_IN),
        },
        "/sign-out": {"post": _operation("signOut", "Clear the sign-in cookie", {"303": "SignedOut"}, security=[])},
    }


def _with_keys(paths: dict) -> dict:
    """Return paths as a server with API keys answers them: a 401 everywhere but /healthz, and the sign-in pages."""
    for path, operations in paths.items():
        for operation in operations.values():
            if path == "/healthz":
                operation["security"] = []
            else:
                name = UNAUTHORIZED.get(operation["operationId"], "Unauthorized")
                operation["responses"] = {**operation["responses"], "401": _ref("responses", name)}
    return {**paths, **_sign_in_paths()}


def document(max_chars: int = limits.MAX_QUERY_CHARS, max_body: int = limits.MAX_BODY_BYTES, keyed: bool = False,
             metrics: bool = False) -> dict:
    """Return the OpenAPI document for the given limits, and whether the server has API keys and metrics."""
    try:
        release = version("docsearch")
    except PackageNotFoundError:  # run from a checkout that was never installed
        release = "0.0.0"
    paths = _paths(max_chars, max_body)
    if metrics:
        paths["/metrics"] = {"get": _operation("metrics", "Prometheus metrics", {"200": "Metrics"})}
    components = {"schemas": {**_search_schemas(max_chars), **_other_schemas()}, "responses": _responses()}
    keys = {}
    if keyed:
        paths = _with_keys(paths)
        components["securitySchemes"] = {"apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "an API key, as `docsearch key add` makes them; the form's pages also take the cookie "
                           "that /sign-in sets"}}
        keys = {"security": [{"apiKey": []}]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "docsearch",
            "version": release,
            "description": "Semantic search over a folder of documents. "
                           "Every error is JSON: {\"error\": \"what is wrong\", \"status\": N}.",
        },
        **keys,
        "paths": paths,
        "components": components,
    }


@bp.route("/openapi.json")
def openapi_json():
    """Serve the OpenAPI document with this app's limits, its keys and its metrics."""
    state = current_app.extensions["docsearch"]
    return document(limits.MAX_QUERY_CHARS, current_app.config["MAX_CONTENT_LENGTH"], keyed=bool(state.get("keys")),
                    metrics="metrics" in state)
