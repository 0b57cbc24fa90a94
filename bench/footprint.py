"""Memory of a process and the size on disk of an index generation.

Only the standard library is imported at the top: the txtai peer uses
``process_memory`` in an environment that may not have docsearch.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path


def process_memory(pid: int | str = "self") -> dict:
    """Return a process's resident memory now and at its peak, in MB (from /proc/PID/status)."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                found[key.lower() + "_mb"] = round(int(line.split()[1]) / 1024, 1)
    return found


def file_sizes(folder: Path) -> dict[str, int]:
    """Return the bytes of every file under folder, by its path relative to folder."""
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def index_facts(index_dir: Path) -> dict:
    """Return the live generation's manifest (checksums aside) and the sizes of its files on disk."""
    from docsearch.index import IndexFolder

    folder = IndexFolder(index_dir)
    manifest = asdict(folder.live_manifest())
    manifest.pop("checksums")
    generation = folder.live_folder()
    sizes = file_sizes(generation)
    return {"generation": generation.name, "manifest": manifest, "disk_bytes": sizes,
            "disk_bytes_total": sum(sizes.values()), "vector_store": manifest["vector_store"],
            "vector_index": manifest["vector_index"]}


def measure(run, corpus) -> dict:
    """Return the facts of the index just built for a corpus size."""
    return index_facts(corpus.index_dir)
