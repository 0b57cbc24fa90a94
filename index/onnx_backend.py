"""Run a mean-pooling sentence-transformers model on ONNX Runtime, exported once and cached.

The export is made here from the local model with PyTorch's own exporter, then
fused by ONNX Runtime's transformer optimizer (attention, GELU, layer norms)
and, for ``onnx-int8``, quantised dynamically (int8 weights, per channel).
We do not use Optimum for this: its ONNX package pins transformers below the
version sentence-transformers needs here, and the export is a few calls.

Exports live in a cache folder (the configured one, else
``$XDG_CACHE_HOME/docsearch``, else ``~/.cache/docsearch``) under a key made of
the model's files and the library versions, so each is made once per machine;
a lock keeps two processes from exporting the same model at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from .errors import ModelLoadError
from .pieces import WordPieces

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the export recipe changes, so old caches are not reused
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"


def cache_root(cache_dir: str = "") -> Path:
    """Return the folder where exported models are kept: cache_dir if given, else the platform's cache."""
    if cache_dir:
        return Path(cache_dir)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "docsearch"


def _export_key(location: str) -> str:
    """Return a key that changes when the model's files or the exporting libraries change."""
    # Versions from the package metadata: importing PyTorch only to read its version would
    # load it into every server process, where the ONNX backends have no other use for it.
    versions = "|".join(importlib.metadata.version(package) for package in ("torch", "onnxruntime"))
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{versions}".encode())
    root = Path(location).resolve()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}|{stat.st_size}|{int(stat.st_mtime)}\n".encode())
    return digest.hexdigest()[:16]


def _read_json(path: Path) -> dict:
    """Return a JSON file of a model folder, or raise ModelLoadError saying which."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc


def check_mean_pooling(folder: Path) -> None:
    """Raise ModelLoadError unless the sentence-transformers model in folder is a transformer
    followed by mean pooling (and maybe normalisation), read from its modules.json."""
    modules = _read_json(folder / "modules.json") if (folder / "modules.json").is_file() else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    pooling = _read_json(folder / modules[1].get("path", "") / "config.json") if kinds[1:2] == ["Pooling"] else {}
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
    if kinds[:2] != ["Transformer", "Pooling"] or not mean or any(k != "Normalize" for k in kinds[2:]):
        raise ModelLoadError(
            f"the ONNX backends run models that mean-pool a transformer; this one is {' -> '.join(kinds) or 'unknown'} "
            f"({pooling.get('pooling_mode', 'unknown pooling')}); use --backend torch"
        )


def sentence_settings(folder: Path) -> tuple[int, int]:
    """Return a sentence-transformers model's (max_seq_length, dimension), read from its files."""
    config = _read_json(folder / "config.json")
    settings = _read_json(folder / "sentence_bert_config.json") if (folder / "sentence_bert_config.json").is_file() else {}
    length = settings.get("max_seq_length") or config.get("max_position_embeddings")
    dimension = config.get("hidden_size")
    if not isinstance(length, int) or not isinstance(dimension, int):
        raise ModelLoadError(f"model folder {folder} does not say its sequence length and width (config.json)")
    return length, dimension


def exported_model(location: str, name: str, quantized: bool, cache_dir: str = "") -> Path:
    """Return the cached ONNX file for a model, exporting it first if this machine has none."""
    folder = cache_root(cache_dir) / "onnx" / f"{Path(name).name or 'model'}-{_export_key(location)}"
    target = folder / (INT8_FILE if quantized else FP32_FILE)
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be exporting it right now
        if not (folder / FP32_FILE).is_file():
            log.warning("exporting model %s to ONNX (once; cached in %s)", name, folder)
            _export_fp32(location, folder / FP32_FILE)
        if quantized and not target.is_file():
            log.warning("quantising model %s to int8 (once; cached in %s)", name, folder)
            _quantize(folder / FP32_FILE, target)
    return target


def _replace_atomically(write, target: Path) -> None:
    """Call write(path) on a temporary file next to target, then rename it into place."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp.onnx")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _export_fp32(location: str, target: Path) -> None:
    """Export the model's transformer to ONNX and fuse it for CPU inference."""
    import torch
    from sentence_transformers import SentenceTransformer

    # Eager attention exports as plain operators that the optimizer fuses into one Attention node.
    model = SentenceTransformer(location, device="cpu", model_kwargs={"attn_implementation": "eager"})
    transformer = model[0].auto_model.eval()
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in model.tokenizer.model_input_names]

    class LastHiddenState(torch.nn.Module):
        """The transformer as a function of its named inputs, returning token embeddings."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    sample = model.tokenizer(["an example", "a longer example sentence"], padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings are about shapes we make dynamic
        raw = Path(scratch) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(
                LastHiddenState(transformer), tuple(sample[n] for n in names), str(raw), input_names=names,
                output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
            )
        _replace_atomically(lambda path: _optimize(raw, path, transformer.config), target)


def _optimize(source: Path, target: Path, config) -> None:
    """Fuse a BERT-like graph with ONNX Runtime's transformer optimizer; copy anything else as is."""
    from onnxruntime.transformers.optimizer import optimize_model

    model_type = getattr(config, "model_type", "")
    if model_type not in ("bert", "roberta", "distilbert", "xlm-roberta"):
        shutil.copyfile(source, target)
        return
    optimized = optimize_model(
        str(source), model_type=model_type, num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    optimized.save_model_to_file(str(target))


def _quantize(source: Path, target: Path) -> None:
    """Quantise weights to int8, one scale per output channel; activations are quantised at run time."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice about static quantisation to the root logger
    try:
        _replace_atomically(
            lambda path: quantize_dynamic(
                str(source), str(path), weight_type=QuantType.QInt8, per_channel=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused nodes have no inferred type
            ),
            target,
        )
    finally:
        root.setLevel(level)


class OnnxEmbedder:
    """Token embeddings from an ONNX session, mean-pooled over real tokens."""

    def __init__(self, path: Path, pieces: WordPieces, cores: int = 1):
        # One thread per call: callers run batches (or requests) on parallel threads instead,
        # which on a small CPU beats splitting every matrix product across cores...
        self.session = self._open(path, threads=1)
        # ...except when a call runs alone (one query on an idle server, say): then a second
        # session spreads it over every core. Measured on 2 cores, one query: 5.1 ms on one
        # thread, 3.4 ms on two; eight at once: 333 queries/s on one thread each, 286 on two.
        self.wide = self._open(path, threads=cores) if cores > 1 else None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.pieces = pieces
        self._running = 0  # calls inside the sessions now
        self._requests = 0  # requests being served now (see serving)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def serving(self):
        """Count a request for its whole time, so that a call counts as alone only when no
        other request is in flight, not merely when no other is embedding at that moment."""
        with self._lock:
            self._requests += 1
        try:
            yield
        finally:
            with self._lock:
                self._requests -= 1

    @staticmethod
    def _open(path: Path, threads: int):
        """Open an inference session that splits each call over threads."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a damaged cache file, say
            raise ModelLoadError(f"cannot load the ONNX model {path}: {exc}; delete it to export again") from exc

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Return the mean-pooled (not yet normalised) embedding of each text."""
        encoded = self.pieces.batch(texts)
        feed = {name: encoded[name] for name in self.inputs}
        with self._lock:
            self._running += 1
            alone = self._running == 1 and self._requests <= 1
        try:
            hidden = (self.wide if alone and self.wide is not None else self.session).run(None, feed)[0]
        finally:
            with self._lock:
                self._running -= 1
        mask = encoded["attention_mask"][..., None].astype(np.float32)
        return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)

