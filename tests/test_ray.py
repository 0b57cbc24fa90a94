"""`docsearch index --ray` embeds on a local Ray instance exactly as in process (slow)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from .conftest import DOCS_CORPUS, ROOT
from .milvus_server import can_isolate, in_own_network

pytestmark = pytest.mark.slow


def test_index_on_local_ray_equals_in_process(tmp_path, searcher, encoder):
    pytest.importorskip("ray.data")
    if not can_isolate():  # Ray's servers listen on every interface: a namespace keeps them private
        pytest.skip("the Ray test needs a network namespace (unshare --net): run it as root")
    from docsearch.search.engine import Searcher

    index_dir = tmp_path / "index"
    command = [sys.executable, "-m", "docsearch.search", "index", str(DOCS_CORPUS), "--index-dir", str(index_dir),
               "--store", "milvus", "--ray"]
    result = subprocess.run(in_own_network(command), capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # Ray's workers import this checkout
    assert result.returncode == 0, result.stderr
    assert "embedding on Ray (local)" in result.stderr
    assert "embedded 67 passages" in result.stdout
    on_ray = Searcher.load(index_dir, encoder=encoder)
    try:
        ids = list(range(1, searcher.manifest.passages + 1))
        assert on_ray.manifest.passages == len(ids) and on_ray.manifest.vector_store == "milvus"
        assert on_ray.generation.catalog.passages(ids) == searcher.generation.catalog.passages(ids)
        cosines = np.sum(on_ray.generation.vectors.vectors(ids) * searcher.generation.vectors.vectors(ids), axis=1)
        assert cosines.min() >= 0.9999, cosines.min()
    finally:
        on_ray.close()
