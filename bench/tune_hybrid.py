"""Tune hybrid fusion on a BEIR split (train only): RRF constant, weights, pool size.

Run by hand after `docsearch eval DATASET --split train` has built the index:

    .venv/bin/python bench/tune_hybrid.py ../shared/beir/scifact --split train

It fetches each query's dense and lexical passage lists once, then scores every
combination offline and prints the best ones by nDCG@10.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from pathlib import Path

from docsearch.index.embed import default_backend
from docsearch.search.evaluate import load_dataset, ndcg_at
from docsearch.search.engine import Searcher
from docsearch.search.fusion import fuse

DEPTH = 1000


def split_arguments(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, object, Searcher]:
    """Parse the arguments every tuning script takes; return them, the dataset split and its index."""
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--index-dir", type=Path)
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, args.split)
    searcher = Searcher.load(args.index_dir or Path(".docsearch-eval") / f"{dataset.name}-{default_backend()}")
    return args, dataset, searcher


def dense_lists(searcher: Searcher, dataset, depth: int) -> dict[str, list[tuple[int, float]]]:
    """Return each query's dense (passage id, cosine) list, best first."""
    found = {}
    for qid, text in dataset.queries.items():
        scores, ids = searcher.vectors.search(searcher.query_vector(text)[None, :], depth)
        found[qid] = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
    return found


def main() -> None:
    """Grid-search fusion parameters and print the best by nDCG@10."""
    _, dataset, searcher = split_arguments(argparse.ArgumentParser())
    sources = searcher.sources(list(range(1, searcher.manifest.passages + 1)))
    dense = dense_lists(searcher, dataset, DEPTH)
    runs = [(dataset.qrels[qid], dense[qid], searcher.lexical.search(text, DEPTH)) for qid, text in dataset.queries.items()]

    def score(mode, pool, **params) -> float:
        values = []
        for relevant, dense, lexical in runs:
            ranked = fuse(dense[:pool], lexical[:pool], mode, **params)
            docs = list(dict.fromkeys(sources[c.pid] for c in ranked))
            values.append(ndcg_at(docs, relevant, 10))
        return statistics.fmean(values)

    print(f"dense   {score('dense', DEPTH):.4f}")
    print(f"lexical {score('lexical', DEPTH):.4f}")
    results = []
    for pool, rrf_k, weight in itertools.product((50, 100, 200, 1000), (5, 10, 20, 30, 60, 100), (0.6, 0.8, 1.0, 1.25, 1.5)):
        value = score("hybrid", pool, rrf_k=rrf_k, dense_weight=weight, lexical_weight=1.0)
        results.append((value, pool, rrf_k, weight))
    for value, pool, rrf_k, weight in sorted(results, reverse=True)[:15]:
        print(f"hybrid {value:.4f}  pool={pool} rrf_k={rrf_k} dense_weight={weight}")
    for value, pool, rrf_k, weight in results:
        if rrf_k == 60 and weight == 1.0:
            print(f"baseline {value:.4f}  pool={pool} rrf_k=60 dense_weight=1.0")


if __name__ == "__main__":
    main()
