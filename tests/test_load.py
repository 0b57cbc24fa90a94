"""Sustained load: 60 s at concurrency 8 against the production server while the index is rebuilt twice.

Zero failed requests, and every answer comes from a complete generation: with
k larger than the index, an answer holds exactly that generation's passages.
"""

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from docsearch.index.manifest import MANIFEST_NAME, Manifest

from .server_process import fetch, serving

pytestmark = pytest.mark.slow  # a minute of load: .ci/run runs it, `make test-fast` does not

SECONDS = 60
CONCURRENCY = 8
QUESTIONS = ["US troops in Iraq", "strategic dialogue", "Suleimani drone strike", "coalition forces", "penguins"]


def hammer(base: str, stop: threading.Event, answers: list, failures: list) -> None:
    """Send searches over one keep-alive connection until stop is set."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    i = 0
    while not stop.is_set():
        query = urllib.parse.urlencode({"q": QUESTIONS[i % len(QUESTIONS)], "k": 100})
        i += 1
        try:
            connection.request("GET", f"/api/search?{query}")
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                failures.append((response.status, body[:200]))
                continue
            answer = json.loads(body)
            answers.append((answer["generation"], len(answer["results"]), {r["source"] for r in answer["results"]},
                            time.monotonic()))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(repr(exc))
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.close()


def timed(action) -> tuple[float, float]:
    """Run action; return when it started and ended."""
    start = time.monotonic()
    action()
    return start, time.monotonic()


def test_sixty_seconds_of_load_across_two_rebuilds(workspace, tmp_path):
    corpus, index_dir = workspace
    first = Manifest.read(index_dir / "gen-000001" / MANIFEST_NAME)
    rebuilds = []  # (start, end) of each rebuild
    with serving(["--corpus", str(corpus), "--index-dir", str(index_dir), "--threads", "8"], tmp_path / "server.log") as base:
        stop = threading.Event()
        answers, failures = [], []
        clients = [threading.Thread(target=hammer, args=(base, stop, answers, failures)) for _ in range(CONCURRENCY)]
        began = time.monotonic()
        for client in clients:
            client.start()
        index = [sys.executable, "-m", "docsearch.search", "index", str(corpus), "--index-dir", str(index_dir)]
        time.sleep(10)
        (corpus / "penguins.txt").write_text("Emperor penguins huddle together through the Antarctic winter night.\n")
        rebuilds.append(timed(lambda: subprocess.run(index, check=True, capture_output=True)))
        time.sleep(15)
        (corpus / "003_85466fba3cc1c82f.txt").unlink()
        rebuilds.append(timed(lambda: subprocess.run(index, check=True, capture_output=True)))
        time.sleep(max(0.0, SECONDS - (time.monotonic() - began)))
        stop.set()
        for client in clients:
            client.join(timeout=60)
        elapsed = time.monotonic() - began
        health = fetch(base + "/healthz")[1]

    generations = {}
    for folder in index_dir.glob("gen-*"):
        m = Manifest.read(folder / MANIFEST_NAME)
        generations[m.generation] = m
    print(f"\n{len(answers)} answers in {elapsed:.0f}s at concurrency {CONCURRENCY} "
          f"({len(answers) / elapsed:.0f}/s), {len(failures)} failed; "
          f"generations served: { {g: sum(1 for a in answers if a[0] == g) for g in sorted({a[0] for a in answers})} }")
    assert failures == []
    for start, end in rebuilds:  # the server kept answering while each rebuild ran, not only around it
        assert sum(1 for *_, at in answers if start <= at <= end) >= CONCURRENCY, (start, end)
    assert health["generation"] == 3
    served = {a[0] for a in answers}
    assert served == {1, 2, 3}
    # Generations 2 and 3 are kept on disk; generation 1 held the five demo files.
    expected = {1: first.passages, **{g: m.passages for g, m in generations.items()}}
    assert sorted(expected) == [1, 2, 3] and len(set(expected.values())) == 3
    for generation, count, sources, _ in answers:
        if generation in expected:
            assert count == expected[generation]
        if generation == 2:
            assert "penguins.txt" in sources
        if generation == 3:
            assert "003_85466fba3cc1c82f.txt" not in sources
        if generation == 1:
            assert "penguins.txt" not in sources
