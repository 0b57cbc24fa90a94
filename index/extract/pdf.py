"""PDF: the text layer through pypdfium2 (PDFium), cleaned into paragraphs with page starts.

PDFium was chosen by measurement (bench/extractors.py, README): the fastest of
the three libraries measured, one space between words of justified lines where
pypdf and pdfminer.six give several, and it marks the hyphens it finds at line
ends (U+FFFE), which pypdf and pdfminer.six leave as ordinary hyphens.

Cleaning, in order: lines repeated at the top or bottom of most pages
(running headers and footers, digits ignored) and page numbers are dropped;
wrapped lines are joined into paragraphs (a paragraph ends at a line clearly
shorter than the page's lines); words hyphenated at line ends are rejoined,
unless the document itself writes them with a hyphen ("well-known"); runs of
spaces become one. OCR is out of scope: a PDF without a text layer is skipped.
"""

from __future__ import annotations

import re
from collections import Counter

from ..wrapping import keeps_hyphen, lexicon_of, wrap_width
from . import Block, Extracted, Unreadable

HYPHEN_MARK = "\ufffe"  # PDFium's mark for a hyphen it found at a line end
PAGE_NUMBER = re.compile(r"^\W*(?:page|p\.|seite|pagina)?\s*\d{1,4}(?:\s*(?:of|/|de|von)\s*\d{1,4})?\W*$", re.I)
WORD_AT_END = re.compile(r"([^\W\d_]+)-$")
WORD_AT_START = re.compile(r"([^\W\d_]+)")
SPACES = re.compile(r"[ \t\u00a0]+")
LINE_SEGMENT = re.compile(r"[^\r\n\ufffe]+\ufffe?")
PARAGRAPH_GAP = 1.35  # a gap above a line this many times the page's usual line pitch starts a paragraph
EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers or footers
REPEAT_SHARE = 0.5  # a line on at least this share of pages (and on 2 at least) is a running header
SHORT_LINE = 0.8  # a line shorter than this share of the page's width ends its paragraph


def version() -> str:
    """Return the library's name and version, recorded with each file."""
    import pypdfium2

    return f"pypdfium2 {pypdfium2.version.PYPDFIUM_INFO}"


def _open(raw: bytes):
    """Open a PDF, or raise Unreadable saying why it cannot be read."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise Unreadable("encrypted PDF (it needs a password)") from None
        detail = re.search(r"PDFium: [^)]*", message)
        raise Unreadable(f"not a readable PDF ({detail.group() if detail else message.rstrip('.')})") from None


def _lines(textpage) -> list[tuple[str, float]]:
    """Return a page's lines with the height of each line's top, as PDFium reads them."""
    text = textpage.get_text_range()
    lines = []
    for match in LINE_SEGMENT.finditer(text):  # PDFium joins a line ending in a hyphen to the next: split them
        line = SPACES.sub(" ", match.group().replace(HYPHEN_MARK, "-")).strip()
        if line:
            first = range(match.start(), min(match.end(), match.start() + 8))
            lines.append((line, max(textpage.get_charbox(i)[3] for i in first)))
    return lines


def page_lines(raw: bytes) -> tuple[list[list[tuple[str, float]]], dict]:
    """Return each page's lines, with the height of their tops, and the document's metadata."""
    document = _open(raw)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(_lines(textpage))
            textpage.close()
            page.close()
        return pages, document.get_metadata_dict()
    finally:
        document.close()


def _shape(line: str) -> str:
    """Return a line with its digits masked, so "Page 3" and "Page 4" repeat as one line."""
    return re.sub(r"\d+", "#", line.lower())


def _edges(lines: list[tuple[str, float]]) -> set[tuple[int, str]]:
    """Return the lines at a page's edges with their place: 0, 1, 2 from the top, -1, -2, -3 from the bottom."""
    top = {(i, _shape(line)) for i, (line, _) in enumerate(lines[:EDGE_LINES])}
    return top | {(-1 - i, _shape(line)) for i, (line, _) in enumerate(reversed(lines[-EDGE_LINES:]))}


def drop_running_lines(pages: list[list[tuple[str, float]]]) -> list[list[tuple[str, float]]]:
    """Remove running headers and footers (lines repeating at one place on most pages) and page numbers."""
    counts = Counter(edge for lines in pages for edge in _edges(lines))
    needed = max(2, REPEAT_SHARE * len(pages))
    running = {edge for edge, count in counts.items() if count >= needed}
    cleaned = []
    for lines in pages:
        drop = {place for place, shape in _edges(lines) if (place, shape) in running}
        drop |= {place for place in (0, 1, -1, -2) if -len(lines) <= place < len(lines)
                 and PAGE_NUMBER.match(lines[place][0])}
        cleaned.append([line for i, line in enumerate(lines) if i not in drop and i - len(lines) not in drop])
    return cleaned


def paragraph_starts(lines: list[tuple[str, float]]) -> list[bool]:
    """Tell, for each line of a page, whether a gap wider than the usual line pitch comes above it."""
    gaps = [above - below for (_, above), (_, below) in zip(lines, lines[1:])]
    usual = sorted(g for g in gaps if g > 0)
    pitch = usual[len(usual) // 2] if usual else 0
    return [False] + [pitch > 0 and gap > PARAGRAPH_GAP * pitch for gap in gaps]


def build_text(pages: list[list[tuple[str, float]]]) -> tuple[str, list[tuple[int, int]], tuple[int, ...]]:
    """Join lines into paragraphs: return the text, the paragraph spans and where each page begins."""
    width = wrap_width([len(line) for lines in pages for line, _ in lines])
    lexicon = lexicon_of("\n".join(line for lines in pages for line, _ in lines))
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    starts: list[int] = []
    length, paragraph_start = 0, None
    for lines in pages:
        page_start = None
        for (line, _), new_paragraph in zip(lines, paragraph_starts(lines)):
            if new_paragraph and paragraph_start is not None:
                spans.append((paragraph_start, length))
                parts.append("\n\n")
                length += 2
                paragraph_start = None
            if paragraph_start is None:
                paragraph_start = length
            elif not _joins_broken_word(parts[-1], line):
                parts.append(" ")
                length += 1
            elif not keeps_hyphen(WORD_AT_END.search(parts[-1])[1], WORD_AT_START.match(line)[1], lexicon):
                parts[-1] = parts[-1][:-1]
                length -= 1
            if page_start is None:
                page_start = length
            parts.append(line)
            length += len(line)
            if len(line) < SHORT_LINE * width and not line.endswith("-"):
                spans.append((paragraph_start, length))
                parts.append("\n\n")
                length += 2
                paragraph_start = None
        starts.append(length if page_start is None else page_start)
    if paragraph_start is not None:
        spans.append((paragraph_start, length))
    return "".join(parts), spans, tuple(starts)


def _joins_broken_word(previous: str, line: str) -> bool:
    """Tell whether previous ends with a hyphenated word that line goes on with."""
    return previous.endswith("-") and bool(WORD_AT_END.search(previous)) and bool(WORD_AT_START.match(line))


def extract(raw: bytes, paragraphs: str = "auto") -> Extracted:
    """Read a PDF's text layer into paragraphs with page starts; the title from metadata or the first line."""
    pages, metadata = page_lines(raw)
    if not any(pages):
        raise Unreadable("no text layer (scanned?)")
    text, spans, starts = build_text(drop_running_lines(pages))
    blocks = [Block(a, b) for a, b in spans if b > a]
    title = (metadata.get("Title") or "").strip()
    if not title and blocks:
        title = text[blocks[0].start:blocks[0].end].split("\n")[0][:200]
    return Extracted(text, title, blocks, pages=starts, extractor=version())
