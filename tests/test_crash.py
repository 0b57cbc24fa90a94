"""`kill -9` during a full build or a sync never leaves an unloadable or mixed index.

After every kill the index must load, FAISS, SQLite and the manifest must agree
on the passage count, and the state must be exactly the old corpus or the new
one. Kills land at random moments, and at every step of the write on purpose
(DOCSEARCH_CRASH_AT). The normal run does 5 random rounds of each kind; the
slow run 50.
"""

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from index import build_index, read_corpus
from index.build import corpus_fingerprint
from index.store import DB_NAME, current_generation
from search.engine import Searcher

from .conftest import DOCS_CORPUS

STEPS = ["folder", "database", "lexical", "vectors", "before-rename-manifest.json", "manifest",
         "before-rename-CURRENT", "current"]
EXTRA = "Sandstorms closed the airport road for two days while convoys waited at the border crossing.\n"


def fingerprint(corpus) -> str:
    return corpus_fingerprint(read_corpus(corpus)[0])


def toggle(corpus) -> None:
    """Flip the corpus between its two states: one file changed, one file added."""
    extra = corpus / "zz_extra.txt"
    changed = corpus / "001_ad77f350f41513dd.txt"
    if extra.exists():
        extra.unlink()
        shutil.copy(DOCS_CORPUS / changed.name, changed)
    else:
        extra.write_text(EXTRA)
        with changed.open("a", encoding="utf-8") as f:
            f.write("An added paragraph on the rotation of advisers through the Ain al-Asad air base.\n")


def index_command(corpus, index_dir, full: bool) -> list[str]:
    return [sys.executable, "-m", "search", "index", str(corpus), "--index-dir", str(index_dir)] + (["--full"] if full else [])


def check_state(index_dir, encoder, allowed: set[str]) -> str:
    """Load the index, check its three parts agree, and return its corpus fingerprint."""
    searcher = Searcher.load(index_dir, encoder=encoder)  # verifies checksums and counts
    db = sqlite3.connect(current_generation(index_dir) / DB_NAME)
    stored = db.execute("SELECT count(*) FROM passages").fetchone()[0]
    db.close()
    assert searcher.vectors.ntotal == searcher.manifest.passages == stored == searcher.lexical.passages
    assert searcher.manifest.corpus_fingerprint in allowed
    searcher.search("troops", k=3)
    searcher.close()
    return searcher.manifest.corpus_fingerprint


@pytest.fixture()
def workspace(tmp_path, encoder):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(DOCS_CORPUS, corpus)
    build_index(corpus, index_dir, encoder=encoder)
    return corpus, index_dir


def kill_rounds(corpus, index_dir, encoder, rounds: int, full: bool, seed: int) -> dict:
    """Start an index write, kill -9 it at a random moment, check the state; repeat."""
    rng = random.Random(seed)
    toggle(corpus)
    began = time.monotonic()
    subprocess.run(index_command(corpus, index_dir, full), check=True, capture_output=True)
    duration = time.monotonic() - began  # how long one such write takes, model load included
    outcomes = {"old": 0, "new": 0, "finished": 0}
    for _ in range(rounds):
        old = fingerprint(corpus)
        toggle(corpus)
        new = fingerprint(corpus)
        process = subprocess.Popen(index_command(corpus, index_dir, full), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3 * duration, 1.1 * duration))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        else:
            outcomes["finished"] += 1
        process.wait()
        state = check_state(index_dir, encoder, {old, new})
        outcomes["new" if state == new else "old"] += 1
        if state == old:  # leave the index matching the corpus for the next round
            subprocess.run(index_command(corpus, index_dir, full=False), check=True, capture_output=True)
            check_state(index_dir, encoder, {new})
    return outcomes


@pytest.mark.parametrize("full", [True, False], ids=["full-build", "sync"])
def test_kill_at_random_moments(workspace, encoder, full):
    corpus, index_dir = workspace
    outcomes = kill_rounds(corpus, index_dir, encoder, rounds=5, full=full, seed=11)
    assert sum(outcomes.values()) - outcomes["finished"] == 5


@pytest.mark.slow
@pytest.mark.parametrize("full", [True, False], ids=["full-build", "sync"])
def test_kill_at_random_moments_50_rounds(workspace, encoder, full):
    corpus, index_dir = workspace
    outcomes = kill_rounds(corpus, index_dir, encoder, rounds=50, full=full, seed=23)
    print(f"\n50 kill -9 rounds ({'full build' if full else 'sync'}): {outcomes}")
    assert outcomes["old"] + outcomes["new"] == 50


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_of_the_write(workspace, encoder, step):
    corpus, index_dir = workspace
    old = fingerprint(corpus)
    toggle(corpus)
    new = fingerprint(corpus)
    result = subprocess.run(index_command(corpus, index_dir, full=False), env={**os.environ, "DOCSEARCH_CRASH_AT": step},
                            capture_output=True)
    assert result.returncode == -signal.SIGKILL
    state = check_state(index_dir, encoder, {old, new})
    assert state == (new if step == "current" else old)
    # The next writer is not blocked by the dead one's lock, and finishes the job.
    subprocess.run(index_command(corpus, index_dir, full=False), check=True, capture_output=True)
    assert check_state(index_dir, encoder, {new}) == new
