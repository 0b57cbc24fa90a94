"""The question's words in a passage: where they match (stemmed, as BM25 sees them), and one way to mark them."""

from __future__ import annotations

from typing import Callable

from docsearch.index.lexical import holds_every_term, query_terms, term_spans, terms


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


def mark(text: str, spans: list[list[int]], wrap: Callable[[str], str], plain: Callable[[str], str] = str) -> str:
    """Return text with each [start, end) span passed through wrap and everything else through plain.

    The form wraps in <mark> and escapes (plain=escape); the CLI wraps in bold.
    """
    out, at = [], 0
    for start, end in spans:
        out += [plain(text[at:start]), wrap(text[start:end])]
        at = end
    out.append(plain(text[at:]))
    return "".join(out)
