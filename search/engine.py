"""The query side's one facade: load an index generation, answer a SearchRequest with ranked hits.

Three modes: ``dense`` (cosine similarity of unit vectors in the generation's vector
store), ``lexical`` (BM25 over Porter-stemmed words, docsearch.index.lexical) and
``hybrid``, the default: both lists' scores scaled to 0..1 and mixed
(docsearch.search.fusion), each list drawn from a pool larger than k.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath

import numpy as np

from docsearch.index import Encoder, Generation, IndexFolder, IndexMismatch, Manifest, StoreConfig
from docsearch.index.vectors import Allowed

from .document import DocumentView, original_file, view_of
from .fusion import Candidate, best_per_file, fuse
from .globs import compile_glob
from .highlight import holds_every_word, matches
from .request import Filters, PassageNotFound, SearchRequest, SimilarRequest

POOL = 100
QUERY_CACHE = 1024  # recent query embeddings kept per Searcher
FILTER_CACHE = 64  # recent filters' allowed passages kept per Searcher
# Below this cosine similarity the best hit is not close in meaning. On docs_corpus the
# answerable questions' best hits score 0.40 to 0.87, questions it cannot answer 0.17 at most.
LOW_CONFIDENCE_BELOW = 0.30


@dataclass(frozen=True)
class Hit:
    """One ranked passage: where it is, how well it matched, and why."""

    rank: int
    score: float
    text: str
    source: str  # the file's path, relative to the corpus folder
    passage: int  # the passage's number within its file, from 1
    line_start: int
    line_end: int
    start: int
    end: int
    title: str | None = None  # its file's title
    section: str | None = None  # its heading path, "Install › From source"
    page: int | None = None  # PDF: the page it begins on, from 1
    page_end: int | None = None  # PDF: the page it ends on, when another
    id: int = 0  # the passage's id in this index generation
    dense_rank: int | None = None
    dense_score: float | None = None
    lexical_rank: int | None = None
    lexical_score: float | None = None
    highlights: list[list[int]] = field(default_factory=list)
    more_in_file: int | None = None
    file_id: int = 0  # the file's id in this index generation: the form's source links use it

    def to_dict(self) -> dict:
        """Return the hit as a JSON-ready dict (the API's fields: file_id is for the form)."""
        # Shallow: every field is a number, a string or a list made for this hit (asdict deep-copies).
        found = {name: getattr(self, name) for name in HIT_KEYS}
        if self.more_in_file is None:
            del found["more_in_file"]
        return found


HIT_KEYS = tuple(f.name for f in fields(Hit) if f.name != "file_id")  # the API's fields of a hit, in order


@dataclass(frozen=True)
class Answer:
    """A request's hits, with whether they answer it well, how long it took and which generation answered."""

    request: SearchRequest | SimilarRequest
    hits: list[Hit]
    low_confidence: bool | None  # None where there is no question to judge against (similar passages)
    took_ms: float
    generation: int

    def to_dict(self) -> dict:
        """Return the answer as the API's JSON body (also the CLI's --json)."""
        judged = {} if self.low_confidence is None else {"low_confidence": self.low_confidence}
        return {**self.request.describe(), "took_ms": self.took_ms, "generation": self.generation, **judged,
                "results": [hit.to_dict() for hit in self.hits]}


class Searcher:
    """Answer questions from one loaded index generation."""

    def __init__(self, index_dir: Path, generation: Generation, encoder: Encoder):
        self.index_dir = index_dir
        self.generation = generation
        self.manifest: Manifest = generation.manifest
        self.generation_name = generation.name
        self.encoder = encoder
        self.pool = POOL
        # A repeated question (paging, a refreshed page, a popular query) skips the model.
        self.query_vector = functools.lru_cache(maxsize=QUERY_CACHE)(self._embed_query)
        self.allowed = functools.lru_cache(maxsize=FILTER_CACHE)(self._allowed)

    @classmethod
    def load(cls, index_dir: Path | str, encoder: Encoder | None = None, store: StoreConfig = StoreConfig(),
             backend: str | None = None) -> "Searcher":
        """Load the live generation of index_dir, with the model and backend its manifest names.

        ``store`` may say where a Milvus-stored index is read from (else where it was
        written); a store kind or ``backend`` other than the index's is refused.
        """
        index_dir = Path(index_dir)
        generation = IndexFolder(index_dir).open_live(store)
        try:
            encoder = _encoder_for(index_dir, generation.manifest, encoder, store, backend)
        except BaseException:
            generation.close()
            raise
        return cls(index_dir, generation, encoder)

    def stats(self) -> dict:
        """Return what the index holds, for health checks and start-up messages."""
        m = self.manifest
        return {"passages": m.passages, "files": m.files, "skipped": m.skipped, "model": m.model,
                "dimension": m.dimension, "built_at": m.built_at, "generation": m.generation}

    def search(self, request: SearchRequest) -> Answer:
        """Answer a request with its k best passages, best first.

        With ``group="file"``, only the best passage of each file, with how many
        more passages of that file were among the candidates.
        """
        began = time.perf_counter()
        with self.encoder.serving():
            # Lexical mode needs no embedding: its low-confidence check looks at the words alone.
            query_vector = self.query_vector(request.q) if request.mode != "lexical" else None
            allowed = self.allowed(request.filters)
            ranked = self.candidates(request.q, request.mode, max(self.pool, request.k), query_vector, allowed)
            more: dict[int, int] | None = None
            if request.group == "file":
                ranked, more = best_per_file(ranked, self.sources([c.pid for c in ranked]))
            hits, holds_all = self._hits(request.q, ranked[:request.k], query_vector, more)
        low_confidence = not hits or (not self._close_in_meaning(hits) and not holds_all)
        took_ms = round((time.perf_counter() - began) * 1000, 2)
        return Answer(request, hits, low_confidence, took_ms, self.manifest.generation)

    def similar(self, request: SimilarRequest) -> Answer:
        """Answer with the passages nearest to a stored passage's vector (not embedded again), without it.

        With ``group="file"``, one passage per file and none of the passage's own file.
        """
        began = time.perf_counter()
        found = self.generation.catalog.passages([request.id])
        if request.id not in found:
            raise PassageNotFound(f"there is no passage {request.id} in index generation {self.manifest.generation}; "
                                  "ids come from search results of the live generation")
        own = found[request.id]
        vector = self.generation.vectors.vectors([request.id])[0]
        skip = {request.id}
        if request.group == "file":
            skip.update(p.id for p in self.generation.catalog.file_passages(own.file_id))
        depth = min(max(self.pool, request.k) + len(skip), max(self.manifest.passages, 1))
        nearest = self.generation.vectors.search(vector[None, :], depth, self.allowed(request.filters))[0]
        others = [(pid, score) for pid, score in nearest if pid not in skip]
        ranked = [Candidate(pid, score, rank, score) for rank, (pid, score) in enumerate(others, 1)]
        more = None
        if request.group == "file":
            ranked, more = best_per_file(ranked, self.sources([c.pid for c in ranked]))
        hits, _ = self._hits("", ranked[:request.k], vector, more)
        return Answer(request, hits, None, round((time.perf_counter() - began) * 1000, 2), self.manifest.generation)

    def passage(self, passage_id: int):
        """Return a stored passage by id, or None."""
        return self.generation.catalog.passages([passage_id]).get(passage_id)

    @functools.cached_property
    def _facets(self) -> tuple[list[str], list[str]]:
        """The folders (as globs of everything under each) and the file types the generation holds."""
        paths = [path for _, path in self.generation.catalog.file_paths()]
        folders = {str(parent) + "/**" for path in paths for parent in PurePosixPath(path).parents if str(parent) != "."}
        return sorted(folders), sorted({t for t in map(file_type, paths) if t})

    def facets(self) -> tuple[list[str], list[str]]:
        """Return the folders (as globs such as reports/2024/**) and the file types a filter can choose from."""
        return self._facets

    def _allowed(self, filters: Filters) -> Allowed | None:
        """Return the passages a filter allows (None for no filter); cached, as a generation never changes."""
        if not filters:
            return None
        pattern = compile_glob(filters.path) if filters.path else None
        file_ids = [file_id for file_id, path in self.generation.catalog.file_paths()
                    if (pattern is None or pattern.fullmatch(path)) and (not filters.types or file_type(path) in filters.types)]
        return Allowed(self.generation.catalog.passage_ids(file_ids), np.array(file_ids, np.int64))

    def is_low_confidence(self, query: str, hits: list[Hit]) -> bool:
        """Tell whether even the best hit is a weak answer.

        Weak means: no hits, or the best hit's cosine similarity is below
        LOW_CONFIDENCE_BELOW and no hit holds every word of the query (an exact
        name or number can be a good answer that embeddings score low).
        """
        if not hits:
            return True
        return not self._close_in_meaning(hits) and not holds_every_word(query, [h.text for h in hits])

    @staticmethod
    def _close_in_meaning(hits: list[Hit]) -> bool:
        """Tell whether the best hit is close to the question in meaning (unknown in lexical mode: no)."""
        return hits[0].dense_score is not None and hits[0].dense_score >= LOW_CONFIDENCE_BELOW

    def candidates(self, query: str, mode: str, depth: int, query_vector: np.ndarray | None = None,
                   allowed: Allowed | None = None) -> list[Candidate]:
        """Return up to depth passages ranked by the mode, with both retrievers' ranks and scores.

        ``allowed`` keeps only those passages (a filter), in both retrievers.
        """
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if allowed is not None and not len(allowed):
            return []
        if mode in ("dense", "hybrid") and self.manifest.passages:
            if query_vector is None:
                query_vector = self.query_vector(query)
            dense = self.generation.vectors.search(query_vector[None, :], min(depth, self.manifest.passages), allowed)[0]
        if mode in ("lexical", "hybrid"):
            lexical = self.generation.lexical.search(query, depth, None if allowed is None else allowed.passage_ids)
        return fuse(dense, lexical, mode, limit=depth)

    def _embed_query(self, query: str) -> np.ndarray:
        """Embed one query; the result is read-only because it is cached and shared."""
        vector = self.encoder.encode([query])[0]
        vector.setflags(write=False)
        return vector

    def sources(self, ids: list[int]) -> dict[int, str]:
        """Return the file path of each passage id."""
        return self.generation.catalog.sources(ids)

    def _hits(self, query: str, ranked: list[Candidate], query_vector: np.ndarray | None,
              more: dict[int, int] | None) -> tuple[list[Hit], bool]:
        """Turn ranked candidates into hits with text, places, cosine scores and highlights.

        Returns the hits and whether any of them holds every word of the query.
        """
        ids = [c.pid for c in ranked]
        if not ids:
            return [], False
        stored = self.generation.catalog.passages(ids)
        marked = matches(query, [stored[pid].text for pid in ids])
        cosines = self._cosines(ranked, query_vector)
        hits = [
            Hit(rank=rank, score=round(c.score, 6), text=p.text, source=p.source, passage=p.number,
                line_start=p.line_start, line_end=p.line_end, start=p.start, end=p.end, title=p.title or None,
                section=p.section or None, page=p.page, page_end=p.page_end, id=c.pid,
                dense_rank=c.dense_rank, dense_score=None if cosine is None else round(float(cosine), 6),
                lexical_rank=c.lexical_rank, lexical_score=None if c.lexical_score is None else round(c.lexical_score, 6),
                highlights=spans, more_in_file=None if more is None else more.get(c.pid, 0), file_id=p.file_id)
            for rank, (c, cosine, (spans, _)) in enumerate(zip(ranked, cosines, marked), start=1)
            for p in (stored[c.pid],)
        ]
        return hits, any(holds for _, holds in marked)

    def _cosines(self, ranked: list[Candidate], query_vector: np.ndarray | None) -> list[float | None]:
        """Return each candidate's cosine to the query: the dense search's when it has one, else from its vector."""
        if query_vector is None:
            return [None] * len(ranked)
        missing = [c.pid for c in ranked if c.dense_score is None]
        fetched = dict(zip(missing, self.generation.vectors.vectors(missing) @ query_vector)) if missing else {}
        return [c.dense_score if c.dense_score is not None else fetched[c.pid] for c in ranked]

    def document(self, file_id: int) -> DocumentView | None:
        """Return an indexed file's document with its passages and, if unchanged since indexing, its text."""
        stored = self.generation.catalog.file(file_id)
        if stored is None:
            return None
        catalog = self.generation.catalog
        return view_of(stored, catalog.file_passages(file_id), self.manifest.corpus, catalog.document(file_id))

    def original(self, file_id: int):
        """Return an indexed file's path in the corpus folder, or None if there is no such file (now)."""
        stored = self.generation.catalog.file(file_id)
        return None if stored is None else original_file(self.manifest.corpus, stored)

    def close(self) -> None:
        """Release the generation's catalog and vectors."""
        self.generation.close()


def file_type(path: str) -> str:
    """Return a file's type as filters name it: its extension, lower case, without the dot ("" if none)."""
    return PurePosixPath(path).suffix.lower().lstrip(".")


def _encoder_for(index_dir: Path, manifest: Manifest, encoder: Encoder | None, store: StoreConfig,
                 backend: str | None) -> Encoder:
    """Return an encoder for the index (the one given if it fits), refusing another backend or store."""
    if backend not in (None, manifest.backend):
        raise IndexMismatch(
            f"index at {index_dir} was built with backend {manifest.backend!r}; queries must use the same one: "
            f"re-index with `docsearch index --backend {backend}` or serve without --backend")
    if store.kind not in (None, manifest.vector_store):
        raise IndexMismatch(
            f"index at {index_dir} keeps its vectors in {manifest.vector_store}, not {store.kind}: "
            f"re-index with `docsearch index --store {store.kind}` or serve without --store")
    if encoder is None:
        encoder = Encoder(manifest.model, backend=manifest.backend)
    elif (encoder.name, encoder.backend) != (manifest.model, manifest.backend):
        raise IndexMismatch(
            f"index at {index_dir} was built with model {manifest.model!r} on backend {manifest.backend!r}, "
            f"not {encoder.name!r} on {encoder.backend!r}; rebuild it or query it with its own model and backend")
    if encoder.dimension != manifest.dimension:
        raise IndexMismatch(f"model {encoder.name!r} gives {encoder.dimension}-dimensional vectors, "
                            f"the index at {index_dir} holds {manifest.dimension}")
    return encoder
