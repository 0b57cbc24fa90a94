"""Word files (.docx): paragraphs in order, headings as sections, tables row by row, through python-docx.

A .docx is a zip archive: its declared sizes are checked before anything is
inflated, so a zip bomb is refused at once rather than left to the sandbox's
memory limit.
"""

from __future__ import annotations

import io
import re
import zipfile

from . import Block, Extracted, Unreadable

MAX_INFLATED_MB = 256  # what all the archive's parts may inflate to together
MAX_RATIO = 200  # a part inflating more than this many times its stored size is a bomb
CELL_SEPARATOR = " | "
HEADING_STYLE = re.compile(r"^Heading (\d)$")


def version() -> str:
    """Return the library's name and version, recorded with each file."""
    import docx

    return f"python-docx {docx.__version__}"


def check_archive(raw: bytes) -> None:
    """Refuse an archive that is not a zip, or that would inflate far beyond its size."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Unreadable(f"not a readable .docx ({exc})") from None
    inflated = sum(m.file_size for m in members)
    if inflated > MAX_INFLATED_MB * 2**20:
        raise Unreadable(f"zip bomb? the .docx would inflate to {inflated / 2**20:,.0f} MB")
    for m in members:
        if m.file_size > 2**20 and m.file_size > MAX_RATIO * max(1, m.compress_size):
            raise Unreadable(f"zip bomb? {m.filename} inflates {m.file_size // max(1, m.compress_size):,} times")


def _body(document):
    """Yield the document's paragraphs and tables in order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            yield Paragraph(child, document)
        elif child.tag.endswith("}tbl"):
            yield Table(child, document)


def _items(document):
    """Yield (kind, lines, context, heading level) for each heading, paragraph, list and table in order."""
    for item in _body(document):
        if hasattr(item, "rows"):
            rows = [CELL_SEPARATOR.join(" ".join(c.text.split()) for c in row.cells) for row in item.rows]
            rows = [r for r in rows if r.strip(" |")]
            if rows:
                yield "table", rows, rows[0] if len(rows) > 1 else "", 0
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        style = item.style.name if item.style is not None else ""
        heading = HEADING_STYLE.match(style)
        if heading or style == "Title":
            yield "heading", [text], "", int(heading.group(1)) if heading else 0
        elif style.startswith("List"):  # "List Bullet", "List Number 2", ...: consecutive items are one list
            yield "list", [f"- {text}"], "", 0
        else:
            yield "paragraph", [text], "", 0


def extract(raw: bytes, paragraphs: str = "auto") -> Extracted:
    """Read a .docx into blocks with section paths; the title from its properties or first heading."""
    import docx

    check_archive(raw)
    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise Unreadable(f"not a readable .docx ({type(exc).__name__}: {exc})") from None
    parts: list[str] = []
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    title, length = "", 0
    for kind, lines, context, level in _items(document):
        text = "\n".join(lines)
        section = tuple(n for _, n in headings)
        if parts:
            joined = kind == "list" and blocks and blocks[-1].kind == "list" and blocks[-1].end == length
            parts.append("\n" if joined else "\n\n")
            length += len(parts[-1])
        parts.append(text)
        if kind == "heading":
            title = title or text
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
        elif kind == "list" and blocks and blocks[-1].kind == "list" and blocks[-1].end == length - 1:
            blocks[-1] = Block(blocks[-1].start, length + len(text), "list", blocks[-1].section)
        else:
            blocks.append(Block(length, length + len(text), kind, section, context))
        length += len(text)
    core = (document.core_properties.title or "").strip()
    return Extracted("".join(parts), core or title, blocks, extractor=version())
