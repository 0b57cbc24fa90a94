"""Measure txtai as docsearch's peer, on the passages and queries bench.txtai_phase wrote.

Run by bench.txtai_phase in its own process (possibly another venv), from the
repository root, never by hand:

    python -m bench.txtai_peer WORK_DIR/txtai/job.json --out WORK_DIR/txtai/result.json

txtai runs with its default settings and the same local all-MiniLM-L6-v2:
``Embeddings(path=MODEL, content=True)``. For corpora with precomputed vectors
it uses txtai's external vectors, ``Embeddings(method="external",
transform=f, content=True)``, where f looks passages up and embeds anything
else (the queries) with sentence-transformers. Only numpy, the standard library
and bench's light modules are imported, so this needs nothing from docsearch.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from .footprint import process_memory  # noqa: E402
from .latency import time_each  # noqa: E402

WARMUP_TEXTS = 16
started = time.perf_counter()


def say(message: str) -> None:
    """Print a flushed progress line."""
    print(f"[{time.perf_counter() - started:8.1f}s] txtai: {message}", flush=True)


def read_lines(path: str) -> list[str]:
    """Return the non-empty lines of a UTF-8 file (one passage per line)."""
    return [line for line in Path(path).read_text(encoding="utf-8").split("\n") if line]


def model_embeddings(model_path: str):
    """Return txtai embeddings with default settings on the local model."""
    from txtai import Embeddings

    return Embeddings(path=model_path, content=True)


def external_embeddings(texts: list[str], vectors_path: str, model_path: str):
    """Return txtai embeddings whose vectors come from a lookup, the model embedding only what is not there."""
    from sentence_transformers import SentenceTransformer
    from txtai import Embeddings

    vectors = np.load(vectors_path, mmap_mode="r")
    row_of_text = {text: i for i, text in enumerate(texts)}
    model = SentenceTransformer(model_path)

    def transform(batch):
        """Return the precomputed vector of each passage; embed the rest (queries)."""
        rows = [row_of_text.get(text, -1) for text in batch]
        if all(r >= 0 for r in rows):
            return np.asarray(vectors[rows], np.float32)
        return np.asarray(model.encode(list(batch), normalize_embeddings=True), np.float32)

    return Embeddings(method="external", transform=transform, content=True)


def directory_bytes(folder: Path) -> int:
    """Return the bytes of every file under folder."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def saved_size(embeddings, folder: Path) -> int | None:
    """Save the index to folder and return its size on disk (None if txtai cannot save it)."""
    # A transform function is not JSON: leave it out of the saved configuration.
    transform = embeddings.config.pop("transform", None)
    try:
        embeddings.save(str(folder))
        return directory_bytes(folder)
    except (TypeError, ValueError, OSError) as exc:
        say(f"cannot save the index: {exc}")
        return None
    finally:
        if transform is not None:
            embeddings.config["transform"] = transform


def describe_ann(embeddings) -> str:
    """Return the ANN backend, the FAISS components it built and its nprobe, if any."""
    config = embeddings.config
    built = (config.get("build") or {}).get("settings") or {}
    described = " ".join(str(part) for part in (config.get("backend", "faiss"), built.get("components")) if part)
    nprobe = getattr(getattr(embeddings.ann, "backend", None), "nprobe", None)
    return f"{described} nprobe={nprobe}" if nprobe else described


def plain_config(config: dict) -> dict:
    """Return the JSON-ready part of txtai's configuration."""
    return {k: v for k, v in config.items() if isinstance(v, (str, int, float, bool, list, dict, type(None)))}


def timed_index(embeddings, texts: list[str]) -> float:
    """Warm the model up, then index texts; return the seconds indexing took."""
    embeddings.batchtransform(texts[:WARMUP_TEXTS])
    began = time.perf_counter()
    embeddings.index([(i, text, None) for i, text in enumerate(texts)])
    return time.perf_counter() - began


def query_latency(embeddings, queries: list[str], warmup: list[str], k: int) -> dict:
    """Time embeddings.search over every query once."""
    for query in warmup:
        embeddings.search(query, k)
    return time_each(lambda query: embeddings.search(query, k), queries)


def measure_sample(job: dict) -> dict:
    """Time txtai indexing the sample passages with the model."""
    texts = read_lines(job["sample"])
    embeddings = model_embeddings(job["model_path"])
    seconds = timed_index(embeddings, texts)
    embeddings.close()
    say(f"sample: {len(texts) / seconds:.1f} passages/s")
    return {"passages": len(texts), "seconds": round(seconds, 2), "passages_per_s": round(len(texts) / seconds, 1)}


def measure_corpus(corpus: dict, job: dict) -> dict:
    """Index one corpus, then time queries on it and measure its size on disk."""
    texts = read_lines(corpus["texts"])
    precomputed = corpus["vectors"] is not None
    say(f"{corpus['size']}: indexing {len(texts)} passages ({'precomputed' if precomputed else 'model'} vectors)")
    if precomputed:
        embeddings = external_embeddings(texts, corpus["vectors"], job["model_path"])
    else:
        embeddings = model_embeddings(job["model_path"])
    seconds = timed_index(embeddings, texts)
    found = {"embeddings": "precomputed (external transform)" if precomputed else "real", "passages": len(texts),
             "seconds": round(seconds, 1), "passages_per_s": round(len(texts) / seconds, 1)}
    found["search"] = query_latency(embeddings, job["queries"], job["warmup_queries"], job["k"])
    found["memory_after_queries"] = process_memory()
    found["disk_bytes"] = saved_size(embeddings, Path(job["work_dir"]) / f"index-{corpus['size']}")
    found["ann"], found["config"] = describe_ann(embeddings), plain_config(embeddings.config)
    embeddings.close()
    gc.collect()
    say(f"{corpus['size']}: {found['passages_per_s']} passages/s, search p50 {found['search']['p50_ms']} ms, "
        f"p99 {found['search']['p99_ms']} ms")
    return found


def main() -> None:
    """Measure txtai on the job's sample and corpora and write the results as JSON."""
    parser = argparse.ArgumentParser(description="Measure txtai for python -m bench.")
    parser.add_argument("job", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    job = json.loads(args.job.read_text(encoding="utf-8"))
    from importlib.metadata import version

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar per model load is noise in the benchmark's log

    result = {"txtai_version": version("txtai"), "torch_version": version("torch"), "corpora": {}}
    result["sample"] = measure_sample(job)
    for corpus in job["corpora"]:
        result["corpora"][str(corpus["size"])] = measure_corpus(corpus, job)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    result["peak_memory"] = process_memory()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
