"""A write that runs out of disk (or into the file size limit) leaves the previous generation live.

The partial generation is removed and the error is one line that says where space ran out.
Two ways to fill up: a small tmpfs (needs root to mount) and RLIMIT_FSIZE (anyone).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import uuid

import pytest

from docsearch.index import IndexFolder, build_index
from docsearch.index.errors import NoSpace

from .conftest import ROOT, ask, copy_index

NEW_FILE = "Convoys crossed the desert border at dawn while the sandstorm closed the airport road.\n"


@pytest.fixture()
def small_disk(tmp_path):
    """A 2 MB tmpfs, unmounted afterwards (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", f"docsearch-{uuid.uuid4().hex[:8]}", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder, leave_bytes: int) -> None:
    """Write a file that leaves about leave_bytes free on folder's file system."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as filler:
        filler.write(b"\0" * max(0, free - leave_bytes))


def test_a_full_disk_keeps_the_previous_generation_live(small_disk, workspace, encoder, runner):
    from docsearch.search.cli import cli
    from docsearch.search.engine import Searcher

    corpus, built = workspace
    index_dir = copy_index(built, small_disk / "index")
    fill(small_disk, leave_bytes=64 * 1024)  # less than one generation needs (about 200 KB)
    (corpus / "new.txt").write_text(NEW_FILE)
    with pytest.raises(NoSpace) as raised:
        build_index(corpus, index_dir, encoder=encoder)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("no space left on docsearch-")
    assert f"(mounted at {small_disk})" in message and "the previous index is still live" in message
    assert IndexFolder(index_dir).live_name() == "gen-000001"
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-")) == ["gen-000001"]  # partial one gone
    searcher = Searcher.load(index_dir, encoder=encoder)
    assert searcher.manifest.files == 5 and ask(searcher, "troops in Iraq", k=1)
    result = runner.invoke(cli, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert result.exit_code == 1 and result.stderr.strip().splitlines()[-1] == f"Error: {message}"
    (small_disk / "filler").unlink()
    assert build_index(corpus, index_dir, encoder=encoder).manifest.generation == 2  # room again: it goes on


def limit_file_size(limit: int):
    """Return a preexec_fn that caps the size of any file the child writes (and lets it see EFBIG)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_the_file_size_limit_keeps_the_previous_generation_live(workspace):
    corpus, index_dir = workspace
    (corpus / "new.txt").write_text(NEW_FILE)
    run = subprocess.run([sys.executable, "-m", "docsearch.search", "index", str(corpus), "--index-dir", str(index_dir)],
                         capture_output=True, text=True, cwd=ROOT, preexec_fn=limit_file_size(64 * 1024), timeout=300)
    assert run.returncode == 1, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the file size limit was reached while writing the index at"), run.stderr
    assert "Traceback" not in run.stderr
    assert IndexFolder(index_dir).live_name() == "gen-000001"
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-")) == ["gen-000001"]
