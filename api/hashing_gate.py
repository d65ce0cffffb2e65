"""A bound on how many password hashes run at once in this process.

Argon2 as configured takes 64 MiB of memory per hash or verification. Without a bound, a
burst of logins (a spray, or just a busy morning) runs one per thread of the pool at once,
and memory, not the rate limits, decides when the process falls over. Through the gate the
attempts queue instead: at most `limit` run, the others wait their turn on the event loop,
holding no memory and no thread.

The gate is per process (as the memory it protects is) and keeps one semaphore per event
loop, since an asyncio semaphore belongs to the loop it first waits on (the API runs one
loop; tests and the command line may run several in turn).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

DEFAULT_LIMIT = 2

T = TypeVar("T")


class HashingGate:
    """Runs blocking hash work in a thread, at most `limit` at a time per event loop."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._semaphores: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Semaphore
        ] = weakref.WeakKeyDictionary()
        self.running = 0
        # The most ever running at once since the last `reset_peak` (for metrics and tests).
        self.peak = 0

    @property
    def limit(self) -> int:
        return self._limit

    def configure(self, limit: int) -> None:
        """A new bound; it applies to the waits that start from now on."""
        if limit < 1:
            raise ValueError("the password hashing bound must be at least 1")
        self._limit = limit
        self._semaphores = weakref.WeakKeyDictionary()

    def reset_peak(self) -> None:
        self.peak = self.running

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self._limit)
        return semaphore

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """`work(*args)` in a worker thread, once a place under the bound is free."""
        async with self._semaphore():
            self.running += 1
            self.peak = max(self.peak, self.running)
            try:
                return await _in_thread(work, *args)
            finally:
                self.running -= 1


def _in_thread(work: Callable[..., T], *args: object) -> Awaitable[T]:
    return asyncio.to_thread(work, *args)


# The process's one gate; `create_app` sets its bound from TICKETFLOW_PASSWORD_HASH_CONCURRENCY.
password_hashing = HashingGate()
