"""The API over real PostgreSQL and a real Temporal dev server, driven through httpx.

Every test gets its own app (fresh rate limiter and metrics) and task queue. The API commits
for real, so its tests work in a database of their own (made on the session's server, next
to the shared one) and leave the other suites' data alone; within it, tests make their own
users and departments with unique names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import Resources, create_app
from api.security import TokenType, decode_token, hash_password
from api.services.auth import issue_pair
from domain.enums import Role
from persistence.db import create_engine
from persistence.db import session_factory as make_session_factory
from persistence.repositories import departments as departments_repo
from persistence.repositories import users as users_repo
from tests.support.postgres import scratch_database
from ticketflow.settings import Settings
from workers.main import build_worker

PASSWORD = "correct horse battery staple"
JWT_SECRET = "tests-only-secret-0123456789abcdef0123456789"
LINK_SECRET = "tests-only-link-secret-0123456789abcdef01234"
_password_hash: str | None = None


@dataclass
class Person:
    id: UUID
    email: str
    role: Role
    token: str
    department_id: UUID | None = None
    # The session the token belongs to (a login of its own, as `/auth/login` makes).
    session_id: UUID | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class People:
    """Makes users straight in the database, each with a session and its access token."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def make(
        self, role: Role = Role.USER, department_id: UUID | None = None, name: str = "Someone"
    ) -> Person:
        global _password_hash
        if _password_hash is None:
            _password_hash = await hash_password(PASSWORD)
        email = f"{role.value}-{uuid4().hex[:10]}@example.com"
        async with self.sessions.begin() as session:
            user = await users_repo.create(
                session,
                email=email,
                password_hash=_password_hash,
                name=name,
                role=role,
                department_id=department_id,
            )
            token = (await issue_pair(session, self.settings, user)).access_token
        claims = decode_token(self.settings.access_keys, token, TokenType.ACCESS)
        return Person(user.id, email, role, token, department_id, claims.session_id)

    async def department(self, name: str = "Dept", **fields: Any) -> UUID:
        async with self.sessions.begin() as session:
            department = await departments_repo.create(
                session, name=f"{name} {uuid4().hex[:8]}", **fields
            )
        return department.id


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url(database_url: str) -> AsyncIterator[str]:
    """The API tests' own migrated database, on the server of the shared one."""
    async with scratch_database(database_url) as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture
def settings(database_url: str, task_queue: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,  # type: ignore[arg-type]
        TICKETFLOW_LINK_SECRET=LINK_SECRET,
        TICKETFLOW_TASK_QUEUE=task_queue,
    )


ApiWith = Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]


def a_client_address() -> str:
    """A loopback address no other test client uses (127.0.0.0/8 has 16 million)."""
    n = uuid4().int
    return f"127.{n % 256}.{(n >> 8) % 256}.{(n >> 16) % 254 + 1}"


# A client of an API app on these settings, reached from this peer address.
ApiAt = Callable[[Settings, str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def api_at(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> ApiAt:
    """Opens a client of an API app of its own on these settings, over the test's database
    and Temporal, connecting from `peer` (the address the app sees at the socket's end)."""

    @asynccontextmanager
    async def client_of(settings: Settings, peer: str) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings, Resources(engine, session_factory, dev_env.client))
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client

    return client_of


@pytest.fixture
def api_with(api_at: ApiAt) -> ApiWith:
    """Opens a client of an API app of its own on these settings: another API process, or
    a deployment configured otherwise.

    Each client comes from an address of its own: the rate limits count per address in the
    shared database, and one test's attempts must not use up another's.
    """

    def client_of(settings: Settings) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return api_at(settings, a_client_address())

    return client_of


@pytest_asyncio.fixture(loop_scope="session")
async def api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    async with api_with(settings) as client:
        yield client


@pytest.fixture
def people(session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(session_factory, settings)


@pytest_asyncio.fixture(loop_scope="session")
async def worker(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    task_queue: str,
) -> AsyncIterator[Worker]:
    """The real ticketflow worker on this test's task queue."""
    async with build_worker(dev_env.client, session_factory, settings, task_queue=task_queue) as w:
        yield w


@dataclass
class Desk:
    """A department with a manager and an agent, and a requester: a helpdesk in miniature."""

    department_id: UUID
    agent: Person
    manager: Person
    requester: Person
    admin: Person


@pytest_asyncio.fixture(loop_scope="session")
async def desk(people: People) -> Desk:
    department_id = await people.department("Support")
    manager = await people.make(Role.AGENT, department_id, name="Manager")
    agent = await people.make(Role.AGENT, department_id, name="Agent")
    requester = await people.make(Role.USER, name="Requester")
    admin = await people.make(Role.ADMIN, name="Admin")
    return Desk(department_id, agent, manager, requester, admin)


_SUMMARY = pytest.StashKey[list[str]]()


def report(request: pytest.FixtureRequest, line: str) -> None:
    """A line for the end of the run's output (e.g. how many checks a table-driven test made)."""
    request.config.stash.setdefault(_SUMMARY, []).append(line)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in config.stash.get(_SUMMARY, []):
        terminalreporter.write_line(line)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body
