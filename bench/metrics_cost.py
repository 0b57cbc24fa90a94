"""What /metrics costs the query path: the same searches through the app with and without metrics.

A by-hand measurement, not a test. Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.metrics_cost                 # .docsearch, built from docs_corpus if missing
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.metrics_cost --index-dir DIR --rounds 401 [--control]

One process, one loaded index and model, two apps that differ only in ``metrics`` (the
access log is off in both). Each round sends every question once through each app's
WSGI interface (no sockets, so only the app's own work is timed), the two apps in a
random order; the figure is the median over rounds of (time with metrics) / (time
without). Every question is embedded before timing, so each search is answered from the
query cache: the cheapest search there is, against which a fixed cost per request weighs
most. Time is this process's CPU time (one thread does the work: the model and FAISS
are set to one thread, as `docsearch serve` sets them), so time spent waiting for a core
that other work holds is not counted; interleaving and the median keep the ratio honest
on a machine others share.
The same is done with /healthz (no search at all), which shows the fixed cost of the
metrics' request hooks per request in microseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "docs_questions.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path(".docsearch"),
                        help="index to search (built from --corpus if there is none)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "docs_corpus")
    parser.add_argument("--rounds", type=int, default=101, help="rounds of every question through each app")
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "dense", "lexical"))
    parser.add_argument("--control", action="store_true",
                        help="compare two apps that both lack metrics: the method's own noise (expect 1.00)")
    return parser.parse_args()


def questions() -> list[str]:
    """Return the docs_corpus questions, answerable and not."""
    found = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    return [item["question"] if isinstance(item, dict) else item for group in found.values() for item in group]


def apps(index_dir: Path, control: bool = False):
    """Return the apps without and with metrics (with control, both without) over one loaded Searcher."""
    from docsearch.index.embed import set_threads
    from docsearch.search import create_app
    from docsearch.search.config import Config
    from docsearch.search.engine import Searcher

    set_threads(1)  # as `docsearch serve` does
    searcher = Searcher.load(index_dir)
    made = {}
    for name, metrics in (("without", False), ("with", not control)):
        config = Config.load({"index_dir": index_dir, "metrics": metrics, "access_log": False}, environ={})
        app = create_app(config, encoder=searcher.encoder)
        app.extensions["docsearch"]["searcher"] = searcher
        made[name] = app.test_client()
    return made


def one_round(client, urls: list[str]) -> float:
    """Send every URL once and return the CPU seconds taken."""
    began = time.process_time()
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    return time.process_time() - began


def main() -> None:
    args = parse_args()
    from urllib.parse import urlencode

    if not (args.index_dir / "CURRENT").exists():
        from docsearch.index import build_index

        print(f"building an index of {args.corpus} in {args.index_dir}", file=sys.stderr)
        build_index(args.corpus, args.index_dir)
    clients = apps(args.index_dir, args.control)
    urls = [f"/api/search?{urlencode({'q': q, 'k': 10, 'mode': args.mode})}" for q in questions()]
    for client in clients.values():
        one_round(client, urls)  # embeds every question once: the cache answers from here on
    searches = interleaved(clients, urls, args.rounds)
    if not args.control:
        counted = clients["with"].application.extensions["docsearch"]["metrics"].registry.get_sample_value(
            "docsearch_http_requests_total", {"endpoint": "api.search", "status": "200"})
        assert counted == len(urls) * (args.rounds + 1), counted  # the metrics were really kept
    health = interleaved(clients, ["/healthz"] * 200, args.rounds)
    run_as = ["-m", __spec__.name] if __spec__ is not None else [sys.argv[0]]
    print(f"command: {' '.join([Path(sys.executable).name, *run_as, *sys.argv[1:]])}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end")
    report(f"{len(urls)} {args.mode} searches (query cache warm)", searches, len(urls), args.rounds)
    report("200 requests to /healthz (no search)", health, 200, args.rounds)
    fixed = (statistics.median(health["with"]) - statistics.median(health["without"])) / 200 * 1e6
    search = statistics.median(searches["without"]) / len(urls) * 1e6
    print(f"fixed cost of the metrics hooks: {fixed:.1f} us a request, {fixed / search:.2%} of a warm search "
          f"({search / 1000:.3f} ms)")


def interleaved(clients: dict, urls: list[str], rounds: int) -> dict[str, list[float]]:
    """Return each app's time per round, the apps taking turns in a random order each round."""
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(times)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            times[name].append(one_round(clients[name], urls))
    return times


def report(what: str, times: dict[str, list[float]], requests: int, rounds: int) -> None:
    """Print the median time per request with and without metrics, and the median of the rounds' ratios."""
    ratios = [w / wo for w, wo in zip(times["with"], times["without"])]
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"{rounds} interleaved rounds of {what}: per request {statistics.median(times['without']) / requests * 1000:.3f}"
          f" ms without metrics, {statistics.median(times['with']) / requests * 1000:.3f} ms with; with / without, "
          f"median of the rounds' ratios {statistics.median(ratios):.4f} (quartiles {quartiles[0]:.4f} to "
          f"{quartiles[2]:.4f})")


if __name__ == "__main__":
    main()
