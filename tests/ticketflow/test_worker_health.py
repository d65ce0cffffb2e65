"""The worker's health check: `GET /health` on TICKETFLOW_WORKER_HEALTH_PORT, for containers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import psutil
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.cli import RunningCli, clean_env, run_cli, until_pollers
from ticketflow.devstack import free_port
from ticketflow.health import HealthPortError, health_endpoint
from ticketflow.settings import WORKER_HEALTH_PORT_VARIABLE, Settings

CLI_TIMEOUT_S = 60


async def test_the_endpoint_follows_the_health_of_what_it_watches() -> None:
    port = free_port()
    healthy = False
    async with (
        health_endpoint(port, lambda: healthy),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        assert (await http.get("/health")).status_code == 503
        healthy = True
        answer = await http.get("/health")
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}
        assert (await http.get("/elsewhere")).status_code == 404
        assert (await http.post("/health")).status_code == 405
    assert not _listens(port)


async def test_a_caller_that_sends_garbage_gets_a_400_and_the_endpoint_keeps_answering() -> None:
    port = free_port()
    async with health_endpoint(port, lambda: True):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"nonsense\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 400")
        writer.close()
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200


async def test_without_a_port_nothing_listens() -> None:
    async with health_endpoint(None, lambda: True):
        pass  # nothing to bind, nothing to fail


async def test_a_taken_port_is_an_error_that_names_the_setting() -> None:
    with _listener() as port, pytest.raises(HealthPortError, match=WORKER_HEALTH_PORT_VARIABLE):
        async with health_endpoint(port, lambda: True):
            pass


def test_an_empty_setting_means_no_endpoint() -> None:
    assert Settings.model_validate({WORKER_HEALTH_PORT_VARIABLE: ""}).worker_health_port is None
    assert Settings.model_validate({WORKER_HEALTH_PORT_VARIABLE: "8001"}).worker_health_port == 8001


@pytest.mark.slow
async def test_worker_answers_200_while_it_runs_and_stops_answering_when_it_stops(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> None:
    port = free_port()
    async with _worker(tmp_path, database_url, dev_env, port) as worker:
        async with asyncio.timeout(CLI_TIMEOUT_S), httpx.AsyncClient() as http:
            await _until_status(http, port, 200)
        async with asyncio.timeout(CLI_TIMEOUT_S):
            code = await worker.stop(signal.SIGTERM)
    assert code == 0, worker.stderr[-4000:]
    assert not _listens(port)


@pytest.mark.slow
async def test_worker_processes_answer_together_and_stop_answering_when_one_dies(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> None:
    port = free_port()
    async with _worker(tmp_path, database_url, dev_env, port, processes=2) as worker:
        # Both processes poll: neither tried to bind the supervisor's port (that would end it).
        async with asyncio.timeout(CLI_TIMEOUT_S), httpx.AsyncClient() as http:
            await _until_status(http, port, 200)
        dying, _ = psutil.Process(worker.process.pid).children()
        dying.kill()
        async with asyncio.timeout(CLI_TIMEOUT_S):
            code = await worker.process.wait()
    assert code == 1
    assert not _listens(port)


@pytest.mark.slow
async def test_worker_refuses_to_start_on_a_taken_health_port(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> None:
    with _listener() as port:
        env = _env(database_url, dev_env, f"health-{uuid4().hex[:8]}", port)
        async with asyncio.timeout(CLI_TIMEOUT_S):
            result = await run_cli("worker", "--dev", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert WORKER_HEALTH_PORT_VARIABLE in result.stderr
    assert "Traceback" not in result.stderr


@contextlib.asynccontextmanager
async def _worker(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment, port: int, processes: int = 1
) -> AsyncIterator[RunningCli]:
    """`ticketflow worker` with its health port, on a queue of its own, once it polls."""
    queue = f"health-{uuid4().hex[:8]}"
    env = _env(database_url, dev_env, queue, port)
    args = ("worker", "--dev", "--processes", str(processes))
    worker = await RunningCli.start(*args, cwd=tmp_path, env=env)
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            await until_pollers(dev_env.client, queue, processes)
        yield worker
    finally:
        await worker.kill()


def _env(database_url: str, dev_env: WorkflowEnvironment, queue: str, port: int) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TICKETFLOW_TASK_QUEUE=queue,
        **{WORKER_HEALTH_PORT_VARIABLE: str(port)},
    )


async def _until_status(http: httpx.AsyncClient, port: int, status: int) -> None:
    while True:
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == status:
                return
        await asyncio.sleep(0.2)


def _listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def _listener() -> Iterator[int]:
    """A port something else already listens on."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        yield taken.getsockname()[1]
