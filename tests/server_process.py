"""Start `docsearch serve` as a real process on a loopback port it picks itself, for end-to-end tests and bench/.

The server is started with ``--port 0``: it binds any free port and names it on the
line ``serving on http://HOST:PORT/``, so no port is picked here and then raced for.
Tests use ``serving`` (the base URL); bench/ uses ``running_server``, which also
gives the process id, to read the server's memory.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVING = re.compile(r"^serving on (http://[\w.\[\]:]+:\d+)/", re.MULTILINE)


def fetch(url: str, data: bytes | None = None, timeout: float = 30, headers: dict | None = None) -> tuple[int, dict | str]:
    """GET (or POST data as JSON) and return the status and the parsed body."""
    headers = {**({"Content-Type": "application/json"} if data else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers.get_content_type()
    return status, json.loads(body) if kind == "application/json" else body.decode()


def wait_for_address(process: subprocess.Popen, log: Path, wait: float) -> str:
    """Return the base URL the server says it serves on, once it does; fail if it exits or takes too long."""
    deadline = time.monotonic() + wait
    while True:
        found = SERVING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not start in {wait}s: {log.read_text()}")
        time.sleep(0.2)


@dataclass(frozen=True)
class Server:
    """A running `docsearch serve`: the base URL it answers on and its process id (for /proc/PID)."""

    base: str
    pid: int


@contextmanager
def running_server(args: list[str], log: Path, wait: float = 180, command: tuple[str, ...] = ("serve",),
                   env: dict | None = None):
    """Run `docsearch serve ARGS --port 0` until the block ends; yield it once it answers /healthz."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "docsearch.search", *command, "--host", "127.0.0.1", "--port", "0", *args],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        base = wait_for_address(process, log, wait)
        if fetch(base + "/healthz", timeout=30)[0] != 200:
            raise RuntimeError(f"server at {base} is not healthy: {log.read_text()}")
        yield Server(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def serving(args: list[str], log: Path, wait: float = 180, command: tuple[str, ...] = ("serve",), env: dict | None = None):
    """Run `docsearch serve ARGS --port 0` until the block ends; yield its base URL once it answers /healthz."""
    with running_server(args, log, wait, command, env) as server:
        yield server.base
