"""PDF: text layer cleaned of running headers, page numbers and line-end hyphens, with pages."""

import re

import pytest

from docsearch.index import split_document
from docsearch.index.extract import Unreadable, extract

from .documents import LONG_WORDS, corrupt_pdf_bytes, pdf_bytes, prose, scanned_pdf_bytes

HEADER = "Journal of Made-up Results, Volume 3"


@pytest.fixture(scope="module")
def paper():
    paragraphs = prose(14)
    raw = pdf_bytes(paragraphs, title="Tidal Gauges and Their Records", header=HEADER)
    return paragraphs, raw, extract(raw, ".pdf")


def whitespace_tokens(text):
    return [m.start() for m in re.finditer(r"\S+", text)]


def test_pages_are_recorded(paper):
    import pypdfium2

    _, raw, doc = paper
    count = len(pypdfium2.PdfDocument(raw))
    assert count >= 3  # the fixture really has several pages
    assert len(doc.pages) == count and doc.pages[0] == 0
    assert list(doc.pages) == sorted(set(doc.pages))
    assert doc.extractor.startswith("pypdfium2 ")


def test_running_headers_and_page_numbers_are_dropped(paper):
    _, _, doc = paper
    assert "Journal of Made-up" not in doc.text
    assert not re.search(r"(?m)^\s*\d+\s*$", doc.text)
    assert not re.search(r"\b\d\b", doc.text)  # the fixture's prose has no digits: any digit is a page number


def test_hyphenated_words_are_whole_and_spaces_single(paper):
    paragraphs, _, doc = paper
    assert "\u00ad" not in "".join(paragraphs) and "-" not in "".join(paragraphs)
    assert "-" not in doc.text and "\ufffe" not in doc.text
    assert "  " not in doc.text
    words = set(re.findall(r"[a-z]+", doc.text.lower()))
    assert set(LONG_WORDS) <= words
    assert words <= set(" ".join(paragraphs).lower().replace(".", "").split()) | set("tidal gauges and their records".split())


def test_paragraphs_are_rebuilt(paper):
    paragraphs, _, doc = paper
    found = [doc.text[b.start:b.end] for b in doc.blocks]
    assert found[0] == "Tidal Gauges and Their Records" and doc.title == "Tidal Gauges and Their Records"
    assert found[1:] == paragraphs


def test_passages_have_pages_and_page_end(paper):
    _, _, doc = paper
    found = split_document("paper.pdf", doc, whitespace_tokens, max_tokens=45, min_words=10)
    assert all(doc.text[p.start:p.end] == p.text for p in found)
    assert {p.page for p in found} == set(range(1, len(doc.pages) + 1))
    spanning = [p for p in found if p.page_end is not None]
    assert spanning and all(p.page_end > p.page for p in spanning)
    for p in found:
        assert doc.pages[p.page - 1] <= p.start and (p.page == len(doc.pages) or p.start < doc.pages[p.page])


def test_title_falls_back_to_the_first_line():
    raw = pdf_bytes(prose(2), title="Harbour Annual Report", metadata_title=False)
    assert extract(raw, ".pdf").title == "Harbour Annual Report"


def test_a_real_hyphen_at_a_line_end_is_kept_when_the_document_writes_it():
    words = ["well-known"] + ["harbour"] * 400
    text = " ".join(words[i % len(words)] if i % 37 else "well-known" for i in range(600))
    doc = extract(pdf_bytes([text], hyphens=False), ".pdf")
    assert doc.text.count("well-known") == text.count("well-known")
    assert "wellknown" not in doc.text


@pytest.mark.parametrize("make, reason", [
    (scanned_pdf_bytes, "no text layer (scanned?)"),
    (lambda: pdf_bytes(prose(1), encrypt="secret"), "encrypted PDF (it needs a password)"),
    (corrupt_pdf_bytes, "not a readable PDF (PDFium: Data format error)"),
    (lambda: b"", "not a readable PDF"),
])
def test_unreadable_pdfs_say_why(make, reason):
    with pytest.raises(Unreadable) as caught:
        extract(make(), ".pdf")
    assert str(caught.value).startswith(reason)


def test_a_one_page_document_loses_its_header_and_keeps_a_wrapped_title_whole():
    title = "Neutrophil extracellular traps enriched in oxidized mitochondrial DNA contribute to disease"
    paragraph = prose(1, words=36, seed=4)[0]
    doc = extract(pdf_bytes([paragraph], title=title, header=HEADER, page_format=(105, 148)), ".pdf")
    assert len(doc.pages) == 1
    assert [doc.text[b.start:b.end] for b in doc.blocks] == [title, paragraph]
    assert HEADER not in doc.text
