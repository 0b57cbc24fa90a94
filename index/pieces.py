"""A model's word pieces, from its tokenizer.json through the tokenizers library alone.

The ONNX backends need nothing of PyTorch at query time, and transformers imports
PyTorch as it loads; the fast tokenizer that transformers wraps is this same
Rust tokenizer, so its pieces are the same (tests/test_embed.py compares them).
Two copies are kept, each configured once: one counts pieces (no truncation, no
padding), one feeds the model (truncated to its limit, padded to the longest
text of a call). Never re-configured afterwards, they are safe to share between
threads, unlike a transformers tokenizer, which re-configures itself per call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from tokenizers import Tokenizer

from .errors import ModelLoadError


class WordPieces:
    """Count, locate and batch a model's word pieces."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, pad_token: str | None):
        self._count = Tokenizer.from_str(tokenizer.to_str())
        self._count.no_truncation()
        self._count.no_padding()
        self._feed = Tokenizer.from_str(tokenizer.to_str())
        self._feed.enable_truncation(max_length)
        self._feed.no_padding()
        pad_id = self._feed.token_to_id(pad_token) if pad_token else None
        if pad_id is not None:  # without one, texts of a batch must have equal lengths
            self._feed.enable_padding(pad_id=pad_id, pad_token=pad_token)
        self.special_tokens = self._count.post_processor.num_special_tokens_to_add(False) if self._count.post_processor else 0

    @classmethod
    def from_folder(cls, folder: Path, max_length: int) -> "WordPieces":
        """Read the tokenizer of a local model folder (its tokenizer.json)."""
        path = folder / "tokenizer.json"
        if not path.is_file():
            raise ModelLoadError(f"model folder {folder} has no tokenizer.json (a fast tokenizer); use --backend torch")
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the library raises its own exception types for a bad file
            raise ModelLoadError(f"cannot read {path}: {exc}") from exc
        return cls(tokenizer, max_length, (tokenizer.padding or {}).get("pad_token"))

    def starts(self, text: str) -> list[int]:
        """Return the offset in text of each word piece, special tokens left out."""
        return [start for start, _ in self._count.encode(text, add_special_tokens=False).offsets]

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Return the number of word pieces of each text, special tokens left out."""
        return [len(e.ids) for e in self._count.encode_batch(list(texts), add_special_tokens=False)]

    def batch(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the model's inputs for texts: piece ids, attention mask and token types, int64."""
        encoded = self._feed.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
