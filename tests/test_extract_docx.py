"""Word files: paragraphs in order, headings as sections, tables with their header row."""

import pytest

from docsearch.index.extract import Unreadable, extract

from .documents import docx_bytes, zip_bomb_docx

BODY = [
    ("heading1", "Results"),
    ("paragraph", "Revenue grew by a tenth over the year, driven by exports to three new markets in Asia."),
    ("list", ["Exports rose in every quarter.", "Costs stayed flat."]),
    ("heading2", "By region"),
    ("table", [["Region", "Sales"], ["North", "10.2"], ["South", "12.7"]]),
    ("heading1", "Outlook"),
    ("paragraph", "The board expects slower growth next year as the new markets mature."),
]


@pytest.fixture(scope="module")
def report():
    return extract(docx_bytes("Annual report 2025", BODY), ".docx")


def test_paragraphs_in_order_with_sections(report):
    texts = [report.text[b.start:b.end] for b in report.blocks]
    assert texts == [
        BODY[1][1], "- Exports rose in every quarter.\n- Costs stayed flat.",
        "Region | Sales\nNorth | 10.2\nSouth | 12.7", BODY[6][1],
    ]
    assert [b.section for b in report.blocks] == [
        ("Annual report 2025", "Results"), ("Annual report 2025", "Results"),
        ("Annual report 2025", "Results", "By region"), ("Annual report 2025", "Outlook"),
    ]
    assert [b.kind for b in report.blocks] == ["paragraph", "list", "table", "paragraph"]


def test_a_table_carries_its_header_row(report):
    table = report.blocks[2]
    assert table.context == "Region | Sales"


def test_title_from_core_properties_else_first_heading(report):
    assert report.title == "Annual report 2025"
    assert extract(docx_bytes("", BODY, core_title="FY2025 report"), ".docx").title == "FY2025 report"
    assert extract(docx_bytes("", BODY), ".docx").title == "Results"


@pytest.mark.parametrize("raw, reason", [
    (zip_bomb_docx(8), "zip bomb? word/document.xml inflates"),
    (b"PK\x03\x04 not really a zip", "not a readable .docx"),
])
def test_hostile_docx_is_refused_before_inflating(raw, reason):
    with pytest.raises(Unreadable) as caught:
        extract(raw, ".docx")
    assert str(caught.value).startswith(reason)
