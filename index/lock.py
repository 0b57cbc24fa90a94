"""One writer at a time per index directory, by an advisory file lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import IndexBusy

LOCK_NAME = "LOCK"


class IndexLock:
    """Hold the index directory's write lock, or fail at once if another writer has it.

    The kernel drops the lock when its holder exits, however it exits, so a
    killed build never leaves the index locked.
    """

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        self.index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IndexBusy(f"index at {self.index_dir} is busy: another docsearch process is writing it") from None
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
