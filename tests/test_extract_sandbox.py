"""The sandbox: a looping, memory-eating or crashing extractor costs one file, never the read."""

import time

import pytest

from docsearch.index.corpus import read_corpus
from docsearch.index.extract import FORMATS, Format
from docsearch.index.extract.sandbox import Limits

from . import hostile_extractors
from .documents import nested_html

LIMITS = Limits(seconds=3, memory_mb=300, workers=2)


@pytest.fixture(scope="module")
def hostile_read(tmp_path_factory):
    """Read a folder where some files send their extractor into a loop, out of memory or to its death."""
    formats = {".echo": hostile_extractors.echo, ".loop": hostile_extractors.loop_forever,
               ".hog": hostile_extractors.eat_memory, ".die": hostile_extractors.die}
    saved = dict(FORMATS)
    FORMATS.update({suffix: Format(suffix[1:], read, binary=True) for suffix, read in formats.items()})
    root = tmp_path_factory.mktemp("sandbox")
    for name in ("a.echo", "b.die", "c.echo", "d.loop", "e.hog", "f.echo", "g.echo"):
        (root / name).write_text(f"file {name} has a few words to extract")
    (root / "nested.html").write_bytes(nested_html(300_000))
    try:
        began = time.monotonic()
        files, skipped = read_corpus(root, limits=LIMITS)
        return files, skipped, time.monotonic() - began
    finally:
        FORMATS.clear()
        FORMATS.update(saved)


def test_every_readable_file_is_read_in_corpus_order(hostile_read):
    files, _, _ = hostile_read
    assert [f.path for f in files] == ["a.echo", "c.echo", "f.echo", "g.echo"]
    assert all(f.text == f"file {f.path} has a few words to extract" for f in files)


def test_each_hostile_file_is_skipped_with_its_reason(hostile_read):
    _, skipped, _ = hostile_read
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["b.die"].startswith("extractor process died")
    assert reasons["d.loop"] == "extraction took longer than 3 s"
    assert reasons["e.hog"] == "needs more than 300 MB of memory to extract"
    assert reasons["nested.html"]  # lxml refuses such depth; whatever the parser says, it is a reason
    assert set(reasons) == {"b.die", "d.loop", "e.hog", "nested.html"}


def test_a_dead_worker_is_replaced(hostile_read):
    files, _, _ = hostile_read
    pids = {f.document.title for f in files}
    assert len(pids) >= 2  # the echoes after the crash and the timeout ran in new worker processes


def test_the_read_stays_within_the_limits(hostile_read):
    _, _, seconds = hostile_read
    assert seconds < 3 + 3 + 8  # one timeout, worker start-ups; not a hang


def test_a_looping_worker_dies_with_its_parent(tmp_path):
    """A parent killed mid-build leaves no worker spinning on a crafted file."""
    import os
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, threading\n"
        f"sys.path[:0] = {sys.path!r}\n"
        "from tests import hostile_extractors\n"
        "from docsearch.index.extract.sandbox import Limits, Sandbox\n"
        "sandbox = Sandbox(Limits(seconds=60, workers=1))\n"
        "print(sandbox._workers[0].process.pid, flush=True)\n"
        "threading.Timer(2, lambda: os._exit(0)).start()\n"
        "list(sandbox.map([(hostile_extractors.loop_forever, b'x', {})]))\n"
    )
    # The worker inherits the parent's stderr: capturing it would wait for the worker too.
    parent = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, timeout=60)
    worker = int(parent.stdout.split()[0])
    for _ in range(50):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, 9)
    pytest.fail("the worker outlived its parent")
