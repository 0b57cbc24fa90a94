"""Run extractors in worker processes, each file within a time and a memory limit.

A crafted PDF can make a parser loop, a page of a million nested tags or a
zip bomb can exhaust memory: each such file is skipped with a reason and the
read goes on. Workers are fresh interpreters (``python -m``, not a fork of a
process that may already hold a model, threads and locks, and not
multiprocessing's spawn, which re-runs the caller's main script unless it is
guarded by ``if __name__ == "__main__"``), and each one caps
its own address space at what it had once ready plus ``memory_mb``, so the
limit does not depend on what the parent had mapped. A worker that runs past
``seconds`` is killed; one that dies is replaced.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterable, Iterator

from ..errors import DocsearchError
from . import Extracted, Unreadable

log = logging.getLogger(__name__)

Job = tuple[Callable[..., Extracted], bytes, dict]  # (reader, the file's bytes, options)
PRELOAD = ("pdf", "html", "docx")
MAX_LOST = 3  # workers dying before their first job: the pool cannot work here  # parsers a worker imports before measuring its own size


@dataclass(frozen=True)
class Limits:
    """How long and how much memory extracting one file may take."""

    seconds: float = 60.0
    memory_mb: int = 1024  # address space a worker may add to what it had once ready
    workers: int = 0  # 0: one per core, at most 2 (extraction competes with embedding for cores)


def _address_space() -> int:
    """Return this process's virtual memory size in bytes (Linux), or 0 if unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _cap_memory(memory_mb: int) -> None:
    """Cap this process's address space at its current size plus memory_mb."""
    import resource

    size = _address_space()
    if size:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = size + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _first_line(exc: BaseException) -> str:
    """Return an exception's type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when its parent dies: a parser caught in a loop would outlive it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's kill on close (and EOF on its socket) must do


def serve(conn, memory_mb: int) -> None:
    """Worker loop: extract each job received and send back the document or the reason to skip it."""
    import importlib

    _die_with_parent()
    for module in PRELOAD:
        try:
            importlib.import_module(f"{__package__}.{module}")
        except ImportError:
            pass  # the jobs of that format are skipped with the import error as their reason
    _cap_memory(memory_mb)
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        read, payload, options = job
        try:
            reply = ("ok", read(payload, **options))
        except Unreadable as exc:
            reply = ("skip", str(exc))
        except MemoryError:
            reply = ("skip", f"needs more than {memory_mb} MB of memory to extract")
        except RecursionError:
            reply = ("skip", "nested too deeply to extract")
        except Exception as exc:  # a parser's own error types: the file is skipped, not the read
            reply = ("skip", f"extractor failed ({_first_line(exc)})")
        del payload, job
        conn.send(reply)


class _Worker:
    """One worker process, the socket to it and the job it is on."""

    def __init__(self, memory_mb: int):
        ours, theirs = socket.socketpair()
        # The parent's import path, so the worker finds this package (and a test's own extractors).
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.worker", str(theirs.fileno()), str(memory_mb)],
            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False
        self.job: int | None = None
        self.deadline = float("inf")

    def stop(self) -> None:
        """Kill the process now and reap it."""
        self.conn.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Sandbox:
    """A pool of extraction workers that keeps the order of the jobs it is given."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        count = limits.workers or min(2, os.cpu_count() or 1)
        self._workers = [_Worker(limits.memory_mb) for _ in range(count)]
        self._lost = 0  # workers that died before their first job

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def _replace(self, worker: _Worker) -> None:
        """Stop a worker and start a fresh one in its place."""
        worker.stop()
        self._workers[self._workers.index(worker)] = _Worker(self.limits.memory_mb)

    def map(self, jobs: Iterable[Job]) -> Iterator[Extracted | Unreadable]:
        """Extract each job, yielding the document or the Unreadable reason, in the jobs' order."""
        pending = iter(jobs)
        exhausted, sent, out = False, 0, 0
        done: dict[int, Extracted | Unreadable] = {}
        while True:
            for worker in self._workers:
                if worker.ready and worker.job is None and not exhausted:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    worker.job, worker.deadline = sent, time.monotonic() + self.limits.seconds
                    sent += 1
                    try:
                        worker.conn.send(job)
                    except OSError:  # it died between jobs
                        self._fail(worker, done, f"extractor process died (exit code {worker.process.poll()})")
            while out in done:
                yield done.pop(out)
                out += 1
            if exhausted and out == sent:
                return
            self._wait(done)

    def _wait(self, done: dict) -> None:
        """Wait for a worker to answer, start or run out of time, and record what it did."""
        deadline = min(w.deadline for w in self._workers)
        timeout = max(0.0, deadline - time.monotonic()) if deadline != float("inf") else None
        readable = set(wait([w.conn for w in self._workers], timeout))
        for worker in list(self._workers):
            if worker.conn in readable:
                try:
                    status, value = worker.conn.recv()
                except (EOFError, OSError):
                    code = worker.process.poll()
                    self._fail(worker, done, f"extractor process died (exit code {code})")
                    continue
                if status == "ready":
                    worker.ready = True
                    continue
                done[worker.job] = value if status == "ok" else Unreadable(value)
                worker.job, worker.deadline = None, float("inf")
            elif worker.job is not None and time.monotonic() >= worker.deadline:
                self._fail(worker, done, f"extraction took longer than {self.limits.seconds:g} s")

    def _fail(self, worker: _Worker, done: dict, reason: str) -> None:
        """Record the worker's job as skipped for reason and put a new worker in its place."""
        if worker.job is not None:
            done[worker.job] = Unreadable(reason)
        else:
            self._lost += 1
            if self._lost >= MAX_LOST:
                raise DocsearchError(f"extraction workers cannot start ({reason}); see the log")
            log.warning("an extraction worker died before its first job: %s", reason)
        self._replace(worker)
