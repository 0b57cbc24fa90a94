"""The inputs every phase shares, made from SciFact: sentences, passages, queries and the default encoder.

Passages are 2 to 6 distinct abstract sentences drawn at random (seeded), as
many as fit the model's word-piece limit; each becomes one file, so a file is
exactly one passage. The same seed gives the same sequence, so the corpora of
a run are nested: the 10k corpus is the first 10k passages of the 100k one.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .machine import Clock

MIN_SENTENCES, MAX_SENTENCES = 2, 6
MAX_SENTENCE_TOKENS = 120  # longer "sentences" are splitter failures; two always fit a passage
MIN_SENTENCE_WORDS = 4
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
DATASET_FILES = ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "qrels/train.tsv")


@dataclass
class Inputs:
    """Sentences, passages (as rows of sentence ids), queries and the default encoder."""

    sentences: list[str]
    rows: np.ndarray  # passage i = sentences rows[i][rows[i] >= 0] joined by spaces
    queries: list[str]
    encoder: object  # docsearch.index.Encoder with the default backend
    sentence_vectors: np.ndarray | None = None  # filled by precomputed.ensure_sentence_vectors
    facts: dict = field(default_factory=dict)

    def texts(self, count: int) -> list[str]:
        """Return the text of the first count passages."""
        return [" ".join(self.sentences[j] for j in row if j >= 0) for row in self.rows[:count].tolist()]


def missing_files(folder: Path) -> list[str]:
    """Return the files of a BEIR SciFact folder that are not there."""
    return [name for name in DATASET_FILES if not (folder / name).is_file()]


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
    """Return the distinct SciFact test and train claims (test first), the first limit of them if limit."""
    from docsearch.search.evaluate import load_dataset

    queries: dict[str, None] = {}
    for split in ("test", "train"):
        for text in load_dataset(folder, split).queries.values():
            queries[" ".join(text.split())] = None
    found = list(queries)
    return found[:limit] if limit else found


def compose_passages(lengths: np.ndarray, count: int, max_tokens: int, seed: int) -> np.ndarray:
    """Return count passages as rows of 2-6 random sentence ids (-1 padded) that fit max_tokens."""
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


def token_counts(encoder, texts: list[str]) -> np.ndarray:
    """Return the number of word pieces of each text, as the encoder's tokenizer counts them."""
    counts = np.zeros(len(texts), np.int32)
    for at in range(0, len(texts), 4096):
        lengths = encoder.token_lengths(texts[at:at + 4096])
        counts[at:at + len(lengths)] = lengths
    return counts


def source_files(texts: list[str]) -> list:
    """Make one SourceFile per passage, named p0000000.txt, p0000001.txt, ..."""
    from docsearch.index import SourceFile

    return [SourceFile.from_text(f"p{i:07d}.txt", text) for i, text in enumerate(texts)]


def load_inputs(args: argparse.Namespace, clock: Clock) -> Inputs:
    """Read sentences and queries, load the default encoder and compose the passages the run needs."""
    from docsearch.index import Encoder
    from docsearch.index.embed import default_backend

    clock.say("inputs", f"loading the default encoder ({default_backend()})")
    encoder = Encoder()
    sentences = read_sentences(args.dataset)
    lengths = token_counts(encoder, sentences)
    keep = lengths <= MAX_SENTENCE_TOKENS
    sentences, lengths = [s for s, ok in zip(sentences, keep) if ok], lengths[keep]
    queries = read_queries(args.dataset, args.queries)
    count = max([*args.sizes, 0 if args.skip_speed and args.skip_txtai else args.sample])
    rows = compose_passages(lengths, count, encoder.max_passage_tokens, args.seed)
    facts = {"sentences": len(sentences), "sentence_tokens_mean": round(float(lengths.mean()), 1),
             "queries": len(queries), "passages_composed": count, "max_passage_tokens": encoder.max_passage_tokens,
             "sentences_per_passage_mean": round(float((rows >= 0).sum(1).mean()), 2) if count else None}
    clock.say("inputs", f"{len(sentences)} distinct sentences, {len(queries)} distinct queries, {count} passages")
    return Inputs(sentences, rows, queries, encoder, facts=facts)
