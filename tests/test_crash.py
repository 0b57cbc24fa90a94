"""`kill -9` during a full build or a sync never leaves an unloadable or mixed index.

After every kill the index must load, the vectors, the catalog, BM25 and the manifest
must agree on the passage count, and the state must be exactly the old corpus or the
new one: the old one if the kill came before CURRENT was replaced, the new one after.
Kills land at every step of the write on purpose, and at random moments inside writes
that are slowed down so a kill can land there; each round logs the steps the write
reached, so the test knows where its kill landed. The normal run does 5 random rounds
of each kind; the slow run 25.
"""

import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from docsearch.index import read_corpus
from docsearch.index.build import corpus_fingerprint
from docsearch.search.engine import Searcher

from .conftest import DOCS_CORPUS, ROOT, ask

STEPS = ["folder", "database", "lexical", "vectors", "before-rename-manifest.json", "manifest",
         "before-rename-CURRENT", "current"]
STEP_DELAY = 0.1  # seconds each step of a random-kill write waits, so kills land inside it
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


def writer(corpus, index_dir, full: bool, log, delay: float = 0.0, crash_at: str = "-") -> list[str]:
    """Return the command that runs `docsearch index` with its write's steps logged (tests/crash_writer.py)."""
    return [sys.executable, "-m", "tests.crash_writer", str(log), str(delay), crash_at,
            "index", str(corpus), "--index-dir", str(index_dir), *(["--full"] if full else [])]


def steps_reached(log) -> list[str]:
    return log.read_text().split() if log.exists() else []


def check_state(index_dir, encoder, allowed: set[str]) -> str:
    """Load the index, check its parts agree, and return its corpus fingerprint."""
    searcher = Searcher.load(index_dir, encoder=encoder)  # verifies checksums and counts
    generation = searcher.generation
    assert (generation.vectors.count() == searcher.manifest.passages == generation.catalog.passage_count()
            == generation.lexical.passages)
    assert searcher.manifest.corpus_fingerprint in allowed
    ask(searcher, "troops", k=3)
    searcher.close()
    return searcher.manifest.corpus_fingerprint


def kill_inside_writes(corpus, index_dir, encoder, tmp_path, rounds: int, full: bool, seed: int) -> list[str]:
    """Start an index write, kill -9 it at a random moment inside its write, check the state; repeat.

    Returns the last step each killed write had reached.
    """
    rng = random.Random(seed)
    window = STEP_DELAY * (len(STEPS) - 1)  # from the first step to the rename of CURRENT
    landed = []
    for round_number in range(rounds):
        old = fingerprint(corpus)
        toggle(corpus)
        new = fingerprint(corpus)
        log = tmp_path / f"steps-{round_number}.log"
        process = subprocess.Popen(writer(corpus, index_dir, full, log, STEP_DELAY), cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while "folder" not in steps_reached(log) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, window))
        process.kill()
        assert process.wait() == -signal.SIGKILL, "the write ended before the kill"
        steps = steps_reached(log)
        landed.append(steps[-1])
        state = check_state(index_dir, encoder, {old, new})
        if "current" in steps:
            assert state == new, steps
        elif "before-rename-CURRENT" not in steps:
            assert state == old, steps
        if state == old:  # put the corpus back as the index has it: the next round changes it again
            toggle(corpus)
    return landed


@pytest.mark.parametrize("full", [True, False], ids=["full-build", "sync"])
def test_kill_at_random_moments_inside_writes(workspace, encoder, tmp_path, full):
    corpus, index_dir = workspace
    landed = kill_inside_writes(corpus, index_dir, encoder, tmp_path, rounds=5, full=full, seed=11)
    inside = [step for step in landed if step != "current"]
    assert len(inside) >= 3 and len(set(inside)) >= 2, landed  # before CURRENT went live, at several steps


@pytest.mark.slow
@pytest.mark.parametrize("full", [True, False], ids=["full-build", "sync"])
def test_kill_at_random_moments_inside_writes_25_rounds(workspace, encoder, tmp_path, full):
    corpus, index_dir = workspace
    landed = kill_inside_writes(corpus, index_dir, encoder, tmp_path, rounds=25, full=full, seed=23)
    print(f"\n25 kill -9 rounds ({'full build' if full else 'sync'}), last step reached: "
          f"{ {step: landed.count(step) for step in STEPS} }")
    assert len({step for step in landed if step != "current"}) >= 5, landed


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_of_the_write(workspace, encoder, tmp_path, step):
    corpus, index_dir = workspace
    old = fingerprint(corpus)
    toggle(corpus)
    new = fingerprint(corpus)
    log = tmp_path / "steps.log"
    result = subprocess.run(writer(corpus, index_dir, False, log, crash_at=step), cwd=ROOT, capture_output=True)
    assert result.returncode == -signal.SIGKILL
    assert steps_reached(log)[-1] == step  # it died exactly there
    state = check_state(index_dir, encoder, {old, new})
    assert state == (new if step == "current" else old)
    # The next writer is not blocked by the dead one's lock, and finishes the job.
    subprocess.run(writer(corpus, index_dir, False, tmp_path / "again.log"), cwd=ROOT, check=True, capture_output=True)
    assert check_state(index_dir, encoder, {new}) == new
