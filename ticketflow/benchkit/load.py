"""Closed-loop load: a fixed number of operations, at most `concurrency` in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Operation = Callable[[int], Awaitable[None]]


async def run_batch(count: int, concurrency: int, operation: Operation, *, within: float) -> float:
    """Run `operation(0) … operation(count - 1)`, `concurrency` at a time; return wall seconds.

    The first failure cancels the rest and is raised as itself (not as an ExceptionGroup);
    `within` (seconds) bounds the whole batch.
    """
    indexes = iter(range(count))

    async def lane() -> None:
        # All lanes share one iterator: each takes the next index as soon as it is free.
        for index in indexes:
            await operation(index)

    started = time.perf_counter()
    try:
        async with asyncio.timeout(within), asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, count)):
                group.create_task(lane())
    except BaseExceptionGroup as failed:
        raise first_error(failed) from None
    return time.perf_counter() - started


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first exception a task group collected, out of any nesting."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
