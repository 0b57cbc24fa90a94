"""The Milvus VectorStore: one collection per index generation, on Milvus Lite or a server.

A URI that is a path means Milvus Lite, embedded in this process (its data in
that folder); ``http://host:19530`` means a Milvus server or cluster. A token
for a server with authentication ("user:password" or an API key) comes from the
configuration (StoreConfig), never from the index's files.

Each generation writes its own collection, named after the index folder and
the generation number, fills and flushes it before the generation goes live
(index.generation). Readers therefore see whole generations, and old
collections are dropped with their folders. A build writes at the Strong
consistency level, so a delete or insert is visible to the next call; a live
generation's collection, which never changes again, is read at Eventually
(READ_ONLY_CONSISTENCY), which does not wait on Milvus's timestamps.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import EngineUnavailable, IndexNotFound
from .manifest import Manifest
from .vectors import Allowed, Neighbours, StoreConfig

log = logging.getLogger(__name__)

CONSISTENCY = "Strong"  # while a build writes a collection: a delete or insert is visible to the next call
# A live generation's collection never changes again: it was filled and flushed before the generation went
# live and is loaded before it is searched, so reads need not wait on Milvus's timestamps. Measured on a
# Milvus 2.3 standalone server, a search took 201 ms at Strong and 7.5 ms at Eventually.
READ_ONLY_CONSISTENCY = "Eventually"
INSERT_BATCH = 5_000  # rows per insert call: well under gRPC's 64 MB message limit at 384 floats
HNSW_PARAMS = {"M": 32, "efConstruction": 200}  # as index.faiss_vectors' HNSW
HNSW_EF_SEARCH = 384


def is_lite(uri: str) -> bool:
    """Tell whether a Milvus URI names a Milvus Lite folder rather than a server."""
    return not uri.startswith(("http://", "https://", "tcp://", "unix:"))


def check_uri(uri: str) -> str:
    """Return the URI, a Lite folder made absolute; raise ValueError for one pymilvus would misread."""
    if not is_lite(uri):
        return uri
    if not uri.endswith(".db"):
        raise ValueError(f"a Milvus Lite URI is a folder path ending in .db (or use http://host:19530), not {uri!r}")
    return str(Path(uri).resolve())


def connect(uri: str, token: str = ""):
    """Return a MilvusClient for a Milvus Lite folder or a server URL."""
    try:
        from pymilvus import MilvusClient, MilvusException
    except ImportError:
        raise EngineUnavailable("the Milvus store needs pymilvus and milvus-lite: pip install 'docsearch[milvus]'") from None

    if is_lite(check_uri(uri)):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri, token=token)
    except MilvusException as exc:
        raise EngineUnavailable(f"cannot reach Milvus at {uri}: {exc}") from None


def collection_prefix(index_dir: Path) -> str:
    """Return the collection name prefix of an index folder: one server can hold many indexes."""
    digest = hashlib.sha256(str(Path(index_dir).resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return f"docsearch_{digest[:12]}"


def collection_name(index_dir: Path, generation: int) -> str:
    """Return the collection that holds one generation's vectors."""
    return f"{collection_prefix(index_dir)}_gen_{generation:06d}"


class MilvusStore:
    """A VectorStore over one Milvus collection: id (primary key), vector, source (the file id)."""

    def __init__(self, client, collection: str, dimension: int, kind: str = "flat", consistency: str = CONSISTENCY):
        self.client = client
        self.collection = collection
        self.dimension = dimension
        self._consistency = consistency
        self._search_params = {"metric_type": "IP", "params": {"ef": HNSW_EF_SEARCH} if kind == "hnsw" else {}}

    @classmethod
    def create(cls, client, collection: str, dimension: int, kind: str = "flat") -> "MilvusStore":
        """Create an empty collection (replacing one left by a build that never went live)."""
        from pymilvus import DataType

        if kind not in ("flat", "hnsw"):
            raise ValueError(f"Milvus stores flat or hnsw vector indexes, not {kind!r}")
        if client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("source", DataType.INT64)
        index = client.prepare_index_params()
        if kind == "flat":
            index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        else:
            index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=HNSW_PARAMS)
        client.create_collection(collection, schema=schema, index_params=index, consistency_level=CONSISTENCY)
        return cls(client, collection, dimension, kind)

    @classmethod
    def attach(cls, client, collection: str, dimension: int, kind: str = "flat") -> "MilvusStore":
        """Open an existing collection, or raise IndexNotFound."""
        if not client.has_collection(collection):
            raise IndexNotFound(f"Milvus has no collection {collection}; run `docsearch index --store milvus`")
        client.load_collection(collection)
        return cls(client, collection, dimension, kind, READ_ONLY_CONSISTENCY)

    @classmethod
    def prepare(cls, config: StoreConfig, index_dir: Path, generation: int, kind: str) -> dict:
        """Check the URI and kind; return the manifest fields: the URI and this generation's collection."""
        if kind not in ("flat", "hnsw"):
            raise ValueError("the Milvus store keeps float vectors; --sq8 and --sq4 are for the FAISS store")
        uri = check_uri(config.milvus_uri or str(Path(index_dir) / "milvus.db"))
        return {"vector_store": "milvus", "milvus_uri": uri, "milvus_collection": collection_name(index_dir, generation)}

    @classmethod
    def write(cls, folder: Path, manifest: Manifest, vectors: np.ndarray, file_ids: np.ndarray,
              config: StoreConfig) -> list[Path]:
        """Write a generation's vectors and file ids to its own new collection; nothing goes into folder."""
        store = cls.create(connect(manifest.milvus_uri, config.milvus_token), manifest.milvus_collection,
                           manifest.dimension, manifest.vector_index)
        try:
            store.add(np.arange(1, len(vectors) + 1, dtype=np.int64), vectors, file_ids)
            store.flush()
        finally:
            store.close()
        return []

    @classmethod
    def open(cls, folder: Path, manifest: Manifest, config: StoreConfig) -> "MilvusStore":
        """Open a generation's collection, on the configured URI or else where the manifest says it was written."""
        client = connect(config.milvus_uri or manifest.milvus_uri, config.milvus_token)
        return cls.attach(client, manifest.milvus_collection, manifest.dimension, manifest.vector_index)

    @classmethod
    def drop(cls, folder: Path, manifest: Manifest, config: StoreConfig) -> None:
        """Drop a generation's collection where it was written; a Milvus that cannot be reached is only logged."""
        try:
            client = connect(manifest.milvus_uri, config.milvus_token)
        except EngineUnavailable as exc:
            log.warning("could not drop collection %s of an old generation: %s", manifest.milvus_collection, exc)
            return
        try:
            client.drop_collection(manifest.milvus_collection)
        finally:
            client.close()

    @classmethod
    def sweep(cls, index_dir: Path, manifest: Manifest, kept: set[int], config: StoreConfig) -> None:
        """Drop the index's collections on this Milvus but those of the generations kept.

        Besides old generations' collections, this catches those of builds that died before going live.
        """
        keep = {collection_name(index_dir, number) for number in kept}
        client = connect(manifest.milvus_uri, config.milvus_token)
        try:
            for name in client.list_collections():
                if name.startswith(collection_prefix(index_dir) + "_gen_") and name not in keep:
                    log.info("dropping old generation collection %s", name)
                    client.drop_collection(name)
        finally:
            client.close()

    def add(self, ids: np.ndarray, vectors: np.ndarray, file_ids: np.ndarray) -> None:
        """Store vectors under the given passage ids, with their file ids."""
        vectors = np.asarray(vectors, np.float32)
        for at in range(0, len(ids), INSERT_BATCH):
            rows = [
                {"id": int(pid), "vector": vector.tolist(), "source": int(file_id)}
                for pid, vector, file_id in zip(ids[at:at + INSERT_BATCH], vectors[at:at + INSERT_BATCH],
                                                file_ids[at:at + INSERT_BATCH])
            ]
            self.client.insert(self.collection, rows)

    def flush(self) -> None:
        """Persist what was inserted, so the collection survives a server restart."""
        self.client.flush(self.collection)

    def delete(self, ids: Sequence[int]) -> None:
        """Remove passages; searches made after this call no longer see them."""
        self.client.delete(self.collection, ids=[int(i) for i in ids])

    def search(self, queries: np.ndarray, k: int, allowed: Allowed | None = None) -> Neighbours:
        """Return the k nearest passages of each query, only among the allowed passages (by file) if given."""
        if allowed is not None and not len(allowed):
            return [[] for _ in queries]
        found = self.client.search(
            self.collection, data=np.asarray(queries, np.float32).tolist(), limit=k,
            filter="" if allowed is None else f"source in {[int(f) for f in allowed.file_ids]}", output_fields=[],
            search_params=self._search_params, consistency_level=self._consistency,
        )
        return [[(int(hit["id"]), float(hit["distance"])) for hit in hits] for hits in found]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Return the stored vectors of the given passage ids, in that order."""
        if not len(ids):
            return np.zeros((0, self.dimension), np.float32)
        rows = self.client.get(self.collection, ids=[int(i) for i in ids], output_fields=["vector"],
                               consistency_level=self._consistency)
        by_id = {int(row["id"]): row["vector"] for row in rows}
        missing = [int(i) for i in ids if int(i) not in by_id]
        if missing:
            raise KeyError(f"Milvus collection {self.collection} has no passages {missing[:5]}")
        return np.array([by_id[int(i)] for i in ids], np.float32)

    def count(self) -> int:
        """Return how many passages the store holds."""
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"],
                                 consistency_level=self._consistency)
        return int(rows[0]["count(*)"])

    def close(self) -> None:
        """Close the connection (the collection stays)."""
        self.client.close()


