"""The run's results as Markdown tables: indexing speed, each corpus size, and docsearch beside txtai."""

from __future__ import annotations

from typing import Callable


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """Return a Markdown table; None cells print as a dash."""
    def cell(value) -> str:
        """Return a value as table text."""
        return "–" if value is None else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def mb(value) -> float | None:
    """Return bytes as MB with one decimal."""
    return None if value is None else round(value / 2**20, 1)


def pair(latency: dict) -> str | None:
    """Return 'p50 / p99' of a latency summary."""
    return None if not latency or latency.get("p50_ms") is None else f"{latency['p50_ms']} / {latency['p99_ms']}"


def speed_table(results: dict) -> str:
    """Return the indexing-speed table: passages/s of the baseline and each backend."""
    speed = results["speed"]
    rows = [[e["name"], e.get("passages_per_s"), e.get("ratio_to_baseline"), e.get("cosine_to_baseline_mean"),
             e.get("cosine_to_baseline_min"), e.get("supported_on_this_cpu"), e.get("error")]
            for e in speed["encoders"]]
    b = speed["build_documents_sample"]
    rows.append([f"build_documents, default backend ({b['backend']})", b["passages_per_s"], *[None] * 5])
    return markdown_table(["encoder (same sample)", "passages/s", "× baseline", "cosine mean", "cosine min",
                           "CPU supports", "error"], rows)


def http_levels(entry: dict) -> tuple[dict, dict]:
    """Return a size's one-client HTTP figures and its N-client ones (empty without an HTTP phase)."""
    http = entry.get("http", {})
    return http.get("c1", {}), next((v for k, v in http.items() if k.startswith("c") and k != "c1"), {})


def size_row(entry: dict) -> list:
    """Return one row of the per-size table."""
    build, index, local = entry["build"], entry["index"], entry["in_process"]
    c1, cn = http_levels(entry)
    memory = cn.get("server_memory", {})
    recall = local.get("dense_recall_at_10_vs_exact")
    return [f"{entry['size']:,}", build["embeddings"], build.get("passages_per_s"), mb(index["disk_bytes_total"]),
            local["vectors"], "exact" if recall is None else recall, local["hybrid"]["p50_ms"],
            local["hybrid"]["p99_ms"], local["dense"]["p50_ms"], local["dense"]["p99_ms"], c1.get("p50_ms"),
            c1.get("p99_ms"), cn.get("requests_per_s"), cn.get("p50_ms"), cn.get("p99_ms"), cn.get("errors"),
            memory.get("vmrss_mb"), memory.get("vmhwm_mb")]


def sizes_table(results: dict) -> str:
    """Return the per-size table: build, disk, in-process and HTTP latency, server memory."""
    sizes = results["sizes"]
    headers = ["passages", "embeddings", "build passages/s", "index MB", "vector index", "dense recall@10",
               "hybrid p50 ms", "hybrid p99 ms", "dense p50 ms", "dense p99 ms", "HTTP c1 p50 ms", "HTTP c1 p99 ms",
               "HTTP cN req/s", "HTTP cN p50 ms", "HTTP cN p99 ms", "HTTP cN errors", "server RSS MB", "server peak MB"]
    table = markdown_table(headers, [size_row(entry) for entry in sizes.values()])
    short = [f"{int(size):,} c={phase['concurrency']}: {phase['requests']} requests in {phase['seconds']} s"
             for size, entry in sizes.items() for phase in entry.get("http", {}).values()
             if isinstance(phase, dict) and phase.get("ran_out_of_queries")]
    if short:
        table += "\n\nHTTP phases that ran out of distinct queries before --duration: " + "; ".join(short)
    return table


def server_rss(entry: dict) -> float | None:
    """Return the RSS of the last docsearch server of a size, in MB."""
    phases = [v for v in entry.get("http", {}).values() if isinstance(v, dict)]
    return phases[-1]["server_memory"].get("vmrss_mb") if phases else None


def txtai_rows(size: str, entry: dict, theirs: dict) -> list[list]:
    """Return the rows comparing docsearch and txtai on one corpus size."""
    label = f"{int(size):,} ({entry['build']['embeddings']} embeddings)"
    local = entry["in_process"]
    return [[f"{label}: index passages/s", entry["build"].get("passages_per_s"), theirs.get("passages_per_s")],
            [f"{label}: query p50 / p99 ms (docsearch dense)", pair(local["dense"]), pair(theirs.get("search", {}))],
            [f"{label}: query p50 / p99 ms (docsearch hybrid)", pair(local["hybrid"]), None],
            [f"{label}: index MB on disk", mb(entry["index"]["disk_bytes_total"]), mb(theirs.get("disk_bytes"))],
            [f"{label}: ANN index", local["vectors"], theirs.get("ann")],
            [f"{label}: RSS MB (docsearch: server after load; txtai: its process after queries)",
             server_rss(entry), theirs.get("memory_after_queries", {}).get("vmrss_mb")]]


def txtai_table(results: dict) -> str:
    """Return docsearch and txtai side by side, or the one line that says why txtai was not measured."""
    peer = results["txtai"]
    if "corpora" not in peer:
        return f"txtai: {peer.get('skipped') or peer.get('error')}"
    sample = results.get("speed", {}).get("build_documents_sample", {})
    rows = [["index the sample, passages/s", sample.get("passages_per_s"), peer["sample"].get("passages_per_s")]]
    for size, entry in results.get("sizes", {}).items():
        rows += txtai_rows(size, entry, peer["corpora"].get(size, {}))
    return markdown_table(["measure", "docsearch", f"txtai {peer.get('txtai_version') or ''}".strip()], rows)


# (results key, title, table): a section is printed when its key has results.
SECTIONS: tuple[tuple[str, str, Callable[[dict], str]], ...] = (
    ("speed", "Indexing speed", speed_table),
    ("sizes", "Query latency, HTTP load and memory per corpus size", sizes_table),
    ("txtai", "docsearch and txtai", txtai_table),
)


def print_report(results: dict) -> None:
    """Print a Markdown section per phase that has results, then the notes."""
    for key, title, table in SECTIONS:
        if results.get(key):
            print(f"\n## {title}\n\n{table(results)}")
    print("\nNotes:\n" + "\n".join(f"- {note}" for note in results["notes"]), flush=True)
