"""Read and check the parameters of a search request, from a query string or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from . import settings
from .errors import BadQuery


@dataclass(frozen=True)
class SearchParams:
    """A checked search request."""

    q: str
    k: int
    mode: str = "hybrid"
    group: str | None = None


def _k_from(value: Any, from_json: bool) -> int:
    """Return k as an int in 1..MAX_K, or raise BadQuery saying what is wrong."""
    return whole_number(value, "k", settings.DEFAULT_K, settings.MAX_K, from_json)


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


def parse_search(source: Mapping[str, Any], from_json: bool = False, max_chars: int = settings.MAX_QUERY_CHARS) -> SearchParams:
    """Check q and k from request arguments or a JSON object."""
    q = source.get("q")
    if q is None:
        raise BadQuery("missing parameter q: the question to search for")
    if not isinstance(q, str):
        raise BadQuery("q must be a string")
    try:
        q.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON allows but text cannot hold
        raise BadQuery("q is not valid Unicode text") from None
    if not q.strip():
        raise BadQuery("q is blank: type a question to search for")
    if len(q) > max_chars:
        raise BadQuery(f"q is {len(q)} characters long; the limit is {max_chars}")
    return SearchParams(q=q.strip(), k=_k_from(source.get("k"), from_json), mode=_mode_from(source), group=_group_from(source))


def _mode_from(source: Mapping[str, Any]) -> str:
    """Return the search mode, hybrid unless another is asked for."""
    mode = source.get("mode") or "hybrid"
    if mode not in settings.MODES:
        raise BadQuery(f"mode must be one of {', '.join(settings.MODES)}")
    return mode


def _group_from(source: Mapping[str, Any]) -> str | None:
    """Return "file" for one passage per file, or None for every passage."""
    group = source.get("group") or None
    if group not in (None, "file"):
        raise BadQuery("group must be file, or left out")
    return group
