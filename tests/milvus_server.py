"""A real Milvus standalone server (PyPI `milvus`) for the slow tests, reachable only from this machine.

Milvus 2.3 listens on every interface and has no setting for the listen address,
so the server runs in a network namespace of its own (``unshare --net``: nothing
but a loopback device) and a small bridge, started inside that namespace with an
inherited socket bound to this machine's 127.0.0.1, carries connections to its
gRPC port. Nothing of the server is reachable from another host.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

GRPC_PORT = 19530  # inside the server's own namespace, so it is always free


def can_isolate() -> bool:
    """Tell whether this process may create network namespaces (root, or user namespaces allowed)."""
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


def in_own_network(command: list[str]) -> list[str]:
    """Return the command run in a new network namespace where only loopback exists (and is up)."""
    return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]


def _server_class():
    """Return MilvusServer with its executable wrapped to start in a new network namespace."""
    from milvus import MilvusServer

    class IsolatedMilvusServer(MilvusServer):
        """MilvusServer whose process has a network namespace of its own."""

        def get_milvus_executable_path(self):
            """Return a wrapper that brings up loopback in a new namespace, then runs Milvus."""
            real = super().get_milvus_executable_path()
            wrapper = Path(real).with_name("milvus-isolated")  # beside the libraries: LD_LIBRARY_PATH is its folder
            wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(in_own_network([real]))} \"$@\"\n")
            wrapper.chmod(0o755)
            return str(wrapper)

    return IsolatedMilvusServer


@dataclass(frozen=True)
class MilvusProcess:
    """A running Milvus server: its URI on 127.0.0.1 and its process id (bench/ reads its memory)."""

    uri: str
    pid: int


@contextmanager
def isolated_milvus(base_dir: Path, wait: float = 180):
    """Run a Milvus server until the block ends; yield its URI on 127.0.0.1."""
    with running_milvus(base_dir, wait) as milvus:
        yield milvus.uri


@contextmanager
def running_milvus(base_dir: Path, wait: float = 180):
    """Run a Milvus server until the block ends; yield its URI and process id."""
    server = _server_class()(wait_for_started=False)
    server.set_base_dir(str(base_dir))
    server.start()
    _wait_isolated(server.server_proc.pid)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    bridge = subprocess.Popen(
        ["nsenter", f"--net=/proc/{server.server_proc.pid}/ns/net", sys.executable,
         str(Path(__file__).with_name("netns_bridge.py")), str(listener.fileno()), str(GRPC_PORT)],
        pass_fds=[listener.fileno()],
    )
    uri = f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()  # the bridge holds it now
    try:
        _wait_ready(uri, server, base_dir, wait)
        yield MilvusProcess(uri, server.server_proc.pid)
    finally:
        bridge.terminate()
        bridge.wait(timeout=10)
        server.stop()


def _wait_isolated(pid: int, wait: float = 30) -> None:
    """Return once the server process is in its own network namespace (the wrapper's unshare ran)."""
    ours = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + wait
    while os.readlink(f"/proc/{pid}/ns/net") == ours:
        if time.monotonic() > deadline:
            raise RuntimeError(f"Milvus (process {pid}) did not enter its own network namespace in {wait}s")
        time.sleep(0.05)


def _wait_ready(uri: str, server, base_dir: Path, wait: float) -> None:
    """Return once the server answers a request through the bridge."""
    from pymilvus import MilvusClient

    deadline = time.monotonic() + wait
    while True:
        if not server.running:
            raise RuntimeError(f"Milvus exited; see {base_dir / 'logs'}")
        try:
            MilvusClient(uri, timeout=5).list_collections()
            return
        except Exception:  # not up yet: refused, reset or unavailable, as it starts
            if time.monotonic() > deadline:
                raise RuntimeError(f"Milvus did not answer in {wait}s; see {base_dir / 'logs'}") from None
            time.sleep(1)
