"""The progress clock and facts about the machine a run measures on."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

PACKAGES = ("docsearch", "torch", "transformers", "sentence-transformers", "faiss-cpu", "numpy", "onnxruntime",
            "waitress", "flask", "txtai")


class Clock:
    """Print one flushed progress line per step, with the time since the run began."""

    def __init__(self):
        self.began = time.perf_counter()

    def say(self, phase: str, message: str) -> None:
        """Print a progress line for phase."""
        print(f"[{self.elapsed():8.1f}s] {phase}: {message}", flush=True)

    def elapsed(self) -> float:
        """Return the seconds since the run began."""
        return time.perf_counter() - self.began


def usable_cores() -> int:
    """Return how many cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine_facts() -> dict:
    """Return the cores, CPU model, memory and load of this machine."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def _cpu_model() -> str:
    """Return the CPU's model name ("" where /proc/cpuinfo does not say)."""
    try:
        with open("/proc/cpuinfo") as info:
            return next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        return ""


def _meminfo_kb(key: str) -> int:
    """Return one /proc/meminfo value in kB (0 where unavailable)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def warn_if_busy(clock: Clock) -> None:
    """Say so when other work keeps the cores busy: every figure would be slow and noisy."""
    load, cores = os.getloadavg()[0], usable_cores()
    if load > 0.5 * cores:
        clock.say("warning", f"load average {load:.1f} on {cores} cores: other work is running, so figures will be "
                             "slow and noisy (torch's threads slow down many times over when cores are contended)")


def torch_threads() -> int:
    """Return how many threads torch uses for one forward pass in this process."""
    import torch

    return torch.get_num_threads()


def package_versions() -> dict:
    """Return the installed versions of the packages that matter here (None for those missing)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
