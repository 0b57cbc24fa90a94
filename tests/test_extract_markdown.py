"""Markdown: sections, front matter, code fences, lists and tables."""

import re

from docsearch.index import split_document
from docsearch.index.extract import extract
from docsearch.index.passages import retrieval_text

from .documents import MARKDOWN


def whitespace_tokens(text):
    return [m.start() for m in re.finditer(r"\S+", text)]


def passages(text, max_tokens=200, min_words=10):
    return split_document("guide.md", extract(text, ".md"), whitespace_tokens, max_tokens, min_words)


def test_headings_are_sections_not_passages_and_front_matter_is_skipped():
    found = passages(MARKDOWN)
    assert all(MARKDOWN[p.start:p.end] == p.text for p in found)
    assert not any(p.text.lstrip().startswith("#") or "tags:" in p.text or "---" == p.text for p in found)
    sections = {p.section for p in found}
    assert sections == {"Packaging guide", "Packaging guide \u203a Install \u203a From source",
                        "Packaging guide \u203a Settings"}
    assert extract(MARKDOWN, ".md").title == "Front matter title"
    assert extract(MARKDOWN.split("---\n", 2)[2], ".md").title == "Packaging guide"


def test_the_section_path_is_embedded_with_the_text():
    first = passages(MARKDOWN)[0]
    assert retrieval_text(first).startswith("Packaging guide\nA Python package declares")
    assert "\n" not in retrieval_text(first).split("\n", 1)[1]  # wrapped lines joined


def test_a_list_stays_with_the_sentence_that_introduces_it_and_code_stays_whole():
    found = passages(MARKDOWN)
    intro = next(p for p in found if "Clone the repository" in p.text)
    assert intro.text.endswith("run the test suite once to check that everything works")
    code = next(p for p in found if "```python" in p.text)
    assert code.text.startswith("```python") and code.text.endswith("```")


def test_a_long_code_fence_is_cut_between_lines_only():
    lines = [f"    result_{i} = compute(alpha_{i}, beta_{i}, gamma_{i})" for i in range(60)]
    text = "# Code\n\n```python\n" + "\n".join(lines) + "\n```\n"
    found = passages(text, max_tokens=40)
    assert len(found) > 3
    for p in found:
        assert text[p.start:p.end] == p.text
        assert text[p.start - 1] == "\n" or p.start == 0 or text[p.start - 5:p.start].strip() == ""
        assert p.end == len(text) - 1 or text[p.end] == "\n"  # every piece ends at a line end
        assert len(whitespace_tokens(retrieval_text(p))) <= 40


def test_a_table_keeps_its_header_with_every_piece():
    rows = "\n".join(f"| station {i} | {i * 3} metres | gauge number {i} installed |" for i in range(40))
    text = "# Tides\n\n| Station | Range | Notes |\n|---|---|---|\n" + rows + "\n"
    found = passages(text, max_tokens=50)
    assert len(found) > 2
    assert all(p.context == "| Station | Range | Notes |" for p in found)
    assert all(retrieval_text(p).startswith("Tides\n| Station | Range | Notes |\n") for p in found)
    assert all(text[p.start:p.end] == p.text and p.text.endswith("|") for p in found)


def test_paragraph_lines_written_one_per_line_stay_apart():
    body = ("The first paragraph of this note is written on one long line, with no wrapping at all, "
            "as some editors save text. ") * 2
    text = f"# Note\n{body.strip()}\nA second paragraph on the next line, also long enough to stand on its own.\n"
    found = passages(text, min_words=3)
    assert [p.text for p in found] == [body.strip(), "A second paragraph on the next line, also long enough to stand on its own."]
