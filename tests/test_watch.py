"""Watching: one debounced callback per burst of changes."""

import threading
import time

from docsearch.index.watch import snapshot, watch


def test_snapshot_sees_changes_but_not_through_links(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    before = snapshot(tmp_path)
    (tmp_path / "a.txt").write_text("one two")
    assert snapshot(tmp_path) != before
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert str(tmp_path / "loop") in snapshot(tmp_path)


def test_a_burst_of_edits_gives_one_callback(tmp_path):
    calls = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(tmp_path, lambda: calls.append(time.monotonic()), stop, 0.05, 0.3))
    thread.start()
    try:
        time.sleep(0.2)
        began = time.monotonic()
        for i in range(5):
            (tmp_path / f"f{i}.txt").write_text(f"file {i}")
            time.sleep(0.05)
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert len(calls) == 1
    assert calls[0] - began >= 0.3  # not before the corpus was quiet


def test_a_failing_callback_does_not_stop_the_watch(tmp_path):
    calls = []

    def flaky():
        calls.append(1)
        raise RuntimeError("boom")

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(tmp_path, flaky, stop, 0.05, 0.1))
    thread.start()
    try:
        for name in ("x.txt", "y.txt"):
            time.sleep(0.2)
            (tmp_path / name).write_text(name)
            deadline = time.monotonic() + 5
            expected = len(calls) + 1
            while len(calls) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert len(calls) == 2 and not thread.is_alive()
