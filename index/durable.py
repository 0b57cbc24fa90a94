"""Durable writes: flushing, atomic replacement, checksums, and failing safe when the disk is full."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

from .errors import NoSpace

# What each library says when the disk, a quota or the file size limit is full: OSError's errno,
# SQLite's error code, FAISS and others only in words.
FULL = {errno.ENOSPC: "disk", errno.EDQUOT: "disk", errno.EFBIG: "limit"}
LOW_SPACE = 1 << 20  # a write that fails with less than this free failed for lack of space, whatever it says
FULL_WORDS = {"no space left on device": "disk", "database or disk is full": "disk", "disk quota exceeded": "disk",
              "file too large": "limit"}


def fsync_path(path: Path) -> None:
    """Flush a file or folder to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checksum(path: Path) -> dict:
    """Return the size and SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def write_durably(path: Path, text: str, reached: Callable[[str], None] = lambda step: None) -> None:
    """Replace path with text atomically: write a temporary file, flush, rename, flush the folder."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    fsync_path(temporary)
    reached(f"before-rename-{path.name}")
    os.replace(temporary, path)
    fsync_path(path.parent)


def what_is_full(exc: BaseException) -> str | None:
    """Return "disk" or "limit" when an error (or one it was raised from) means no more can be written, else None."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in FULL:
            return FULL[exc.errno]
        if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return "disk"
        for words, full in FULL_WORDS.items():
            if words in str(exc).lower():
                return full
        exc = exc.__cause__ or exc.__context__
    return None


def nearly_full(path: Path) -> bool:
    """Tell whether the file system holding path has almost no space left (under 1 MiB)."""
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < LOW_SPACE


def device_of(path: Path) -> tuple[str, str]:
    """Return the device and mount point that hold path, from /proc/self/mounts (("?", "/") if unknown)."""
    path = path.resolve()
    best = ("?", "/")
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                device, mount = line.split()[:2]
                mount = mount.replace("\\040", " ")
                if path.is_relative_to(mount) and len(mount) >= len(best[1]):
                    best = (device, mount)
    except OSError:
        pass
    return best


@contextlib.contextmanager
def fail_safe(where: Path, undo: Callable[[], None]) -> Iterator[None]:
    """Run a write; if it fails, undo it, and turn a full disk into NoSpace with one line saying where."""
    try:
        yield
    except BaseException as exc:
        # Some writers say only "580 requested and 496 written": look at the disk before undo frees space.
        full = (what_is_full(exc) or ("disk" if nearly_full(where) else None)) if isinstance(exc, Exception) else None
        undo()
        if full:
            device, mount = device_of(where)
            reason = "the file size limit was reached" if full == "limit" else f"no space left on {device} (mounted at {mount})"
            raise NoSpace(f"{reason} while writing the index at {where}; the previous index is still live. "
                          "Free some space and run `docsearch index` again") from None
        raise
