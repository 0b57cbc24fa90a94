"""A search request, parsed and checked once, and used by every client: the API, the form and the CLI.

``SearchRequest(...)`` refuses values the Searcher cannot take; ``SearchRequest.parse``
first turns a query string's or a JSON body's values into typed ones. Either
raises BadQuery with a sentence that says what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_K = 10
MAX_K = 100
MAX_QUERY_CHARS = 1000
MAX_BODY_BYTES = 64 * 1024
MAX_ID = 2**63 - 1  # SQLite's largest row id: the most a file or passage id in a URL can be
MODES = ("hybrid", "dense", "lexical")
GROUPS = (None, "file")


class BadQuery(ValueError):
    """A request whose parameters are wrong; the message says what to fix."""


@dataclass(frozen=True)
class SearchRequest:
    """A checked search: the question, how many results, how to rank, whether one passage per file."""

    q: str
    k: int = DEFAULT_K
    mode: str = "hybrid"
    group: str | None = None

    def __post_init__(self):
        check_question(self.q)
        if not isinstance(self.k, int) or isinstance(self.k, bool) or not 1 <= self.k <= MAX_K:
            raise BadQuery(f"k must be an integer from 1 to {MAX_K}")
        if self.mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}")
        if self.group not in GROUPS:
            raise BadQuery("group must be file, or left out")

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
        )


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
