"""Web pages: the article only, with headings as sections and the page title."""

import re

import pytest

from docsearch.index import split_document
from docsearch.index.extract import Unreadable, extract
from docsearch.index.passages import retrieval_text

from .documents import BOILERPLATE_WORDS, html_page

ARTICLE = """<p>Tide gauges along the Atlantic coast have recorded the height of the sea every hour since the
eighteenth century, and the oldest series, at Brest, begins in the year 1711.</p>
<h2>How a gauge works</h2>
<p>A float in a stilling well rises and falls with the water, and a pen traces its height on a drum of paper
that turns once a day, so each sheet holds a whole tidal cycle.</p>
<ul><li>Stilling wells calm the waves.</li><li>Benchmarks tie the gauge to the land.</li></ul>
<h3>Readings</h3>
<table><tr><th>Port</th><th>Mean range</th></tr><tr><td>Brest</td><td>4.1 m</td></tr>
<tr><td>Saint-Malo</td><td>8.0 m</td></tr></table>
<p>Modern gauges use radar instead of floats, but the old paper records are still read for climate studies.</p>"""


@pytest.fixture(scope="module")
def page():
    return extract(html_page("Reading the tides", ARTICLE).encode("utf-8"), ".html")


def test_boilerplate_is_gone(page):
    for word in (*BOILERPLATE_WORDS, "Privacy", "Home", "celebrity", "analytics", "font-family", "Accept all"):
        assert word not in page.text, word
    assert "stilling well rises and falls" in page.text
    assert page.text.rstrip().endswith("still read for climate studies.")


def test_title_and_sections(page):
    assert page.title == "Reading the tides"
    by_text = {page.text[b.start:b.end][:20]: b for b in page.blocks}
    assert by_text["Tide gauges along th"].section == ("Reading the tides",)
    assert by_text["A float in a stillin"].section == ("Reading the tides", "How a gauge works")
    table = by_text["Port | Mean range\nBr"]
    assert table.kind == "table" and table.context == "Port | Mean range"
    assert table.section == ("Reading the tides", "How a gauge works", "Readings")
    assert by_text["- Stilling wells cal"].kind == "list"


def test_passages_are_exact_and_embed_their_section(page):
    found = split_document("tides.html", page, lambda s: [m.start() for m in re.finditer(r"\S+", s)], 200)
    assert all(page.text[p.start:p.end] == p.text for p in found)
    assert not any(p.text in ("How a gauge works", "Readings") for p in found)  # a heading is never a passage
    assert any(retrieval_text(p).startswith("Reading the tides \u203a How a gauge works\n") for p in found)


def test_title_from_h1_when_the_page_has_no_title_element():
    raw = b"<html><body><article><h1>Harbour lights</h1><p>" + b"The lights guide ships home at night. " * 5 + b"</p></article></body></html>"
    assert extract(raw, ".html").title == "Harbour lights"


def test_a_page_without_text_is_skipped_with_its_reason():
    with pytest.raises(Unreadable, match="no main text found in the page"):
        extract(b"<html><head><script>var a = 1;</script></head><body><nav><a href='/'>Home</a></nav></body></html>", ".html")
