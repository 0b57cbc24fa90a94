"""Ray beside in process: `docsearch index --ray` on a local 2-CPU Ray instance against a plain `docsearch index`.

Both index the same --sample passages (one file each, real embedding with the
default backend) as the command a user runs, each into a fresh index folder.
Ray's servers listen on every interface, so both commands run in a network
namespace of their own, as tests/test_ray.py does (``unshare --net``: root).
Each command also indexes the first half of the sample alone, so the
difference of the two runs, (passages - half) / (seconds - half's seconds), is
the rate once running, and what is left of the half's seconds the fixed cost
(starting Ray and its model actors, loading the model). Ray embeds blocks of
256 passages, one per actor: at --sample 1000 or more both runs keep both
actors busy; a smaller sample gives a rougher split.
Seconds are the build's own, as `docsearch index` prints them ("in N s"),
and the whole command's, interpreter start included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .phases import Run

REPO = Path(__file__).resolve().parents[1]
BUILD_SECONDS = re.compile(r" in ([\d.]+)s \(")
EMBEDDED = re.compile(r"embedded (\d+) passages")


def unavailable() -> str | None:
    """Say why a local Ray instance cannot be measured here, or None when it can."""
    from tests.milvus_server import can_isolate

    try:
        import ray.data  # noqa: F401
    except ImportError:
        return "Ray Data is missing: pip install -e '.[ray]'"
    if not can_isolate():
        return "a local Ray instance needs a network namespace of its own (unshare --net): run as root"
    return None


def write_corpus(folder: Path, texts: list[str]) -> Path:
    """Write one file per passage into a fresh folder and return it."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i, text in enumerate(texts):
        (folder / f"p{i:07d}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


def index_command(corpus: Path, index_dir: Path, ray: bool, log: Path) -> dict:
    """Run `docsearch index` (with --ray if asked) in its own network namespace; return its figures."""
    from tests.milvus_server import in_own_network

    shutil.rmtree(index_dir, ignore_errors=True)
    command = [sys.executable, "-m", "docsearch.search", "index", str(corpus), "--index-dir", str(index_dir),
               *(["--ray"] if ray else [])]
    # Ray's workers import this checkout; nothing reaches for a model hub.
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    began = time.perf_counter()
    done = subprocess.run(in_own_network(command), capture_output=True, text=True, timeout=7200, env=env)
    wall = time.perf_counter() - began
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    build, embedded = BUILD_SECONDS.search(done.stdout), EMBEDDED.search(done.stdout)
    if done.returncode != 0 or not build or not embedded:
        return {"error": f"exited with {done.returncode}; see {log}"}
    seconds, passages = float(build.group(1)), int(embedded.group(1))
    return {"passages": passages, "build_s": seconds, "command_s": round(wall, 1),
            "passages_per_s": round(passages / seconds, 1)}


def one_way(run: Run, corpora: dict[int, Path], ray: bool) -> dict:
    """Index the probe and the sample one way; return both runs and the rate once running."""
    name = "ray" if ray else "in_process"
    found = {str(size): index_command(folder, run.args.work_dir / f"ray-bench-index-{name}-{size}", ray,
                                      run.args.work_dir / f"ray-bench-{name}-{size}.log")
             for size, folder in corpora.items()}
    probe, sample = found[str(min(corpora))], found[str(max(corpora))]
    if "error" not in probe and "error" not in sample and sample["build_s"] > probe["build_s"]:
        found["passages_per_s_once_running"] = round(
            (sample["passages"] - probe["passages"]) / (sample["build_s"] - probe["build_s"]), 1)
        found["fixed_s"] = round(probe["build_s"] - probe["passages"] / found["passages_per_s_once_running"], 1)
    run.clock.say("ray", f"{name}: {sample.get('passages_per_s', sample.get('error'))} passages/s over "
                         f"{sample.get('passages')} passages; once running "
                         f"{found.get('passages_per_s_once_running')}/s, fixed {found.get('fixed_s')} s")
    return found


def measure(run: Run) -> dict:
    """Time `docsearch index --ray` (local, 2 CPUs) and plain `docsearch index` on the same sample."""
    reason = unavailable()
    if reason:
        run.clock.say("ray", f"skipped: {reason}")
        return {"skipped": reason}
    texts = run.inputs.texts(run.args.sample)
    sizes = sorted({max(1, len(texts) // 2), len(texts)})
    corpora = {size: write_corpus(run.args.work_dir / f"ray-bench-corpus-{size}", texts[:size]) for size in sizes}
    run.clock.say("ray", f"indexing {len(texts)} passages (and the first {sizes[0]} alone) in process, then on local Ray")
    from docsearch.index.distributed import LOCAL_CPUS

    return {"sample_passages": len(texts), "probe_passages": sizes[0], "ray_cpus": LOCAL_CPUS,
            "in_process": one_way(run, corpora, ray=False), "ray": one_way(run, corpora, ray=True)}
