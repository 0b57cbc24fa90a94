"""BM25 retrieval and highlighting through the index's SQLite FTS5 table."""

from __future__ import annotations

import logging
import re
import sqlite3

from index.store import LEXICAL_TABLE

log = logging.getLogger(__name__)

# Lucene's English stop words plus question words: left out of queries (not of the index),
# so that BM25 weighs the words that matter and "What is X?" does not match every "what".
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with "
    "what which who whom whose when where why how do does did".split()
)
WORD = re.compile(r"[^\W_]+")
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"


def match_expression(query: str, operator: str = "OR") -> str | None:
    """Return an FTS5 query matching any (OR) or every (AND) word of query; None if it has no words."""
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(query)))
    kept = [w for w in words if w not in STOP_WORDS] or words
    if not kept:
        return None
    # Quoted, each word is a plain term: nothing in a query is FTS5 syntax.
    return f" {operator} ".join(f'"{w}"' for w in kept)


def holds_every_word(db: sqlite3.Connection, query: str, ids: list[int]) -> bool:
    """Tell whether any of the passages holds every word of query (stemmed, stop words aside)."""
    expression = match_expression(query, "AND")
    if expression is None or not ids:
        return False
    marks = ",".join("?" * len(ids))
    row = db.execute(
        f"SELECT 1 FROM {LEXICAL_TABLE} WHERE {LEXICAL_TABLE} MATCH ? AND rowid IN ({marks}) LIMIT 1",
        (expression, *ids),
    ).fetchone()
    return row is not None


def lexical_search(db: sqlite3.Connection, query: str, depth: int) -> list[tuple[int, float]]:
    """Return up to depth (passage id, BM25 score) pairs, best first."""
    expression = match_expression(query)
    if expression is None:
        return []
    rows = db.execute(
        f"SELECT rowid, bm25({LEXICAL_TABLE}) FROM {LEXICAL_TABLE} WHERE {LEXICAL_TABLE} MATCH ? "
        "ORDER BY bm25(passages_fts) LIMIT ?",
        (expression, depth),
    ).fetchall()
    # FTS5's bm25() is negated so that smaller sorts first; report the usual positive score.
    return [(pid, -score) for pid, score in rows]


def highlights(db: sqlite3.Connection, query: str, ids: list[int]) -> dict[int, list[list[int]]]:
    """Return, for each passage id, the [start, end) offsets in its text of the query words it holds."""
    expression = match_expression(query)
    if expression is None or not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT p.id, p.text, highlight({LEXICAL_TABLE}, 0, ?, ?) FROM {LEXICAL_TABLE} "
        f"JOIN passages p ON p.id = {LEXICAL_TABLE}.rowid "
        f"WHERE {LEXICAL_TABLE} MATCH ? AND {LEXICAL_TABLE}.rowid IN ({marks})",
        (MARK_OPEN, MARK_CLOSE, expression, *ids),
    ).fetchall()
    found = {}
    for pid, text, marked in rows:
        spans = _spans(marked)
        if spans is None or marked.replace(MARK_OPEN, "").replace(MARK_CLOSE, "") != text:
            log.warning("passage %d holds highlight marker characters; not highlighted", pid)
            continue
        found[pid] = spans
    return found


def _spans(marked: str) -> list[list[int]] | None:
    """Return the offsets, in the unmarked text, of the marked runs."""
    spans, removed, start = [], 0, None
    for i, ch in enumerate(marked):
        if ch == MARK_OPEN:
            if start is not None:
                return None
            start = i - removed
            removed += 1
        elif ch == MARK_CLOSE:
            if start is None:
                return None
            spans.append([start, i - removed])
            removed += 1
            start = None
    return spans if start is None else None
