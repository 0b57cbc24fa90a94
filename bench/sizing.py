"""Print the README's "Scaling out" sizing table from benchmark results, measured figures only.

    .venv/bin/python -m bench.sizing RESULTS.json [MORE.json ...]

Give every results file of the runs the table should draw on (the 1M size, say,
comes from a run of its own); where two files hold the same size, the later
one's figures are used. A cell whose figure no file holds says "not measured".
Hours and break-even points are arithmetic on measured rates, and say so.
Needs only the standard library (no docsearch), so it runs anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import markdown_table
from .tables import dig

NOT_MEASURED = "not measured"
HOURS_FOR = (1_000_000, 10_000_000)


def merged(paths: list[Path]) -> dict:
    """Return one results dict: each size's phases from every file (a later file's phase wins), others from the last."""
    found: dict = {"sizes": {}}
    for path in paths:
        results = json.loads(path.read_text(encoding="utf-8"))
        for size, entry in results.get("sizes", {}).items():
            found["sizes"].setdefault(size, {}).update(entry)
        for key in ("speed", "ray", "dedup", "txtai"):
            if results.get(key) and "skipped" not in results[key]:
                found[key] = results[key]
    found["sizes"] = dict(sorted(found["sizes"].items(), key=lambda item: int(item[0])))
    return found


def many_clients(levels: dict) -> dict:
    """Return the N-client figures among a load's levels (c1, cN) ({} if none)."""
    return next((v for k, v in levels.items() if k.startswith("c") and k != "c1"), {})


def loaded(entry: dict, store: str = "faiss") -> dict:
    """Return the N-client HTTP figures of a size (FAISS from the http phase, else from the Milvus phase)."""
    if store == "faiss" and entry.get("http"):
        return many_clients(entry["http"])
    return many_clients(dig(entry, ("milvus", store)))


def memory_cell(sizes: dict) -> str:
    """Say what the query server held at each measured size, and with Milvus where measured."""
    parts = []
    for size, entry in sizes.items():
        rss = loaded(entry).get("server_memory", {}).get("vmrss_mb")
        vectors = entry.get("index", {}).get("disk_bytes", {}).get("vectors.faiss")
        if rss is not None:
            kind = entry.get("index", {}).get("vector_index", "?")
            per = f", {vectors / int(size):,.0f} B a passage" if vectors else ""
            parts.append(f"{int(size):,} passages: server RSS {rss:,.0f} MB ({kind} vectors"
                         f"{f', {vectors / 2**20:,.0f} MB on disk' if vectors else ''}{per})")
        milvus = loaded(entry, "milvus")
        if milvus.get("server_memory"):
            parts.append(f"{int(size):,} with Milvus: docsearch server {milvus['server_memory']['vmrss_mb']:,.0f} MB "
                         f"+ Milvus server {milvus.get('milvus_server_memory', {}).get('vmrss_mb', 0):,.0f} MB")
    return "; ".join(parts) or NOT_MEASURED


def queries_cell(sizes: dict) -> str:
    """Say how many requests/s one box served at each measured size."""
    parts = []
    for size, entry in sizes.items():
        for store, label in (("faiss", ""), ("milvus", " with Milvus")):
            level = loaded(entry, store)
            if level.get("requests_per_s") is not None:
                parts.append(f"{level['requests_per_s']:,.1f} requests/s at {int(size):,} passages{label} "
                             f"(HTTP, {level['concurrency']} clients, {level['errors']} errors)")
    return "; ".join(parts) or NOT_MEASURED


def embedding_cell(results: dict) -> str:
    """Say how fast one box embeds, and how long the sizes would take at that rate."""
    sample = dig(results, ("speed", "build_documents_sample"))
    rate = sample.get("passages_per_s")
    if not rate:
        return NOT_MEASURED
    hours = ", ".join(f"{n / rate / 3600:,.0f} hours for {n:,}" for n in HOURS_FOR)
    return (f"{rate} passages/s with the default backend ({sample.get('backend')}, build_documents on "
            f"{sample.get('passages')} passages): at that rate {hours} passages")


def one_box_table(results: dict) -> str:
    """Return the README's table: when to scale out, the one-box figure, what to do."""
    sizes = results["sizes"]
    rows = [["the vectors no longer fit each query server's memory", memory_cell(sizes),
             "`--store milvus` on a Milvus cluster: the vectors live there once, not in every server"],
            ["more queries than one box answers", queries_cell(sizes),
             "more stateless query replicas behind a load balancer; each runs the query model on its own cores"],
            ["embedding would take days", embedding_cell(results),
             "`docsearch index --ray=ADDRESS` on a Ray cluster: one model actor per CPU"]]
    return markdown_table(["when", "the one-box figure (measured on this machine)", "what to do"], rows)


def milvus_lines(sizes: dict) -> list[str]:
    """Say, per size measured both ways, what Milvus cost and saved against FAISS."""
    lines = []
    for size, entry in sizes.items():
        faiss, milvus = dig(entry, ("milvus", "faiss")), dig(entry, ("milvus", "milvus"))
        if not faiss or not milvus:
            continue
        # FAISS from the Milvus phase itself: loaded alternately with Milvus, in the same minutes.
        f1, m1, fn, mn = faiss.get("c1", {}), milvus.get("c1", {}), many_clients(faiss), many_clients(milvus)
        saved = fn.get("server_memory", {}).get("vmrss_mb", 0) - mn.get("server_memory", {}).get("vmrss_mb", 0)
        lines.append(f"Milvus at {int(size):,} passages, same run: one client p50 {m1.get('p50_ms')} ms against FAISS "
                     f"{f1.get('p50_ms')} ms (p99 {m1.get('p99_ms')} against {f1.get('p99_ms')}); "
                     f"{mn.get('concurrency')} clients {mn.get('requests_per_s')} requests/s against "
                     f"{fn.get('requests_per_s')}; the query server held {abs(saved):,.0f} MB "
                     f"{'less' if saved >= 0 else 'more'} ({abs(saved) * 2**20 / int(size):,.0f} B a passage), "
                     "the Milvus server "
                     f"{mn.get('milvus_server_memory', {}).get('vmrss_mb', NOT_MEASURED)} MB.")
    return lines or [f"Milvus beside FAISS: {NOT_MEASURED}."]


def ray_lines(results: dict) -> list[str]:
    """Say how local Ray compared with the in-process build, and after how many passages it would pay."""
    ray = results.get("ray")
    if not ray:
        return [f"Ray beside in process: {NOT_MEASURED}."]
    sample, inside, out = str(ray["sample_passages"]), ray["in_process"], ray["ray"]
    line = (f"Ray, local, {ray['ray_cpus']} CPUs, {sample} passages: {out[sample].get('passages_per_s')} passages/s "
            f"against {inside[sample].get('passages_per_s')} in process; once running "
            f"{out.get('passages_per_s_once_running')} against {inside.get('passages_per_s_once_running')}, "
            f"after {out.get('fixed_s')} s to start against {inside.get('fixed_s')} s.")
    r_ray, r_in = out.get("passages_per_s_once_running"), inside.get("passages_per_s_once_running")
    if r_ray and r_in and out.get("fixed_s") is not None and inside.get("fixed_s") is not None:
        if r_ray > r_in:
            even = (out["fixed_s"] - inside["fixed_s"]) / (1 / r_in - 1 / r_ray)
            line += f" At these rates Ray would pay beyond about {even:,.0f} passages (arithmetic, not measured)."
        else:
            line += f" At these rates it does not pay on {ray['ray_cpus']} local CPUs (arithmetic, not measured)."
    return [line]


def main(argv: list[str] | None = None) -> None:
    """Print the sizing table and the Milvus and Ray comparisons from the results files given."""
    p = argparse.ArgumentParser(prog="python -m bench.sizing", description=__doc__.split("\n\n")[0])
    p.add_argument("results", type=Path, nargs="+", help="results JSON files of python -m bench")
    args = p.parse_args(argv)
    missing = [str(path) for path in args.results if not path.is_file()]
    if missing:
        sys.exit(f"bench.sizing: no results file at {', '.join(missing)}; run python -m bench --out FILE first")
    results = merged(args.results)
    print(one_box_table(results))
    print("\n" + "\n".join(f"- {line}" for line in milvus_lines(results["sizes"]) + ray_lines(results)))


if __name__ == "__main__":
    main()
