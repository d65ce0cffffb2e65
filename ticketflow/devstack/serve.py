"""Run a worker and/or the API until SIGINT/SIGTERM, then stop them in order.

Shared by `ticketflow dev` and the production `ticketflow api` / `ticketflow worker`.
Order on shutdown: the API first (no request reaches a worker that is going away), then
the worker (it finishes its current tasks), then the caller stops the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Coroutine, Generator, Iterator
from typing import TYPE_CHECKING, Any

import uvicorn

from ticketflow.devstack.errors import DevStackError

if TYPE_CHECKING:
    from temporalio.worker import Worker

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """SIGINT/SIGTERM handling for one process run.

    While starting up, a signal cancels the main task, so the `async with`/`finally`
    blocks that started servers stop them. While serving, it sets `requested`; a second
    signal calls the `force` callback (e.g. uvicorn stops waiting for open connections).
    """

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self._main = asyncio.current_task()
        self._serving = False
        self._force: Callable[[], None] | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """Handle the signals inside the block; restore the default handlers after it."""
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self._on_signal)
        try:
            yield self
        finally:
            for sig in _SIGNALS:
                loop.remove_signal_handler(sig)

    def serving(self, force: Callable[[], None] | None = None) -> None:
        """From now on a signal asks for a graceful stop instead of cancelling startup."""
        self._serving = True
        self._force = force

    def _on_signal(self) -> None:
        if not self._serving:
            if self._main is not None:
                self._main.cancel()
            return
        if self.requested.is_set() and self._force is not None:
            self._force()
        self.requested.set()


class ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: `StopSignals` decides when it stops.

    Nor with its own reading of X-Forwarded-For (by default it believes 127.0.0.1): the app
    believes only TICKETFLOW_TRUSTED_PROXIES (api.app).
    """

    def __init__(self, config: uvicorn.Config) -> None:
        config.proxy_headers = False
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn would swap in its handlers and re-raise the signal after shutdown,
        # which would turn a clean Ctrl-C into a KeyboardInterrupt traceback.
        yield

    def force_stop(self) -> None:
        self.force_exit = True

    async def serve_or_fail(self) -> None:
        """`serve()`, with uvicorn's `sys.exit` on startup failure made an ordinary error."""
        try:
            await self.serve()
        except SystemExit as exit_:
            raise DevStackError(
                f"the API failed to start (exit code {exit_.code}); see the log above"
            ) from None


async def serve(
    stop: StopSignals,
    *,
    worker: Worker | None = None,
    api: ApiServer | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run `worker` and `api` until a stop signal or until one of them fails.

    `on_ready` runs once the API listens (at once without an API). A failure of either
    is re-raised after both have stopped.
    """
    api_task = _task(api.serve_or_fail(), "api") if api is not None else None
    worker_task = _task(worker.run(), "worker") if worker is not None else None
    running = [task for task in (api_task, worker_task) if task is not None]
    stop.serving(force=api.force_stop if api is not None else None)
    stop_wait = _task(stop.requested.wait(), "stop-signal")
    ready = _task(_announce_when_ready(api, on_ready), "ready")
    try:
        await asyncio.wait([*running, stop_wait], return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
        stop_wait.cancel()
        if api is not None and api_task is not None:
            api.should_exit = True
            await asyncio.wait([api_task])
        if worker is not None and worker_task is not None:
            if not worker_task.done():
                await worker.shutdown()
            await asyncio.wait([worker_task])
    for task in running:
        error = task.exception()
        if error is not None:
            raise error


def _task(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    return asyncio.create_task(coro, name=name)


async def _announce_when_ready(api: ApiServer | None, on_ready: Callable[[], None] | None) -> None:
    if on_ready is None:
        return
    if api is not None:
        await api.listening.wait()
    on_ready()
