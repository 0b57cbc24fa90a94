"""Splitting documents into passages: exact spans, limits, merging and duplicates."""

import re
from pathlib import Path

import pytest

from docsearch.index import read_text, split_passages

from . import conftest
from .conftest import DOCS_CORPUS


def stored_passages(index_dir: Path) -> list[tuple]:
    """Return (path, number, start, end, line_start, line_end, text) of every stored passage, by id."""
    return [(p.source, p.number, p.start, p.end, p.line_start, p.line_end, p.text)
            for p in conftest.stored_passages(index_dir)]


def words(text: str) -> list[str]:
    return text.split()


def whitespace_tokens(text: str) -> list[int]:
    """A stand-in tokenizer for unit tests: one token per word."""
    return [m.start() for m in re.finditer(r"\S+", text)]


@pytest.mark.parametrize("corpus", ["docs", "test"])
def test_span_invariant_holds_for_every_stored_passage(corpus, docs_index, test_index, test_corpus):
    index_dir, root = (docs_index, DOCS_CORPUS) if corpus == "docs" else (test_index, test_corpus)
    rows = stored_passages(index_dir)
    assert rows
    for path, number, start, end, line_start, line_end, text in rows:
        file_text = read_text(root / path)
        assert file_text[start:end] == text, (path, number)
        assert text == text.strip() and text
        line_breaks = re.compile(r"\r\n|\r|\n")
        assert line_start == len(line_breaks.findall(file_text, 0, start)) + 1
        assert line_end == len(line_breaks.findall(file_text, 0, end - 1)) + 1


@pytest.mark.parametrize("corpus", ["docs", "test"])
def test_no_passage_exceeds_the_model_limit(corpus, docs_index, test_index, encoder):
    rows = stored_passages(docs_index if corpus == "docs" else test_index)
    lengths = encoder.token_lengths([r[6] for r in rows])
    assert max(lengths) <= encoder.max_passage_tokens
    assert encoder.max_passage_tokens + 2 == encoder.max_seq_length == 256


def test_nothing_is_lost(docs_index, test_index, test_corpus):
    """Every word of a file is in its passages, in order, except dropped duplicate paragraphs and headings."""
    for index_dir, root in ((docs_index, DOCS_CORPUS), (test_index, test_corpus)):
        by_file: dict[str, list[str]] = {}
        for path, *_, text in stored_passages(index_dir):
            by_file.setdefault(path, []).append(text)
        for path, texts in by_file.items():
            if path in ("duplicates.txt", "002_7722c8300aa7d025.txt"):
                continue  # checked by the duplicate tests
            file_text = read_text(root / path)
            if path.endswith(".md"):  # a Markdown heading is the section of the passages under it, not text
                file_text = re.sub(r"(?m)^#{1,6} .*$", "", file_text)
            assert words(" ".join(texts)) == words(file_text), path


def test_long_paragraph_is_split_at_sentences_then_words(test_index, test_corpus):
    rows = [r for r in stored_passages(test_index) if r[0] == "long_paragraph.txt"]
    texts = [r[6] for r in rows]
    assert len(texts) >= 4
    sentence_pieces = [t for t in texts if t.endswith(".") and "starlight" not in t]
    assert len(sentence_pieces) >= 2  # cut between sentences while sentences allow it
    run_on = [t for t in texts if set(words(t)) == {"starlight"}]
    assert len(run_on) >= 1  # a run-on sentence is cut between words, never inside one
    assert sum(words(t).count("starlight") for t in texts) == 300
    # All pieces are on line 2, one after the other, with nothing between them but spaces.
    # The heading cannot merge with a full piece, so it stands alone on line 1.
    assert rows[0][6] == "Astronomy history" and all(r[4] == r[5] == 2 for r in rows[1:])
    file_text = read_text(test_corpus / "long_paragraph.txt")
    for a, b in zip(rows[1:], rows[2:]):
        assert file_text[a[3]:b[2]].strip() == ""
        assert file_text[a[3]].isspace()  # every cut falls between words


def test_repeated_paragraph_is_indexed_once(test_index):
    texts = [r[6] for r in stored_passages(test_index) if r[0] == "duplicates.txt"]
    assert sum(t.count("Volcanic eruptions release ash") for t in texts) == 1
    assert any("Tambora" in t for t in texts)


def test_duplicate_headline_in_demo_corpus_is_indexed_once(docs_index):
    texts = [r[6] for r in stored_passages(docs_index) if r[0] == "002_7722c8300aa7d025.txt"]
    assert sum(t.count("US, Iraq Agree on Basic Troop Withdrawal End 2021") for t in texts) == 1


def test_short_headings_merge_into_the_next_paragraph(test_index):
    rows = {(r[0], r[1]): r for r in stored_passages(test_index)}
    path, number, start, end, line_start, line_end, text = rows[("bread_crlf.txt", 1)]
    assert text.startswith("Sourdough Basics\r\n\r\nA sourdough starter")
    assert (line_start, line_end) == (1, 3)
    assert rows[("bread_crlf.txt", 2)][4] == 5  # CRLF counts as one line break
    # A Markdown heading is not text to merge: it becomes the section of the passages under it.
    md = rows[("nested/packaging.md", 1)]
    assert md[6].startswith("A pyproject.toml") and (md[4], md[5]) == (2, 2)
    sections = {p.section for p in conftest.stored_passages(test_index) if p.source == "nested/packaging.md"}
    assert sections == {"Packaging notes"}


def test_file_without_trailing_newline_ends_at_its_last_character(test_index, test_corpus):
    last = [r for r in stored_passages(test_index) if r[0] == "nested/packaging.md"][-1]
    assert last[3] == len(read_text(test_corpus / "nested/packaging.md"))
    assert last[6].endswith("when the package is installed.")


def test_merge_rules_with_a_word_tokenizer():
    text = "Title\n\nShort dup\nShort dup\nDate line\nA body paragraph with quite a lot of words in it here.\nThe end"
    found = split_passages("f.txt", text, whitespace_tokens, max_tokens=50, min_words=4)
    assert [p.text for p in found] == [
        "Title\n\nShort dup",  # cannot merge forward across the dropped copy, so it stays with its heading
        "Date line\nA body paragraph with quite a lot of words in it here.\nThe end",
    ]
    assert [(p.line_start, p.line_end) for p in found] == [(1, 3), (5, 7)]
    assert all(text[p.start:p.end] == p.text for p in found)


def test_split_respects_the_limit_and_keeps_every_word():
    text = "One two three. Four five six seven. Eight nine. " + "x" * 5 + " " + " ".join(["w"] * 12)
    found = split_passages("f.txt", text, whitespace_tokens, max_tokens=5, min_words=1)
    assert all(len(whitespace_tokens(p.text)) <= 5 for p in found)
    assert words(" ".join(p.text for p in found)) == words(text)
    assert found[0].text == "One two three."
    assert all(text[p.start:p.end] == p.text for p in found)


def test_a_word_longer_than_the_limit_is_cut_between_word_pieces():
    def char_tokens(s):  # one token per character
        return list(range(len(s)))

    found = split_passages("f.txt", "abcdefghij", char_tokens, max_tokens=4, min_words=1)
    assert [p.text for p in found] == ["abcd", "efgh", "ij"]


def test_empty_text_has_no_passages():
    assert split_passages("f.txt", "\n \r\n\t\n", whitespace_tokens, max_tokens=10) == []
