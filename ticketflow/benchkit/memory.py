"""What a worker holds: its resident memory and how many workflows are parked on its queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil
from temporalio.client import Client

from ticketflow.benchkit.processes import Child

_SETTLE_POLL_S = 0.5
_COUNT_ATTEMPTS = 40


@dataclass(frozen=True)
class Reading:
    rss: int
    running: int


async def read(worker: Child, client: Client, task_queue: str) -> Reading:
    """The worker's RSS and the number of running workflows on its task queue."""
    running = await running_workflows(client, task_queue)
    return Reading(rss=worker.rss_bytes(), running=running)


async def running_workflows(client: Client, task_queue: str) -> int:
    """Running workflows on `task_queue`, once visibility has caught up (two equal counts)."""
    query = f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    last = -1
    for _ in range(_COUNT_ATTEMPTS):
        count = (await client.count_workflows(query)).count
        if count == last:
            break
        last = count
        await asyncio.sleep(_SETTLE_POLL_S)
    return last


async def quiesce(
    children: Sequence[Child], *, idle_percent: float = 10.0, at_most: float = 30.0
) -> float:
    """Wait until every child uses under `idle_percent` of a core; return the seconds waited.

    Run between phases so that one side's backlog (e.g. workflow tasks of tickets the API
    has already answered for) does not slow down the other side's measurement.
    """
    started = time.monotonic()
    roots = [psutil.Process(child.pid) for child in children]
    # A supervisor (the API's, with several processes) is idle while its processes work.
    processes = roots + [process for root in roots for process in root.children(recursive=True)]
    for process in processes:
        process.cpu_percent(None)  # the first call only starts the measurement window
    while time.monotonic() - started < at_most:
        await asyncio.sleep(_SETTLE_POLL_S)
        busiest = max(process.cpu_percent(None) for process in processes)
        if busiest < idle_percent:
            break
    return time.monotonic() - started
