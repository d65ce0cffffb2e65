"""Where the time goes: CPU seconds each process of the stack spends in a phase.

On a small machine every process competes for the same cores, so a figure is explained by
how much CPU each operation costs, and in which process.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress

import psutil

from ticketflow.benchkit.stats import CpuUse


def _own_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _tree_seconds(root: psutil.Process) -> float:
    """A server and its workers (PostgreSQL backends), exited ones included once reaped."""
    times = root.cpu_times()
    total = float(times.user + times.system + times.children_user + times.children_system)
    for child in root.children():
        with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += _own_seconds(child)
    return total


class CpuMeter:
    """Reads the CPU counters of named processes; `trees` count their children too."""

    def __init__(
        self, processes: Mapping[str, psutil.Process], trees: Mapping[str, psutil.Process]
    ) -> None:
        self.processes = dict(processes)
        self.trees = dict(trees)

    def read(self) -> CpuUse:
        seconds: dict[str, float] = {}
        for name, process in self.processes.items():
            with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                seconds[name] = _own_seconds(process)
        for name, root in self.trees.items():
            with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                seconds[name] = _tree_seconds(root)
        return CpuUse(seconds)


def temporal_server() -> psutil.Process | None:
    """The Temporal dev server: the child of this process running the `temporal` binary."""
    for child in psutil.Process().children():
        with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if child.name() == "temporal":
                return child
    return None


def postmaster_of(backend_pid: int) -> psutil.Process | None:
    """The PostgreSQL server a backend belongs to, if it runs on this machine."""
    try:
        return psutil.Process(backend_pid).parent()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
