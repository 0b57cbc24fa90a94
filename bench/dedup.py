"""Passages not embedded because their text was already embedded (issue 16, part 1), per corpus.

By hand, from the repository root (or as the ``dedup`` phase of ``python -m bench``):

    .venv/bin/python -m bench.dedup [DATASET] [--work-dir DIR] [--shape-docs N] [--real-embedding] [--out FILE]

Corpora, each indexed with ``build_index`` into a fresh index folder:

- ``docs_corpus``: a copy, indexed; then its first file moved into another folder and indexed again;
- SciFact as files (title line, abstract line; one file per abstract) with 20% of the files
  (a seeded choice) copied under ``mirror/``;
- the document shapes of ``bench/shapes.py`` (one-line, wrapped, Markdown, web pages, PDFs).

The counts are BuildReport's: ``embedded``, ``reused`` (the text was in the live index),
``repeated`` (the text came earlier in the same build); ``fresh`` is their sum, and the
share is (reused + repeated) / fresh. They do not depend on the vectors, so by default
the model does not run: a stand-in gives each distinct text a fixed random unit vector.
``--real-embedding`` runs the model and times each build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = Path("../shared/beir/scifact")  # relative to the repository
DUPLICATE_SHARE = 0.2
SHAPE_DOCS = 500  # abstracts per shape: PDFs and web pages take a while to write and extract


class StandInEncoder:
    """An Encoder whose encode gives each text a fixed random unit vector instead of running the model."""

    def __init__(self, encoder):
        self._encoder = encoder

    def __getattr__(self, name):
        """Delegate everything but encode (splitting, name, backend, dimension) to the real encoder."""
        return getattr(self._encoder, name)

    def encode(self, texts, batch_size: int = 32, progress=None) -> np.ndarray:
        """Return a unit vector per text, seeded by the text's hash."""
        rows = [np.random.default_rng(int.from_bytes(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest()[:8],
                                                     "little")).standard_normal(self.dimension) for t in texts]
        vectors = np.asarray(rows, np.float32).reshape(len(texts), self.dimension)
        if progress:
            progress(len(texts))
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def indexed(corpus: str, build: str, folder: Path, index_dir: Path, encoder) -> dict:
    """Index folder into index_dir (kept across calls, so a second build syncs); return the counts."""
    from docsearch.index import build_index

    began = time.perf_counter()
    report = build_index(folder, index_dir, encoder=encoder)
    seconds = time.perf_counter() - began
    share = (report.reused + report.repeated) / report.fresh if report.fresh else None
    return {"corpus": corpus, "build": build, "files": report.manifest.files, "passages": report.manifest.passages,
            "fresh": report.fresh, "embedded": report.embedded, "reused": report.reused, "repeated": report.repeated,
            "not_embedded_share": None if share is None else round(share, 4),
            "share_of_all_passages": round((report.reused + report.repeated) / max(report.manifest.passages, 1), 4),
            "seconds": round(seconds, 1)}


def fresh_folder(path: Path) -> Path:
    """Empty path (making it) and return it."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def docs_corpus_rows(work: Path, encoder) -> list[dict]:
    """Index a copy of docs_corpus, move its first file into another folder, and index it again."""
    corpus = fresh_folder(work / "docs") / "corpus"
    shutil.copytree(REPO / "docs_corpus", corpus)
    index_dir = work / "docs" / "index"
    rows = [indexed("docs_corpus", "first build", corpus, index_dir, encoder)]
    moved = sorted(p for p in corpus.rglob("*") if p.is_file())[0]
    (corpus / "moved").mkdir()
    moved.rename(corpus / "moved" / moved.name)
    rows.append(indexed("docs_corpus", f"after moving {moved.name} to moved/", corpus, index_dir, encoder))
    return rows


def write_scifact_files(dataset: Path, corpus: Path, seed: int) -> int:
    """Write each abstract as a file, then copy 20% of them under mirror/; return how many were copied."""
    docs = corpus / "docs"
    docs.mkdir(parents=True)
    with (dataset / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in filter(str.strip, lines):
            doc = json.loads(line)
            (docs / f"{doc['_id']}.txt").write_text(f"{doc['title'].strip()}\n{doc['text'].strip()}\n", encoding="utf-8")
    files = sorted(docs.iterdir())
    copied = random.Random(seed).sample(files, round(DUPLICATE_SHARE * len(files)))
    (corpus / "mirror").mkdir()
    for f in copied:
        shutil.copyfile(f, corpus / "mirror" / f.name)
    return len(copied)


def scifact_rows(dataset: Path, work: Path, encoder, seed: int = 13) -> list[dict]:
    """Index SciFact's abstracts as files, 20% of them also copied under another folder."""
    corpus = fresh_folder(work / "scifact") / "corpus"
    copies = write_scifact_files(dataset, corpus, seed)
    return [indexed("SciFact + 20% copied files", f"first build ({copies} copies under mirror/)", corpus,
                    work / "scifact" / "index", encoder)]


def shapes_rows(dataset: Path, work: Path, encoder, docs: int) -> list[dict]:
    """Index each document shape of bench/shapes.py (the documents issue's shapes); return the rows."""
    from . import shapes

    out = fresh_folder(work / "shapes")
    shapes.write_shapes(shapes.pick_documents(dataset, docs), out, list(shapes.SHAPES))
    return [indexed(f"shape {shape} ({docs} abstracts)", "first build", out / shape / "corpus",
                    out / shape / "index", encoder) for shape in shapes.SHAPES]


def shares(dataset: Path | None, work: Path, encoder, shape_docs: int = SHAPE_DOCS, say=print) -> dict:
    """Measure every corpus (those from SciFact only with a dataset); return rows and notes."""
    rows, notes = docs_corpus_rows(work, encoder), []
    if dataset is None:
        notes.append("no SciFact dataset: the SciFact and shapes corpora were not measured")
    else:
        rows += scifact_rows(dataset, work, encoder) + shapes_rows(dataset, work, encoder, shape_docs)
    for row in rows:
        say(f"{row['corpus']}, {row['build']}: {row['reused'] + row['repeated']} of {row['fresh']} fresh passages "
            f"not embedded ({row['reused']} already in the index, {row['repeated']} repeated in the build)")
    for note in notes:
        say(note)
    return {"embedding": "stand-in" if isinstance(encoder, StandInEncoder) else "real", "rows": rows, "notes": notes}


def measure(run) -> dict:
    """The dedup phase of python -m bench: every corpus, with the stand-in encoder."""
    return shares(run.args.dataset, run.args.work_dir / "dedup", StandInEncoder(run.inputs.encoder),
                  say=lambda message: run.clock.say("dedup", message))


def main(argv: list[str] | None = None) -> None:
    """Measure the shares by hand and print them as a table."""
    p = argparse.ArgumentParser(prog="python -m bench.dedup", description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path, nargs="?", default=REPO / DEFAULT_DATASET,
                   help="BEIR SciFact folder [default: ../shared/beir/scifact, relative to the repository]")
    p.add_argument("--work-dir", type=Path, default=REPO / ".bench", help="scratch folder")
    p.add_argument("--shape-docs", type=int, default=SHAPE_DOCS, help="abstracts written in each document shape")
    p.add_argument("--real-embedding", action="store_true", help="run the model (and time the builds)")
    p.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    args = p.parse_args(argv)
    dataset = args.dataset if (args.dataset / "corpus.jsonl").is_file() else None
    if dataset is None:
        print(f"bench.dedup: no SciFact dataset at {args.dataset}; measuring docs_corpus only", file=sys.stderr)
    from docsearch.index import Encoder

    from .run import prepare_work_dir

    prepare_work_dir(args.work_dir.absolute())
    encoder = Encoder() if args.real_embedding else StandInEncoder(Encoder())
    found = shares(dataset, args.work_dir / "dedup", encoder, args.shape_docs)
    from .tables import dedup_table

    print("\n" + dedup_table({"dedup": found}))
    if args.out:
        args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
