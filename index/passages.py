"""Split a document into passages with exact character spans.

A document comes as blocks (index.extract): paragraphs, code, lists and
tables in order, each with its section path. Rules, in order:

1. A block repeated word for word (white space aside) in one document is kept
   the first time only.
2. A block longer than the model's input limit is cut: a paragraph at sentence
   ends, then between words, then between word pieces; code, lists and tables
   first between lines (a code line is only cut when it alone is too long).
   Every piece fits, together with its retrieval prefix, so the model never
   truncates anything.
3. A short block (fewer than ``min_words`` words: headlines, datelines,
   "Editor Picks") is merged into the block that follows it, or, at the end of
   a section, into the one before it; a sentence ending in ":" is merged with
   the list it introduces. Only neighbours in one section with one context
   merge, and only when the merge still fits. Nothing is dropped.

Each passage's ``text`` is exactly ``document_text[start:end]``. What is
embedded and indexed for BM25 is ``retrieval_text(passage)``: the section
path, the block's context (a table's header row) and the text with
wrapped lines joined and words hyphenated at line ends made whole.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable, Sequence

from .extract import Block, Extracted
from .extract.text import extract as extract_text
from .wrapping import unwrap

LINE_BREAK = re.compile(r"\r\n|\r|\n")
NEXT_LINE = re.compile(r"(?:\r\n|\r|\n)\s*")
SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+")
WHITESPACE = re.compile(r"\s+")
MIN_WORDS = 10
SECTION_SEPARATOR = " \u203a "  # "Install › From source"
PREFIX_SLACK = 2  # word pieces kept free: mending a hyphenated word can change its pieces slightly
PREFIX_MAX_CHARS = 240  # a longer prefix (deep headings, a wide table header) is cut at a word

TokenStarts = Callable[[str], Sequence[int]]


@dataclass(frozen=True)
class Passage:
    """A passage of a document: its text and exact place (1-based lines and pages, 0-based characters)."""

    source: str
    number: int
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    section: str = ""  # heading path joined with " › "
    context: str = ""  # retrieval-only text of its block (a table's header row)
    page: int | None = None  # PDF: the page the passage begins on
    page_end: int | None = None  # PDF: the page it ends on, only when that is another page
    title: str = ""  # the document's title


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    words: int
    first: int  # position in the document's sequence of pieces, to tell neighbours
    last: int
    block: Block


def retrieval_prefix(section: str, context: str) -> str:
    """Return what is said before a passage's text for retrieval: its section path and its block's context.

    The document's title is left out: on docs_corpus, whose titles are near-identical headlines, it took
    dense first-file hits from 17 to 13 of 20 questions (hybrid 18 either way).
    """
    prefix = "\n".join(part for part in (section, context) if part)
    if len(prefix) > PREFIX_MAX_CHARS:
        prefix = prefix[:PREFIX_MAX_CHARS].rsplit(None, 1)[0]
    return prefix


def retrieval_text(passage: Passage) -> str:
    """Return the text embedded and indexed for a passage: its prefix, then its words unwrapped."""
    body = unwrap(passage.text)
    prefix = retrieval_prefix(passage.section, passage.context)
    return f"{prefix}\n{body}" if prefix else body


def _cut_points(text: str, start: int, end: int, starts: Sequence[int], max_tokens: int, kind: str) -> list[int]:
    """Return where to cut text[start:end] so that every piece fits max_tokens."""
    sentences = [m.end() for m in SENTENCE_END.finditer(text, start, end)]
    words = [m.end() for m in WHITESPACE.finditer(text, start, end)]
    lines = [m.end() for m in NEXT_LINE.finditer(text, start, end)]
    order = {"paragraph": (sentences, words), "code": (lines, words), "table": (lines, words)}
    cuts = []
    at = start
    while bisect_left(starts, end) - bisect_left(starts, at) > max_tokens:
        # the first token that does not fit begins here; cut at or before it
        limit = starts[bisect_left(starts, at) + max_tokens]
        cut = None
        for bounds in order.get(kind, (lines, sentences, words)):
            i = bisect_right(bounds, limit) - 1
            if i >= 0 and bounds[i] > at:
                cut = bounds[i]
                break
        at = cut if cut is not None else limit
        cuts.append(at)
    return cuts


class _Budget:
    """The word pieces left for a passage's text once its retrieval prefix is counted."""

    def __init__(self, token_starts: TokenStarts, max_tokens: int):
        self.token_starts, self.max_tokens = token_starts, max_tokens
        self._known: dict[tuple, int] = {}

    def __call__(self, block: Block) -> int:
        key = (block.section, block.context)
        if key not in self._known:
            prefix = retrieval_prefix(SECTION_SEPARATOR.join(block.section), block.context)
            used = len(self.token_starts(prefix)) + PREFIX_SLACK if prefix else 0
            # a prefix never leaves the text less than a quarter of the limit, so cutting always advances
            self._known[key] = max(self.max_tokens - used, self.max_tokens // 4, 1)
        return self._known[key]


def _pieces(doc: Extracted, token_starts: TokenStarts, budget: _Budget) -> list[_Unit]:
    """Return the document's blocks, duplicates dropped and long ones cut."""
    text = doc.text
    units: list[_Unit] = []
    seen: set[str] = set()
    position = 0
    for block in doc.blocks:
        key = " ".join(text[block.start:block.end].split())
        if not key or key in seen:
            position += 1  # leave a gap, so nothing merges across the dropped copy
            continue
        seen.add(key)
        starts = [block.start + s for s in token_starts(text[block.start:block.end])]
        bounds = [block.start, *_cut_points(text, block.start, block.end, starts, budget(block), block.kind), block.end]
        for a, b in zip(bounds, bounds[1:]):
            piece = text[a:b]
            b = a + len(piece.rstrip())
            count = bisect_left(starts, b) - bisect_left(starts, a)
            units.append(_Unit(a, b, count, len(piece.split()), position, position, block))
            position += 1
    return units


def _merge_short(units: list[_Unit], text: str, budget: _Budget, min_words: int) -> list[_Unit]:
    """Merge short units into a neighbour (the next one first, else the previous one), and intros into lists."""

    def fits(a: _Unit, b: _Unit) -> bool:
        same = (a.block.section, a.block.context) == (b.block.section, b.block.context)
        return same and a.last + 1 == b.first and a.tokens + b.tokens <= budget(a.block)

    def introduces(a: _Unit, b: _Unit) -> bool:
        return b.block.kind == "list" and text[a.end - 1] == ":"

    def merge(i: int) -> None:
        a, b = units[i], units[i + 1]
        units[i:i + 2] = [_Unit(a.start, b.end, a.tokens + b.tokens, a.words + b.words, a.first, b.last, a.block)]

    i = 0
    while i < len(units) - 1:
        if (units[i].words < min_words or introduces(units[i], units[i + 1])) and fits(units[i], units[i + 1]):
            merge(i)
        else:
            i += 1
    for i in range(len(units) - 1, 0, -1):
        if i < len(units) and units[i].words < min_words and fits(units[i - 1], units[i]):
            merge(i - 1)
    return units


def split_document(source: str, doc: Extracted, token_starts: TokenStarts, max_tokens: int,
                   min_words: int = MIN_WORDS) -> list[Passage]:
    """Split an extracted document into passages with exact character spans.

    ``token_starts(s)`` gives the offset in ``s`` of each of its word pieces
    (special tokens excluded); ``max_tokens`` is the most a passage's
    retrieval text may have.
    """
    budget = _Budget(token_starts, max_tokens)
    units = _merge_short(_pieces(doc, token_starts, budget), doc.text, budget, min_words)
    line_starts = _line_starts(doc.text)
    return [_passage(source, n, doc, u.start, u.end, line_starts, u.block) for n, u in enumerate(units, start=1)]


def split_passages(
    source: str,
    text: str,
    token_starts: TokenStarts,
    max_tokens: int,
    min_words: int = MIN_WORDS,
    paragraphs: str = "auto",
) -> list[Passage]:
    """Split plain text into passages with exact character spans (paragraphs as index.extract.text finds them)."""
    return split_document(source, extract_text(text, paragraphs), token_starts, max_tokens, min_words)


def whole_passage(source: str, text: str) -> list[Passage]:
    """Return the whole document as one passage (for benchmark protocols that truncate)."""
    stripped = text.strip()
    if not stripped:
        return []
    start = len(text) - len(text.lstrip())
    doc = Extracted(text, "", [])
    return [_passage(source, 1, doc, start, start + len(stripped), _line_starts(text))]


def _line_starts(text: str) -> list[int]:
    """Return the offset at which each line of text begins."""
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


def _passage(source: str, number: int, doc: Extracted, start: int, end: int, line_starts: list[int],
             block: Block | None = None) -> Passage:
    """Make the passage doc.text[start:end] with its lines, pages and section."""
    page, last_page = doc.page_of(start), doc.page_of(end - 1)
    return Passage(
        source=source,
        number=number,
        text=doc.text[start:end],
        start=start,
        end=end,
        line_start=bisect_right(line_starts, start),
        line_end=bisect_right(line_starts, end - 1),
        section=SECTION_SEPARATOR.join(block.section) if block else "",
        context=block.context if block else "",
        page=page,
        page_end=last_page if last_page != page else None,
        title=doc.title,
    )
