"""Reciprocal rank fusion of the dense and lexical lists, and grouping by file."""

from __future__ import annotations

from typing import NamedTuple

# Tuned on SciFact train with bench/tune_hybrid.py at the product's pool of 100 (nDCG@10
# 0.7227, against 0.7101 for the textbook k=60 and equal weights): a small constant trusts
# the top of each list more.
RRF_K = 10
DENSE_WEIGHT = 0.8
LEXICAL_WEIGHT = 1.0


class Candidate(NamedTuple):
    """A passage in a ranking, with what each retriever said of it.

    A named tuple rather than a dataclass: a search makes a few hundred of them, and a
    tuple is built several times faster.
    """

    pid: int
    score: float
    dense_rank: int | None = None
    dense_score: float | None = None
    lexical_rank: int | None = None
    lexical_score: float | None = None


NOT_LISTED = (None, None)
LAST = 1 << 30  # the dense rank a tie-break gives a passage the dense list did not hold


def fuse(
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    mode: str,
    rrf_k: float = RRF_K,
    dense_weight: float = DENSE_WEIGHT,
    lexical_weight: float = LEXICAL_WEIGHT,
    limit: int | None = None,
) -> list[Candidate]:
    """Rank passages by the mode: one retriever's score, or the weighted RRF of both; the first limit of them."""
    by_dense = {pid: (rank, score) for rank, (pid, score) in enumerate(dense, start=1)}
    by_lexical = {pid: (rank, score) for rank, (pid, score) in enumerate(lexical, start=1)}
    pids = by_dense if mode == "dense" else by_lexical if mode == "lexical" else {**by_dense, **by_lexical}
    rows = []
    for pid in pids:
        d_rank, d_score = by_dense.get(pid, NOT_LISTED)
        l_rank, l_score = by_lexical.get(pid, NOT_LISTED)
        if mode == "dense":
            score = d_score
        elif mode == "lexical":
            score = l_score
        else:
            score = (dense_weight / (rrf_k + d_rank) if d_rank else 0.0) + (
                lexical_weight / (rrf_k + l_rank) if l_rank else 0.0)
        # Ties (rare outside RRF) go to the better dense rank, then the lower id: a stable order.
        rows.append((-score, d_rank or LAST, pid, d_rank, d_score, l_rank, l_score))
    rows.sort()  # by score, dense rank, id: ids are distinct, so no two rows compare further
    return [Candidate(pid, -negated, d_rank, d_score, l_rank, l_score)
            for negated, _, pid, d_rank, d_score, l_rank, l_score in rows[:limit]]


def best_per_file(ranked: list[Candidate], sources: dict[int, str]) -> tuple[list[Candidate], dict[int, int]]:
    """Keep the best candidate of each file; count the other candidates of its file."""
    best: dict[str, Candidate] = {}
    counts: dict[str, int] = {}
    for c in ranked:
        source = sources[c.pid]
        counts[source] = counts.get(source, 0) + 1
        best.setdefault(source, c)
    kept = list(best.values())
    return kept, {c.pid: counts[sources[c.pid]] - 1 for c in kept}
