"""Tune BM25's k1 and b on a BEIR split (train only), for lexical and hybrid nDCG@10.

Run by hand from the repository root, after `docsearch eval DATASET --split train`
has built the index:

    .venv/bin/python -m bench.tune_bm25 ../shared/beir/scifact --split train

It re-indexes the stored passages in memory for each (k1, b) with the product's
terms (index.lexical), fuses with the index's dense lists as the product does,
and prints nDCG@10 per setting.
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import bm25s
import numpy as np

from docsearch.index.lexical import METHOD, query_terms, terms
from docsearch.search.engine import Searcher
from docsearch.search.fusion import fuse

from .tune_hybrid import CHUNK, all_sources, dense_lists, ndcg, split_arguments

DEPTH = 100


def passage_terms(searcher: Searcher) -> list[list[str]]:
    """Return the BM25 terms of every passage of the index, in id order."""
    count = searcher.manifest.passages
    found: list[list[str]] = []
    for start in range(1, count + 1, CHUNK):
        ids = list(range(start, min(start + CHUNK, count + 1)))
        stored = searcher.generation.catalog.passages(ids)
        found += [terms(stored[pid].text) for pid in ids]
    return found


def lexical_list(bm25: bm25s.BM25, text: str, count: int) -> list[tuple[int, float]]:
    """Return a query's lexical (passage id, BM25 score) list from an in-memory index, best first."""
    ids = [bm25.vocab_dict[t] for t in query_terms(text) if t in bm25.vocab_dict]
    scores = bm25.get_scores_from_ids(ids) if ids else np.zeros(count)
    return [(int(i) + 1, float(scores[i])) for i in np.argsort(-scores)[:DEPTH] if scores[i] > 0]


def main() -> None:
    """Print lexical and hybrid nDCG@10 for each (k1, b) of the grid."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k1", type=float, nargs="+", default=[0.9, 1.2, 1.5])
    parser.add_argument("--b", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.75, 0.9])
    args, dataset, searcher = split_arguments(parser)
    count = searcher.manifest.passages
    sources, tokens = all_sources(searcher), passage_terms(searcher)
    dense = dense_lists(searcher, dataset, DEPTH)
    for k1, b in itertools.product(args.k1, args.b):
        bm25 = bm25s.BM25(k1=k1, b=b, method=METHOD)
        bm25.index(tokens, show_progress=False)
        figures = {"hybrid": [], "lexical": []}
        for qid, text in dataset.queries.items():
            lexical = lexical_list(bm25, text, count)
            for mode, values in figures.items():
                values.append(ndcg(fuse(dense[qid], lexical, mode), sources, dataset.qrels[qid]))
        print(f"k1={k1} b={b} hybrid {statistics.fmean(figures['hybrid']):.4f} "
              f"lexical {statistics.fmean(figures['lexical']):.4f}", flush=True)


if __name__ == "__main__":
    main()
