"""`ticketflow api --processes N`: N API processes serving one listening socket.

One Python process runs its event loop on one core, so an API alone cannot use a bigger
machine. The supervisor binds the port, hands the socket to N ordinary `ticketflow api`
processes (the kernel spreads connections among them) and stops them all on SIGINT/SIGTERM.
A process that dies stops the others: a half-served port would hide the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Sequence

from ticketflow.devstack.serve import StopSignals

_STOP_TIMEOUT_S = 30.0
_BACKLOG = 2048


async def serve_api_processes(
    *, host: str, port: int, processes: int, flags: Sequence[str] = ()
) -> int:
    """Serve until a stop signal (exit code 0) or until a process fails (1)."""
    listener = socket.create_server((host, port), backlog=_BACKLOG)
    with StopSignals().installed() as stop:
        try:
            children = [await _start(listener, flags) for _ in range(processes)]
        finally:
            listener.close()  # the children hold the socket now; this process never accepts
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


async def _start(listener: socket.socket, flags: Sequence[str]) -> asyncio.subprocess.Process:
    fd = listener.fileno()
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ticketflow.cli", "api", "--fd", str(fd), *flags, pass_fds=(fd,)
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
