"""Write the SciFact abstracts in several shapes of document, index each shape and score it by file.

Run from the repository root (a by-hand script, not a test):

    .venv/bin/python bench/shapes.py ../shared/beir/scifact --out .docsearch/shapes [--docs N] [--no-score]

Shapes, one file per abstract named by its document id plus the extension, so a hit's file is
its document:

- ``lines``: the title on one line, the abstract on the next (the reference: one line per paragraph)
- ``wrapped``: the title, a blank line, the abstract hard-wrapped at 72 columns (hyphens break lines)
- ``markdown``: ``# title``, ``## Abstract``, the abstract wrapped at 80 columns
- ``html``: the article inside a page with navigation, a cookie banner, a sidebar, related stories,
  comments and a footer (two layouts: semantic tags, and <div>s only)
- ``pdf``: typeset on A6 pages (105 x 148 mm) by fpdf2, justified, words hyphenated at line ends, a running header
  and page numbers

Each shape is indexed (``build_index``) and the test queries are scored by file (nDCG@10, hybrid and
dense), beside extraction and embedding speed, and two checks: passages holding page boilerplate,
and PDF passages without a valid page. Without the dataset folder the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import sys
import textwrap
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from tests.documents import UNICODE_FONT, html_page, pdf_bytes  # noqa: E402

SHAPES = ("lines", "wrapped", "markdown", "html", "pdf")
PDF_HEADER = "SciFact Abstracts Reprinted - Generated Proceedings"
BOILERPLATE = ("use cookies", "Trending now", "Subscribe to our newsletter", "All rights reserved", PDF_HEADER)


def write_document(shape: str, folder: Path, doc: dict, n: int) -> None:
    """Write one abstract in one shape."""
    doc_id, title, text = doc["_id"], doc["title"].strip(), doc["text"].strip()
    if shape == "lines":
        (folder / f"{doc_id}.txt").write_text(f"{title}\n{text}\n", encoding="utf-8")
    elif shape == "wrapped":
        (folder / f"{doc_id}.txt").write_text(f"{title}\n\n{textwrap.fill(text, 72)}\n", encoding="utf-8")
    elif shape == "markdown":
        (folder / f"{doc_id}.md").write_text(f"# {title}\n\n## Abstract\n\n{textwrap.fill(text, 80)}\n", encoding="utf-8")
    elif shape == "html":
        page = html_page(html.escape(title), f"<p>{html.escape(text)}</p>", layout="divs" if n % 2 else "semantic")
        (folder / f"{doc_id}.html").write_text(page, encoding="utf-8")
    elif shape == "pdf":
        font = UNICODE_FONT if UNICODE_FONT.is_file() else None
        raw = pdf_bytes([text], title=title, header=PDF_HEADER, font=font, page_format=(105, 148))  # A6, in mm
        (folder / f"{doc_id}.pdf").write_bytes(raw)


def pick_documents(dataset: Path, count: int | None) -> list[dict]:
    """Return the corpus, or the documents judged for the test queries plus random others up to count."""
    with (dataset / "corpus.jsonl").open(encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines if line.strip()]
    if not count or count >= len(corpus):
        return corpus
    judged = {row.split("\t")[1] for row in (dataset / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    keep = [d for d in corpus if d["_id"] in judged]
    others = [d for d in corpus if d["_id"] not in judged]
    random.Random(0).shuffle(others)
    return sorted(keep + others[:max(0, count - len(keep))], key=lambda d: d["_id"])


def write_shapes(documents: list[dict], out: Path, shapes: list[str]) -> dict[str, float]:
    """Write each shape's folder; return the seconds each took to write."""
    seconds = {}
    for shape in shapes:
        folder = out / shape / "corpus"
        folder.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        for n, doc in enumerate(documents):
            write_document(shape, folder, doc, n)
        seconds[shape] = time.perf_counter() - began
    return seconds


def score_shape(shape: str, out: Path, dataset: Path, encoder) -> dict:
    """Read, index and score one shape; return its row of the table."""
    from docsearch.index import BuildOptions, build_index
    from docsearch.index.corpus import read_corpus
    from docsearch.search.engine import Searcher
    from docsearch.search.evaluate import load_dataset, ndcg_at, rank_documents

    folder, index_dir = out / shape / "corpus", out / shape / "index"
    began = time.perf_counter()
    files, skipped = read_corpus(folder)
    read_seconds = time.perf_counter() - began
    began = time.perf_counter()
    report = build_index(folder, index_dir, BuildOptions(full=True), encoder=encoder)
    build_seconds = time.perf_counter() - began
    queries = load_dataset(dataset, "test")
    searcher = Searcher.load(index_dir, encoder=encoder)
    pages = sum(len(f.document.pages) for f in files if f.document is not None)
    row = {"shape": shape, "files": len(files), "skipped": len(skipped), "passages": report.manifest.passages,
           "read s": round(read_seconds, 1), "files/s read": round(len(files) / read_seconds, 1),
           "pages/s read": round(pages / read_seconds, 1) if pages else "",
           "build s": round(build_seconds, 1), "passages/s built": round(report.manifest.passages / build_seconds, 1)}
    try:
        for mode in ("hybrid", "dense"):
            scores = []
            for qid, text in queries.queries.items():
                ranked = [Path(source).stem for source in rank_documents(searcher, text, mode)]
                scores.append(ndcg_at(ranked, queries.qrels[qid], 10))
            row[f"nDCG@10 {mode}"] = round(sum(scores) / len(scores), 4)
    finally:
        searcher.close()
    row.update(_checks(index_dir, shape, files))
    return row


def _checks(index_dir: Path, shape: str, files) -> dict:
    """Count passages holding page boilerplate, and PDF passages without a valid page."""
    from docsearch.index import IndexFolder

    pages = {f.path: len(f.document.pages) for f in files if f.document is not None and f.document.pages}
    generation = IndexFolder(index_dir).open_live()
    try:
        catalog = generation.catalog
        found = [(p.source, p.text, p.page) for f in catalog.files() for p in catalog.file_passages(f.id)]
    finally:
        generation.close()
    boilerplate = sum(any(b in text for b in BOILERPLATE) for _, text, _ in found)
    bad_pages = sum(not (page and 1 <= page <= pages.get(path, 0)) for path, _, page in found) if shape == "pdf" else 0
    return {"boilerplate passages": boilerplate, "PDF passages without a valid page": bad_pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", nargs="?", default="../shared/beir/scifact")
    parser.add_argument("--out", default=".docsearch/shapes")
    parser.add_argument("--docs", type=int, default=0, help="judged test documents plus random others up to N (0: all)")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--no-score", action="store_true", help="only write the folders")
    args = parser.parse_args()
    dataset, out = Path(args.dataset), Path(args.out)
    if not (dataset / "corpus.jsonl").is_file():
        print(f"no BEIR dataset at {dataset} (corpus.jsonl); nothing to do")
        return
    shapes = args.shapes.split(",")
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        parser.error(f"unknown shapes {', '.join(sorted(unknown))}; the shapes are {', '.join(SHAPES)}")
    documents = pick_documents(dataset, args.docs)
    written = write_shapes(documents, out, shapes)
    print(f"wrote {len(documents)} documents in {len(shapes)} shapes under {out}: "
          + ", ".join(f"{s} {t:.0f} s" for s, t in written.items()))
    if args.no_score:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from docsearch.index import Encoder

    encoder = Encoder()
    rows = [score_shape(shape, out, dataset, encoder) for shape in shapes]
    keys = list(rows[0])
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
