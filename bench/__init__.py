"""Benchmarks of docsearch, run by hand (see bench/README.md); none of this is a test.

``python -m bench`` measures indexing speed, query latency, HTTP load, memory and
disk on passages made from SciFact, where a query's time goes, Milvus and Ray beside
one box, and passages not embedded again, with txtai beside it. Modules, one concern each:

- ``run``: the command line and the phases it runs, in order
- ``phases``: what a phase is and what every phase is handed (``Run``, ``Corpus``)
- ``machine``: the progress clock and facts about this machine
- ``inputs`` and ``precomputed``: passages, queries and precomputed vectors from SciFact
- ``speed``, ``build``, ``querying``, ``recall``, ``http_load``, ``footprint``, ``txtai_phase``:
  the measurements; ``txtai_peer`` runs in txtai's own process
- ``stages`` and ``http_path`` (where a query's time goes), ``milvus_phase``, ``ray_phase`` and
  ``dedup`` (also by hand): issue 16's measurements
- ``latency``, ``report`` and ``tables``: summaries of latencies and the Markdown tables
- ``sizing``: the README's Scaling out table from results files
- ``tune_hybrid`` and ``tune_bm25``: tuning of fusion and BM25 on a BEIR split
- ``metrics_cost``: what /metrics costs the query path (standalone, not a phase of ``run``)

Nothing is imported here: ``txtai_peer`` may run in an environment without docsearch.
"""
