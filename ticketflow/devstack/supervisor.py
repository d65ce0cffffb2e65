"""`--processes N`: N copies of one ticketflow process, started, watched and stopped together.

One Python process runs on one core at a time (its event loop, and a worker's workflow code
under the GIL), so neither the API nor a worker can use a bigger machine alone.

- `ticketflow api --processes N` binds the port and hands the socket to N ordinary
  `ticketflow api` processes; the kernel spreads connections among them.
- `ticketflow worker --processes N` runs N ordinary workers on the same task queue; Temporal
  spreads tasks among them and keeps each ticket's tasks on the process that has it cached.

SIGINT or SIGTERM stops them all. A process that dies stops the others: a half-served port or
a half-staffed queue would hide the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Callable, Sequence

from ticketflow.devstack.serve import StopSignals

_STOP_TIMEOUT_S = 30.0
_BACKLOG = 2048


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ticketflow.cli", *args]


async def serve_api_processes(
    *, host: str, port: int, processes: int, flags: Sequence[str] = ()
) -> int:
    """Serve the API from `processes` processes until a stop signal (0) or a failure (1)."""
    listener = socket.create_server((host, port), backlog=_BACKLOG)
    fd = listener.fileno()
    command = _cli("api", "--fd", str(fd), *flags)
    # Once the processes hold the socket, this one never accepts on it.
    return await supervise(command, processes, pass_fds=(fd,), started=listener.close)


async def serve_worker_processes(*, processes: int, flags: Sequence[str] = ()) -> int:
    """Run `processes` workers until a stop signal (0) or a failure (1)."""
    return await supervise(_cli("worker", *flags), processes)


async def supervise(
    command: Sequence[str],
    processes: int,
    *,
    pass_fds: Sequence[int] = (),
    started: Callable[[], None] = lambda: None,
) -> int:
    """Run `processes` copies of `command` until a stop signal (0) or until one ends (1).

    `started` runs once every copy is started, or starting failed.
    """
    with StopSignals().installed() as stop:
        try:
            children = [await _start(command, pass_fds) for _ in range(processes)]
        finally:
            started()
        stop.serving()
        stopped = asyncio.create_task(stop.requested.wait())
        exits = [asyncio.create_task(child.wait()) for child in children]
        await asyncio.wait([stopped, *exits], return_when=asyncio.FIRST_COMPLETED)
        # Woken by a process that ended on its own, not by a stop signal (which a Ctrl-C also
        # delivers to the processes, and which may find one still starting up).
        failed = not stop.requested.is_set()
        stopped.cancel()
        stopped_in_time = await _stop_all(children)
    return 0 if stopped_in_time and not failed else 1


async def _start(command: Sequence[str], pass_fds: Sequence[int]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*command, pass_fds=tuple(pass_fds))


async def _stop_all(children: Sequence[asyncio.subprocess.Process]) -> bool:
    """SIGTERM every process still running; whether all of them ended within the timeout."""
    for child in children:
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
    waiting = asyncio.gather(*(child.wait() for child in children))
    try:
        await asyncio.wait_for(waiting, _STOP_TIMEOUT_S)
    except TimeoutError:
        for child in children:
            if child.returncode is None:
                child.kill()
        await asyncio.gather(*(child.wait() for child in children))
        return False
    return True
