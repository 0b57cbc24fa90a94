"""Markdown: headings set sections, code fences, lists and tables are blocks of their own.

Parsed with markdown-it-py (CommonMark, plus GitHub tables and YAML front
matter from mdit-py-plugins), whose tokens carry the source lines they come
from, so every block is an exact span of the file's text. Only top-level
tokens make blocks: a list or a quote is one block, whatever it nests. A
paragraph's lines go through the plain-text rule (index.extract.text), so a
file written one paragraph per line without blank lines is still read so.
"""

from __future__ import annotations

from functools import lru_cache

from . import Block, Extracted
from .text import lines_of, paragraph_spans, trimmed, wrap_width

KIND_OF = {"fence": "code", "code_block": "code", "bullet_list_open": "list", "ordered_list_open": "list",
           "table_open": "table", "blockquote_open": "paragraph", "html_block": "paragraph"}


@lru_cache(maxsize=1)
def _parser():
    """Return the one CommonMark parser with tables and front matter."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").use(front_matter_plugin).enable("table")


def version() -> str:
    """Return the parser's name and version, recorded with each file."""
    import markdown_it

    return f"markdown-it-py {markdown_it.__version__}"


def plain(inline) -> str:
    """Return the text of an inline token without Markdown marks (for headings)."""
    parts = [c.content if c.type in ("text", "code_inline") else " " for c in inline.children or []
             if c.type in ("text", "code_inline", "softbreak", "hardbreak")]
    return " ".join("".join(parts).split())


def front_matter_title(content: str) -> str:
    """Return the title: field of YAML front matter, unquoted, if it has a plain one."""
    for line in content.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "title" and value.strip():
            return value.strip().strip("\"'")
    return ""


def extract(text: str, paragraphs: str = "auto") -> Extracted:
    """Read Markdown into blocks with section paths; the title is the first heading."""
    tokens = _parser().parse(text)
    lines = lines_of(text)
    offsets = [offset for offset, _ in lines] + [len(text)]

    def span(first: int, last: int) -> tuple[int, int]:
        """Return the trimmed character span of source lines [first, last)."""
        start, end = offsets[first], offsets[min(last, len(lines))]
        inner = text[start:end]
        lead = len(inner) - len(inner.lstrip())
        return start + lead, start + len(inner.rstrip())

    paragraph_lines = [len(lines[i][1].rstrip()) for t in tokens if t.type == "paragraph_open" and t.level == 0
                       for i in range(*t.map)]
    width = wrap_width(paragraph_lines)
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []  # (level, text) of the headings above the current line
    section: tuple[str, ...] = ()
    title = ""
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None:
            continue
        if token.type == "front_matter":
            title = title or front_matter_title(token.content)
        elif token.type == "heading_open":
            depth, name = int(token.tag[1:]), plain(tokens[i + 1])
            while headings and headings[-1][0] >= depth:
                headings.pop()
            headings.append((depth, name))
            section = tuple(n for _, n in headings if n)
            title = title or name
        elif token.type == "paragraph_open":
            start, end = offsets[token.map[0]], offsets[min(token.map[1], len(lines))]
            for a, b in paragraph_spans(text, paragraphs, start, end, width):
                blocks.append(Block(a, b, "paragraph", section))
        elif token.type in KIND_OF:
            a, b = span(*token.map)
            if b > a:
                context = _header_row(text, lines, token) if token.type == "table_open" else ""
                blocks.append(Block(a, b, KIND_OF[token.type], section, context))
    return Extracted(text, title, blocks, extractor=version())


def _header_row(text: str, lines: list[tuple[int, str]], table) -> str:
    """Return a table's header line as written, to repeat with every piece of the table."""
    start, end = trimmed(*lines[table.map[0]])
    return text[start:end]
