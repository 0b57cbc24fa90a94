"""Reading a corpus folder: which files, in what order, decoded how, skipped why."""

import logging

import pytest

from docsearch.index import CorpusNotFound, read_corpus
from docsearch.index.corpus import UndecodableFile, decode_text


def test_reads_txt_and_md_recursively_in_sorted_order(test_corpus):
    files, _ = read_corpus(test_corpus)
    assert [f.path for f in files] == [
        "bread_crlf.txt",
        "cafe_latin1.txt",
        "duplicates.txt",
        "long_paragraph.txt",
        "nested/packaging.md",
        "tides_bom.txt",
    ]


def test_every_skipped_file_has_a_logged_reason(test_corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="docsearch.index.corpus"):
        _, skipped = read_corpus(test_corpus)
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["binary.txt"] == "binary file (contains NUL bytes)"
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"] == "file holds only white space"
    assert reasons["outside_link.txt"] == "symlink leads outside the corpus folder"
    assert reasons["inside_link.txt"].startswith("symlink to duplicates.txt")
    assert reasons["loop"] == "broken symlink or symlink loop"
    assert reasons["nested_again"].startswith("symlinked folder")
    assert "notes.csv" not in reasons  # not a document type at all, so not a skip
    for path, reason in reasons.items():
        assert any(path in r.getMessage() and reason in r.getMessage() for r in caplog.records), path


def test_nothing_outside_the_root_is_read(test_corpus):
    files, _ = read_corpus(test_corpus)
    assert all("outside the corpus" not in f.text for f in files)


def test_latin1_is_decoded_by_fallback_with_a_warning(test_corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="docsearch.index.corpus"):
        files, _ = read_corpus(test_corpus)
    cafe = next(f for f in files if f.path == "cafe_latin1.txt")
    assert cafe.encoding == "cp1252"
    assert "café de la gare" in cafe.text
    assert any("cafe_latin1.txt" in r.getMessage() and "not UTF-8" in r.getMessage() for r in caplog.records)


def test_bom_is_not_part_of_the_text_and_crlf_is_kept(test_corpus):
    files = {f.path: f for f in read_corpus(test_corpus)[0]}
    assert files["tides_bom.txt"].encoding == "utf-8-sig"
    assert files["tides_bom.txt"].text.startswith("Ocean tides")
    assert "\r\n" in files["bread_crlf.txt"].text


@pytest.mark.parametrize(
    "raw, text, encoding",
    [
        (b"plain", "plain", "utf-8"),
        ("\ufeffbom".encode("utf-8"), "bom", "utf-8-sig"),
        ("wide".encode("utf-16"), "wide", "utf-16"),
        ("caf\xe9".encode("latin-1"), "caf\xe9", "cp1252"),
        (b"\x81\x8d", "\x81\x8d", "latin-1"),
    ],
)
def test_decode_text_fallbacks(raw, text, encoding):
    assert decode_text(raw) == (text, encoding)


def test_nul_bytes_mean_binary():
    with pytest.raises(UndecodableFile, match="binary"):
        decode_text(b"abc\x00def")


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusNotFound, match="corpus folder not found"):
        read_corpus(tmp_path / "nope")


def test_files_over_the_size_limit_are_skipped_with_a_reason(tmp_path, caplog):
    (tmp_path / "big.txt").write_text("word " * 1000)
    (tmp_path / "small.txt").write_text("a small file with a few words in it\n")
    with caplog.at_level(logging.WARNING, logger="docsearch.index.corpus"):
        files, skipped = read_corpus(tmp_path, max_file_bytes=2000)
    assert [f.path for f in files] == ["small.txt"]
    assert [(s.path, s.reason) for s in skipped] == [("big.txt", "file is 0.0 MB, over the 0.00190735 MB limit (--max-file-mb)")]
