"""Extractors that misbehave, registered by the sandbox tests for a test-only suffix.

They live in a module of their own so a worker process can import them by name.
"""

import os
import signal
import time

from docsearch.index.extract import Block, Extracted


def loop_forever(raw: bytes, **options) -> Extracted:
    """Spin like a parser caught in a cycle of a crafted file."""
    while True:
        time.sleep(0.01)


def eat_memory(raw: bytes, **options) -> Extracted:
    """Grow without bound, as a decompression bomb does."""
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))


def die(raw: bytes, **options) -> Extracted:
    """Crash the way a parser in C does: the process is gone without a word."""
    os.kill(os.getpid(), signal.SIGKILL)


def echo(raw: bytes, **options) -> Extracted:
    """Return the file's bytes as one paragraph, titled by the worker's pid: to check order and that a new worker took over."""
    text = raw.decode()
    return Extracted(text, f"worker {os.getpid()}", [Block(0, len(text))])
