"""Globs over a file's path in the corpus, as filters take them: ``*``, ``?``, ``[...]`` and ``**``.

``*`` and ``?`` match within one folder or file name, ``**`` (a whole part between
slashes) any number of folders, ``[abc]`` / ``[!abc]`` one character of a class.
A glob is matched against the whole path, so ``reports/**`` is everything under
reports/ and ``**/*.md`` every Markdown file. A malformed glob is a BadQuery.
"""

from __future__ import annotations

import functools
import re

from .request import MAX_GLOB_CHARS, BadQuery


@functools.lru_cache(maxsize=256)
def compile_glob(glob: str) -> re.Pattern:
    """Return the regular expression of a glob, or raise BadQuery saying what is malformed."""
    if len(glob) > MAX_GLOB_CHARS:
        raise BadQuery(f"path is {len(glob)} characters long; the limit is {MAX_GLOB_CHARS}")
    if any(ord(ch) < 32 for ch in glob):
        raise BadQuery("path must not hold control characters")
    if glob.startswith("/"):
        raise BadQuery("path is relative to the corpus folder: leave out the leading /")
    parts = glob.split("/")
    if "" in parts[:-1]:
        raise BadQuery(f"path {glob!r} has an empty folder name (//)")
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        if "**" in part:
            raise BadQuery("** must stand alone between slashes, as in reports/**/2024.md")
        out.append(_part(part) + ("" if last else "/"))
    return re.compile("".join(out))


def _part(part: str) -> str:
    """Return the expression of one folder or file name of a glob."""
    out, i = [], 0
    while i < len(part):
        ch = part[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = part.find("]", i + 2 if part[i + 1:i + 2] in ("!", "^") else i + 1)
            if end == -1:
                raise BadQuery(f"path {part!r} opens a [ character class it does not close")
            body = part[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            if not body:
                raise BadQuery(f"path {part!r} has an empty [] character class")
            out.append(("[^/" if negate else "[") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def matches(glob: str, path: str) -> bool:
    """Tell whether a file's path matches a glob."""
    return compile_glob(glob).fullmatch(path) is not None
