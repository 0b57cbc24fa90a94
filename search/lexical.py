"""Lexical matching on the query side: BM25 ranking (index.lexical) and highlights of query words."""

from __future__ import annotations

from index.lexical import LexicalIndex, holds_every_term, query_terms, term_spans, terms

__all__ = ["LexicalIndex", "highlights", "holds_every_word"]


def holds_every_word(query: str, texts: list[str]) -> bool:
    """Tell whether any of texts holds every term of query (stemmed, stop words aside)."""
    wanted = query_terms(query)
    return any(holds_every_term(terms(text), wanted) for text in texts)


def highlights(query: str, texts: list[str]) -> list[list[list[int]]]:
    """Return, for each text, the [start, end) offsets of its words that match a term of query."""
    wanted = set(query_terms(query))
    if not wanted:
        return [[] for _ in texts]
    return [[[start, end] for term, start, end in term_spans(text) if term in wanted] for text in texts]
