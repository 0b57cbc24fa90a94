"""Summaries of latencies, shared by docsearch's phases and the txtai peer (NumPy only)."""

from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np


def summarize(seconds: list[float]) -> dict:
    """Return the count, p50, p99 and mean of latencies in milliseconds."""
    if not seconds:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None}
    ms = np.asarray(seconds) * 1000
    return {"count": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "mean_ms": round(float(ms.mean()), 2)}


def time_each(call: Callable[[str], object], queries: Iterable[str]) -> dict:
    """Call once per query and return the summary of the calls' latencies."""
    latencies = []
    for query in queries:
        began = time.perf_counter()
        call(query)
        latencies.append(time.perf_counter() - began)
    return summarize(latencies)
