"""PDF: the text layer through pypdfium2 (PDFium), cleaned into paragraphs with page starts.

PDFium was chosen by measurement (bench/extractors.py, README): the fastest of
the three libraries measured, one space between words of justified lines where
pypdf and pdfminer.six give several, and it marks the hyphens it finds at line
ends (U+FFFE), which pypdf and pdfminer.six leave as ordinary hyphens. Each
line is read with its place and type size; index.extract.layout turns the lines
into clean paragraphs. OCR is out of scope: a PDF without a text layer is
skipped.
"""

from __future__ import annotations

import re

from . import Block, Extracted, Unreadable
from .layout import Line, build_text, drop_running_lines

HYPHEN_MARK = "\ufffe"  # PDFium's mark for a hyphen it found at a line end
SPACES = re.compile(r"[ \t\u00a0]+")
LINE_SEGMENT = re.compile(r"[^\r\n\ufffe]+\ufffe?")  # PDFium joins a line ending in a hyphen to the next


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


def _line(textpage, text: str, start: int, end: int) -> Line | None:
    """Return the line text[start:end] of a page with its place, or None if it is blank."""
    from pypdfium2 import raw as pdfium_c

    cleaned = SPACES.sub(" ", text[start:end].replace(HYPHEN_MARK, "-")).strip()
    if not cleaned:
        return None
    segment = text[start:end]
    first = start + len(segment) - len(segment.lstrip())
    last = start + len(segment.rstrip()) - 1
    word_end = first + len(cleaned.split(" ", 1)[0]) - 1
    boxes = [textpage.get_charbox(i) for i in range(first, min(last + 1, first + 8))]
    return Line(
        text=cleaned,
        top=max(box[3] for box in boxes),
        right=textpage.get_charbox(last)[2],
        word=textpage.get_charbox(min(word_end, last))[2] - boxes[0][0],
        size=pdfium_c.FPDFText_GetFontSize(textpage.raw, first) or 10.0,
    )


def page_lines(raw: bytes) -> tuple[list[list[Line]], dict]:
    """Return each page's lines, placed, and the document's metadata."""
    document = _open(raw)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            found = (_line(textpage, text, m.start(), m.end()) for m in LINE_SEGMENT.finditer(text))
            pages.append([line for line in found if line is not None])
            textpage.close()
            page.close()
        return pages, document.get_metadata_dict()
    finally:
        document.close()


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
