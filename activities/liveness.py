"""Heartbeats that let Temporal notice a worker that died in the middle of a send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from temporalio import activity

# Several beats per heartbeat timeout, so one late beat on a busy worker is not a death.
BEATS_PER_TIMEOUT = 4


@asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat while the body runs, if the activity has a heartbeat timeout.

    A provider slow to answer keeps an attempt open; if the worker dies meanwhile, the next
    attempt starts a heartbeat timeout later instead of a whole start-to-close timeout later.
    """
    timeout = activity.info().heartbeat_timeout
    if not timeout:
        yield
        return
    interval = timeout.total_seconds() / BEATS_PER_TIMEOUT

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(interval)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating
