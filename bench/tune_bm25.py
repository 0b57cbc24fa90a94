"""Tune BM25's k1 and b on a BEIR split (train only), for lexical and hybrid nDCG@10.

Run by hand after `docsearch eval DATASET --split train` has built the index:

    .venv/bin/python bench/tune_bm25.py ../shared/beir/scifact --split train

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
from docsearch.search.evaluate import ndcg_at
from docsearch.search.fusion import fuse
from tune_hybrid import dense_lists, split_arguments  # bench/ is on the path: run as a script

DEPTH = 100


def main() -> None:
    """Print lexical and hybrid nDCG@10 for each (k1, b) of the grid."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--k1", type=float, nargs="+", default=[0.9, 1.2, 1.5])
    parser.add_argument("--b", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.75, 0.9])
    args, dataset, searcher = split_arguments(parser)
    count = searcher.manifest.passages
    sources = searcher.sources(list(range(1, count + 1)))
    texts = dict(searcher._db.execute("SELECT id, text FROM passages"))
    tokens = [terms(texts[pid]) for pid in range(1, count + 1)]
    dense = dense_lists(searcher, dataset, DEPTH)
    for k1, b in itertools.product(args.k1, args.b):
        bm25 = bm25s.BM25(k1=k1, b=b, method=METHOD)
        bm25.index(tokens, show_progress=False)
        figures = {"hybrid": [], "lexical": []}
        for qid, text in dataset.queries.items():
            ids = [bm25.vocab_dict[t] for t in query_terms(text) if t in bm25.vocab_dict]
            scores = bm25.get_scores_from_ids(ids) if ids else np.zeros(count)
            lexical = [(int(i) + 1, float(scores[i])) for i in np.argsort(-scores)[:DEPTH] if scores[i] > 0]
            for mode, values in figures.items():
                ranked = fuse(dense[qid], lexical, mode)
                values.append(ndcg_at(list(dict.fromkeys(sources[c.pid] for c in ranked)), dataset.qrels[qid], 10))
        print(f"k1={k1} b={b} hybrid {statistics.fmean(figures['hybrid']):.4f} "
              f"lexical {statistics.fmean(figures['lexical']):.4f}", flush=True)


if __name__ == "__main__":
    main()
