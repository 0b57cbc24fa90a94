"""A folder mixing every format, indexed end to end: exact places, pages, sections, skips with reasons."""

from docsearch.index import build_index
from docsearch.index.extract import extract

from .conftest import ask, stored_passages
from .documents import HOSTILE

def passages(index_dir):
    """Every stored passage of the live generation (StoredPassage: source, start, end, text, section, page, title...)."""
    return stored_passages(index_dir)


def test_readable_files_are_indexed_and_hostile_ones_skipped_with_reasons(mixed):
    _, index_dir, report = mixed
    assert {p.source for p in passages(index_dir)} == {
        "notes.txt", "guide.md", "paper.pdf", "page.html", "report.docx"}
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == set(HOSTILE)
    for name, (_, reason) in HOSTILE.items():
        assert reasons[name].startswith(reason) and reasons[name], name


def test_every_stored_passage_is_the_exact_slice_of_its_document(mixed):
    root, index_dir, _ = mixed
    texts = {}
    for path, start, end, text in [(p.source, p.start, p.end, p.text) for p in passages(index_dir)]:
        if path not in texts:
            suffix = path[path.rfind("."):]
            raw = (root / path).read_bytes()
            texts[path] = extract(raw.decode("utf-8") if suffix in (".txt", ".md") else raw, suffix).text
        assert texts[path][start:end] == text, path
    assert len(texts) == 5


def test_pdf_passages_have_valid_pages_and_others_none(mixed):
    root, index_dir, _ = mixed
    pages = len(extract((root / "paper.pdf").read_bytes(), ".pdf").pages)
    found = [(p.source, p.page, p.page_end) for p in passages(index_dir)]
    pdf = [(page, end) for path, page, end in found if path == "paper.pdf"]
    assert pages >= 2 and {page for page, _ in pdf} <= set(range(1, pages + 1)) and len({p for p, _ in pdf}) > 1
    assert all(end is None or end > page for page, end in pdf)
    assert all(page is None for path, page, _ in found if path != "paper.pdf")
    assert not [p for p in passages(index_dir) if "running head" in p.text.lower() or "subscribe" in p.text.lower()]


def test_sections_and_titles_are_stored(mixed):
    _, index_dir, _ = mixed
    sections: dict[str, list[str]] = {}
    for p in passages(index_dir):
        if p.section not in sections.setdefault(p.source, []):
            sections[p.source].append(p.section)
    found = {path: ",".join(names) for path, names in sections.items()}
    assert "Packaging guide \u203a Zanzibar settings" in found["guide.md"]
    assert found["page.html"] == "Lighthouse keepers \u203a Duties"
    assert found["report.docx"] == "Annual report \u203a Results"
    titles = {p.source: p.title for p in passages(index_dir)}
    assert titles == {"notes.txt": "Harbour notes", "guide.md": "Front matter title", "paper.pdf": "Gauge records",
                      "page.html": "Lighthouse keepers", "report.docx": "Annual report"}


def test_a_sync_reuses_passages_and_still_indexes_their_sections(mixed_copy, encoder):
    """The BM25 text of a reused passage is rebuilt from what the index stores (its section included)."""
    from docsearch.search.engine import Searcher

    copy_root, copy_index = mixed_copy
    (copy_root / "notes.txt").write_text("Harbour notes\n\nA new paragraph replaces the old wrapped text here.\n")
    report = build_index(copy_root, copy_index, encoder=encoder)
    assert report.changed == ["notes.txt"] and report.unchanged == 4 and report.written
    searcher = Searcher.load(copy_index, encoder=encoder)
    try:
        hits = ask(searcher, "Zanzibar", k=3, mode="lexical")  # a word only in a heading
        assert hits and hits[0].source == "guide.md"
    finally:
        searcher.close()
