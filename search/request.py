"""Requests, parsed and checked once, and used by every client: the API, the form, the CLI and MCP.

``SearchRequest(...)`` (a question) and ``SimilarRequest(...)`` (passages like a
stored one) refuse values the Searcher cannot take; their ``parse`` first turns a
query string's or a JSON body's values into typed ones. Either raises BadQuery with
a sentence that says what to fix. Both may be narrowed by ``Filters``.
``PassageRequest(...)`` names a stored passage and how many of its neighbours to read with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

DEFAULT_K = 10
MAX_K = 100
MAX_QUERY_CHARS = 1000
MAX_BODY_BYTES = 64 * 1024
MAX_ID = 2**63 - 1  # SQLite's largest row id: the most a file or passage id in a URL can be
MAX_NEIGHBOURS = 20  # passages read before and after a passage, each way
MODES = ("hybrid", "dense", "lexical")
GROUPS = (None, "file")
MAX_GLOB_CHARS = 500
MAX_TYPES = 20
TYPE = re.compile(r"[a-z0-9]{1,10}")


class BadQuery(ValueError):
    """A request whose parameters are wrong; the message says what to fix."""


class PassageNotFound(LookupError):
    """A request names a passage id the live generation does not hold."""


@dataclass(frozen=True)
class Filters:
    """Which files a request may draw passages from: a glob over their paths, and file types.

    ``path`` is matched against a file's path relative to the corpus folder: ``*`` and
    ``?`` within one folder name, ``**`` across folders, ``[abc]`` a character class
    (``reports/2024/**``, ``**/*.md``). ``types`` are file extensions, lower case,
    without the dot (``("pdf", "md")``). Empty means no filter.
    """

    path: str | None = None
    types: tuple[str, ...] = ()

    def __post_init__(self):
        if self.path is not None:
            from .globs import compile_glob

            compile_glob(self.path)  # raises BadQuery for a malformed glob
        if not isinstance(self.types, tuple) or not all(isinstance(t, str) and TYPE.fullmatch(t) for t in self.types):
            raise BadQuery("type must be file extensions such as pdf,md (letters and digits, without the dot)")
        if len(self.types) > MAX_TYPES:
            raise BadQuery(f"type names at most {MAX_TYPES} file extensions")

    def __bool__(self) -> bool:
        return self.path is not None or bool(self.types)

    @classmethod
    def parse(cls, source: Mapping[str, Any]) -> "Filters":
        """Read path (a glob) and type (extensions, comma-separated or a JSON list) from a request."""
        path = source.get("path")
        if path is not None and not isinstance(path, str):
            raise BadQuery("path must be a string: a glob such as reports/2024/**")
        types = source.get("type")
        if isinstance(types, str):
            types = types.split(",")
        elif types is not None and not (isinstance(types, list) and all(isinstance(t, str) for t in types)):
            raise BadQuery("type must be file extensions such as pdf,md")
        cleaned = tuple(dict.fromkeys(t.strip().lower().lstrip(".") for t in types or ()))
        path = path.strip() if path is not None else ""
        return cls(path=path or None, types=tuple(t for t in cleaned if t != ""))


@dataclass(frozen=True)
class SearchRequest:
    """A checked search: the question, how many results, how to rank, whether one passage per file."""

    q: str
    k: int = DEFAULT_K
    mode: str = "hybrid"
    group: str | None = None
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self):
        check_question(self.q)
        check_k_and_group(self.k, self.group)
        if self.mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}")

    @classmethod
    def parse(cls, source: Mapping[str, Any], from_json: bool = False) -> "SearchRequest":
        """Read a request from query-string arguments (text) or a JSON object (typed values)."""
        q = source.get("q")
        if q is None:
            raise BadQuery("missing parameter q: the question to search for")
        check_question(q)  # before the other parameters, so a bad question is what is reported
        return cls(
            q=q.strip(),
            k=whole_number(source.get("k"), "k", DEFAULT_K, MAX_K, from_json),
            mode=source.get("mode") or "hybrid",
            group=source.get("group") or None,
            filters=Filters.parse(source),
        )

    def describe(self) -> dict:
        """Return the request as the first fields of its JSON answer."""
        return {"query": self.q, "k": self.k, "mode": self.mode, "group": self.group, **_filter_fields(self.filters)}


@dataclass(frozen=True)
class SimilarRequest:
    """Passages like a stored one, by its vector: its id, how many, one per file (then not its own file)."""

    id: int
    k: int = DEFAULT_K
    group: str | None = None
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self):
        check_passage_id(self.id)
        check_k_and_group(self.k, self.group)

    @classmethod
    def parse(cls, source: Mapping[str, Any], from_json: bool = False) -> "SimilarRequest":
        """Read a similar-passages request from query-string arguments or a JSON object."""
        if source.get("id") is None:
            raise BadQuery("missing parameter id: the id of the passage to find others like")
        try:
            passage = whole_number(source.get("id"), "id", 1, MAX_ID, from_json)
        except BadQuery:
            raise BadQuery("id must be a passage id: a whole number, as in a search result's id") from None
        return cls(id=passage, k=whole_number(source.get("k"), "k", DEFAULT_K, MAX_K, from_json),
                   group=source.get("group") or None, filters=Filters.parse(source))

    def describe(self) -> dict:
        """Return the request as the first fields of its JSON answer."""
        return {"id": self.id, "k": self.k, "group": self.group, **_filter_fields(self.filters)}


@dataclass(frozen=True)
class PassageRequest:
    """A stored passage by id, with up to ``before`` and ``after`` passages of its file around it, for context."""

    id: int
    before: int = 0
    after: int = 0

    def __post_init__(self):
        check_passage_id(self.id)
        for name in ("before", "after"):
            count = getattr(self, name)
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_NEIGHBOURS:
                raise BadQuery(f"{name} must be an integer from 0 to {MAX_NEIGHBOURS}")


def _filter_fields(filters: Filters) -> dict:
    """Return the filters of a request as answer fields, only those that were given."""
    return {**({"path": filters.path} if filters.path else {}), **({"type": list(filters.types)} if filters.types else {})}


def check_passage_id(passage_id: Any) -> None:
    """Raise BadQuery unless passage_id can be a passage id."""
    if not isinstance(passage_id, int) or isinstance(passage_id, bool) or not 1 <= passage_id <= MAX_ID:
        raise BadQuery("id must be a passage id: a whole number, as in a search result's id")


def check_k_and_group(k: Any, group: Any) -> None:
    """Raise BadQuery unless k is a whole number in 1..MAX_K and group is file or None."""
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be an integer from 1 to {MAX_K}")
    if group not in GROUPS:
        raise BadQuery("group must be file, or left out")


def check_question(q: Any) -> None:
    """Raise BadQuery unless q is a question docsearch can search for."""
    if not isinstance(q, str):
        raise BadQuery("q must be a string")
    try:
        q.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON allows but text cannot hold
        raise BadQuery("q is not valid Unicode text") from None
    if not q.strip():
        raise BadQuery("q is blank: type a question to search for")
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery(f"q is {len(q)} characters long; the limit is {MAX_QUERY_CHARS}")


def whole_number(value: Any, name: str, default: int, highest: int, from_json: bool = False) -> int:
    """Return value as an int in 1..highest (default when absent), or raise BadQuery naming it."""
    wrong = BadQuery(f"{name} must be an integer from 1 to {highest}")
    if value is None:
        return default
    if from_json:
        # JSON true is not the number 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        number = value
    else:
        text = str(value).strip()
        # A length limit first: int() of thousands of digits is slow, and refused past 4,300.
        if not text.isdigit() or not text.isascii() or len(text) > max(4, len(str(highest))):
            raise wrong
        number = int(text)
    if not 1 <= number <= highest:
        raise wrong
    return number
