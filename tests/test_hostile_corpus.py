"""A hostile corpus: odd encodings, binary and huge files, bad links and odd names never break a build."""

from __future__ import annotations

import codecs
import logging

import pytest

from docsearch.index import IndexFolder, build_index, read_text

from .conftest import ask, stored_passages

HUGE_BYTES = 50 * 1024 * 1024
# What each file holds, and the word to find it by when it is indexed.
INDEXED = {
    "latin1.txt": "Le café de la gare sert une crème brûlée très appréciée des voyageurs pressés du matin.\n".encode("latin-1"),
    "utf16.txt": codecs.BOM_UTF16_LE + (
        "The lighthouse keeper Thaddeus Quimby polishes the Fresnel lens every Tuesday morning before sunrise.\n"
        "Ships in the strait rely on its beam during the long winter storms of the northern coast.\n"
    ).encode("utf-16-le"),
    # A lone continuation byte and 0x81, which Windows-1252 leaves undefined: decoded as Latin-1.
    "broken_utf8.txt": b"The harbour pilot \x80logged every tanker \x81that crossed the sandbar at high tide today.\n",
    "two\nlines.txt": b"The beekeeper on the hill counts her hives twice each season and sells the honey in jars.\n",
    "<script>alert(1).txt": b"The cartographer Ophelia Vantongeren mapped the northern fjords by canoe over three summers.\n",
}
SKIPPED = {
    "nul.txt": "binary file (contains NUL bytes)",
    "binary.md": "binary file (contains NUL bytes)",
    "empty.txt": "empty file",
    "huge.txt": "file is 50.0 MB, over the 10 MB limit",
    "outside.txt": "symlink leads outside the corpus folder",
    "loop.txt": "broken symlink or symlink loop",
    "ping.md": "broken symlink or symlink loop",
    "pong.md": "broken symlink or symlink loop",
}


class Recorder(logging.Handler):
    """Keep every log record, for a fixture that outlives caplog's single test."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def make_corpus(base):
    """Write the hostile corpus under base/corpus, with a secret file beside it."""
    root = base / "corpus"
    root.mkdir()
    for name, raw in INDEXED.items():
        (root / name).write_bytes(raw)
    (root / "nul.txt").write_bytes(b"Some words\x00and a NUL byte in the middle of the sentence.\n")
    (root / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (root / "empty.txt").write_bytes(b"")
    with open(root / "huge.txt", "wb") as huge:
        # Text, then a hole up to 50 MB: if the size limit ever broke, the file would be
        # skipped as binary (and the reason checked below would say so) rather than embedded for hours.
        huge.write(b"All work and no play makes Jack a dull boy.\n" * 1000)
        huge.truncate(HUGE_BYTES)
    (base / "secret.txt").write_text("A secret outside the corpus that must never be indexed.\n")
    (root / "outside.txt").symlink_to(base / "secret.txt")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "ping.md").symlink_to(root / "pong.md")
    (root / "pong.md").symlink_to(root / "ping.md")
    return root


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, encoder):
    """Build an index of the hostile corpus once, keeping the build report and the logs."""
    base = tmp_path_factory.mktemp("hostile")
    root = make_corpus(base)
    recorder = Recorder()
    logger = logging.getLogger("docsearch.index.corpus")
    logger.addHandler(recorder)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        report = build_index(root, base / "index", encoder=encoder)
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)
    return root, base / "index", report, recorder.records


def catalog_of(index_dir):
    """Return the live generation's catalog (the generation stays open for the test)."""
    return IndexFolder(index_dir).open_live().catalog


def test_the_50_mb_file_is_really_there(hostile):
    root, *_ = hostile
    assert (root / "huge.txt").stat().st_size == HUGE_BYTES


def test_readable_files_are_indexed_and_the_rest_are_not(hostile):
    _, index_dir, report, _ = hostile
    files = {f.path: f.encoding for f in catalog_of(index_dir).files()}
    assert set(files) == set(INDEXED)
    assert files["latin1.txt"] == "cp1252" and files["broken_utf8.txt"] == "latin-1"
    assert files["utf16.txt"] == "utf-16"
    assert report.manifest.files == len(INDEXED) and report.manifest.skipped == len(SKIPPED)
    assert not [p for p in stored_passages(index_dir) if "secret" in p.text.lower() or "jack" in p.text.lower()]


def test_every_skipped_file_is_reported_and_logged_with_its_reason(hostile):
    _, index_dir, report, records = hostile
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == set(SKIPPED)
    for path, reason in SKIPPED.items():
        assert reasons[path].startswith(reason), (path, reasons[path])
        assert any(
            r.name == "docsearch.index.corpus" and r.levelno >= logging.WARNING and repr(path) in r.getMessage() and reason in r.getMessage()
            for r in records
        ), path
    assert catalog_of(index_dir).skipped() == set(reasons.items())


def test_fallback_decodings_are_logged(hostile):
    *_, records = hostile
    for path, encoding in (("latin1.txt", "cp1252"), ("broken_utf8.txt", "latin-1")):
        assert any(repr(path) in r.getMessage() and f"decoded as {encoding}" in r.getMessage() for r in records), path


def test_span_invariant_holds_for_every_stored_passage(hostile):
    root, index_dir, *_ = hostile
    rows = [(p.source, p.start, p.end, p.text) for p in stored_passages(index_dir)]
    assert {row[0] for row in rows} == set(INDEXED)
    for path, start, end, text in rows:
        assert read_text(root / path)[start:end] == text, path
    assert any("brûlée" in text for *_, text in rows)
    assert any(text.startswith("The lighthouse keeper") for *_, text in rows)  # the byte-order mark is not text


@pytest.mark.parametrize(
    "question, source",
    [
        ("Thaddeus Quimby polishes the Fresnel lens", "utf16.txt"),
        ("who mapped the northern fjords by canoe?", "<script>alert(1).txt"),
        ("beekeeper hives honey", "two\nlines.txt"),
        ("crème brûlée au café", "latin1.txt"),
    ],
)
def test_search_finds_the_odd_files(hostile, encoder, question, source):
    from docsearch.search.engine import Searcher

    _, index_dir, *_ = hostile
    searcher = Searcher.load(index_dir, encoder=encoder)
    try:
        for mode in ("hybrid", "dense", "lexical"):
            hits = ask(searcher, question, k=1, mode=mode)
            assert hits and hits[0].source == source, (mode, [h.source for h in hits])
    finally:
        searcher.close()
