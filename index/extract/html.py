"""Web pages: the main content only, through trafilatura, with headings as sections.

trafilatura was chosen by measurement (bench/extractors.py, README): of the
four extractors measured it kept the article and dropped navigation, cookie
banners, sidebars and footers best, and its XML output keeps the structure
(headings, lists, tables with header cells) that blocks and sections need.
The text docsearch builds from it has a heading on a line of its own, a list
item per line ("- item") and a table row per line (cells joined by " | ").
"""

from __future__ import annotations

from functools import lru_cache

from . import Block, Extracted, Unreadable

CELL_SEPARATOR = " | "
BLOCK_TAGS = {"p": "paragraph", "quote": "paragraph", "code": "code", "list": "list", "table": "table"}


def version() -> str:
    """Return the library's name and version, recorded with each file."""
    import trafilatura

    return f"trafilatura {trafilatura.__version__}"


@lru_cache(maxsize=1)
def _config():
    """Return trafilatura settings that keep short pages (its defaults drop pages under 250 characters)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # the sandbox limits time; its signal would not
    return config


def _words(element) -> str:
    """Return an element's text with white space collapsed."""
    return " ".join("".join(element.itertext()).split())


def _lines(element, tag: str) -> tuple[list[str], str]:
    """Return the lines of a list or table, and a table's header row (its context)."""
    if tag == "list":
        return [f"- {_words(item)}" for item in element.iter("item") if _words(item)], ""
    if tag == "code":
        return [line.rstrip() for line in "".join(element.itertext()).strip("\n").split("\n")], ""
    if tag != "table":
        return [_words(element)], ""
    rows, header = [], ""
    for row in element.iter("row"):
        cells = [_words(cell) for cell in row.iter("cell")]
        line = CELL_SEPARATOR.join(cells)
        if not header and any(cell.get("role") == "head" for cell in row.iter("cell")):
            header = line
        if line.strip(" |"):
            rows.append(line)
    return rows, header


def main_content(raw: bytes):
    """Return trafilatura's XML tree of the page's main content, or raise Unreadable."""
    import trafilatura
    from lxml import etree

    found = trafilatura.extract(raw, output_format="xml", include_tables=True, include_comments=False,
                                favor_recall=True, config=_config())
    if not found:
        raise Unreadable("no main text found in the page")
    return etree.fromstring(found.encode("utf-8")).find("main")


def extract(raw: bytes, paragraphs: str = "auto") -> Extracted:
    """Read a web page's main content into blocks with section paths; the title from <title> or <h1>."""
    import trafilatura

    main = main_content(raw)
    parts: list[str] = []
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    length = 0
    for element in main if main is not None else []:
        tag = element.tag
        if tag == "head":
            rend, name = element.get("rend") or "h2", _words(element)
            depth = int(rend[1:]) if rend[1:].isdigit() else 2
            while headings and headings[-1][0] >= depth:
                headings.pop()
            headings.append((depth, name))
            lines = [name]
        elif tag in BLOCK_TAGS:
            lines, context = _lines(element, tag)
        else:
            lines, context = [_words(element)], ""
        text = "\n".join(line for line in lines if line.strip()).strip()
        if not text.strip():
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        parts.append(text)
        if tag != "head":
            blocks.append(Block(length, length + len(text), BLOCK_TAGS.get(tag, "paragraph"),
                                tuple(n for _, n in headings), context))
        length += len(text)
    if not blocks:
        raise Unreadable("no main text found in the page")
    metadata = trafilatura.extract_metadata(raw)
    title = (metadata.title if metadata and metadata.title else "") or (headings[0][1] if headings else "")
    return Extracted("".join(parts), title, blocks, extractor=version())
