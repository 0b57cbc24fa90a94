"""Fusion of the dense and lexical lists (each retriever's scores scaled to 0..1), and grouping by file."""

from __future__ import annotations

from typing import NamedTuple

# The fused score is DENSE_SHARE x the cosine + (1 - DENSE_SHARE) x the BM25 score, each scaled
# to 0..1 over its own list (best 1, last 0; absent from a list: 0). Unlike reciprocal rank
# fusion it keeps how far ahead a passage is: a BM25 score twice the next one's counts for more
# than one rank. Tuned on SciFact train with bench/tune_hybrid.py at the product's pool of 100
# (share 0.4: 0.7352, 0.45: 0.7378, 0.5: 0.7341; the weighted RRF used before, k 10 and dense
# weight 0.8: 0.7274). `docsearch eval` (onnx-int8) then gave nDCG@10 0.7408 on train and
# 0.7290 on test, against RRF's 0.7268 and 0.7193, and tests/data/docs_questions.json gets the
# right file first for 20 of 20 questions, against 18.
DENSE_SHARE = 0.45


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
    dense_share: float = DENSE_SHARE,
    limit: int | None = None,
) -> list[Candidate]:
    """Rank passages by the mode: one retriever's score, or both scaled and mixed; the first limit of them."""
    by_dense = {pid: (rank, score) for rank, (pid, score) in enumerate(dense, start=1)}
    by_lexical = {pid: (rank, score) for rank, (pid, score) in enumerate(lexical, start=1)}
    pids = by_dense if mode == "dense" else by_lexical if mode == "lexical" else {**by_dense, **by_lexical}
    d_low, d_scale = _scaling(dense, dense_share)
    l_low, l_scale = _scaling(lexical, 1.0 - dense_share)
    rows = []
    for pid in pids:
        d_rank, d_score = by_dense.get(pid, NOT_LISTED)
        l_rank, l_score = by_lexical.get(pid, NOT_LISTED)
        if mode == "dense":
            score = d_score
        elif mode == "lexical":
            score = l_score
        else:
            score = ((d_score - d_low) * d_scale if d_rank else 0.0) + ((l_score - l_low) * l_scale if l_rank else 0.0)
        # Ties go to the better dense rank, then the lower id: a stable order.
        rows.append((-score, d_rank or LAST, pid, d_rank, d_score, l_rank, l_score))
    rows.sort()  # by score, dense rank, id: ids are distinct, so no two rows compare further
    return [Candidate(pid, -negated, d_rank, d_score, l_rank, l_score)
            for negated, _, pid, d_rank, d_score, l_rank, l_score in rows[:limit]]


def _scaling(ranked: list[tuple[int, float]], share: float) -> tuple[float, float]:
    """Return (low, scale) that map a list's scores onto 0..share (a list of one equal score: share)."""
    if not ranked:
        return 0.0, 0.0
    scores = [score for _, score in ranked]
    high, low = max(scores), min(scores)
    return (low, share / (high - low)) if high > low else (low - 1.0, share)


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
