"""Tune hybrid fusion on a BEIR split (train only): the dense share of the fused score, pool size.

Run by hand from the repository root, after `docsearch eval DATASET --split train`
has built the index:

    .venv/bin/python -m bench.tune_hybrid ../shared/beir/scifact --split train

It fetches each query's dense and lexical passage lists once, then scores every
combination offline and prints the best ones by nDCG@10.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from pathlib import Path

from docsearch.index.embed import default_backend
from docsearch.search.engine import Searcher
from docsearch.search.evaluate import Dataset, load_dataset, ndcg_at
from docsearch.search.fusion import fuse

DEPTH = 1000
CHUNK = 10_000  # ids per catalog look-up: SQLite limits the parameters of one statement


def split_arguments(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, Dataset, Searcher]:
    """Parse the arguments every tuning script takes; return them, the dataset split and its index."""
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--index-dir", type=Path, help="[default: where `docsearch eval` puts it]")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, args.split)
    searcher = Searcher.load(args.index_dir or Path(".docsearch-eval") / f"{dataset.name}-{default_backend()}")
    return args, dataset, searcher


def all_sources(searcher: Searcher) -> dict[int, str]:
    """Return the file path (the BEIR document id) of every passage of the index."""
    count = searcher.manifest.passages
    found: dict[int, str] = {}
    for start in range(1, count + 1, CHUNK):
        found.update(searcher.sources(list(range(start, min(start + CHUNK, count + 1)))))
    return found


def dense_lists(searcher: Searcher, dataset: Dataset, depth: int) -> dict[str, list[tuple[int, float]]]:
    """Return each query's dense (passage id, cosine) list, best first."""
    store = searcher.generation.vectors
    return {qid: store.search(searcher.query_vector(text)[None, :], depth)[0] for qid, text in dataset.queries.items()}


def ndcg(ranked, sources: dict[int, str], relevant: dict[str, int]) -> float:
    """Return nDCG@10 of fused candidates, each document counted at its best passage."""
    return ndcg_at(list(dict.fromkeys(sources[c.pid] for c in ranked)), relevant, 10)


def main() -> None:
    """Grid-search fusion parameters and print the best by nDCG@10."""
    _, dataset, searcher = split_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    sources = all_sources(searcher)
    dense = dense_lists(searcher, dataset, DEPTH)
    runs = [(dataset.qrels[qid], dense[qid], searcher.generation.lexical.search(text, DEPTH))
            for qid, text in dataset.queries.items()]

    def score(mode: str, pool: int, **params) -> float:
        """Return the mean nDCG@10 of one fusion setting over every query."""
        return statistics.fmean(ndcg(fuse(d[:pool], lexical[:pool], mode, **params), sources, relevant)
                                for relevant, d, lexical in runs)

    print(f"dense   {score('dense', DEPTH):.4f}")
    print(f"lexical {score('lexical', DEPTH):.4f}")
    results = [(score("hybrid", pool, dense_share=share), pool, share)
               for pool, share in itertools.product((50, 100, 200, 1000), (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7))]
    for value, pool, share in sorted(results, reverse=True)[:15]:
        print(f"hybrid {value:.4f}  pool={pool} dense_share={share}")


if __name__ == "__main__":
    main()
