"""BM25 over the passages: the words (terms) of a text, and the index that ranks by them.

A term is a run of letters and digits, lower-cased, accents removed and stemmed
with the original Porter algorithm (PyStemmer's "porter"), as SQLite FTS5's
``porter unicode61`` tokenizer did before. Common English words (STOP_WORDS) are
not terms: they are left out of the index and of queries alike, so a query such
as "What is X?" is ranked by X, and the index stays small.

The index is written by bm25s: each term's BM25 contribution to each passage is
computed when the index is built and stored as a sparse matrix (numpy files, no
pickle), so a query costs a sum over the postings of its terms and a top-k
selection, instead of scoring every matching passage at query time. Row i is
passage id i + 1. The query side reads those files itself (LexicalIndex), CHUNK
postings at a time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
import unicodedata
from pathlib import Path
from typing import Iterator, Sequence

import bm25s
import numpy as np
import Stemmer

from .errors import IndexCorrupt
from .ondisk import DiskArray

# bm25s sets its own logger to DEBUG, so its "Building index from tokens" reached every
# command's output through the root handler; its warnings still do.
logging.getLogger("bm25s").setLevel(logging.WARNING)

LEXICAL_DIR = "lexical"  # the folder of a generation that holds the BM25 index
# Lucene's English stop words plus question words, pronouns and modal verbs ("Where can I get X?").
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with "
    "what which who whom whose when where why how do does did "
    "i me my we our you your he him his she her its them can could would should may might must shall "
    "has have had been being were am from so than too very".split()
)
# Anserini's defaults (k1 0.9, b 0.4), with Lucene's IDF, which is never negative. On SciFact train
# (passages, hybrid nDCG@10) they beat FTS5's k1 1.2, b 0.75: 0.7274 against 0.7236; a grid of
# k1 0.9-1.5 and b 0.3-0.9 found nothing better than 0.7278.
K1, B, METHOD = 0.9, 0.4, "lucene"
WORD = re.compile(r"[^\W_]+")
# Recorded in the manifest: an index whose BM25 was made otherwise is rewritten (not re-embedded).
SETTINGS = (f"bm25s {METHOD} k1={K1} b={B} porter stop-words "
            + hashlib.sha256(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12])

_local = threading.local()
# Postings are read, and scores selected, this many at a time: a query's temporaries stay
# a few hundred KB whatever the index's size.
CHUNK = 1 << 16


def _stemmer() -> Stemmer.Stemmer:
    """Return this thread's stemmer (a Stemmer object is not safe to share between threads)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("porter")
    return stemmer


def _fold(word: str) -> str:
    """Lower-case a word and remove its accents ("Café" -> "cafe")."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def words(text: str) -> list[tuple[str, int, int]]:
    """Return each word of text that is not a stop word, folded, with its [start, end) offsets."""
    lowered = text.lower()
    if len(lowered) == len(text):  # no character grew when lower-cased, so every offset still holds
        # Lower-case the whole text at once; only words with accents need folding one by one.
        found = ((m[0] if m[0].isascii() else _fold(m[0]), m.start(), m.end()) for m in WORD.finditer(lowered))
    else:
        found = ((_fold(m[0]), m.start(), m.end()) for m in WORD.finditer(text))
    return [w for w in found if w[0] and w[0] not in STOP_WORDS]


def terms(text: str) -> list[str]:
    """Return the terms of text, in order, repeats kept."""
    return _stemmer().stemWords([w for w, _, _ in words(text)])


def term_spans(text: str) -> list[tuple[str, int, int]]:
    """Return each term of text with the [start, end) offsets of the word it came from."""
    found = words(text)
    stems = _stemmer().stemWords([w for w, _, _ in found])
    return [(stem, start, end) for stem, (_, start, end) in zip(stems, found)]


@functools.lru_cache(maxsize=1024)
def _candidates(prefixes: frozenset[str]) -> re.Pattern:
    """Return a pattern for the whole words that start with one of prefixes.

    Each alternative begins with its prefix and then looks behind it for the word's
    start: a pattern that begins with literals lets the engine skip to their first
    letters, where one that begins with a look-behind tries every position.
    """
    return re.compile("(?:" + "|".join(rf"{re.escape(p)}(?<![^\W_]{re.escape(p)})"
                                       for p in sorted(prefixes, key=len, reverse=True)) + r")[^\W_]*")


OTHER_LETTER = re.compile(r"[^\W\x00-\x7f]")  # a letter or digit beyond ASCII


def _other_words(lowered: str) -> Iterator[tuple[int, int]]:
    """Yield the [start, end) of each word of lowered that holds a letter or digit beyond ASCII."""
    end = 0
    for m in OTHER_LETTER.finditer(lowered):
        if m.start() < end:
            continue  # in the word just yielded
        start = m.start()
        while start and lowered[start - 1].isalnum():  # [^\W_] is what str.isalnum() accepts
            start -= 1
        end = WORD.match(lowered, m.start()).end()
        yield start, end


def matching_spans(text: str, wanted: set[str]) -> list[tuple[str, int, int]]:
    """Return the (term, start, end) of each word of text whose term is one of wanted, as term_spans would.

    Porter stemming changes at most a word's last letters (measured: every one of SciFact's
    35,675 words starts with its stem less the last two letters), so only words starting
    with such a prefix of a wanted term, or holding letters that folding changes, can
    match; regular expressions find those without visiting every word in Python. (The
    ten hits of a SciFact question, 2-6 sentences each: 0.65 ms, 0.8 with the question's
    pattern to compile, against 0.87 and 1.2-1.35 for one pattern that tried every
    position; 1.45 ms for a loop over every word.) A text that lower-casing lengthens
    (a Turkish dotted I) takes the long way.
    """
    lowered = text.lower()
    if not wanted or len(lowered) != len(text):
        return [span for span in term_spans(text) if span[0] in wanted]
    spans = [m.span() for m in _candidates(frozenset(t[:max(1, len(t) - 2)] for t in wanted)).finditer(lowered)]
    if not lowered.isascii():  # words with other letters are folded before stemming: any may match
        spans = sorted({*spans, *_other_words(lowered)})
    found = [(word if word.isascii() else _fold(word), start, end) for start, end in spans
             if (word := lowered[start:end])]
    found = [w for w in found if w[0] and w[0] not in STOP_WORDS]
    stems = _stemmer().stemWords([w for w, _, _ in found])
    return [(stem, start, end) for stem, (_, start, end) in zip(stems, found) if stem in wanted]


def query_terms(query: str) -> list[str]:
    """Return the distinct terms of a query, in order (not the empty stem of a word such as the s of "Iraq's")."""
    return [term for term in dict.fromkeys(terms(query)) if term]


def write_lexical(folder: Path, texts: Sequence[str]) -> list[Path]:
    """Write the BM25 index of texts (passage i + 1 is texts[i]) into folder; return its files."""
    folder.mkdir()
    if texts:
        retriever = bm25s.BM25(k1=K1, b=B, method=METHOD)
        retriever.index([terms(t) for t in texts], show_progress=False)
        retriever.save(str(folder), show_progress=False)
    (folder / "passages.json").write_text(json.dumps({"passages": len(texts)}) + "\n", encoding="utf-8")
    return sorted(p for p in folder.iterdir() if p.is_file())


class LexicalIndex:
    """A generation's BM25 index: the vocabulary in memory, each asked term's postings read from disk."""

    def __init__(self, folder: Path):
        self.passages = json.loads((folder / "passages.json").read_text(encoding="utf-8"))["passages"]
        self._vocabulary: dict[str, int] = {}
        self._threads = threading.local()
        if self.passages:
            params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
            if params["num_docs"] != self.passages:
                raise IndexCorrupt(f"{folder} holds {params['num_docs']} passages, not {self.passages}; "
                                   "rebuild with `docsearch index --full`")
            self._vocabulary = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
            self._vocabulary.pop("", None)  # bm25s's placeholder; no term is empty
            self._starts = np.load(folder / "indptr.csc.index.npy", allow_pickle=False)  # one per term, small
            self._rows = DiskArray(folder / "indices.csc.index.npy")
            self._scores = DiskArray(folder / "data.csc.index.npy")
            if max(self._vocabulary.values(), default=-1) >= len(self._starts) - 1 or not (
                self._starts[-1] == self._rows.length == self._scores.length
            ):
                raise IndexCorrupt(f"{folder}: the BM25 arrays do not match each other; rebuild with `docsearch index --full`")

    def search(self, query: str, depth: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Return up to depth (passage id, BM25 score) pairs, best first, only passages holding a query term.

        ``allowed`` (passage ids) keeps only those passages.
        """
        ids = [self._vocabulary[t] for t in query_terms(query) if t in self._vocabulary]
        if not ids or depth < 1:
            return []
        scores = self._sums()
        for term in ids:
            start, stop = int(self._starts[term]), int(self._starts[term + 1])
            for at in range(start, stop, CHUNK):
                end = min(at + CHUNK, stop)
                np.add.at(scores, self._rows.read(at, end), self._scores.read(at, end))  # 3x faster than +=
        if allowed is not None:  # keep only the allowed passages' sums, with no passage-sized mask
            rows = np.asarray(allowed, np.int64) - 1
            kept = scores[rows]
            scores.fill(0)
            scores[rows] = kept
        return best_scores(scores, depth)

    def _sums(self) -> np.ndarray:
        """Return this thread's array of per-passage sums, all zero.

        One array per request thread, kept between queries: a new one per query (and the
        passage-sized temporaries of a selection over all of it) grew each thread's
        malloc arena by tens of MB at 1M passages.
        """
        sums = getattr(self._threads, "sums", None)
        if sums is None:
            sums = self._threads.sums = np.zeros(self.passages, dtype=self._scores.dtype)
        else:
            sums.fill(0)
        return sums


def best_scores(scores: np.ndarray, depth: int) -> list[tuple[int, float]]:
    """Return up to depth (row + 1, score) pairs of the positive scores, best first, equal scores by row.

    Goes over scores a CHUNK at a time, keeping the best so far: nothing the size of
    scores is allocated, and once depth rows are kept, only rows above the depth-th
    best score are looked at.
    """
    rows, values, floor = np.empty(0, np.int64), np.empty(0, scores.dtype), 0
    for at in range(0, len(scores), CHUNK):
        part = scores[at:at + CHUNK]
        found = np.flatnonzero(part > floor)
        if not len(found):
            continue
        rows, values = np.concatenate((rows, found + at)), np.concatenate((values, part[found]))
        if len(rows) > depth:
            # Keep every row scoring at least the depth-th best: a later row must beat it.
            cut = len(rows) - depth
            floor = np.partition(values, cut)[cut]
            kept = values >= floor
            rows, values = rows[kept], values[kept]
    order = np.lexsort((rows, -values))[:depth]
    return [(int(row) + 1, float(value)) for row, value in zip(rows[order], values[order])]
