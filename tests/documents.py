"""Generate small documents of every format for the tests and benchmarks: PDF, HTML, DOCX, Markdown.

Nothing here is committed as a binary: each test writes what it needs.
"""

from __future__ import annotations

import io
import re
import textwrap
import zipfile
from pathlib import Path

SOFT_HYPHEN = "\u00ad"
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")  # used by the benchmarks when present


def hyphenate(text: str, every: int = 4) -> str:
    """Put soft hyphens into long words (after a vowel, then a consonant) so a typesetter may break them."""

    def mark(match: re.Match) -> str:
        word = match.group()
        cuts = [i for i in range(3, len(word) - 3) if word[i - 1] in "aeiouy" and word[i] not in "aeiouy"]
        kept, last = [], 0
        for i in cuts:
            if i - last >= every:
                kept.append(i)
                last = i
        return "".join(SOFT_HYPHEN + ch if i in kept else ch for i, ch in enumerate(word))

    return re.sub(r"[a-z]{8,}", mark, text)


def pdf_bytes(paragraphs: list[str], title: str = "", header: str = "", footer_numbers: bool = True,
              hyphens: bool = True, justify: bool = True, font: Path | None = None, encrypt: str = "",
              metadata_title: bool = True, page_format: str | tuple = (148, 210)) -> bytes:  # A5, in mm
    """Typeset paragraphs into a PDF: running header, page numbers, justified and hyphenated lines."""
    from fpdf import FPDF

    class Document(FPDF):
        def header(self):
            if header:
                self.set_font(family, size=9)
                self.cell(0, 8, header, align="C")
                self.ln(12)

        def footer(self):
            if footer_numbers:
                self.set_y(-15)
                self.set_font(family, size=9)
                self.cell(0, 10, str(self.page_no()), align="C")

    pdf = Document(format=page_format)
    family = "Helvetica"
    if font is not None and font.is_file():
        pdf.add_font("Body", fname=str(font))
        family = "Body"
    if metadata_title and title:
        pdf.set_title(title)
    if encrypt:
        pdf.set_encryption(owner_password="owner-" + encrypt, user_password=encrypt)
    pdf.add_page()
    if title:
        pdf.set_font(family, size=14)
        pdf.multi_cell(0, 8, _printable(title, family))
        pdf.ln(2)
    pdf.set_font(family, size=10)
    for paragraph in paragraphs:
        body = _printable(hyphenate(paragraph) if hyphens else paragraph, family)
        pdf.multi_cell(0, 5, body, align="J" if justify else "L")
        pdf.ln(3)
    return bytes(pdf.output())


def _printable(text: str, family: str) -> str:
    """Replace what the built-in PDF fonts cannot show (they are Latin-1 only)."""
    if family != "Helvetica":
        return text
    return text.encode("latin-1", "replace").decode("latin-1").replace("?", "?")


def scanned_pdf_bytes() -> bytes:
    """Return a PDF whose page is only a picture of text, as a scanner makes."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    picture = Image.new("L", (400, 200), 255)
    ImageDraw.Draw(picture).text((20, 80), "This page was scanned, it has no text layer.", fill=0)
    stream = io.BytesIO()
    picture.save(stream, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(stream.getvalue()), x=10, y=10, w=150)
    return bytes(pdf.output())


def corrupt_pdf_bytes() -> bytes:
    """Return bytes that start like a PDF and are not one."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nthis is not a PDF at all\n" + bytes(range(256))


def docx_bytes(title: str, body: list[tuple[str, object]], core_title: str = "") -> bytes:
    """Write a .docx: body items are ("heading1".."heading3" | "title" | "paragraph" | "table", content)."""
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    if title:
        document.add_heading(title, level=0)
    for kind, content in body:
        if kind.startswith("heading"):
            document.add_heading(content, level=int(kind[-1]))
        elif kind == "paragraph":
            document.add_paragraph(content)
        elif kind == "list":
            for item in content:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            rows = content
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def zip_bomb_docx(megabytes: int = 1024) -> bytes:
    """Return a .docx whose document.xml inflates to megabytes of white space (a few MB on disk)."""
    stream = io.BytesIO()
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/content-types"/>')
        with bomb.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                         b'wordprocessingml/2006/main"><w:body>')
            for _ in range(megabytes):
                member.write(chunk)
            member.write(b"</w:body></w:document>")
    return stream.getvalue()


BOILERPLATE_WORDS = ("Subscribe", "cookies", "Trending", "Copyright", "Sign in")


def html_page(title: str, article: str, boilerplate: bool = True, layout: str = "semantic") -> str:
    """Wrap an article's HTML in a page with navigation, a cookie banner, a sidebar, a footer and scripts.

    ``layout="divs"`` builds the same page from <div>s only, as older sites do, with no
    <nav>, <article>, <aside> or <footer> for an extractor to go by.
    """
    if not boilerplate:
        return f"<!doctype html><html><head><title>{title}</title></head><body>{article}</body></html>"
    if layout == "divs":
        return _div_page(title, article)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | The Daily Example</title>
<style>body {{ font-family: serif; }} .banner {{ position: fixed; }}</style>
<script>window.analytics = {{track: function () {{ return "tracking pixel loaded"; }}}};</script></head>
<body>
<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your experience. By continuing
to browse you accept our use of cookies. <a href="/privacy">Privacy policy</a> <button>Accept all</button></p></div>
<header><nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/science">Science</a></li><li><a href="/subscribe">Subscribe</a></li><li><a href="/login">Sign in</a></li>
</ul></nav></header>
<main><article><h1>{title}</h1>
{article}
</article></main>
<aside class="sidebar"><h3>Trending now</h3><ul><li><a href="/a">Ten celebrity gardens you must see</a></li>
<li><a href="/b">Stock markets rally on Friday</a></li><li><a href="/c">Weekend weather outlook</a></li></ul>
<div class="newsletter">Subscribe to our newsletter for the best stories every morning.</div></aside>
<footer><p>Copyright 2026 The Daily Example. All rights reserved.</p><p><a href="/terms">Terms</a> |
<a href="/contact">Contact us</a> | <a href="/ads">Advertise</a></p></footer>
<script>document.querySelector('.cookie-banner').style.display = 'block';</script>
</body></html>"""


def _div_page(title: str, article: str) -> str:
    """Return the boilerplate page of html_page built from <div>s only."""
    links = "".join(f'<div class="item"><a href="/{w.lower()}">{w}</a></div>' for w in
                    ("Home", "World", "Science", "Subscribe", "Sign in"))
    return f"""<html><head><title>{title} - Example Times</title>
<script>var tracker = "tracking pixel loaded";</script></head><body>
<div id="consent"><div>We use cookies to improve your experience. By continuing to browse you accept our use of
cookies.</div><div class="btn">Accept all</div></div>
<div id="top"><div class="logo">Example Times</div><div class="menu">{links}</div></div>
<div id="wrap"><div class="col-main"><div class="headline">{title}</div>
<div class="story">{article}</div></div>
<div class="col-side"><div class="box"><b>Trending now</b><div><a href="/a">Ten celebrity gardens you must
see</a></div><div><a href="/b">Stock markets rally on Friday</a></div></div>
<div class="box">Subscribe to our newsletter for the best stories every morning.</div></div></div>
<div id="bottom">Copyright 2026 Example Times. All rights reserved. <a href="/terms">Terms</a>
<a href="/contact">Contact us</a></div></body></html>"""


def nested_html(depth: int = 1_000_000) -> bytes:
    """Return a page of depth nested <div> tags around one sentence."""
    return (b"<html><body>" + b"<div>" * depth + b"<p>Deep inside many boxes.</p>" + b"</div>" * depth
            + b"</body></html>")


MARKDOWN = """---
title: Front matter title
tags: [docs, test]
---
# Packaging guide

A Python package declares its build backend, its metadata and its dependencies in one
pyproject.toml file, which every modern installer reads before it builds anything at all.

## Install

### From source

Clone the repository and install it in a fresh virtual environment with these commands:

- create the environment with `python3 -m venv .venv` in the project folder
- install the package in editable mode with its test extra
- run the test suite once to check that everything works

```python
import subprocess
subprocess.run(["python3", "-m", "venv", ".venv"], check=True)
subprocess.run([".venv/bin/pip", "install", "-e", ".[test]"], check=True)
```

## Settings

| Setting | Default | Meaning |
|---------|---------|---------|
| workers | 2 | processes that extract documents in parallel |
| timeout | 60 | seconds one file may take before it is skipped |
| memory | 1024 | megabytes a worker may add while it extracts |
"""


LONG_WORDS = ("characterization pharmacological epidemiological interventions macromolecular computational "
              "representation considerations experimental verification approximately investigation "
              "environmental measurements temperature population").split()
SHORT_WORDS = "the of a and in to was for with on by at from each new old red sea map".split()


def prose(paragraphs: int, words: int = 60, seed: int = 1) -> list[str]:
    """Return paragraphs of made-up sentences, rich in long words a typesetter hyphenates."""
    import random

    rng = random.Random(seed)
    found = []
    for _ in range(paragraphs):
        picked = [rng.choice(LONG_WORDS if rng.random() < 0.4 else SHORT_WORDS) for _ in range(words)]
        sentences = [" ".join(picked[i:i + 12]).capitalize() + "." for i in range(0, words, 12)]
        found.append(" ".join(sentences))
    return found


WRAPPED = "\n\n".join(textwrap.fill(p, 70) for p in prose(3, seed=7)) + "\n"
HOSTILE = {
    "scanned.pdf": (scanned_pdf_bytes, "no text layer (scanned?)"),
    "locked.pdf": (lambda: pdf_bytes(prose(1), encrypt="pw"), "encrypted PDF (it needs a password)"),
    "broken.pdf": (corrupt_pdf_bytes, "not a readable PDF"),
    "bomb.docx": (lambda: zip_bomb_docx(8), "zip bomb?"),
    "deep.html": (lambda: nested_html(200_000), ""),
}


def write_mixed_folder(root: Path) -> None:
    """Write one readable file of every format and one hostile file of each kind the extractors refuse."""
    (root / "notes.txt").write_text("Harbour notes\n\n" + WRAPPED)
    (root / "guide.md").write_text(MARKDOWN.replace("## Settings", "## Zanzibar settings"))
    (root / "paper.pdf").write_bytes(pdf_bytes(prose(12, seed=3), title="Gauge records", header="Running head"))
    (root / "page.html").write_text(html_page("Lighthouse keepers", "<h2>Duties</h2><p>" + prose(1, seed=5)[0] + "</p>"))
    (root / "report.docx").write_bytes(docx_bytes("Annual report", [("heading1", "Results"), ("paragraph", prose(1, seed=9)[0])]))
    for name, (make, _) in HOSTILE.items():
        (root / name).write_bytes(make())
