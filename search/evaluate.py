"""Measure retrieval quality on a BEIR-format dataset: nDCG@10, Recall@100, MRR@10.

A dataset folder holds corpus.jsonl (``_id``, ``title``, ``text``), queries.jsonl
(``_id``, ``text``) and qrels/SPLIT.tsv (``query-id``, ``corpus-id``, ``score``).
Each document is indexed as its title and text joined by a space (as BEIR and
MTEB do); a document's score for a query is its best passage's.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from docsearch.index import SourceFile
from docsearch.index.errors import DocsearchError

from .engine import Searcher

DEPTH = 1000  # passages drawn from each retriever, enough for 100 distinct documents


class DatasetError(DocsearchError):
    """The dataset folder is not in BEIR format."""


@dataclass(frozen=True)
class Dataset:
    """A BEIR dataset split: documents, the split's queries and their judgements."""

    name: str
    documents: list[SourceFile]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict]:
    """Read a JSON-lines file, or raise DatasetError saying what is wrong."""
    if not path.is_file():
        raise DatasetError(f"{path} not found; a BEIR dataset has corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv")
    with path.open(encoding="utf-8") as lines:
        try:
            return [json.loads(line) for line in lines if line.strip()]
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} line {exc.lineno}: not valid JSON") from None


def load_dataset(folder: Path | str, split: str = "test", joiner: str = " ") -> Dataset:
    """Read a BEIR dataset folder, keeping only the split's judged queries.

    A document's text is its title and text joined by ``joiner``.
    """
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise DatasetError(f"{qrels_path} not found; is {split!r} a split of this dataset?")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    documents = [
        SourceFile.from_text(doc["_id"], joiner.join(part for part in (doc.get("title", ""), doc["text"]) if part.strip()))
        for doc in _jsonl(folder / "corpus.jsonl")
    ]
    queries = {q["_id"]: q["text"] for q in _jsonl(folder / "queries.jsonl") if q["_id"] in qrels}
    return Dataset(folder.name, documents, queries, {q: r for q, r in qrels.items() if q in queries})


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the first k documents (gain = grade)."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the first k."""
    wanted = {doc for doc, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document in the first k, else 0."""
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def rank_documents(searcher: Searcher, query: str, mode: str, depth: int = DEPTH) -> list[str]:
    """Rank documents by their best passage for query."""
    ranked = searcher.candidates(query, mode, depth)
    sources = searcher.sources([c.pid for c in ranked])
    return list(dict.fromkeys(sources[c.pid] for c in ranked))


def evaluate(searcher: Searcher, dataset: Dataset, mode: str, progress: Callable[[int], None] | None = None) -> dict:
    """Run every query of the dataset in one mode and return the mean metrics and latency."""
    ndcg, recall, mrr, millis = [], [], [], []
    searcher.query_vector.cache_clear()  # each mode's latency includes embedding its queries
    for qid, text in dataset.queries.items():
        began = time.perf_counter()
        ranked = rank_documents(searcher, text, mode)
        millis.append((time.perf_counter() - began) * 1000)
        relevant = dataset.qrels[qid]
        ndcg.append(ndcg_at(ranked, relevant, 10))
        recall.append(recall_at(ranked, relevant, 100))
        mrr.append(mrr_at(ranked, relevant, 10))
        if progress:
            progress(1)
    cuts = statistics.quantiles(millis, n=100) if len(millis) > 1 else millis * 99
    return {
        "mode": mode,
        "queries": len(millis),
        "ndcg@10": round(statistics.fmean(ndcg), 4),
        "recall@100": round(statistics.fmean(recall), 4),
        "mrr@10": round(statistics.fmean(mrr), 4),
        "latency_ms_p50": round(cuts[49], 2),
        "latency_ms_p95": round(cuts[94], 2),
    }


def open_index(dataset: Dataset, index_dir: Path, options, progress=None) -> tuple[Searcher, bool]:
    """Sync the dataset's index in index_dir (building it if needed) with the build options, and load it.

    Returns the Searcher and whether the existing index was reused unchanged.
    """
    from docsearch.index import build_documents

    report = build_documents(dataset.documents, index_dir, options=options, progress=progress)
    return Searcher.load(index_dir, encoder=report.encoder), not report.written
