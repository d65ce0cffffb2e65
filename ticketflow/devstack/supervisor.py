"""`--processes N`: N copies of one ticketflow process, started, watched and stopped together.

One Python process runs on one core at a time (its event loop, and a worker's workflow code
under the GIL), so neither the API nor a worker can use a bigger machine alone.

- `ticketflow api --processes N` binds the port and hands the socket to N ordinary
  `ticketflow api` processes; the kernel spreads connections among them.
- `ticketflow worker --processes N` runs N ordinary workers on the same task queue; Temporal
  spreads tasks among them and keeps each ticket's tasks on the process that has it cached.

SIGINT or SIGTERM stops them all. A process that dies stops the others: a half-served port or
a half-staffed queue would hide the failure. For the same reason the workers' health check is
answered here, for all of them: 200 while every worker process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence

from ticketflow.devstack.serve import StopSignals
from ticketflow.health import health_endpoint
from ticketflow.settings import WORKER_HEALTH_PORT_VARIABLE

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


async def serve_worker_processes(
    *, processes: int, flags: Sequence[str] = (), health_port: int | None = None
) -> int:
    """Run `processes` workers until a stop signal (0) or a failure (1).

    With `health_port`, this process answers the health check; the workers are told to
    leave it alone (an empty value wins over a `.env` file), or they would all bind it.
    """
    env = {**os.environ, WORKER_HEALTH_PORT_VARIABLE: ""}
    return await supervise(_cli("worker", *flags), processes, env=env, health_port=health_port)


async def supervise(
    command: Sequence[str],
    processes: int,
    *,
    pass_fds: Sequence[int] = (),
    env: Mapping[str, str] | None = None,
    health_port: int | None = None,
    started: Callable[[], None] = lambda: None,
) -> int:
    """Run `processes` copies of `command` until a stop signal (0) or until one ends (1).

    `started` runs once every copy is started, or starting failed. With `health_port`,
    `GET /health` answers 200 while every copy runs.
    """
    children: list[asyncio.subprocess.Process] = []

    def all_running() -> bool:
        return len(children) == processes and all(c.returncode is None for c in children)

    async with health_endpoint(health_port, all_running):
        return await _supervise(command, processes, children, pass_fds, env, started)


async def _supervise(
    command: Sequence[str],
    processes: int,
    children: list[asyncio.subprocess.Process],
    pass_fds: Sequence[int],
    env: Mapping[str, str] | None,
    started: Callable[[], None],
) -> int:
    with StopSignals().installed() as stop:
        try:
            for _ in range(processes):
                children.append(await _start(command, pass_fds, env))
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


async def _start(
    command: Sequence[str], pass_fds: Sequence[int], env: Mapping[str, str] | None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *command, pass_fds=tuple(pass_fds), env=None if env is None else dict(env)
    )


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
