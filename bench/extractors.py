"""Compare document extractors on generated documents: PDF text layers and web pages' main content.

Run from the repository root (a by-hand script, not a test; it needs the libraries compared):

    .venv/bin/pip install pypdf pdfminer.six justext selectolax lxml_html_clean cssselect
    .venv/bin/pip install --no-deps readability-lxml
    .venv/bin/python bench/extractors.py [--pdfs 20] [--pages 200]

PDFs are typeset by fpdf2 (tests/documents.py) from made-up prose rich in long words: justified
lines, words hyphenated at line ends, a running header and page numbers. For each library: pages/s,
words broken by a line-end hyphen (a hyphen, a line break, or the two halves run together), runs of
extra spaces per page, running-header lines left per page, and reading order. Web pages wrap an
article in navigation, a cookie banner, a sidebar, a footer and scripts, in two layouts (semantic
tags, and <div>s only): article sentences kept, boilerplate phrases leaked, and files/s.
Markdown tables go to stdout.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from tests.documents import LONG_WORDS, UNICODE_FONT, html_page, pdf_bytes, prose  # noqa: E402

HEADER = "Proceedings of Generated Documents, Volume 7"
BOILERPLATE = ("use cookies", "Accept all", "Trending now", "celebrity gardens", "Subscribe to our newsletter",
               "All rights reserved", "Contact us", "tracking pixel", "Sign in", "Related stories", "Comments",
               "Reader comment")


def pdf_pypdfium2(raw: bytes) -> list[str]:
    import pypdfium2

    doc = pypdfium2.PdfDocument(raw)
    return [page.get_textpage().get_text_range() for page in doc]


def pdf_pypdf(raw: bytes) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(raw)).pages]


def pdf_pdfminer(raw: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(raw)).split("\f")[:-1]


def pdf_docsearch(raw: bytes) -> list[str]:
    """docsearch's own cleaning over pypdfium2, split back into pages."""
    from docsearch.index.extract import extract

    doc = extract(raw, ".pdf")
    bounds = [*doc.pages, len(doc.text)]
    return [doc.text[a:b] for a, b in zip(bounds, bounds[1:])]


PDF_LIBRARIES = {"pypdfium2": pdf_pypdfium2, "pypdf": pdf_pypdf, "pdfminer.six": pdf_pdfminer,
                 "docsearch (pypdfium2 + cleaning)": pdf_docsearch}


def pdf_defects(pages: list[str], paragraphs: list[str], joiner: str) -> dict:
    """Count what a PDF's extracted pages got wrong against the prose they were typeset from."""
    text = joiner.join(pages)
    words = re.findall(r"[a-z]+", text.lower())
    whole = set(words)
    expected = {w for p in paragraphs for w in re.findall(r"[a-z]+", p.lower())}
    broken = sum(1 for w in words if w not in expected and w not in HEADER.lower())
    missing_long = sum(1 for w in LONG_WORDS if w not in whole)
    firsts = [" ".join(p.split()[:4]).lower() for p in paragraphs]
    flat = " ".join(re.sub(r"[-\ufffe]\s*", "", text.lower()).split())  # order is judged apart from hyphens
    places, at = [], 0
    for first in firsts:  # each paragraph's opening after the previous one's (openings may repeat)
        at = flat.find(first, at)
        places.append(at)
        at = at + 1 if at >= 0 else len(flat)
    in_order = -1 not in places
    return {"broken words": broken, "long words missing": missing_long,
            "extra spaces/page": sum(len(re.findall(r"[^\S\n]{2,}", p)) for p in pages) / len(pages),
            "header lines/page": text.count(HEADER) / len(pages), "in order": in_order}


def bench_pdfs(count: int, min_pages: int) -> None:
    documents = []
    for seed in range(count):
        paragraphs = prose(max(8, min_pages // count * 3), seed=seed)
        font = UNICODE_FONT if seed % 2 else None  # half with a core font, half with an embedded TrueType font
        documents.append((paragraphs, pdf_bytes(paragraphs, title=f"Document {seed}", header=HEADER, font=font)))
    import pypdfium2

    total_pages = sum(len(pypdfium2.PdfDocument(raw)) for _, raw in documents)
    fonts = "half Helvetica, half DejaVu Serif embedded" if UNICODE_FONT.is_file() else "Helvetica"
    print(f"\n### PDF: {count} documents, {total_pages} pages ({fonts})\n")
    print("| library | pages/s | words broken by a line-end hyphen | long words never whole | extra spaces/page "
          "| header lines/page | paragraphs in order |")
    print("|---|---|---|---|---|---|---|")
    for name, read in PDF_LIBRARIES.items():
        read(documents[0][1])  # warm up: imports
        began = time.perf_counter()
        outputs = [read(raw) for _, raw in documents]
        seconds = time.perf_counter() - began
        joiner = "" if name.startswith("docsearch") else "\n"  # docsearch's pages are slices of one text
        found = [pdf_defects(pages, paragraphs, joiner) for pages, (paragraphs, _) in zip(outputs, documents)]
        print(f"| {name} | {total_pages / seconds:,.0f} | {sum(f['broken words'] for f in found)} "
              f"| {sum(f['long words missing'] for f in found)} "
              f"| {sum(f['extra spaces/page'] for f in found) / len(found):.1f} "
              f"| {sum(f['header lines/page'] for f in found) / len(found):.2f} "
              f"| {sum(f['in order'] for f in found)}/{len(found)} |")


def html_trafilatura(page: str) -> str:
    from docsearch.index.extract import extract

    return extract(page.encode("utf-8"), ".html").text


def html_readability(page: str) -> str:
    from lxml import html as lxml_html
    from readability import Document

    return lxml_html.fromstring(Document(page).summary()).text_content()


def html_justext(page: str) -> str:
    import justext

    return "\n".join(p.text for p in justext.justext(page.encode("utf-8"), justext.get_stoplist("English"))
                     if not p.is_boilerplate)


def html_selectolax(page: str) -> str:
    """selectolax is a parser, not an extractor: the usual rules a user would write with it."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(page)
    for node in tree.css("script, style, nav, header, footer, aside, noscript, form"):
        node.decompose()
    main = tree.css_first("article") or tree.css_first("main") or tree.body
    return main.text(separator="\n") if main else ""


def _related_and_comments(seed: int, layout: str) -> str:
    """Return what makes main-content extraction hard: teasers and comments written in full sentences."""
    teasers = prose(3, words=30, seed=5000 + seed)
    comments = prose(3, words=24, seed=9000 + seed)
    if layout == "divs":
        related = "".join(f'<div class="teaser"><a href="/r{i}">Related stories</a><div>{t}</div></div>'
                          for i, t in enumerate(teasers))
        said = "".join(f'<div class="comment"><b>Reader comment</b><div>{c}</div></div>' for c in comments)
        return f'<div class="related">{related}</div><div class="comments"><b>Comments</b>{said}</div>'
    related = "".join(f'<li><a href="/r{i}">Related stories</a><p>{t}</p></li>' for i, t in enumerate(teasers))
    said = "".join(f"<li><b>Reader comment</b><p>{c}</p></li>" for c in comments)
    return (f'<section class="related"><h3>Related stories</h3><ul>{related}</ul></section>'
            f'<section id="comments"><h3>Comments</h3><ol>{said}</ol></section>')


HTML_LIBRARIES = {"trafilatura (docsearch)": html_trafilatura, "readability-lxml": html_readability,
                  "justext": html_justext, "selectolax (rules)": html_selectolax}


def bench_html(count: int) -> None:
    pages = []
    for seed in range(count):
        paragraphs = prose(5, seed=100 + seed)
        article = "".join(f"<h2>Part {i}</h2><p>{p}</p>" if i % 2 else f"<p>{p}</p>" for i, p in enumerate(paragraphs))
        layout = "divs" if seed % 2 else "semantic"
        page = html_page(f"Report number {seed}", article, layout=layout)
        pages.append((paragraphs, page.replace("</body>", _related_and_comments(seed, layout) + "</body>")))
    print(f"\n### HTML: {count} pages (half with semantic tags, half <div>s only)\n")
    print("| library | files/s | article sentences kept | headings kept | boilerplate phrases and teaser/comment texts leaked (of "
          f"{(len(BOILERPLATE) + 6) * count}) | on <div> pages: kept / leaked |")
    print("|---|---|---|---|---|---|")
    for name, read in HTML_LIBRARIES.items():
        read(pages[0][1])
        began = time.perf_counter()
        outputs = [read(page) for _, page in pages]
        seconds = time.perf_counter() - began
        kept = leaked = total = div_kept = div_total = div_leaked = headings = 0
        for i, (out, (paragraphs, _)) in enumerate(zip(outputs, pages)):
            flat = " ".join(out.split())
            sentences = [s for p in paragraphs for s in re.split(r"(?<=\.) ", p)]
            hits = sum(s in flat for s in sentences)
            leaks = sum(b.lower() in flat.lower() for b in BOILERPLATE)
            leaks += sum(t[:40] in flat for t in prose(3, words=30, seed=5000 + i) + prose(3, words=24, seed=9000 + i))
            kept, total, leaked = kept + hits, total + len(sentences), leaked + leaks
            headings += sum(f"Part {n}" in out for n in (1, 3))
            if i % 2:
                div_kept, div_total, div_leaked = div_kept + hits, div_total + len(sentences), div_leaked + leaks
        print(f"| {name} | {count / seconds:,.0f} | {kept / total:.1%} | {headings / (2 * count):.0%} | {leaked} "
              f"| {div_kept / div_total:.1%} / {div_leaked} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdfs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=200, help="about how many PDF pages in all")
    parser.add_argument("--html", type=int, default=100, help="web pages")
    args = parser.parse_args()
    bench_pdfs(args.pdfs, args.pages)
    bench_html(args.html)


if __name__ == "__main__":
    main()
