"""Markdown tables of issue 16's measurements: the query path, Milvus beside FAISS, Ray beside in process, dedup.

JSON in, text out (the standard library only), so ``bench.sizing`` can print from
a results file without docsearch. txtai's figures from the same run stand beside
every comparison.
"""

from __future__ import annotations

from .report import markdown_table, mb, pair

HTTP_PATH_ROWS = (
    ("/healthz, client (the floor: WSGI, waitress, socket)", ("healthz",)),
    ("search, first ask: client", ("first_ask", "client")),
    ("search, first ask: server's took_ms", ("first_ask", "server_took")),
    ("search, first ask: client beyond took_ms", ("first_ask", "beyond_server")),
    ("search, asked again (cached embedding): client", ("second_ask", "client")),
    ("search, asked again: server's took_ms", ("second_ask", "server_took")),
    ("search, asked again: client beyond took_ms", ("second_ask", "beyond_server")),
    ("six-word question: client", ("six_word", "client")),
    ("six-word question: server's took_ms", ("six_word", "server_took")),
)


# The stages a vector store answers, and the whole search they sit in.
STORE_STAGES = ("vector search", "stored vectors of the hits", "search() hybrid, embedding cached")


def dig(entry: dict, keys: tuple[str, ...]) -> dict:
    """Return entry[k1][k2]... or {} where a key is missing."""
    for key in keys:
        entry = entry.get(key) or {}
    return entry


def txtai_corpus(results: dict, size: str) -> dict:
    """Return txtai's figures for a corpus size from the same run ({} if none)."""
    return (results.get("txtai") or {}).get("corpora", {}).get(size, {})


def query_path_table(results: dict) -> str | None:
    """Return each stage's p50 / p99 per corpus size, in process then over HTTP (None without the phases)."""
    sizes = {s: e for s, e in results.get("sizes", {}).items() if "stages" in e or "http_path" in e}
    if not sizes:
        return None
    stages = list(dict.fromkeys(name for e in sizes.values() for name in e.get("stages", {}).get("stages", {})))
    rows = [[f"in process: {name}", *[pair(e.get("stages", {}).get("stages", {}).get(name)) for e in sizes.values()]]
            for name in stages]
    rows += [[f"HTTP: {label}", *[pair(dig(e.get("http_path", {}), keys)) for e in sizes.values()]]
             for label, keys in HTTP_PATH_ROWS]
    rows.append(["txtai Embeddings.search, whole query, in process (same run)",
                 *[pair(txtai_corpus(results, s).get("search")) for s in sizes]])
    counts = "; ".join(f"{int(s):,}: {e.get('stages', {}).get('queries', 0)} queries in process, "
                       f"{e.get('http_path', {}).get('twice_asked_questions', 0)} asked twice and "
                       f"{e.get('http_path', {}).get('six_word_questions', 0)} six-word ones over HTTP"
                       for s, e in sizes.items())
    table = markdown_table(["stage (hybrid, k=10)", *[f"{int(s):,} passages: p50 / p99 ms" for s in sizes]], rows)
    return f"{table}\n\nQuestions: {counts}."


def milvus_rows(size: str, entry: dict, results: dict) -> list[list]:
    """Return the rows comparing FAISS, Milvus and txtai at one size."""
    m = entry["milvus"]
    c1 = {store: m[store].get("c1", {}) for store in ("faiss", "milvus")}
    cn = {store: next((v for k, v in m[store].items() if k != "c1"), {}) for store in ("faiss", "milvus")}
    theirs = txtai_corpus(results, size)
    label = f"{int(size):,} ({entry.get('build', {}).get('embeddings', '?')} embeddings)"
    build = m.get("milvus_build", {})
    return [
        [f"{label}: HTTP one client p50 / p99 ms", pair(c1["faiss"]), pair(c1["milvus"]),
         f"{pair(theirs.get('search'))} (in process)" if theirs.get("search") else None],
        [f"{label}: HTTP {cn['faiss'].get('concurrency')} clients, req/s (errors)",
         _rate(cn["faiss"]), _rate(cn["milvus"]), None],
        [f"{label}: HTTP {cn['faiss'].get('concurrency')} clients p50 / p99 ms", pair(cn["faiss"]), pair(cn["milvus"]), None],
        [f"{label}: docsearch server RSS MB", cn["faiss"].get("server_memory", {}).get("vmrss_mb"),
         cn["milvus"].get("server_memory", {}).get("vmrss_mb"), theirs.get("memory_after_queries", {}).get("vmrss_mb")],
        [f"{label}: Milvus server RSS MB (after the load)", None,
         cn["milvus"].get("milvus_server_memory", {}).get("vmrss_mb"), None],
        [f"{label}: build passages/s (Milvus: moving the FAISS index's vectors in)",
         entry.get("build", {}).get("passages_per_s"), build.get("passages_per_s"), theirs.get("passages_per_s")],
        [f"{label}: vector index", m.get("faiss_index", {}).get("vector_index"), build.get("vector_index"),
         theirs.get("ann")],
        [f"{label}: index folder MB", mb(m.get("faiss_index", {}).get("disk_bytes_total")),
         mb(build.get("disk_bytes_total")), mb(theirs.get("disk_bytes"))],
    ] + [[f"{label}: in process, {stage} p50 / p99 ms", pair(dig(entry, ("stages", "stages", stage))),
          pair(dig(m, ("stages", "stages", stage))), None] for stage in STORE_STAGES if dig(m, ("stages", "stages", stage))]


def _rate(level: dict) -> str | None:
    """Return 'req/s (errors)' of a load level."""
    return None if not level else f"{level.get('requests_per_s')} ({level.get('errors')})"


def milvus_table(results: dict) -> str | None:
    """Return FAISS and Milvus served side by side per measured size, txtai beside (None without the phase)."""
    sizes = {s: e for s, e in results.get("sizes", {}).items() if "milvus" in e}
    if not sizes:
        return None
    skipped = [f"{int(s):,}: {e['milvus']['skipped']}" for s, e in sizes.items() if "skipped" in e["milvus"]]
    rows = [row for s, e in sizes.items() if "skipped" not in e["milvus"] for row in milvus_rows(s, e, results)]
    parts = [markdown_table(["measure", "FAISS (in the server)", "Milvus standalone server", "txtai"], rows)] if rows else []
    return "\n\n".join(parts + ([f"Milvus not measured at {'; '.join(skipped)}"] if skipped else []))


def ray_table(results: dict) -> str | None:
    """Return `docsearch index --ray` beside the in-process build on the same sample, txtai beside."""
    ray = results.get("ray")
    if not ray:
        return None
    if "skipped" in ray:
        return f"Ray: not measured: {ray['skipped']}"
    sample, probe = str(ray["sample_passages"]), str(ray["probe_passages"])
    txtai = (results.get("txtai") or {}).get("sample", {})
    ways = (ray["in_process"], ray["ray"])

    def row(label: str, get) -> list:
        """Return one measure for each way."""
        return [label, *[get(way) for way in ways]]

    rows = [row(f"{sample} passages: passages/s (build)", lambda w: w[sample].get("passages_per_s", w[sample].get("error"))),
            row(f"{sample} passages: build s / whole command s",
                lambda w: f"{w[sample].get('build_s')} / {w[sample].get('command_s')}"),
            row(f"{probe} passages alone: build s", lambda w: w[probe].get("build_s")),
            row("passages/s once running", lambda w: w.get("passages_per_s_once_running")),
            row("fixed cost s (start, model load)", lambda w: w.get("fixed_s"))]
    rows[0].append(txtai.get("passages_per_s"))
    for r in rows[1:]:
        r.append(None)
    return markdown_table(["measure (real embedding, default backend)", "in process",
                           f"Ray, local, {ray.get('ray_cpus')} CPUs", "txtai (same sample)"], rows)


def dedup_table(results: dict) -> str | None:
    """Return the share of fresh passages not embedded, per corpus and build."""
    found = results.get("dedup")
    if not found:
        return None
    rows = [[r["corpus"], r["build"], r["files"], r["passages"], r["fresh"], r["embedded"], r["reused"], r["repeated"],
             None if r["not_embedded_share"] is None else f"{r['not_embedded_share']:.1%}",
             f"{r['share_of_all_passages']:.1%}"] for r in found["rows"]]
    table = markdown_table(["corpus", "build", "files", "passages", "fresh passages", "embedded", "reused (in the index)",
                            "repeated (in the build)", "not embedded, of fresh", "of all passages"], rows)
    notes = [f"Vectors: {found['embedding']} (the counts do not depend on them)."] + found.get("notes", [])
    return table + "\n\n" + "\n".join(notes)
