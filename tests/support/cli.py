"""Run `ticketflow ...` as a real child process, the way a user or CI does."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

# Settings a developer's shell or `.env` might carry that would change what a test sees; and
# every TEMPORAL_* variable (a cluster's address, TLS, API key, profile).
_SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "JWT_SECRET",
    "JWT_PREVIOUS_SECRETS",
    "TICKETFLOW_LINK_SECRET",
    "TICKETFLOW_LINK_PREVIOUS_SECRETS",
    "TICKETFLOW_TASK_QUEUE",
    "TICKETFLOW_PUBLIC_URL",
    "TICKETFLOW_ADMIN_EMAIL",
    "TICKETFLOW_ADMIN_PASSWORD",
    "TICKETFLOW_LANGUAGE",
    "TICKETFLOW_PAYLOAD_KEYS",
    "TICKETFLOW_CODEC_CORS_ORIGINS",
    "TICKETFLOW_CORS_ORIGINS",
    "TICKETFLOW_METRICS_TOKEN",
    "TICKETFLOW_QUOTA_TICKETS_PER_HOUR",
    "TICKETFLOW_QUOTA_UPLOAD_MB_PER_HOUR",
    "TICKETFLOW_WORKER_HEALTH_PORT",
)


def cli_command(*args: str) -> list[str]:
    """`ticketflow <args>` through this interpreter (works without the console script)."""
    return [sys.executable, "-m", "ticketflow.cli", *args]


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without ticketflow or Temporal settings, plus `overrides`.

    The user's Temporal profile file is kept out too (an empty one instead).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SETTINGS_VARIABLES and not k.startswith("TEMPORAL_")
    }
    env["TEMPORAL_CONFIG_FILE"] = os.devnull
    env.update(overrides)
    return env


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def run_cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, stdin: bytes | None = None
) -> Completed:
    """Run the CLI to completion; `cwd` should hold no `.env` the test does not expect.

    Bound it with `asyncio.timeout`: a cancelled run kills the child.
    """
    process = await asyncio.create_subprocess_exec(
        *cli_command(*args),
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await process.communicate(stdin)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Completed(process.returncode, stdout.decode(), stderr.decode())


class RunningCli:
    """A long-running CLI command (e.g. `dev`): read its stdout, signal it, collect it."""

    def __init__(self, process: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.process = process
        self.stderr_path = stderr_path
        self.stdout_lines: list[str] = []

    @classmethod
    async def start(cls, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> RunningCli:
        # stderr goes to a file: nobody reads it while the command runs, and a full
        # pipe would block the child.
        stderr_path = cwd / f"stderr-{os.getpid()}-{id(args)}.log"
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *cli_command(*args),
                cwd=cwd,
                env=dict(env) if env is not None else clean_env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        return cls(process, stderr_path)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def wait_for_line(self, fragment: str) -> str:
        """The first stdout line containing `fragment`; fails if the process exits first."""
        while True:
            line = await self._read_line()
            if line is None:
                raise AssertionError(
                    f"exited ({self.process.returncode}) before printing {fragment!r}; "
                    f"stderr:\n{self.stderr[-4000:]}"
                )
            if fragment in line:
                return line

    async def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send `sig`, read the remaining output and return the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        while await self._read_line() is not None:
            pass
        return await self.process.wait()

    async def kill(self, grace: float = 30.0) -> None:
        """Last resort for a test that failed half-way: never leave the process behind.

        SIGTERM first, so that the servers it started (in sessions of their own, out of
        reach of a SIGKILL to it) get stopped too.
        """
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def _read_line(self) -> str | None:
        assert self.process.stdout is not None
        raw = await self.process.stdout.readline()
        if not raw:
            await self.process.wait()
            return None
        line = raw.decode(errors="replace")
        self.stdout_lines.append(line)
        return line


async def until_pollers(client: Client, queue: str, count: int = 1, *, pid: int = 0) -> None:
    """Until `count` distinct workers poll `queue` for workflow tasks, one of them the
    process `pid` if given (the server lists a dead worker's polls for a while)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    while True:
        described = await client.workflow_service.describe_task_queue(request)
        identities = {poller.identity for poller in described.pollers}
        # A worker's default identity is `<pid>@<host>`.
        if len(identities) >= count and (
            not pid or any(i.startswith(f"{pid}@") for i in identities)
        ):
            return
        await asyncio.sleep(0.2)
