"""Live notifications: the hub over real PostgreSQL LISTEN, and `WS /notifications/ws` on a real
uvicorn server, fed by the real worker → read model → pg_notify path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import Resources, create_app
from api.routes import notifications as notifications_routes
from api.security import TokenType, issue_token
from api.services.live import (
    APPLICATION_NAME,
    LiveNotifications,
    Subscription,
    listen_dsn,
)
from domain.enums import Role, UserStatus
from persistence.models import Notification, NotificationChannel, NotificationStatus, User
from persistence.readmodel import NewNotification, announce
from security.signing import KeyRing
from tests.api.conftest import JWT_SECRET, Desk, People, Person
from tests.api.test_tickets import eventually
from ticketflow.devstack.serve import ApiServer
from ticketflow.settings import Settings

WITHIN_S = 10.0

# --- the hub ------------------------------------------------------------------------------


async def _in_app_row(
    sessions: async_sessionmaker[AsyncSession], user_id: UUID, subject: str = "Hello"
) -> NewNotification:
    async with sessions.begin() as session:
        row = Notification(
            user_id=user_id,
            channel=NotificationChannel.IN_APP,
            event="test",
            subject=subject,
            body="",
            status=NotificationStatus.SENT,
        )
        session.add(row)
        await session.flush()
        await session.refresh(row)
        return NewNotification.model_validate(row, from_attributes=True)


async def _announce(sessions: async_sessionmaker[AsyncSession], row: NewNotification) -> None:
    async with sessions.begin() as session:
        await announce(session, [row])


async def _next(subscription: Subscription) -> dict[str, Any] | None:
    async with asyncio.timeout(WITHIN_S):
        return await subscription.next()


def test_the_listener_dsn_is_the_apps_url_for_asyncpg() -> None:
    assert listen_dsn("postgresql+asyncpg://u:p%40ss@db:5433/tf?ssl=require") == (
        "postgresql://u:p%40ss@db:5433/tf?sslmode=require"
    )
    assert listen_dsn("postgresql+asyncpg://postgres@/tf?host=/run/pg&port=5433") == (
        "postgresql://postgres@/tf?host=%2Frun%2Fpg&port=5433"
    )


async def test_a_full_socket_queue_drops_its_oldest_message() -> None:
    subscription = Subscription(uuid4(), size=2)
    for n in range(3):
        subscription.offer({"n": n})
    assert subscription.dropped == 1
    assert [await subscription.next(), await subscription.next()] == [{"n": 1}, {"n": 2}]


async def test_dispatch_reaches_every_socket_of_the_owner_and_only_theirs(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], people: People
) -> None:
    owner, other = await people.make(), await people.make()
    row = await _in_app_row(session_factory, owner.id, "For the owner")
    async with LiveNotifications(engine.url, session_factory) as hub:
        with (
            hub.subscribe(owner.id) as laptop,
            hub.subscribe(owner.id) as phone,
            hub.subscribe(other.id) as stranger,
        ):
            await hub.dispatch(["not-a-payload", f"{owner.id}:{row.id}"])
            for socket in (laptop, phone):
                message = await _next(socket)
                assert message is not None
                assert message["type"] == "notification"
                assert message["notification"]["id"] == str(row.id)
                assert message["notification"]["subject"] == "For the owner"
                assert message["notification"]["read_at"] is None
            assert stranger.pending == 0
            # A payload naming someone else cannot route the owner's row to them.
            await hub.dispatch([f"{other.id}:{row.id}"])
            assert stranger.pending == 0


async def test_the_hub_refuses_to_start_without_listen() -> None:
    hub = LiveNotifications("postgresql+asyncpg://nobody@127.0.0.1:1/nothing", None)
    with pytest.raises(RuntimeError, match="cannot LISTEN"):
        await hub.start()


_LISTENERS = "FROM pg_stat_activity WHERE application_name = :name AND datname = current_database()"


async def _listeners(engine: AsyncEngine, *, drop: bool = False) -> int:
    """How many hub connections this database has (terminating them if `drop`)."""
    select = "count(pg_terminate_backend(pid))" if drop else "count(*)"
    async with engine.connect() as connection:
        found = await connection.scalar(
            text(f"SELECT {select} {_LISTENERS}"), {"name": APPLICATION_NAME}
        )
        await connection.commit()
    return int(found or 0)


async def test_committed_rows_arrive_and_the_hub_listens_again_after_a_drop(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], people: People
) -> None:
    owner = await people.make()
    hub = LiveNotifications(engine.url, session_factory, min_backoff_s=0.05)
    await hub.start()
    try:
        with hub.subscribe(owner.id) as socket:
            first = await _in_app_row(session_factory, owner.id, "Before the drop")
            async with session_factory() as session:
                await announce(session, [first])
                await session.rollback()  # a rolled-back write announces nothing
            await _announce(session_factory, first)
            message = await _next(socket)
            assert message is not None
            assert message["notification"]["subject"] == "Before the drop"

            assert await _listeners(engine, drop=True) == 1
            assert await _next(socket) == {"type": "resync"}
            assert await _listeners(engine) == 1
            second = await _in_app_row(session_factory, owner.id, "After the drop")
            await _announce(session_factory, second)
            message = await _next(socket)
            assert message is not None
            assert message["notification"]["subject"] == "After the drop"
            assert socket.pending == 0

            await hub.stop()
            assert await _next(socket) is None  # the hub stopped: the socket is told to close
    finally:
        await hub.stop()

    async def gone() -> bool:
        return await _listeners(engine) == 0

    await eventually(gone)


async def test_read_all_empties_the_unread_inbox(
    api: httpx.AsyncClient, people: People, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    person, other = await people.make(), await people.make()
    for who in (person, person, other):
        await _in_app_row(session_factory, who.id)
    unread = {"unread": "true"}
    assert (
        len(
            (await api.get("/api/v1/notifications", headers=person.auth, params=unread)).json()[
                "items"
            ]
        )
        == 2
    )
    response = await api.patch("/api/v1/notifications/read-all", headers=person.auth)
    assert response.status_code == 204, response.text
    assert (await api.get("/api/v1/notifications", headers=person.auth, params=unread)).json()[
        "items"
    ] == []
    inbox = (await api.get("/api/v1/notifications", headers=person.auth)).json()["items"]
    assert len(inbox) == 2
    assert all(n["read_at"] for n in inbox)
    assert (
        len(
            (await api.get("/api/v1/notifications", headers=other.auth, params=unread)).json()[
                "items"
            ]
        )
        == 1
    )


# --- the WebSocket, on a real server ----------------------------------------------------------


@dataclass
class LiveApi:
    http: httpx.AsyncClient
    ws_url: str


@pytest_asyncio.fixture(loop_scope="session")
async def live_api(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> AsyncIterator[LiveApi]:
    app = create_app(settings, Resources(engine, session_factory, dev_env.client))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = ApiServer(config)
    serving = asyncio.create_task(server.serve_or_fail())
    listening = asyncio.create_task(server.listening.wait())
    await asyncio.wait([serving, listening], timeout=WITHIN_S, return_when="FIRST_COMPLETED")
    if not listening.done():
        listening.cancel()
        server.should_exit = True
        await serving  # raises the startup failure
        pytest.fail("the API did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=f"http://{base}", trust_env=False) as http:
            yield LiveApi(http, f"ws://{base}/api/v1/notifications/ws")
    finally:
        server.should_exit = True
        await serving


@asynccontextmanager
async def socket(
    live: LiveApi, headers: dict[str, str] | None = None, query: str = ""
) -> AsyncIterator[ClientConnection]:
    async with connect(
        live.ws_url + query, additional_headers=headers, proxy=None, open_timeout=WITHIN_S
    ) as connection:
        yield connection


async def receive(connection: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WITHIN_S):
        message: dict[str, Any] = json.loads(await connection.recv())
    return message


async def ready(connection: ClientConnection, person: Person) -> None:
    message = await receive(connection)
    assert message["type"] == "ready"
    assert message["user_id"] == str(person.id)


async def closed_with(connection: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        await receive(connection)
    return connection.close_code, connection.close_reason


async def ping(connection: ClientConnection) -> dict[str, Any]:
    await connection.send(json.dumps({"type": "ping"}))
    return await receive(connection)


async def notification(connection: ClientConnection) -> dict[str, Any]:
    message = await receive(connection)
    assert message["type"] == "notification", message
    body: dict[str, Any] = message["notification"]
    return body


@pytest.mark.usefixtures("worker")
async def test_an_assignment_reaches_the_assignee_live_and_nobody_else(
    live_api: LiveApi, desk: Desk
) -> None:
    async with (
        socket(live_api, desk.agent.auth) as agent,
        socket(live_api, desk.requester.auth) as requester,
    ):
        await ready(agent, desk.agent)
        await ready(requester, desk.requester)
        created = await live_api.http.post(
            "/api/v1/tickets",
            json={
                "title": "VPN down",
                "description": "Nobody can connect",
                "department_id": str(desk.department_id),
            },
            headers=desk.requester.auth,
        )
        assert created.status_code == 201, created.text
        ticket = created.json()
        received = await notification(requester)
        assert (received["event"], received["ticket_id"]) == ("created", ticket["id"])

        assigned = await live_api.http.patch(
            f"/api/v1/tickets/{ticket['number']}/assign",
            json={"assignee_id": str(desk.agent.id)},
            headers=desk.agent.auth,
        )
        assert assigned.status_code == 200, assigned.text
        pushed = await notification(agent)
        assert (pushed["event"], pushed["ticket_id"]) == ("assigned", ticket["id"])
        assert pushed["subject"] == f"[#{ticket['number']}] Assigned to you: {ticket['title']}"
        inbox = await live_api.http.get("/api/v1/notifications", headers=desk.agent.auth)
        assert inbox.json()["items"] == [pushed]  # the same shape as the REST inbox

        # Had the requester been sent the agent's row, it would be queued before this pong.
        assert await ping(requester) == {"type": "pong"}
        assert await ping(agent) == {"type": "pong"}


async def test_ping_is_answered_with_pong(live_api: LiveApi, people: People) -> None:
    person = await people.make()
    async with socket(live_api, query=f"?token={person.token}") as connection:
        await ready(connection, person)
        assert await ping(connection) == {"type": "pong"}
        await connection.send("not json")
        assert (await receive(connection))["type"] == "error"
        assert await ping(connection) == {"type": "pong"}


async def test_a_browser_may_send_its_token_as_the_first_message(
    live_api: LiveApi, people: People
) -> None:
    person = await people.make(Role.AGENT)
    async with socket(live_api) as connection:
        await connection.send(json.dumps({"token": person.token}))
        await ready(connection, person)
        assert await ping(connection) == {"type": "pong"}


def _token(person: Person, kind: TokenType, issued: datetime | None = None) -> str:
    keys = KeyRing.of(JWT_SECRET)
    return issue_token(
        keys, person.id, person.role, kind, now=issued, session_id=person.session_id
    ).token


async def test_bad_tokens_are_closed_with_policy_violation(
    live_api: LiveApi,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = await people.make()
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    attempts: list[dict[str, Any]] = [
        {"headers": {"Authorization": "Bearer not-a-jwt"}},
        {"query": f"?token={_token(person, TokenType.REFRESH)}"},
        {"first": json.dumps({"token": _token(person, TokenType.ACCESS, long_ago)})},
        {"first": json.dumps({"hello": "there"})},
        {"first": None},  # says nothing at all
    ]
    monkeypatch.setattr(notifications_routes, "AUTH_TIMEOUT_S", 0.3)
    for attempt in attempts:
        async with socket(live_api, attempt.get("headers"), attempt.get("query", "")) as ws:
            if attempt.get("first"):
                await ws.send(attempt["first"])
            code, _reason = await closed_with(ws)
            assert code == 1008, attempt

    async with session_factory.begin() as session:
        await session.execute(
            update(User).where(User.id == person.id).values(status=UserStatus.INACTIVE)
        )
    async with socket(live_api, person.auth) as ws:
        assert await closed_with(ws) == (1008, "this account is disabled")


async def test_a_socket_closes_when_its_token_expires_unless_renewed(
    live_api: LiveApi, people: People
) -> None:
    person = await people.make()

    def almost_expired() -> str:
        # Access tokens last 15 minutes: one issued almost 15 minutes ago has seconds left.
        issued = datetime.now(UTC) - timedelta(minutes=15) + timedelta(seconds=3)
        return _token(person, TokenType.ACCESS, issued)

    async with socket(live_api, query=f"?token={almost_expired()}") as ws:
        await ready(ws, person)
        await ws.send(json.dumps({"token": person.token}))
        renewed = await receive(ws)
        assert renewed["type"] == "renewed"
        await asyncio.sleep(4)
        assert await ping(ws) == {"type": "pong"}
    async with socket(live_api, query=f"?token={almost_expired()}") as ws:
        await ready(ws, person)
        assert await closed_with(ws) == (1008, "access token expired")


async def test_an_open_socket_closes_soon_after_its_session_ends(
    live_api: LiveApi, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications_routes, "SESSION_CHECK_S", 0.3)
    person, bystander = await people.make(), await people.make()
    async with socket(live_api, person.auth) as ended, socket(live_api, bystander.auth) as other:
        await ready(ended, person)
        await ready(other, bystander)
        out = await live_api.http.post("/api/v1/auth/logout", headers=person.auth)
        assert out.status_code == 204
        assert await closed_with(ended) == (1008, "this session has ended; log in again")
        assert await ping(other) == {"type": "pong"}


async def test_an_account_that_may_not_act_yet_is_closed_with_the_reason(
    live_api: LiveApi, people: People, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    person = await people.make(Role.AGENT)
    async with session_factory.begin() as session:
        await session.execute(
            update(User).where(User.id == person.id).values(password_change_required=True)
        )
    async with socket(live_api, person.auth) as ws:
        code, reason = await closed_with(ws)
    assert code == 1008
    assert reason is not None and "new password" in reason
