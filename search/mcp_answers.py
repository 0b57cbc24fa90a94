"""The shapes of the MCP tools' answers: hits and passages with a citation, cut only when asked, and the index's status.

A citation names a place the way a person quotes it: ``notes.txt:10-12`` (lines), or
``report.pdf p. 3`` (``pp. 3-4``) for a passage of a paged document. Hits and
passages carry ``title``, ``section``, ``page`` and ``page_end`` only when they have
them, so documents of every format share one shape.
"""

from __future__ import annotations

from typing import Any

# typing_extensions, not typing: pydantic cannot build a schema from a nested typing.TypedDict before Python 3.12,
# and the SDK then drops the tool's output schema with only an INFO line.
from typing_extensions import NotRequired, TypedDict

CUT = " [… {} more characters]"
PLACE_FIELDS = ("title", "section", "page", "page_end")
FOLDERS_SHOWN = 50  # index_status lists this many folders at most; a big tree would fill the agent's context


class Place(TypedDict):
    """Where a passage is, and its text."""

    id: int
    file: str
    lines: list[int]  # first and last line, from 1
    citation: str
    text: str
    title: NotRequired[str]
    section: NotRequired[str]
    page: NotRequired[int]
    page_end: NotRequired[int]


class HitFields(Place):
    """A ranked passage."""

    rank: int
    score: float
    more_in_file: NotRequired[int]


class SearchAnswer(TypedDict):
    """The hits of a search (query) or of a similar-passages request (id), best first."""

    generation: int
    hits: list[HitFields]
    query: NotRequired[str]
    low_confidence: NotRequired[bool]
    id: NotRequired[int]


class PassageFields(Place):
    """A passage read by id, with its number within its file."""

    passage: int


class PassageAnswer(TypedDict):
    """A passage and its neighbours in its file, in order, with one citation for them all."""

    id: int
    file: str
    generation: int
    citation: str
    passages_in_file: int
    passages: list[PassageFields]


class IndexStatus(TypedDict):
    """What the live index holds."""

    index_dir: str
    corpus: str
    generation: int
    built_at: str
    passages: int
    files: int
    skipped: int
    model: str
    dimension: int
    backend: str
    vector_store: str
    file_types: list[str]
    folders: list[str]
    folders_not_shown: int


def cut(text: str, max_chars: int | None) -> str:
    """Return text, or its first max_chars characters and a marker saying how many more there are."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[:max_chars] + CUT.format(len(text) - max_chars)


def cite(first: Any, *more: Any) -> str:
    """Return the citation of a passage, or of a run of passages of one file from first to the last of more."""
    last = more[-1] if more else first
    page = getattr(first, "page", None)
    if page is not None:
        end = getattr(last, "page_end", None) or getattr(last, "page", None) or page
        return f"{first.source} p. {page}" if end == page else f"{first.source} pp. {page}-{end}"
    start, end = first.line_start, last.line_end
    return f"{first.source}:{start}" if start == end else f"{first.source}:{start}-{end}"


def _place(passage: Any, max_chars: int | None) -> dict:
    """Return the fields every passage in an answer has, and those of its format it has."""
    found = {"id": passage.id, "file": passage.source, "lines": [passage.line_start, passage.line_end],
             "citation": cite(passage)}
    # A hit says "none" with None, a stored passage with "": either way the field is left out.
    found.update({name: value for name in PLACE_FIELDS if (value := getattr(passage, name)) not in (None, "")})
    found["text"] = cut(passage.text, max_chars)
    return found


def hit_fields(hit: Any, max_chars: int | None = None) -> dict:
    """Return a search or similar hit as the tools answer it."""
    ranked = {"rank": hit.rank, "score": hit.score, **_place(hit, max_chars)}
    if hit.more_in_file is not None:
        ranked["more_in_file"] = hit.more_in_file
    return ranked


def passage_fields(passage: Any, max_chars: int | None = None) -> dict:
    """Return a stored passage as read_passage answers it."""
    return {"passage": passage.number, **_place(passage, max_chars)}


def status_fields(searcher: Any) -> dict:
    """Return what the live index holds, and the folders and file types its filters can choose from."""
    m = searcher.manifest
    folders, types = searcher.facets()
    return {"index_dir": str(searcher.index_dir), "corpus": m.corpus, **searcher.stats(), "backend": m.backend,
            "vector_store": m.vector_store, "file_types": types, "folders": folders[:FOLDERS_SHOWN],
            "folders_not_shown": max(len(folders) - FOLDERS_SHOWN, 0)}
