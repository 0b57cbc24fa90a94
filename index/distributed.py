"""Embed passages on a Ray cluster: Ray Data ``map_batches`` over model actors.

``RayEncoder`` stands in for an ``Encoder`` in ``build_index``: splitting and
the index's settings come from the local encoder, only ``encode`` runs on the
cluster. Each actor loads the same model and backend once and embeds whole
blocks of BLOCK_ROWS passages per call with the same ``Encoder.encode``, so
the vectors equal the in-process ones. The vectors come back to this process,
which writes them to the chosen store (FAISS or Milvus).
"""

from __future__ import annotations

import logging
import os
from typing import Callable, Sequence

import numpy as np

from .embed import Encoder
from .errors import EngineUnavailable

log = logging.getLogger(__name__)

BLOCK_ROWS = 256  # passages per encode call on an actor
LOCAL = "local"  # --ray without an address: a private Ray instance on this machine
LOCAL_CPUS = 2  # a local instance stays small: it shares the machine


class EncodeBlocks:
    """A Ray Data actor: loads the model once, then embeds one block of passages per call."""

    def __init__(self, model: str, backend: str):
        self.encoder = Encoder(model, backend=backend)

    def __call__(self, block: dict) -> dict:
        """Return the block's row numbers with the unit vectors of its texts."""
        return {"row": block["row"], "vector": self.encoder.encode([str(t) for t in block["text"]])}


class RayEncoder:
    """An Encoder whose ``encode`` runs on Ray model actors; everything else is the local encoder's."""

    def __init__(self, encoder: Encoder, address: str = LOCAL):
        self.local = encoder
        self.address = address

    def __getattr__(self, name):
        return getattr(self.local, name)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed texts on the cluster as L2-normalised float32 rows, in the order given."""
        vectors = np.zeros((len(texts), self.local.dimension), np.float32)
        if not len(texts):
            return vectors
        ray = _connect(self.address)
        try:
            import ray.data

            actors = max(1, int(ray.cluster_resources().get("CPU", 1)))
            blocks = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)]).map_batches(
                EncodeBlocks, fn_constructor_kwargs={"model": self.local.name, "backend": self.local.backend},
                batch_size=BLOCK_ROWS, batch_format="numpy", concurrency=(1, actors), num_cpus=1,
            )
            for done in blocks.iter_batches(batch_size=None, batch_format="numpy"):
                vectors[done["row"]] = done["vector"]
                if progress:
                    progress(len(done["row"]))
        finally:
            ray.shutdown()
        return vectors


def _connect(address: str):
    """Start a small local Ray instance (listening on every interface: see the README), or join address."""
    try:
        import ray
    except ImportError:
        raise EngineUnavailable("--ray needs Ray Data: pip install 'docsearch[ray]'") from None
    # Actors never reach for a model hub either; a PYTHONPATH (a source checkout) goes with them.
    variables = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if os.environ.get("PYTHONPATH"):
        variables["PYTHONPATH"] = os.environ["PYTHONPATH"]
    environment = {"env_vars": variables}
    if address == LOCAL:
        # Ray's own servers listen on every interface whatever the node address: see the README
        # on keeping a local instance private.
        ray.init(num_cpus=LOCAL_CPUS, include_dashboard=False, runtime_env=environment, log_to_driver=False)
    else:
        ray.init(address=address, runtime_env=environment, log_to_driver=False)
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False  # the build draws its own progress bar
    logging.getLogger("ray.data").setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    log.info("embedding on Ray at %s: %s", address, ray.cluster_resources())
    return ray
