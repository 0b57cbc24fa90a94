"""Split a document into passages with exact character spans.

Rules, in order:

1. A paragraph is a line of text: paragraphs are separated by one or more
   line breaks (``\\n``, ``\\r\\n`` or ``\\r``). Surrounding white space is not
   part of a paragraph.
2. A paragraph repeated word for word (white space aside) in one file is kept
   the first time only.
3. A paragraph longer than the model's input limit is split at sentence
   boundaries; a sentence that alone is too long is split between words, and a
   word that alone is too long between word pieces. Every piece fits, so the
   model never truncates anything.
4. A short paragraph (fewer than ``min_words`` words: headlines, datelines,
   "Editor Picks") is merged into the paragraph that follows it, or, at the end
   of a file, into the one before it, when the two are neighbours in the file
   and the merge still fits the limit. Nothing is dropped.

Each passage's ``text`` is exactly ``file_text[start:end]``; a merged passage
therefore includes the line breaks between its paragraphs.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable, Sequence

LINE_BREAK = re.compile(r"\r\n|\r|\n")
LINE = re.compile(r"[^\r\n]+")
SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+")
WHITESPACE = re.compile(r"\s+")
MIN_WORDS = 10

TokenStarts = Callable[[str], Sequence[int]]


@dataclass(frozen=True)
class Passage:
    """A passage of a file: its text and exact place (1-based lines, 0-based characters)."""

    source: str
    number: int
    text: str
    start: int
    end: int
    line_start: int
    line_end: int


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    words: int
    first: int  # position in the file's sequence of pieces, to tell neighbours
    last: int


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every non-blank line, white space trimmed."""
    spans = []
    for match in LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if stripped:
            start = match.start() + (len(line) - len(line.lstrip()))
            spans.append((start, start + len(stripped)))
    return spans


def _cut_points(text: str, start: int, end: int, starts: Sequence[int], max_tokens: int) -> list[int]:
    """Return where to cut text[start:end] so that every piece fits max_tokens."""
    sentences = [m.end() for m in SENTENCE_END.finditer(text, start, end)]
    words = [m.end() for m in WHITESPACE.finditer(text, start, end)]
    cuts = []
    at = start
    while bisect_left(starts, end) - bisect_left(starts, at) > max_tokens:
        # the first token that does not fit begins here; cut at or before it
        limit = starts[bisect_left(starts, at) + max_tokens]
        cut = None
        for bounds in (sentences, words):
            i = bisect_right(bounds, limit) - 1
            if i >= 0 and bounds[i] > at:
                cut = bounds[i]
                break
        at = cut if cut is not None else limit
        cuts.append(at)
    return cuts


def _pieces(text: str, token_starts: TokenStarts, max_tokens: int) -> list[_Unit]:
    """Return the file's paragraphs, duplicates dropped and long ones split."""
    units: list[_Unit] = []
    seen: set[str] = set()
    position = 0
    for start, end in _paragraphs(text):
        key = " ".join(text[start:end].split())
        if key in seen:
            position += 1  # leave a gap, so nothing merges across the dropped copy
            continue
        seen.add(key)
        starts = [start + s for s in token_starts(text[start:end])]
        bounds = [start, *_cut_points(text, start, end, starts, max_tokens), end]
        for a, b in zip(bounds, bounds[1:]):
            piece = text[a:b]
            b = a + len(piece.rstrip())
            count = bisect_left(starts, b) - bisect_left(starts, a)
            units.append(_Unit(a, b, count, len(piece.split()), position, position))
            position += 1
    return units


def _merge(units: list[_Unit], i: int, j: int) -> None:
    """Merge units[j] into units[i] (j == i + 1), in place."""
    a, b = units[i], units[j]
    units[i:j + 1] = [_Unit(a.start, b.end, a.tokens + b.tokens, a.words + b.words, a.first, b.last)]


def _merge_short(units: list[_Unit], max_tokens: int, min_words: int) -> list[_Unit]:
    """Merge short units into a neighbour: the next one first, else the previous one."""

    def fits(a: _Unit, b: _Unit) -> bool:
        return a.last + 1 == b.first and a.tokens + b.tokens <= max_tokens

    i = 0
    while i < len(units) - 1:
        if units[i].words < min_words and fits(units[i], units[i + 1]):
            _merge(units, i, i + 1)
        else:
            i += 1
    for i in range(len(units) - 1, 0, -1):
        if i < len(units) and units[i].words < min_words and fits(units[i - 1], units[i]):
            _merge(units, i - 1, i)
    return units


def split_passages(
    source: str,
    text: str,
    token_starts: TokenStarts,
    max_tokens: int,
    min_words: int = MIN_WORDS,
) -> list[Passage]:
    """Split a document into passages with exact character spans.

    ``token_starts(s)`` gives the offset in ``s`` of each of its word pieces
    (special tokens excluded); ``max_tokens`` is the most a passage may have.
    """
    line_starts = _line_starts(text)
    units = _merge_short(_pieces(text, token_starts, max_tokens), max_tokens, min_words)
    return [_passage(source, n, text, u.start, u.end, line_starts) for n, u in enumerate(units, start=1)]


def retrieval_text(passage: Passage) -> str:
    """Return the text of a passage that is embedded and indexed for BM25."""
    return passage.text


def whole_passage(source: str, text: str) -> list[Passage]:
    """Return the whole document as one passage (for benchmark protocols that truncate)."""
    stripped = text.strip()
    if not stripped:
        return []
    start = len(text) - len(text.lstrip())
    return [_passage(source, 1, text, start, start + len(stripped), _line_starts(text))]


def _line_starts(text: str) -> list[int]:
    """Return the offset at which each line of text begins."""
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


def _passage(source: str, number: int, text: str, start: int, end: int, line_starts: list[int]) -> Passage:
    """Make the passage text[start:end] with its 1-based line range."""
    return Passage(
        source=source,
        number=number,
        text=text[start:end],
        start=start,
        end=end,
        line_start=bisect_right(line_starts, start),
        line_end=bisect_right(line_starts, end - 1),
    )
