"""Plain text: paragraphs as the writer made them, titles, and the text that is embedded."""

import re
import textwrap

import pytest

from docsearch.index import retrieval_text, split_passages
from docsearch.index.extract.text import extract, paragraph_spans
from docsearch.index.wrapping import keeps_hyphen, unwrap

PROSE = [
    "The harbour master keeps a log of every ship that enters the port, its cargo, its crew and the hour "
    "at which the pilot boarded it, and the log has been kept without a break since the winter of 1802.",
    "Storms close the port a few days a year. Then the ships wait in the roads beyond the breakwater, "
    "their anchors down, until the swell falls and the pilots can board them again in safety.",
    "A short closing line.",
]


def spans_text(text, rule="auto"):
    return [text[a:b] for a, b in paragraph_spans(text, rule)]


def wrapped(width=72):
    return "\n\n".join(textwrap.fill(p, width) for p in PROSE) + "\n"


def test_hard_wrapped_paragraphs_are_joined():
    text = wrapped()
    found = spans_text(text)
    assert len(found) == 3
    assert [" ".join(p.split()) for p in found] == PROSE
    assert found[0].count("\n") >= 2  # it really was wrapped, and the span keeps the file's line breaks


def test_wrapped_paragraphs_without_blank_lines_end_at_a_short_line():
    text = "\n".join(textwrap.fill(p, 60) for p in PROSE[:2]) + "\n"
    assert [" ".join(p.split()) for p in spans_text(text)] == PROSE[:2]


def test_one_paragraph_per_line_is_unchanged(tmp_path):
    text = "\n".join(PROSE) + "\n"
    assert spans_text(text) == PROSE
    from tests.conftest import DOCS_CORPUS

    for path in sorted(DOCS_CORPUS.iterdir()):
        body = path.read_text(encoding="utf-8")
        assert spans_text(body) == spans_text(body, "lines"), path.name


def test_a_rule_can_be_forced():
    text = wrapped()
    assert len(spans_text(text, "lines")) == text.strip().count("\n") - 1  # every non-blank line
    one_per_line = "First paragraph line one.\nSecond paragraph here.\n\nThird.\n"
    assert spans_text(one_per_line, "blank") == ["First paragraph line one.\nSecond paragraph here.", "Third."]
    with pytest.raises(ValueError, match="paragraphs must be one of auto, lines, blank"):
        paragraph_spans("x", "words")


def test_a_list_in_wrapped_text_keeps_its_lines():
    text = wrapped() + "\n- apples from the north orchard\n- pears\n- plums and damsons\n"
    found = spans_text(text)
    assert found[-3:] == ["- apples from the north orchard", "- pears", "- plums and damsons"]


def test_title_is_a_short_first_line_that_stands_alone():
    assert extract("Harbour news\n\n" + wrapped()).title == "Harbour news"
    assert extract("US, Iraq Agree on Basic Troop Withdrawal\n" + "\n".join(PROSE)).title.startswith("US, Iraq")
    assert extract(wrapped()).title == ""  # the first paragraph is long prose
    assert extract("It ended.\n\nThen more text followed here.").title == ""  # a sentence, not a headline


def whitespace_tokens(text):
    return [m.start() for m in re.finditer(r"\S+", text)]


def test_passages_of_wrapped_text_are_exact_and_embed_unwrapped():
    text = "Harbour news\n\n" + wrapped(50)
    found = split_passages("f.txt", text, whitespace_tokens, max_tokens=60, min_words=5)
    assert all(text[p.start:p.end] == p.text for p in found)
    assert found[0].title == "Harbour news"
    assert any("\n" in p.text for p in found)
    assert all("\n" not in retrieval_text(p) for p in found)
    # the short headline and closing line merge into their neighbours; each paragraph is whole
    assert [unwrap(p.text) for p in found] == [f"Harbour news {PROSE[0]}", f"{PROSE[1]} {PROSE[2]}"]


@pytest.mark.parametrize("left, right, kept", [
    ("exam", "ple", False), ("infor", "mation", False), ("well", "known", True), ("self", "evident", True),
    ("Jean", "Pierre", True), ("data", "driven", True),
])
def test_line_end_hyphens_are_judged(left, right, kept):
    assert keeps_hyphen(left, right) is kept
    assert unwrap(f"an {left}-\n{right} here") == (f"an {left}-{right} here" if kept else f"an {left}{right} here")


def test_the_document_itself_decides_a_hyphen():
    assert not keeps_hyphen("sea", "wall", lexicon={"seawall"})
    assert keeps_hyphen("sea", "level", lexicon={"sea-level"})
    assert unwrap("a hyphen - alone\nand a dash at the end -\nnext") == "a hyphen - alone and a dash at the end - next"


def test_two_long_lines_are_two_paragraphs_not_one_wrapped():
    # The longer of two lines always "would not have fitted" the next word; two lines prove no width.
    text = ("Ocean tides are caused mainly by the gravitational pull of the Moon, with a smaller part from the Sun.\n"
            "Spring tides happen when the Sun, the Moon and the Earth are aligned, giving the highest tides.\n")
    assert len(spans_text(text)) == 2
