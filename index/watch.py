"""Watch a corpus folder and call back when its files have changed and settled."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Return the modification time and size of every entry under root, links not followed."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue  # removed while we looked; the next look sees it gone
            found[path] = (info.st_mtime_ns, info.st_size)
    return found


def watch(
    root: Path | str,
    on_change: Callable[[], None],
    stop: threading.Event,
    interval: float = 1.0,
    quiet: float = 2.0,
) -> None:
    """Call on_change once the corpus has changed and then stayed still for `quiet` seconds.

    A burst of edits (an editor saving, a copy of many files) gives one call.
    Errors from on_change are logged; watching goes on until stop is set.
    """
    root = Path(root)
    last = snapshot(root)
    changed_at: float | None = None
    while not stop.wait(interval):
        now = snapshot(root)
        if now != last:
            last, changed_at = now, time.monotonic()
            continue
        if changed_at is not None and time.monotonic() - changed_at >= quiet:
            changed_at = None
            try:
                on_change()
            except Exception:  # a failed sync must not end the watch; the next change retries
                log.exception("re-indexing %s failed", root)
