"""Dense recall@k of a vector store against exact search over the vectors it holds, in NumPy.

Exact means brute force over the store's own vectors (decoded, for SQ8), so the
figure measures the approximate search alone. The vectors are read in chunks:
a million 384-dimensional rows never need to be in memory at once.
"""

from __future__ import annotations

import numpy as np

CHUNK = 16_384  # rows per step: queries x CHUNK scores stay under 100 MB for 1,100 queries


def exact_top_k(store, queries: np.ndarray, k: int, chunk: int = CHUNK) -> np.ndarray:
    """Return each query's k passage ids of highest inner product, by brute force (ids 1..count)."""
    count = store.count()
    best_scores = np.empty((len(queries), 0), np.float32)
    best_ids = np.empty((len(queries), 0), np.int64)
    for start in range(1, count + 1, chunk):
        ids = np.arange(start, min(start + chunk, count + 1), dtype=np.int64)
        scores = np.hstack([best_scores, queries @ store.vectors(ids).T])
        every_id = np.hstack([best_ids, np.broadcast_to(ids, (len(queries), len(ids)))])
        keep = min(k, scores.shape[1])
        top = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(scores, top, axis=1)
        best_ids = np.take_along_axis(every_id, top, axis=1)
    return best_ids


def dense_recall(store, queries: np.ndarray, k: int) -> float | None:
    """Return the mean share of each query's exact top k that the store's own search finds."""
    count = store.count()
    if not count or not len(queries):
        return None
    truth = exact_top_k(store, queries, k)
    found = store.search(queries, k)
    shares = [len({pid for pid, _ in hits} & set(exact.tolist())) / min(k, count)
              for hits, exact in zip(found, truth)]
    return round(float(np.mean(shares)), 4)
