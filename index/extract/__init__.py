"""Turn a document file into text and the blocks that passages are made of.

Each format has one extractor, found by the file's suffix (FORMATS). Plain text
and Markdown are read from the decoded file text, which stays unchanged, so a
passage's offsets are offsets into the file. PDF, HTML and Word files are read
from their bytes into a text docsearch builds; offsets are into that text.
Extractors of those formats run in worker processes with a time and memory
limit (index.extract.sandbox), since their parsers read what anyone can craft.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable

KINDS = ("paragraph", "code", "list", "table")
# docsearch's own part of reading a file (blocks, cleaning, titles): bump it when that changes, so every
# file is read again; a library's version is part of each format's version too (Format.version).
EXTRACTION_VERSION = 1
PARAGRAPHS = ("auto", "lines", "blank")  # how plain text marks paragraphs (index.extract.text)


@dataclass(frozen=True)
class Block:
    """A unit passages are made of, in document order: a span of Extracted.text, white space trimmed."""

    start: int
    end: int
    kind: str = "paragraph"  # one of KINDS; a heading is not a block, it sets sections
    section: tuple[str, ...] = ()  # heading path, e.g. ("Install", "From source")
    context: str = ""  # text repeated for retrieval only, e.g. a table's header row for every piece


@dataclass(frozen=True)
class Extracted:
    """A document's text, title and blocks."""

    text: str  # .txt/.md: the decoded file text, unchanged; other formats: the text docsearch built
    title: str  # "" if the document has none
    blocks: list[Block]
    pages: tuple[int, ...] = ()  # PDF: offset in text where each page begins (page 1 at pages[0])
    extractor: str = ""  # library and version, e.g. "pypdfium2 5.15.2": a change means re-extracting

    def page_of(self, offset: int) -> int | None:
        """Return the 1-based page holding text[offset], or None for a document without pages."""
        if not self.pages:
            return None
        return max(1, bisect_right(self.pages, offset))


class Unreadable(Exception):
    """The file cannot be extracted; the message is the one-line reason it is skipped."""


@dataclass(frozen=True)
class Format:
    """How to read files of one kind: the extractor and how it is run."""

    name: str
    read: Callable[..., Extracted]  # read(text or raw bytes, paragraphs=...) -> Extracted
    # True: read gets the file's bytes and runs in a sandboxed worker (index.extract.sandbox);
    # False: it gets the decoded text and runs in this process (plain text and Markdown)
    binary: bool
    options: dict = field(default_factory=dict)
    module: str = ""  # the module of this package that reads it, whose version() names its library

    def version(self) -> str:
        """Return what reads this format and its version, as recorded with each file read by it."""
        import importlib

        if not self.module:  # a reader registered from elsewhere (the tests' misbehaving ones)
            return f"{self.read.__module__}.{self.read.__qualname__}"
        return f"{importlib.import_module(f'{__name__}.{self.module}').version()}; docsearch {EXTRACTION_VERSION}"


def _read_text(source, **options) -> Extracted:
    """Read plain text (the parser is imported on first use, not at start-up)."""
    from .text import extract

    return extract(source, **options)


def _read_markdown(source, **options) -> Extracted:
    """Read Markdown (the parser is imported on first use, not at start-up)."""
    from .markdown import extract

    return extract(source, **options)


def _read_pdf(source, **options) -> Extracted:
    """Read a PDF (the parser is imported on first use, not at start-up)."""
    from .pdf import extract

    return extract(source, **options)


def _read_html(source, **options) -> Extracted:
    """Read a web page (the parser is imported on first use, not at start-up)."""
    from .html import extract

    return extract(source, **options)


def _read_docx(source, **options) -> Extracted:
    """Read a Word file (the parser is imported on first use, not at start-up)."""
    from .docx import extract

    return extract(source, **options)


# Module-level functions (not closures), so a spawned worker process can unpickle them by name.
FORMATS: dict[str, Format] = {
    ".txt": Format("text", _read_text, binary=False, module="text"),
    ".md": Format("markdown", _read_markdown, binary=False, module="markdown"),
    ".pdf": Format("pdf", _read_pdf, binary=True, module="pdf"),
    ".html": Format("html", _read_html, binary=True, module="html"),
    ".htm": Format("html", _read_html, binary=True, module="html"),
    ".docx": Format("docx", _read_docx, binary=True, module="docx"),
}


def register(suffix: str, fmt: Format) -> None:
    """Read files ending in suffix with fmt (replacing any format already there)."""
    FORMATS[suffix.lower()] = fmt


def format_of(name: str) -> Format | None:
    """Return the format of a file name by its suffix, or None if docsearch does not read it."""
    dot = name.rfind(".")
    return FORMATS.get(name[dot:].lower()) if dot >= 0 else None


def extract(source: str | bytes, suffix: str, paragraphs: str = "auto") -> Extracted:
    """Extract a document in this process (no sandbox): text for text formats, bytes for the others."""
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise Unreadable(f"docsearch does not read {suffix} files")
    return fmt.read(source, paragraphs=paragraphs, **fmt.options)


__all__ = ["Block", "Extracted", "Format", "FORMATS", "KINDS", "PARAGRAPHS", "Unreadable", "extract", "format_of",
           "register"]
