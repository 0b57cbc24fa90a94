"""Run `docsearch index ...` with each step of the index write logged, slowed down, or killed there.

Used by tests/test_crash.py as a subprocess (``python -m tests.crash_writer LOG DELAY CRASH_AT index ...``):
LOG gets one line per step reached, flushed before the step runs; each step then
waits DELAY seconds, so a kill from outside can land inside the write; CRASH_AT
("-" for none) names a step at which the process kills itself as `kill -9` would.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from docsearch.index import generation
from docsearch.search.cli import main


def run(log_path: str, delay: float, crash_at: str, arguments: list[str]) -> None:
    """Install the checkpoint hook and run the docsearch command with arguments."""
    log = open(log_path, "a", buffering=1, encoding="utf-8")

    def checkpoint(step: str) -> None:
        log.write(step + "\n")
        log.flush()
        if step == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(delay)

    generation.checkpoint = checkpoint
    sys.argv = ["docsearch", *arguments]
    main()


if __name__ == "__main__":
    run(sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:])
