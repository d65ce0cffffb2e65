"""The throw-away stack one benchmark run measures: servers, database, seed, three processes.

Everything lives in one temporary directory and is torn down, in reverse order, when the
`running_stack` block exits, whether it ends normally, fails or is cancelled (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from security.payload_codec import PayloadKeys, new_key_line
from ticketflow.benchkit.load import first_error
from ticketflow.benchkit.processes import BenchError, Child
from ticketflow.devstack.ports import free_port
from ticketflow.devstack.postgres import EmbeddedPostgres, create_database, drop_database
from ticketflow.devstack.temporal_server import TemporalDevServer
from ticketflow.settings import Settings

T = TypeVar("T")

HOST = "127.0.0.1"
READY_TIMEOUT_S = 90.0
API_PROCESSES = 2  # as a deployment runs them: about one process per core
WORKER_PROCESSES = 2  # ticketflow's, and as many bare ones
_POLL_S = 0.2
# Variables of ours a developer's shell may carry; the children get the bench's values only.
# A user's Temporal cluster settings (TLS, API key, profile) are not for the bench's local
# server: every TEMPORAL_* variable is dropped too.
_OWN_VARIABLES = ("DATABASE_URL", "JWT_SECRET")
_OWN_PREFIXES = ("TICKETFLOW_", "TEMPORAL_")


@dataclass(frozen=True)
class Stack:
    """What the load drivers talk to."""

    client: Client
    sessions: async_sessionmaker[AsyncSession]
    api_url: str
    admin_email: str
    admin_password: str
    task_queue: str
    bare_task_queue: str
    api: Child
    worker: Child
    bare_worker: Child


Say = Callable[[str], None]


@asynccontextmanager
async def running_stack(settings: Settings, say: Say) -> AsyncIterator[Stack]:
    """Start everything the bench needs; stop and delete all of it on exit."""
    async with AsyncExitStack() as exits:
        root = Path(tempfile.mkdtemp(prefix="ticketflow-bench-"))
        exits.callback(shutil.rmtree, root, True)
        say(f"stack in {root}")
        # A key of the run's own: payloads are sealed as in production, and it costs as much.
        key_line = new_key_line("bench")
        temporal = TemporalDevServer(
            root / "temporal",
            ip=HOST,
            port=free_port(HOST),
            headless=True,
            persistent=False,
            namespace=settings.temporal_namespace,
            payload_keys=PayloadKeys.parse(key_line),
        )
        client = await temporal.start()
        exits.push_async_callback(temporal.stop)
        say(f"Temporal dev server on {temporal.address}")
        database_url = await exits.enter_async_context(_scratch_database(settings, root, say))
        sessions = await _migrated_sessions(database_url, exits)
        suffix = secrets.token_hex(4)
        settings = settings.model_copy(
            update={
                "database_url": database_url,
                "temporal_address": temporal.address,
                "task_queue": f"bench-ticketflow-{suffix}",
                "jwt_secret": SecretStr(secrets.token_hex(32)),
                "link_secret": SecretStr(secrets.token_hex(32)),
                "payload_keys": SecretStr(key_line),
                "admin_password": SecretStr(secrets.token_urlsafe(16)),
            }
        )
        await _seed(sessions, client, settings)
        stack = await _start_processes(exits, root, client, sessions, settings, suffix, say)
        yield stack
        say("stopping the stack")


@asynccontextmanager
async def _scratch_database(settings: Settings, root: Path, say: Say) -> AsyncIterator[str]:
    """A fresh database: on `DATABASE_URL`'s server (dropped after), else an embedded server."""
    if settings.database_url:
        name = f"ticketflow_bench_{secrets.token_hex(4)}"
        try:
            url = await create_database(settings.database_url, name)
        except (OSError, SQLAlchemyError) as err:
            raise BenchError(
                f"cannot create a scratch database on the DATABASE_URL server: {err}; "
                "unset DATABASE_URL to use an embedded PostgreSQL"
            ) from err
        say(f"scratch database {name} on the DATABASE_URL server")
        try:
            yield url
        finally:
            await drop_database(settings.database_url, name)
        return
    server = EmbeddedPostgres(root)
    try:
        await _despite_cancellation(server.start())
        say("embedded PostgreSQL started")
        yield server.url
    finally:
        await server.stop()


async def _despite_cancellation(starting: Coroutine[Any, Any, T]) -> T:
    """Await `starting` to its end even when cancelled meanwhile, then re-raise the cancel.

    `EmbeddedPostgres.start` launches the server on a thread that a cancellation (Ctrl-C)
    does not stop: left alone, the server would come up after we gave up on it and outlive
    the bench. Waiting for it lets the caller's cleanup stop it.
    """
    task = asyncio.ensure_future(starting)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


async def _migrated_sessions(
    database_url: str, exits: AsyncExitStack
) -> async_sessionmaker[AsyncSession]:
    from persistence.db import create_engine, session_factory
    from persistence.migrate import upgrade_async

    await upgrade_async(database_url)
    engine = create_engine(database_url)
    exits.push_async_callback(engine.dispose)
    return session_factory(engine)


async def _seed(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings
) -> None:
    from api.seed.demo import seed_demo

    await seed_demo(sessions, client, settings)


async def _start_processes(
    exits: AsyncExitStack,
    root: Path,
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    suffix: str,
    say: Say,
) -> Stack:
    from workers.main import MAX_CACHED_WORKFLOWS, MAX_CONCURRENT_WORKFLOW_TASKS

    env = child_env(settings, root)
    bare_task_queue = f"bench-bare-{suffix}"
    port = free_port(HOST)
    api = await _child(
        exits,
        "api",
        _cli(
            "api", "--dev", "--host", HOST, "--port", str(port), "--processes", str(API_PROCESSES)
        ),
        env,
        root,
    )
    worker = await _child(
        exits, "worker", _cli("worker", "--processes", str(WORKER_PROCESSES)), env, root
    )
    bare_command = [
        sys.executable,
        "-m",
        "ticketflow.benchkit.bare_worker",
        "--address",
        settings.temporal_address,
        "--namespace",
        settings.temporal_namespace,
        "--task-queue",
        bare_task_queue,
        "--max-cached",
        str(MAX_CACHED_WORKFLOWS),
        "--max-workflow-tasks",
        str(MAX_CONCURRENT_WORKFLOW_TASKS),
        "--processes",
        str(WORKER_PROCESSES),
    ]
    bare_worker = await _child(exits, "bare worker", bare_command, env, root)
    api_url = f"http://{HOST}:{port}"
    try:
        # A task group, not gather: the first failure stops the other waits at once.
        async with asyncio.TaskGroup() as group:
            group.create_task(wait_for_api(api_url, api))
            for queue, child in ((settings.task_queue, worker), (bare_task_queue, bare_worker)):
                group.create_task(
                    wait_for_pollers(client, settings.temporal_namespace, queue, child)
                )
    except BaseExceptionGroup as failed:
        raise first_error(failed) from None
    say(f"API on {api_url}; workers: ticketflow pid {worker.pid}, bare pid {bare_worker.pid}")
    assert settings.admin_password is not None
    return Stack(
        client=client,
        sessions=sessions,
        api_url=api_url,
        admin_email=settings.admin_email,
        admin_password=settings.admin_password.get_secret_value(),
        task_queue=settings.task_queue,
        bare_task_queue=bare_task_queue,
        api=api,
        worker=worker,
        bare_worker=bare_worker,
    )


def _cli(*args: str) -> list[str]:
    """`ticketflow <args>` through this interpreter (no console script needed)."""
    return [sys.executable, "-m", "ticketflow.cli", *args]


def child_env(settings: Settings, root: Path) -> dict[str, str]:
    """This environment without ticketflow and Temporal settings, plus the bench stack's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _OWN_VARIABLES and not key.startswith(_OWN_PREFIXES)
    }
    # The workflow sandbox imports the workflow's modules afresh for every workflow it
    # creates. An installed package has bytecode for them (pip compiles on install); an
    # editable checkout under PYTHONDONTWRITEBYTECODE has none and would compile the source
    # each time. Keep bytecode in the bench's temp dir, as an installed deployment has it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    assert settings.database_url is not None
    assert settings.payload_keys is not None
    env.update(
        DATABASE_URL=settings.database_url,
        TEMPORAL_ADDRESS=settings.temporal_address,
        TEMPORAL_NAMESPACE=settings.temporal_namespace,
        # No such file: a profile in the user's default config file is not read either.
        TEMPORAL_CONFIG_FILE=str(root / "no-temporal-profiles.toml"),
        TICKETFLOW_TASK_QUEUE=settings.task_queue,
        TICKETFLOW_PAYLOAD_KEYS=settings.payload_keys.get_secret_value(),
        JWT_SECRET=settings.jwt_secret.get_secret_value(),
        TICKETFLOW_LINK_SECRET=settings.link_secret.get_secret_value(),
        PYTHONUNBUFFERED="1",
    )
    return env


async def _child(
    exits: AsyncExitStack, name: str, command: list[str], env: dict[str, str], root: Path
) -> Child:
    # cwd is the temp dir: no developer `.env` there to change what the child reads.
    child = await Child.start(name, command, env=env, cwd=root)
    exits.push_async_callback(child.stop)
    return child


async def wait_for_api(api_url: str, api: Child) -> None:
    """Until `GET /ready` answers 200 (the API reaches PostgreSQL and Temporal)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient(base_url=api_url, timeout=5.0) as http:
        while True:
            api.check_alive()
            try:
                if (await http.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the API was not ready within {READY_TIMEOUT_S:.0f}s:\n{api.log_tail()}"
                )
            await asyncio.sleep(_POLL_S)


async def wait_for_pollers(client: Client, namespace: str, task_queue: str, worker: Child) -> None:
    """Until a worker polls `task_queue` for workflow tasks."""
    request = DescribeTaskQueueRequest(
        namespace=namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        worker.check_alive()
        described = await client.workflow_service.describe_task_queue(request)
        if described.pollers:
            return
        if time.monotonic() > deadline:
            raise BenchError(
                f"the {worker.name} did not poll {task_queue!r} within {READY_TIMEOUT_S:.0f}s:\n"
                f"{worker.log_tail()}"
            )
        await asyncio.sleep(_POLL_S)
