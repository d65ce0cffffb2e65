"""A query that fails inside a request is answered with a problem and logged without the
values it carried (e-mails, password hashes), even where no log hygiene is installed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import Resources, create_app
from api.deps import SessionDep
from tests.api.conftest import assert_problem
from ticketflow.settings import Settings

SECRET = "alice.private@example.com"
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


@pytest_asyncio.fixture(loop_scope="session")
async def failing_api(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with two more routes whose queries fail on the values they are given."""
    app = create_app(settings, Resources(engine, session_factory, dev_env.client))

    async def duplicate(session: SessionDep) -> None:
        await session.execute(text("create temp table logins (email text unique, hash text)"))
        insert = text("insert into logins values (:email, :hash)")
        await session.execute(insert, {"email": SECRET, "hash": HASH})
        await session.execute(insert, {"email": SECRET, "hash": HASH})

    async def not_a_number(session: SessionDep) -> None:
        await session.execute(text("select cast(cast(:n as text) as integer)"), {"n": SECRET})

    app.add_api_route("/duplicate", duplicate)
    app.add_api_route("/not-a-number", not_a_number)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize(("path", "status"), [("/duplicate", 409), ("/not-a-number", 422)])
async def test_a_failing_query_is_logged_without_its_values(
    failing_api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, path: str, status: int
) -> None:
    with caplog.at_level("DEBUG"):
        body = assert_problem(await failing_api.get(path), status)
    assert SECRET not in str(body)
    assert caplog.records, "the failure is logged"
    logged = caplog.text + "".join(record.getMessage() for record in caplog.records)
    for value in (SECRET, "alice.private", HASH, "argon2id"):
        assert value not in logged
    assert "sqlstate" in logged  # but what failed is there
