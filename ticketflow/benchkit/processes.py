"""The benchmark's child processes: the API, the ticketflow worker and the bare worker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

import psutil

from ticketflow.devstack.errors import DevStackError

_STOP_GRACE_S = 10.0
_TAIL_LINES = 30


class BenchError(DevStackError):
    """The benchmark could not run to its end; the message says what failed."""


class Child:
    """One child process in a session of its own, its output kept in a log file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    @classmethod
    async def start(
        cls, name: str, command: Sequence[str], *, env: Mapping[str, str], cwd: Path
    ) -> Child:
        log_path = cwd / f"{name}.log"
        with log_path.open("wb") as log:
            # Own session: a Ctrl-C in the terminal reaches only the bench, which then stops
            # its children in order (API, workers, servers).
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, process, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_bytes(self) -> int:
        """Resident set size of the process and its own processes (a supervisor's) now."""
        self.check_alive()
        root = psutil.Process(self.pid)
        return sum(process.memory_info().rss for process in [root, *root.children(recursive=True)])

    def check_alive(self) -> None:
        """Raise BenchError, with the end of its log, if the process has exited."""
        code = self.process.returncode
        if code is not None:
            raise BenchError(f"the {self.name} exited with code {code}:\n{self.log_tail()}")

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, grace: float = _STOP_GRACE_S) -> None:
        """SIGTERM its process group, wait up to `grace` seconds, then SIGKILL."""
        if self.process.returncode is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
                return
            except TimeoutError:
                _signal_group(self.pid, signal.SIGKILL)
        await self.process.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # it exited between the check and the signal
        os.killpg(pid, sig)
