"""Wrapped lines: tell a wrap from a paragraph break, and mend words hyphenated at a line end."""

from __future__ import annotations

import re
from typing import Collection, Sequence

# A word broken at a line end: letters, a hyphen, the line break, letters.
LINE_END_HYPHEN = re.compile(r"([^\W\d_]+)-[ \t]*(?:\r\n|\r|\n)[ \t]*([^\W\d_]+)")
WHITESPACE = re.compile(r"\s+")
# Where no lexicon decides, a hyphen after these first parts, or before these last parts, is
# kept: they mostly make real compounds ("well-known", "self-evident", "data-driven"), while
# other line-end hyphens in typeset text are mostly syllable breaks ("exam-ple").
COMPOUND_HEADS = frozenset(
    "well self non so long short high low full half all ever first second third one two three four five "
    "ten multi semi anti pre post co ill open end user state real cross cell time case".split()
)
COMPOUND_TAILS = frozenset(
    "based known like free wide level scale time term specific dependent related oriented friendly aware "
    "driven made sized style type wise fold year old class order".split()
)
WRAPPED_SHARE = 0.75  # a block whose line breaks are at least this often wraps is one paragraph
WIDTH_QUANTILE = 0.9  # the wrap width is taken near the longest lines, not at one stray long URL
# Text is hard-wrapped at 72 to 100 columns, rarely wider; lines longer than this are paragraphs written
# one per line (without it, the longer of two such lines always looks wrapped).
MAX_WRAP_WIDTH = 132
NEAR_WIDTH = 0.8  # lines at least this share of the width count as reaching it
LINES_NEAR_WIDTH = 3  # how many lines must reach the width before it is believed


def first_word(line: str) -> str:
    """Return the first run of non-space characters of a line."""
    parts = line.split(None, 1)
    return parts[0] if parts else ""


def wrap_width(lengths: Sequence[int]) -> int:
    """Return the width lines seem wrapped at (a high quantile of their lengths), or 0 without evidence.

    A width is only evidence when several lines come close to it: of a file's two long lines, the
    longer always "would not have fitted" the next word, wrapped or not.
    """
    ordered = sorted(lengths)
    if not ordered:
        return 0
    width = ordered[min(len(ordered) - 1, int(WIDTH_QUANTILE * len(ordered)))]
    near = sum(1 for n in ordered if NEAR_WIDTH * width <= n <= width)
    return width if near >= LINES_NEAR_WIDTH else 0


def is_wrap(line: str, following: str, width: int) -> bool:
    """Tell whether the break after line is a wrap: the next line's first word would not have fit."""
    line = line.rstrip()
    word = first_word(following)
    return bool(line and word) and len(line) + 1 + len(word) > width and not line.endswith(("  ", "\\"))


def looks_wrapped(lines: Sequence[str], width: int) -> bool:
    """Tell whether consecutive lines are one paragraph wrapped near width, not a paragraph each."""
    if len(lines) < 2 or not 0 < width <= MAX_WRAP_WIDTH:
        return False
    breaks = [is_wrap(a, b, width) for a, b in zip(lines, lines[1:])]
    return sum(breaks) >= WRAPPED_SHARE * len(breaks)


def keeps_hyphen(left: str, right: str, lexicon: Collection[str] = ()) -> bool:
    """Judge whether "left-" at a line end and "right" on the next line are a compound, not one broken word."""
    joined, hyphenated = (left + right).lower(), f"{left}-{right}".lower()
    if joined in lexicon:
        return False
    if hyphenated in lexicon:
        return True
    if right[:1].isupper() or len(left) == 1:
        return True  # "Jean-\nPierre", "e-\nmail", "X-\nray"
    return left.lower() in COMPOUND_HEADS or right.lower() in COMPOUND_TAILS


def mend_hyphens(text: str, lexicon: Collection[str] = ()) -> str:
    """Rejoin words hyphenated across line ends, keeping the hyphen of what looks like a compound."""

    def mend(match: re.Match) -> str:
        left, right = match.group(1), match.group(2)
        return f"{left}-{right}" if keeps_hyphen(left, right, lexicon) else left + right

    return LINE_END_HYPHEN.sub(mend, text)


def unwrap(text: str, lexicon: Collection[str] = ()) -> str:
    """Return text as one line: hyphenated words mended, every run of white space one space."""
    return WHITESPACE.sub(" ", mend_hyphens(text, lexicon)).strip()


def lexicon_of(text: str) -> set[str]:
    """Return the lower-cased words and hyphenated compounds of a text, to judge its line-end hyphens.

    The parts of each compound count as words too: "example-based" vouches for "exam-/ple".
    """
    return {w.lower() for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text)} | {
        w.lower() for w in re.findall(r"[^\W\d_]+", text)
    }
