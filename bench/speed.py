"""Indexing speed per embedding backend, against plain sentence-transformers, on the same sample passages."""

from __future__ import annotations

import gc
import os
import shutil
import time

import numpy as np

from docsearch.index import Encoder, ModelLoadError
from docsearch.index.embed import BACKENDS, DEFAULT_MODEL, default_backend, normalize, resolve_model, supports

from .build import build
from .inputs import source_files
from .machine import Clock, warn_if_busy
from .phases import Run

WARMUP_TEXTS = 16


def timed_encode(encode, texts: list[str]) -> tuple[np.ndarray, float]:
    """Warm encode up on a few texts, then return the unit vectors of texts and the seconds they took."""
    encode(texts[:WARMUP_TEXTS])
    began = time.perf_counter()
    vectors = encode(texts)
    return normalize(np.asarray(vectors, np.float32)), time.perf_counter() - began


def baseline_speed(texts: list[str], clock: Clock) -> tuple[np.ndarray, dict]:
    """Time plain SentenceTransformer(model).encode(texts) with default settings."""
    from sentence_transformers import SentenceTransformer

    began = time.perf_counter()
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL))
    load = time.perf_counter() - began
    vectors, seconds = timed_encode(model.encode, texts)
    del model
    gc.collect()
    clock.say("speed", f"baseline sentence-transformers: {len(texts) / seconds:.1f} passages/s")
    return vectors, {"name": "sentence-transformers (baseline)", "load_s": round(load, 1), "seconds": round(seconds, 2),
                     "passages_per_s": round(len(texts) / seconds, 1), "ratio_to_baseline": 1.0}


def backend_speed(backend: str, texts: list[str], reference: np.ndarray, baseline_rate: float, clock: Clock) -> dict:
    """Time docsearch's Encoder(backend=...).encode(texts) and compare its vectors to the baseline's."""
    entry = {"name": backend, "supported_on_this_cpu": supports(backend)}
    began = time.perf_counter()
    try:
        encoder = Encoder(backend=backend)
    except (ModelLoadError, ImportError) as exc:  # a backend that cannot load here is a result, not a crash
        clock.say("speed", f"{backend}: cannot load ({exc})")
        return {**entry, "error": str(exc).splitlines()[0][:300]}
    entry["load_s"] = round(time.perf_counter() - began, 1)  # includes a one-time ONNX export
    vectors, seconds = timed_encode(encoder.encode, texts)
    cosines = (vectors * reference).sum(axis=1)
    rate = len(texts) / seconds
    del encoder
    gc.collect()
    clock.say("speed", f"{backend}: {rate:.1f} passages/s ({rate / baseline_rate:.2f}x baseline)")
    return {**entry, "seconds": round(seconds, 2), "passages_per_s": round(rate, 1),
            "ratio_to_baseline": round(rate / baseline_rate, 3),
            "cosine_to_baseline_mean": round(float(cosines.mean()), 5),
            "cosine_to_baseline_min": round(float(cosines.min()), 5)}


def sample_build(texts: list[str], run: Run) -> dict:
    """Time build_documents end to end on the sample passages with the default encoder."""
    index_dir = run.args.work_dir / f"docsearch-sample-{len(texts)}"
    shutil.rmtree(index_dir, ignore_errors=True)
    files = source_files(texts)
    began = time.perf_counter()
    report = build(files, index_dir, run.inputs.encoder, run.args)
    seconds = time.perf_counter() - began
    run.clock.say("speed", f"build_documents on the sample: {len(files) / seconds:.1f} passages/s")
    return {"files": len(files), "passages": report.manifest.passages, "seconds": round(seconds, 2),
            "passages_per_s": round(report.manifest.passages / seconds, 1), "backend": run.inputs.encoder.backend}


def wanted_backends(asked: str) -> list[str]:
    """Return the backends named on the command line ("all": every one docsearch offers)."""
    if asked == "all":
        return list(BACKENDS)
    return [b.strip() for b in asked.split(",") if b.strip()]


def measure(run: Run) -> dict:
    """Compare indexing speed of the baseline and every backend on the same sample passages."""
    texts = run.inputs.texts(run.args.sample)
    run.clock.say("speed", f"{len(texts)} passages, backends {run.args.backends}")
    warn_if_busy(run.clock)
    load_average = os.getloadavg()
    reference, baseline = baseline_speed(texts, run.clock)
    rows = [baseline] + [backend_speed(b, texts, reference, baseline["passages_per_s"], run.clock)
                         for b in wanted_backends(run.args.backends)]
    return {"sample_passages": len(texts), "default_backend": default_backend(), "encoders": rows,
            "load_average_at_start": load_average, "build_documents_sample": sample_build(texts, run)}
