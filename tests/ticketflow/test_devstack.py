"""The embedded servers behind `ticketflow dev`: they start, answer, keep state, stop."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from ticketflow.devstack import (
    DevStackError,
    EmbeddedPostgres,
    TemporalDevServer,
    create_database,
    drop_database,
    free_port,
)
from workflows.search_attributes import ALL_KEYS, TICKET_NUMBER, TICKET_STATUS

pytestmark = pytest.mark.slow


async def _asyncpg_connect(url: str) -> asyncpg.Connection:
    """Connect with asyncpg itself, from the SQLAlchemy-style URL the stack hands out."""
    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username, database=parsed.database, host=parsed.query["host"]
    )


async def _registered(client: Client) -> dict[str, int]:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return dict(listed.custom_attributes)


def _expected() -> dict[str, int]:
    return {key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in ALL_KEYS}


async def test_embedded_postgres_accepts_asyncpg_and_keeps_data_across_restarts(
    outside_tmp_path: Path,
) -> None:
    server = EmbeddedPostgres(outside_tmp_path)
    url = await server.start()
    try:
        assert url.startswith("postgresql+asyncpg://postgres@/ticketflow?host=")
        conn = await _asyncpg_connect(url)
        await conn.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('hello')")
        await conn.close()
    finally:
        await server.stop()
    assert not (outside_tmp_path / "postgres" / "postmaster.pid").exists()

    async with EmbeddedPostgres(outside_tmp_path) as again:
        conn = await _asyncpg_connect(again.url)
        try:
            assert await conn.fetchval("SELECT note FROM kept") == "hello"
        finally:
            await conn.close()


async def test_scratch_databases_are_created_and_dropped(outside_tmp_path: Path) -> None:
    async with EmbeddedPostgres(outside_tmp_path, database="postgres") as server:
        url = await create_database(server.url, "tf_scratch")
        conn = await _asyncpg_connect(url)
        assert await conn.fetchval("SELECT current_database()") == "tf_scratch"
        # Left open on purpose: dropping must disconnect it rather than fail.
        await drop_database(server.url, "tf_scratch")
        assert conn.is_closed() or not await _still_usable(conn)
        with pytest.raises(DevStackError):
            await create_database(server.url, "postgres")


async def _still_usable(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError):
        await conn.close()
        return False
    await conn.close()
    return True


async def test_dev_server_registers_the_ticket_search_attributes(tmp_path: Path) -> None:
    async with TemporalDevServer(tmp_path, port=free_port(), headless=True) as server:
        registered = await _registered(server.client)
    assert registered.items() >= _expected().items()


async def test_dev_server_adds_attributes_missing_from_an_older_data_dir(tmp_path: Path) -> None:
    # The dev server applies --search-attribute only when it creates its database.
    port = free_port()
    older = (TICKET_NUMBER, TICKET_STATUS)
    async with TemporalDevServer(tmp_path, port=port, headless=True, search_attributes=older):
        pass
    async with TemporalDevServer(tmp_path, port=port, headless=True) as server:
        registered = await _registered(server.client)
    assert registered.items() >= _expected().items()


async def test_dev_server_keeps_workflows_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    async with TemporalDevServer(tmp_path, port=port, headless=True) as server:
        # No worker: the workflow just waits for one, which is enough to be kept.
        await server.client.start_workflow(
            "TicketWorkflow",
            id="ticket-1",
            task_queue="nobody-polls-this",
            execution_timeout=timedelta(hours=1),
        )
    async with TemporalDevServer(tmp_path, port=port, headless=True) as server:
        described = await server.client.get_workflow_handle("ticket-1").describe()
    assert described.status == WorkflowExecutionStatus.RUNNING


async def test_a_server_left_by_a_killed_run_is_stopped_and_its_state_kept(
    tmp_path: Path,
) -> None:
    port = free_port()
    orphan = TemporalDevServer(tmp_path, port=port, headless=True)
    await orphan.start()
    await orphan.client.start_workflow(
        "TicketWorkflow", id="ticket-7", task_queue="nobody", execution_timeout=timedelta(hours=1)
    )
    # the parent dies without stopping it: the server lives on, holding the port
    async with TemporalDevServer(tmp_path, port=port, headless=True) as server:
        described = await server.client.get_workflow_handle("ticket-7").describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    await orphan.stop()  # already gone; stopping again is harmless


async def test_dev_server_refuses_a_taken_port(tmp_path: Path) -> None:
    port = free_port()
    async with TemporalDevServer(tmp_path / "a", port=port, headless=True):
        with pytest.raises(DevStackError, match=str(port)):
            await TemporalDevServer(tmp_path / "b", port=port, headless=True).start()


async def test_dev_env_fixture_has_the_ticket_search_attributes(
    dev_env: WorkflowEnvironment,
) -> None:
    registered = await _registered(dev_env.client)
    assert registered.items() >= _expected().items()
