"""Every format through the API, the form and the source view: titles, sections, pages and the original file."""

import html
import re

import pytest

from docsearch.index import build_index

from .conftest import app_for, stored_passages
from .documents import HOSTILE

TITLES = {"notes.txt": "Harbour notes", "guide.md": "Front matter title", "paper.pdf": "Gauge records",
          "page.html": "Lighthouse keepers", "report.docx": "Annual report"}
MARK = re.compile(r'<mark id="passage-(\d+)" class="passage">(.*?)</mark>', re.S)


@pytest.fixture(scope="module")
def client(mixed, encoder):
    _, index_dir, _ = mixed
    return app_for(index_dir, encoder).test_client()


@pytest.fixture(scope="module")
def stored(mixed):
    return stored_passages(mixed[1])


def words_of(text: str, n: int = 12) -> str:
    return " ".join(re.findall(r"[A-Za-z]{4,}", text)[:n])


@pytest.mark.parametrize("path", sorted(TITLES))
def test_a_hit_of_every_format_has_its_title_section_and_place(client, stored, path):
    passage = next(p for p in stored if p.source == path and len(p.text) > 80)
    kind = path.rsplit(".", 1)[1]
    body = client.get("/api/search", query_string={"q": words_of(passage.text), "type": kind, "k": 3}).get_json()
    top = body["results"][0]
    assert (top["source"], top["id"], top["start"], top["end"]) == (path, passage.id, passage.start, passage.end)
    assert top["title"] == TITLES[path] and top["section"] == (passage.section or None) and top["text"] == passage.text
    if path == "paper.pdf":
        assert top["page"] >= 1 and (top["page_end"] is None or top["page_end"] > top["page"])
    else:
        assert top["page"] is None and top["page_end"] is None
    assert {h["source"] for h in body["results"]} == {path}  # the type filter holds


def test_the_form_shows_title_and_section_above_the_path_and_pages_for_a_pdf(client, stored):
    passage = next(p for p in stored if p.source == "paper.pdf" and p.page)
    page = client.get("/", query_string={"q": words_of(passage.text), "type": "pdf", "k": 1}).get_data(as_text=True)
    hit = page[page.index('<li class="hit">'):page.index("</li>")]
    assert hit.index("Gauge records") < hit.index("paper.pdf")
    assert f"page {passage.page}" in hit and "lines " not in hit
    md = next(p for p in stored if p.source == "guide.md" and "Zanzibar" in p.section)
    page = client.get("/", query_string={"q": words_of(md.text), "type": "md", "k": 1}).get_data(as_text=True)
    assert html.escape(md.section, quote=False) in page and '<p class="hit-title">Front matter title</p>' in page


@pytest.mark.parametrize("path", sorted(TITLES))
def test_the_source_view_marks_exactly_the_passage_in_the_document_text(client, stored, path):
    for passage in [p for p in stored if p.source == path]:
        page = client.get(f"/doc/{passage.file_id}", query_string={"passage_id": passage.id}).get_data(as_text=True)
        parts = re.findall(r'<mark (?:id="passage-\d+" )?class="passage">(.*?)</mark>', page, re.S)
        assert MARK.search(page).group(1) == str(passage.id)
        assert html.unescape("".join(parts)) == passage.text, (path, passage.id)
        assert f"<h1 class=\"title\">{TITLES[path]}</h1>" in page


def test_pdf_pages_are_shown_and_the_original_opens_at_the_passage_page(client, stored, mixed):
    root = mixed[0]
    passages = [p for p in stored if p.source == "paper.pdf"]
    last = max(p.page_end or p.page for p in passages)
    passage = next(p for p in passages if p.page > 1)
    page = client.get(f"/doc/{passage.file_id}", query_string={"passage_id": passage.id}).get_data(as_text=True)
    assert re.findall(r'<span class="page-start" id="page-(\d+)">', page) == [str(n) for n in range(2, last + 1)]
    link = re.search(r'<a class="original" href="([^"]+)">', page).group(1)
    assert link == f"/doc/{passage.file_id}/original#page={passage.page}"
    original = client.get(link.split("#")[0])
    assert original.status_code == 200 and original.mimetype == "application/pdf"
    assert original.data == (root / "paper.pdf").read_bytes()
    assert not original.headers.get("Content-Disposition", "").startswith("attachment")


def test_originals_have_their_type_and_web_pages_are_sandboxed(client, stored, mixed):
    ids = {p.source: p.file_id for p in stored}
    page = client.get(f"/doc/{ids['page.html']}/original")
    assert page.mimetype == "text/html" and "sandbox" in page.headers["Content-Security-Policy"]
    assert page.data == (mixed[0] / "page.html").read_bytes()
    word = client.get(f"/doc/{ids['report.docx']}/original")
    assert word.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert word.headers["Content-Disposition"].startswith("attachment") and "report.docx" in word.headers[
        "Content-Disposition"]
    for bad in ("999999", "../paper.pdf", "x"):
        answer = client.get(f"/doc/{bad}/original")
        assert answer.status_code == 404 and b"Traceback" not in answer.data


def test_a_changed_file_keeps_its_extracted_text_with_a_notice(mixed_copy, encoder):
    root, index_dir = mixed_copy
    (root / "report.docx").write_bytes(b"changed since")
    client = app_for(index_dir, encoder).test_client()
    passage = next(p for p in stored_passages(index_dir) if p.source == "report.docx")
    page = client.get(f"/doc/{passage.file_id}", query_string={"passage_id": passage.id}).get_data(as_text=True)
    assert "report.docx has changed since it was indexed" in page
    assert html.unescape(MARK.search(page).group(2)) == passage.text


def test_a_sync_carries_unchanged_binary_files_without_reading_them_again(mixed_copy, encoder, monkeypatch):
    from docsearch.index import corpus

    root, index_dir = mixed_copy
    before = {(p.source, p.start, p.end, p.text, p.page) for p in stored_passages(index_dir)}
    read: list[bytes] = []

    class Spy(corpus.Sandbox):
        def map(self, jobs):
            def seen():
                for job in jobs:
                    read.append(job[1])  # (reader, raw bytes, options)
                    yield job
            return super().map(seen())

    monkeypatch.setattr(corpus, "Sandbox", Spy)
    (root / "notes.txt").write_text("Harbour notes\n\nA new paragraph replaces the wrapped text.\n")
    report = build_index(root, index_dir, encoder=encoder)
    assert report.changed == ["notes.txt"] and report.unchanged == 4
    hostile = sorted((root / name).read_bytes() for name in HOSTILE)  # skipped last time, so tried again
    assert sorted(read) == hostile
    after = {(p.source, p.start, p.end, p.text, p.page) for p in stored_passages(index_dir)}
    assert {p for p in after if p[0] != "notes.txt"} == {p for p in before if p[0] != "notes.txt"}
    page = app_for(index_dir, encoder).test_client().get(
        f"/doc/{next(p.file_id for p in stored_passages(index_dir) if p.source == 'paper.pdf')}").get_data(as_text=True)
    assert 'class="page-start"' in page


def test_the_cli_shows_the_page_of_a_pdf_hit_and_the_section_of_a_web_page_hit(runner, stored, mixed):
    from docsearch.search.cli import cli

    pdf = next(p for p in stored if p.source == "paper.pdf" and p.page and not p.page_end)
    shown = runner.invoke(cli, ["query", words_of(pdf.text), "-k", "1", "--type", "pdf", "--index-dir", str(mixed[1])])
    assert shown.exit_code == 0, shown.output
    first, about = shown.output.splitlines()[:2]
    assert first.endswith(f"paper.pdf p. {pdf.page}") and about == "    Gauge records"
    page = next(p for p in stored if p.source == "page.html")
    shown = runner.invoke(cli, ["query", words_of(page.text), "-k", "1", "--type", "html", "--index-dir", str(mixed[1])])
    assert shown.output.splitlines()[:2][1] == "    Lighthouse keepers \u203a Duties"


def test_mcp_answers_carry_the_place_fields_a_passage_has_and_cite_pages(mixed, encoder, stored):
    from docsearch.search.engine import Searcher
    from docsearch.search.mcp_answers import hit_fields, passage_fields
    from docsearch.search.request import Filters, SearchRequest

    searcher = Searcher.load(mixed[1], encoder=encoder)
    try:
        pdf = next(p for p in stored if p.source == "paper.pdf" and p.page and not p.page_end)
        hit = searcher.search(SearchRequest(words_of(pdf.text), 1, filters=Filters(types=("pdf",)))).hits[0]
        answer = hit_fields(hit)
        assert (answer["citation"], answer["page"], answer["title"]) == (f"paper.pdf p. {pdf.page}", pdf.page,
                                                                         "Gauge records")
        assert "section" not in answer and "page_end" not in answer
    finally:
        searcher.close()
    notes = passage_fields(next(p for p in stored if p.source == "notes.txt"))
    assert notes["title"] == "Harbour notes" and not {"section", "page", "page_end"} & set(notes)
    guide = passage_fields(next(p for p in stored if p.source == "guide.md" and p.section))
    assert guide["section"].startswith("Packaging guide")
