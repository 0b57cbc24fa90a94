"""Precomputed passage vectors, for corpus sizes the model cannot embed in a run on 2 cores.

Every distinct sentence is embedded once with the default encoder (cached in the
work dir), and a passage's vector is the normalised mean of its sentences'
vectors. Build times with these leave the model out; query latencies do not
(queries are always embedded by the model).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from docsearch.index.embed import normalize

from .inputs import Inputs
from .machine import Clock


def passage_vectors(sentence_vectors: np.ndarray, rows: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Return each passage's normalised mean of its sentences' vectors (rows: sentence ids, -1 padded)."""
    found = np.empty((len(rows), sentence_vectors.shape[1]), np.float32)
    for at in range(0, len(rows), chunk):
        part = rows[at:at + chunk]
        mask = (part >= 0)[..., None]
        found[at:at + len(part)] = normalize((sentence_vectors[np.maximum(part, 0)] * mask).sum(axis=1))
    return found


def ensure_sentence_vectors(inputs: Inputs, work_dir: Path, clock: Clock) -> dict:
    """Embed every sentence the passages use, once, with the default encoder (cached in work_dir)."""
    if inputs.sentence_vectors is not None:
        return inputs.facts["sentence_embedding"]
    needed = np.unique(inputs.rows[inputs.rows >= 0])
    vectors, done, cache = _cached_vectors(inputs, work_dir)
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
        "backend": inputs.encoder.backend}
    clock.say("precompute", f"done in {seconds:.1f}s")
    return inputs.facts["sentence_embedding"]


def _cached_vectors(inputs: Inputs, work_dir: Path) -> tuple[np.ndarray, np.ndarray, Path]:
    """Return the sentence vectors cached so far, which rows they fill, and the cache file."""
    # The key covers model, backend and sentences: another of any of them embeds anew.
    key = hashlib.sha256("\n".join([inputs.encoder.name, inputs.encoder.backend, *inputs.sentences]).encode())
    cache = work_dir / f"sentence-vectors-{key.hexdigest()[:16]}.npz"
    vectors = np.zeros((len(inputs.sentences), inputs.encoder.dimension), np.float32)
    done = np.zeros(len(inputs.sentences), bool)
    if cache.is_file():
        stored = np.load(cache)
        vectors[stored["ids"]], done[stored["ids"]] = stored["vectors"], True
    return vectors, done, cache


class PrecomputedEncoder:
    """Wrap an Encoder so that encode() looks passage vectors up instead of running the model.

    Everything else (name, backend, dimension, token_starts, ...) is the wrapped
    encoder's, so build_documents splits and records the index as the model would.
    Texts not found (a passage docsearch split differently) are embedded by the
    model and counted in ``misses``.
    """

    def __init__(self, encoder, texts: list[str], sentence_vectors: np.ndarray, rows: np.ndarray):
        """Wrap encoder for the passages texts, whose sentence ids are the same rows of rows."""
        self._encoder = encoder
        self._row_of_text = {text: i for i, text in enumerate(texts)}
        self._sentence_vectors = sentence_vectors
        self._rows = rows
        self.misses = 0

    def __getattr__(self, name):
        """Delegate everything but encode to the wrapped encoder."""
        return getattr(self._encoder, name)

    def encode(self, texts, batch_size: int = 32, progress=None) -> np.ndarray:
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
