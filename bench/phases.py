"""What a phase of the benchmark is, and what every phase is handed.

A phase measures one thing and returns a JSON-ready dict, which the run stores
under the phase's key and writes to the results file at once, so a crash keeps
what was measured. Run phases measure once (``measure(run)``); size phases
measure each corpus size (``measure(run, corpus)``) in the order they are listed.
To add a measurement: write its module, add a Phase to ``bench.run``'s lists,
and, if it has a table, a section to ``bench.report``.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .inputs import Inputs
    from .machine import Clock

K = 10  # results asked for per query, in every phase and by the txtai peer
# Sent before a phase's timed queries: the first query of a process pays for lazy set-up.
WARMUP_QUERIES = ("warm-up question about cells", "warm-up question about proteins", "warm-up question on trials")


@dataclass
class Run:
    """What every phase shares: the options, the progress clock, the inputs and the results so far."""

    args: argparse.Namespace
    clock: Clock
    inputs: Inputs
    results: dict

    def save(self) -> None:
        """Write the results so far as JSON."""
        path = self.args.out
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.results, indent=2, default=str) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Corpus:
    """One corpus size: its first ``size`` passages, whether their vectors are precomputed, where its index goes."""

    size: int
    precomputed: bool
    index_dir: Path

    @property
    def label(self) -> str:
        """Return the name progress lines give this size."""
        return f"size {self.size}"

    @property
    def embeddings(self) -> str:
        """Return how the passages are embedded, as the report says it."""
        return "precomputed" if self.precomputed else "real"


@dataclass(frozen=True)
class Phase:
    """A measurement: its key in the results, the option that leaves it out (if any), and the function."""

    key: str
    measure: Callable[..., dict]
    skip: str | None = None  # the name of a --skip-... option, as argparse stores it

    def wanted(self, args: argparse.Namespace) -> bool:
        """Tell whether this run asked for the phase."""
        return not (self.skip and getattr(args, self.skip))


def run_once(run: Run, phases: tuple[Phase, ...]) -> None:
    """Measure each wanted run phase and save after each."""
    for phase in phases:
        if phase.wanted(run.args):
            run.results[phase.key] = phase.measure(run)
            run.save()


def run_per_size(run: Run, phases: tuple[Phase, ...]) -> None:
    """Measure each corpus size with every wanted size phase, saving after each."""
    from .machine import warn_if_busy

    sizes = run.results.setdefault("sizes", {})
    for size in run.args.sizes:
        precomputed = size > run.args.real_up_to
        corpus = Corpus(size, precomputed, run.args.work_dir / f"docsearch-{size}{'-precomputed' if precomputed else ''}")
        warn_if_busy(run.clock)
        found = sizes[str(size)] = {"size": size, "load_average_at_start": os.getloadavg()}
        for phase in phases:
            if phase.wanted(run.args):
                found[phase.key] = phase.measure(run, corpus)
                run.save()
