"""Benchmark docsearch on passages made from SciFact: indexing speed, query latency, HTTP load, memory.

Run from the repository root (see bench/README.md):

    .venv/bin/python -m bench ../shared/beir/scifact --out bench/results.json

Corpora of 10k, 100k and 1M passages are made by recombining 2 to 6 random
SciFact abstract sentences (seeded) into one passage per file. Sizes up to
``--real-up-to`` are embedded by the model; larger ones get precomputed
embeddings. txtai is measured as a peer in its own process. Markdown tables go
to stdout, everything to the JSON file. This is not a test: it takes hours at
full size.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from . import build, dedup, footprint, http_load, http_path, milvus_phase, querying, ray_phase  # noqa: E402
from . import speed, stages, txtai_phase  # noqa: E402
from .inputs import load_inputs, missing_files  # noqa: E402
from .machine import Clock, machine_facts, package_versions, torch_threads, warn_if_busy  # noqa: E402
from .phases import Phase, Run, run_once, run_per_size  # noqa: E402
from .report import print_report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = Path("../shared/beir/scifact")  # relative to the repository

# What a run measures, in order: BEFORE_SIZES once, SIZE_PHASES for each corpus size, AFTER_SIZES once.
BEFORE_SIZES = (
    Phase("speed", speed.measure, skip="skip_speed"),
    Phase("ray", ray_phase.measure, skip="skip_ray"),
    Phase("dedup", dedup.measure, skip="skip_dedup"),
)
SIZE_PHASES = (
    Phase("build", build.measure),
    Phase("index", footprint.measure),
    Phase("in_process", querying.measure),
    Phase("http", http_load.measure, skip="skip_http"),
    Phase("stages", stages.measure, skip="skip_query_path"),
    Phase("http_path", http_path.measure, skip="skip_query_path"),
    Phase("milvus", milvus_phase.measure, skip="skip_milvus"),  # only at --milvus-sizes
)
AFTER_SIZES = (Phase("txtai", txtai_phase.measure, skip="skip_txtai"),)

NOTES = [
    "Passages are 2-6 random SciFact abstract sentences (seeded); one file per passage; "
    "corpora are nested (the 10k corpus is the first 10k passages of the 100k one).",
    "Sizes above real_up_to use PRECOMPUTED embeddings: every distinct sentence embedded once with the "
    "default backend, each passage vector = normalised mean of its sentences' vectors. Their build "
    "times exclude the model; their query latencies are real (queries are embedded by the model).",
    "Queries are the distinct SciFact test+train claims, each used at most once per measurement, because "
    "the Searcher caches query embeddings (in-process: cache cleared per mode; HTTP: a fresh server per "
    "phase). A phase ends at --duration or when the queries run out, whichever is first.",
    "The HTTP load generator runs on the same machine as the server and shares its cores.",
    "Index MB counts every file of the generation folder, BM25's lexical/ folder included.",
]


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path, nargs="?", default=None,
                   help="BEIR SciFact folder [default: ../shared/beir/scifact, relative to the repository]")
    p.add_argument("--out", type=Path, default=None, help="JSON results file [default: WORK_DIR/results.json]")
    p.add_argument("--sizes", default="10000,100000,1000000", help="corpus sizes in passages, comma-separated")
    p.add_argument("--sample", type=int, default=1000, help="passages for the per-backend indexing-speed comparison")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of each HTTP load phase")
    p.add_argument("--backends", default="all", help="embedding backends to compare, comma-separated, or all")
    p.add_argument("--skip-txtai", action="store_true", help="do not measure txtai")
    p.add_argument("--skip-speed", action="store_true", help="skip the per-backend indexing-speed comparison")
    p.add_argument("--skip-http", action="store_true", help="skip the HTTP load phases")
    p.add_argument("--skip-query-path", action="store_true", help="skip the breakdown of a query's time into stages")
    p.add_argument("--path-queries", type=int, default=300, help="queries of the query-path breakdown (each way)")
    p.add_argument("--skip-milvus", action="store_true", help="skip serving from a Milvus server beside FAISS")
    p.add_argument("--milvus-sizes", default="100000", help="sizes (of --sizes) also built into and served from "
                   "a Milvus server, comma-separated")
    p.add_argument("--skip-ray", action="store_true", help="skip `docsearch index --ray` beside in-process indexing")
    p.add_argument("--skip-dedup", action="store_true", help="skip the shares of passages not embedded again")
    p.add_argument("--work-dir", type=Path, default=REPO / ".bench", help="scratch folder (git-ignored by itself)")
    p.add_argument("--real-up-to", type=int, default=10000,
                   help="sizes up to this are embedded by the model, larger ones precomputed (0: all precomputed)")
    p.add_argument("--queries", type=int, default=0, help="use only the first N distinct queries (0: all)")
    p.add_argument("--concurrency", type=int, default=8, help="clients in the concurrent HTTP phase")
    p.add_argument("--server-threads", type=int, default=4, help="`docsearch serve --threads`")
    p.add_argument("--vector-index", choices=("auto", "flat", "hnsw"), default=None,
                   help="BuildOptions(vector_index=...) [default: docsearch's, auto]")
    p.add_argument("--sq8", action="store_true", help="BuildOptions(sq8=True): 8-bit vector components")
    p.add_argument("--sq4", action="store_true", help="BuildOptions(sq4=True): 4-bit components, exact ranking from disk")
    p.add_argument("--reuse-indexes", action="store_true", help="keep an index already built from the same corpus")
    p.add_argument("--txtai-python", type=Path, default=None, help="interpreter with txtai [default: this one, "
                   "else WORK_DIR/txtai-venv/bin/python]")
    p.add_argument("--seed", type=int, default=13)
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line; make paths absolute, since the txtai peer runs from the repository root."""
    args = parser().parse_args(argv)
    args.dataset = args.dataset if args.dataset is not None else REPO / DEFAULT_DATASET
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.milvus_sizes = [int(s) for s in args.milvus_sizes.split(",") if s.strip()]
    # absolute(), not resolve(): a venv's python is a symlink that must stay the venv's.
    args.work_dir = args.work_dir.absolute()
    args.out = (args.out or args.work_dir / "results.json").absolute()
    args.txtai_python = args.txtai_python.absolute() if args.txtai_python else None
    return args


def prepare_work_dir(work_dir: Path) -> None:
    """Create the scratch folder with a .gitignore that ignores all of it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    ignore = work_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark scratch space: indexes, corpora, caches\n*\n")


def start(args: argparse.Namespace, clock: Clock) -> Run:
    """Check the dataset, prepare the work dir, read the inputs and record what this run is."""
    missing = missing_files(args.dataset)
    if missing:
        sys.exit(f"bench: no BEIR SciFact dataset at {args.dataset} (missing {', '.join(missing)}); "
                 "pass its folder as the first argument")
    prepare_work_dir(args.work_dir)
    results = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": sys.argv,
               "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               "machine": machine_facts(), "versions": package_versions(), "notes": NOTES}
    warn_if_busy(clock)
    inputs = load_inputs(args, clock)
    results["corpus"] = inputs.facts
    results["machine"]["torch_threads"] = torch_threads()
    results["default_backend"] = inputs.encoder.backend
    return Run(args, clock, inputs, results)


def main(argv: list[str] | None = None) -> None:
    """Run every phase asked for, print the tables and write the JSON."""
    args = parse_args(argv)
    clock = Clock()
    run = start(args, clock)
    run_once(run, BEFORE_SIZES)
    run_per_size(run, SIZE_PHASES)
    run_once(run, AFTER_SIZES)
    run.results["machine"]["load_average_at_end"] = os.getloadavg()
    run.results["seconds"] = round(clock.elapsed(), 1)
    run.save()
    print_report(run.results)
    clock.say("done", f"results in {args.out}")


if __name__ == "__main__":
    main()
