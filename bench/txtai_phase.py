"""Measure txtai beside docsearch: write the peer's inputs, run bench/txtai_peer.py in its own process.

The peer runs in its own process, possibly with another interpreter (txtai may
need its own environment), so it gets everything as files: passages, the
precomputed vectors of sizes that use them, the queries and a job description.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from docsearch.index.embed import DEFAULT_MODEL, resolve_model

from .phases import K, WARMUP_QUERIES, Run
from .precomputed import ensure_sentence_vectors, passage_vectors

REPO = Path(__file__).resolve().parents[1]


def txtai_python(run: Run) -> Path | None:
    """Return an interpreter that can import txtai, or None."""
    args = run.args
    candidates = [args.txtai_python] if args.txtai_python else [Path(sys.executable),
                                                                args.work_dir / "txtai-venv" / "bin" / "python"]
    for python in candidates:
        probe = [str(python), "-c", "import txtai"]
        if python.is_file() and subprocess.run(probe, capture_output=True).returncode == 0:
            return python
    return None


def write_lines(path: Path, texts: list[str]) -> Path:
    """Write texts one per line (a passage holds no newline) and return the path."""
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def write_corpus(run: Run, folder: Path, size: int) -> dict:
    """Write one corpus size's passages, and their precomputed vectors if the size uses them."""
    texts = write_lines(folder / f"corpus-{size}.txt", run.inputs.texts(size))
    vectors = None
    if size > run.args.real_up_to:
        ensure_sentence_vectors(run.inputs, run.args.work_dir, run.clock)
        vectors = folder / f"vectors-{size}.npy"
        np.save(vectors, passage_vectors(run.inputs.sentence_vectors, run.inputs.rows[:size]))
    return {"size": size, "texts": str(texts), "vectors": str(vectors) if vectors else None}


def write_job(run: Run) -> Path:
    """Write the passages, precomputed vectors and queries the txtai peer needs, and its job file."""
    folder = run.args.work_dir / "txtai"
    folder.mkdir(exist_ok=True)
    sample = write_lines(folder / f"sample-{run.args.sample}.txt", run.inputs.texts(run.args.sample))
    job = {"model_path": resolve_model(DEFAULT_MODEL), "sample": str(sample),
           "corpora": [write_corpus(run, folder, size) for size in run.args.sizes], "queries": run.inputs.queries,
           "k": K, "work_dir": str(folder), "warmup_queries": list(WARMUP_QUERIES)}
    path = folder / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


def measure(run: Run) -> dict:
    """Run the txtai peer in its own process and return what it measured."""
    python = txtai_python(run)
    if python is None:
        message = "txtai is not importable; install it (see bench/README.md) or pass --txtai-python"
        run.clock.say("txtai", message)
        return {"skipped": message}
    job = write_job(run)
    out = job.with_name("result.json")
    out.unlink(missing_ok=True)
    run.clock.say("txtai", f"running bench.txtai_peer with {python}")
    # Run as a module from the repository, so the peer finds bench/ whatever its interpreter.
    done = subprocess.run([str(python), "-m", "bench.txtai_peer", str(job), "--out", str(out)], cwd=REPO,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0 or not out.is_file():
        return {"error": f"txtai peer exited with {done.returncode}", "python": str(python)}
    return {**json.loads(out.read_text(encoding="utf-8")), "python": str(python)}
