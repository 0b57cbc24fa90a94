"""From positioned lines of pages to clean text: page furniture out, paragraphs and words whole.

Works on lines as a PDF reader places them (index.extract.pdf), whatever the
library. In order: lines repeated at one place at the top or bottom of most
pages (running headers and footers, digits ignored) and page numbers are
dropped; lines are joined into paragraphs by their geometry; words hyphenated
at line ends are rejoined, unless the document itself writes them with a
hyphen ("well-known"). A paragraph ends where the next line's first word
would have fitted on the line (so the break was the writer's, not the
typesetter's), or where the gap above a line is wider than the page's usual
line pitch.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..wrapping import keeps_hyphen, lexicon_of

PAGE_NUMBER = re.compile(r"^\W*(?:page|p\.|seite|pagina)?\s*\d{1,4}(?:\s*(?:of|/|de|von)\s*\d{1,4})?\W*$", re.I)
WORD_AT_END = re.compile(r"([^\W\d_]+)-$")
WORD_AT_START = re.compile(r"([^\W\d_]+)")
EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers or footers
REPEAT_SHARE = 0.5  # a line at one place on at least this share of pages (and on 2 at least) is running
PARAGRAPH_GAP = 1.35  # a line pitch this many times the page's usual one (in font sizes) starts a paragraph
FIT_SLACK = 1.0  # ems: a word "would have fitted" only if it fits with this to spare (cell padding, kerning)


@dataclass(frozen=True)
class Line:
    """A line of a page: its text, and where it stands (PDF points, y upwards)."""

    text: str
    top: float
    right: float  # right edge of its last character
    word: float  # width of its first word
    size: float  # font size of its first character


def _shape(text: str) -> str:
    """Return a line with its digits masked, so "Page 3" and "Page 4" repeat as one line."""
    return re.sub(r"\d+", "#", text.lower())


def _edges(lines: list[Line]) -> set[tuple[int, str]]:
    """Return the lines at a page's edges with their place: 0, 1, 2 from the top, -1, -2, -3 from the bottom."""
    top = {(i, _shape(line.text)) for i, line in enumerate(lines[:EDGE_LINES])}
    return top | {(-1 - i, _shape(line.text)) for i, line in enumerate(reversed(lines[-EDGE_LINES:]))}


def drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove running headers and footers, and page numbers at a page's edges."""
    counts = Counter(edge for lines in pages for edge in _edges(lines))
    needed = max(2, REPEAT_SHARE * len(pages))
    running = {edge for edge, count in counts.items() if count >= needed}
    cleaned = []
    for lines in pages:
        drop = {place for place, shape in _edges(lines) if (place, shape) in running}
        drop |= {place for place in (0, 1, -1, -2) if -len(lines) <= place < len(lines)
                 and PAGE_NUMBER.match(lines[place].text)}
        if len(pages) == 1 and len(lines) > 2 and lines[0].size < _body_size(lines):
            drop.add(0)  # one page shows no repetition: a top line in a smaller type than the text is its header
        cleaned.append([line for i, line in enumerate(lines) if i not in drop and i - len(lines) not in drop])
    return cleaned


def _body_size(lines: list[Line]) -> float:
    """Return the font size most of a page's lines are set in."""
    return Counter(round(line.size, 1) for line in lines).most_common(1)[0][0]


def _starts_paragraph(lines: list[Line]) -> list[bool]:
    """Tell, for each line of a page, whether the gap above it is wider than the page's usual pitch."""
    pitches = [(a.top - b.top) / (b.size or 1) for a, b in zip(lines, lines[1:])]
    usual = sorted(p for p in pitches if p > 0)
    typical = usual[len(usual) // 2] if usual else 0
    return [False] + [typical > 0 and p > PARAGRAPH_GAP * typical for p in pitches]


def _wraps(line: Line, following: Line, margin: float) -> bool:
    """Tell whether the typesetter broke line because following's first word did not fit."""
    space = 0.25 * line.size
    return line.right + space + following.word > margin - FIT_SLACK * line.size


class _Text:
    """The text being built: its parts, length, paragraph spans and page starts."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[tuple[int, int]] = []
        self.paragraph_start: int | None = None

    def add(self, piece: str) -> None:
        """Append a piece of text."""
        self.parts.append(piece)
        self.length += len(piece)

    def end_paragraph(self) -> None:
        """Close the open paragraph, if any, and leave a blank line after it."""
        if self.paragraph_start is not None:
            self.spans.append((self.paragraph_start, self.length))
            self.add("\n\n")
            self.paragraph_start = None

    def join(self, line: str, lexicon) -> None:
        """Go on with the paragraph: a space, or rejoin a word broken by a hyphen."""
        previous = self.parts[-1]
        if not (previous.endswith("-") and WORD_AT_END.search(previous) and WORD_AT_START.match(line)):
            self.add(" ")
        elif not keeps_hyphen(WORD_AT_END.search(previous)[1], WORD_AT_START.match(line)[1], lexicon):
            self.parts[-1] = previous[:-1]
            self.length -= 1


def build_text(pages: list[list[Line]]) -> tuple[str, list[tuple[int, int]], tuple[int, ...]]:
    """Join lines into paragraphs: return the text, the paragraph spans and where each page begins."""
    lexicon = lexicon_of("\n".join(line.text for lines in pages for line in lines))
    flat = [(line, new, max((x.right for x in lines), default=0)) for lines in pages
            for line, new in zip(lines, _starts_paragraph(lines))]
    text, starts, at = _Text(), [], 0
    for lines in pages:
        page_start = None
        for line, new, margin in flat[at:at + len(lines)]:
            if new:
                text.end_paragraph()
            if text.paragraph_start is None:
                text.paragraph_start = text.length
            else:
                text.join(line.text, lexicon)
            page_start = text.length if page_start is None else page_start
            text.add(line.text)
            at += 1
            following = flat[at][0] if at < len(flat) else None
            if following is None or not (line.text.endswith("-") or _wraps(line, following, margin)):
                text.end_paragraph()
        starts.append(text.length if page_start is None else page_start)
    text.end_paragraph()
    body = "".join(text.parts).rstrip("\n")
    return body, text.spans, tuple(min(s, len(body)) for s in starts)
