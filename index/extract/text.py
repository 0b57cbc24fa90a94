"""Plain text: paragraphs as the writer made them, one per line or wrapped between blank lines.

The rule is read from the text: within each run of lines between blank lines,
a line break is a wrap when the next line's first word would not have fitted
on the line (the line plus that word passes the width the file seems wrapped
at). A run whose breaks are mostly wraps is wrapped prose: its paragraphs end
at the breaks that are not wraps (a short last line). Any other run has one
paragraph per line, as docs_corpus does. ``paragraphs="lines"`` or ``"blank"``
forces either rule.
"""

from __future__ import annotations

import re

from ..wrapping import is_wrap, looks_wrapped, wrap_width
from . import PARAGRAPHS, Block, Extracted

LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
TITLE_MAX_CHARS = 120
TITLE_MAX_WORDS = 20
SENTENCE_TAIL = (".", ",", ";", ":")


def lines_of(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
    """Return (offset, line without its line break) for each line of text[start:end]."""
    found = []
    for match in LINE.finditer(text, start, len(text) if end is None else end):
        found.append((match.start(), match.group().rstrip("\r\n")))
    return found


def runs_of(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Group lines into runs of non-blank lines, split at blank lines."""
    runs: list[list[tuple[int, str]]] = [[]]
    for offset, line in lines:
        if line.strip():
            runs[-1].append((offset, line))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def trimmed(offset: int, line: str) -> tuple[int, int]:
    """Return the span of a line's text without its surrounding white space."""
    start = offset + len(line) - len(line.lstrip())
    return start, offset + len(line.rstrip())


def split_run(run: list[tuple[int, str]], rule: str, width: int) -> list[tuple[int, int]]:
    """Return the paragraph spans of one run of non-blank lines under a rule."""
    texts = [line for _, line in run]
    if rule == "blank":
        return [(trimmed(*run[0])[0], trimmed(*run[-1])[1])]
    if rule == "lines" or not looks_wrapped(texts, width):
        return [trimmed(*item) for item in run]
    spans, first = [], 0
    for i in range(len(run)):
        if i == len(run) - 1 or not is_wrap(texts[i], texts[i + 1], width):
            spans.append((trimmed(*run[first])[0], trimmed(*run[i])[1]))
            first = i + 1
    return spans


def paragraph_spans(text: str, rule: str = "auto", start: int = 0, end: int | None = None,
                    width: int | None = None) -> list[tuple[int, int]]:
    """Return the (start, end) of each paragraph of text[start:end], white space trimmed."""
    if rule not in PARAGRAPHS:
        raise ValueError(f"paragraphs must be one of {', '.join(PARAGRAPHS)}, not {rule!r}")
    lines = lines_of(text, start, end)
    if width is None:
        width = wrap_width([len(line.rstrip()) for _, line in lines if line.strip()])
    return [span for run in runs_of(lines) for span in split_run(run, rule, width)]


def title_of(text: str, first: tuple[int, int] | None) -> str:
    """Return the first paragraph as the title when it is one short line that stands alone."""
    if first is None:
        return ""
    candidate = text[first[0]:first[1]]
    if "\n" in candidate or "\r" in candidate or candidate.endswith(SENTENCE_TAIL):
        return ""
    if len(candidate) > TITLE_MAX_CHARS or len(candidate.split()) > TITLE_MAX_WORDS:
        return ""
    return candidate


def version() -> str:
    """Return what reads plain text: docsearch itself (index.wrapping)."""
    return "text"


def extract(text: str, paragraphs: str = "auto") -> Extracted:
    """Read plain text into paragraph blocks, its title the first line if short and alone."""
    spans = paragraph_spans(text, paragraphs)
    title = title_of(text, spans[0] if spans else None)
    return Extracted(text, title, [Block(s, e) for s, e in spans], extractor="text")
