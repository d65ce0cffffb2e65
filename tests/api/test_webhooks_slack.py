"""Slack ticket buttons end to end, signed as Slack signs, with Slack itself a local stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.services.inbound import slack as slack_service
from domain.enums import Role
from persistence.models import User
from persistence.repositories import users as users_repo
from tests.api.conftest import ApiWith, Desk, People, Person, assert_problem
from tests.api.test_tickets import eventually, open_ticket
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workers.main import build_worker

V1 = "/api/v1"
ACTIONS = f"{V1}/webhooks/slack/actions"
SIGNING_SECRET = "slack-signing-secret-for-tests"
BOT_TOKEN = "xoxb-tests-only"
RESPONSE_PATH = "/actions/T0001/42/response"
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def slack() -> Iterator[StandIn]:
    """Slack: the Web API (users.info) and the messages' response_url."""
    with StandIn() as standin:
        yield standin


@pytest.fixture
def settings(settings: Settings, slack: StandIn) -> Settings:
    return settings.model_copy(
        update={
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_api_url": f"{slack.url}/api/",
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def worker(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    task_queue: str,
) -> AsyncIterator[Worker]:
    """The real worker, without the bot token: its outbound Slack messages are not under test."""
    quiet = settings.model_copy(update={"slack_bot_token": None, "slack_api_url": None})
    async with build_worker(dev_env.client, session_factory, quiet, task_queue=task_queue) as w:
        yield w


def slack_user() -> str:
    return "U" + uuid4().hex[:10].upper()


def interaction(slack: StandIn, user_id: str, action: str, number: int) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "someone", "team_id": "T0001"},
        "api_app_id": "A0001",
        "container": {"type": "message", "message_ts": "1700000000.000100"},
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "ticket",
                "value": str(number),
                "action_ts": "1700000001.000200",
            }
        ],
        "response_url": slack.url + RESPONSE_PATH,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, *, secret: str = SIGNING_SECRET, age: float = 0) -> dict[str, str]:
    timestamp = str(int(time.time() - age))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def press(
    api: httpx.AsyncClient, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.post(
        ACTIONS, content=body, headers=signed(body) if headers is None else headers
    )


async def link_slack(
    sessions: async_sessionmaker[AsyncSession], person: Person, slack_user_id: str
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(User).where(User.id == person.id).values(slack_user_id=slack_user_id)
        )


def texts_of(message: dict[str, Any]) -> str:
    """Every piece of text in a Block Kit message, one string."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(found)


async def test_assign_to_me_assigns_the_mapped_agent_and_updates_the_message(
    api: httpx.AsyncClient,
    desk: Desk,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    user_id = slack_user()
    await link_slack(session_factory, desk.agent, user_id)
    number = (await open_ticket(api, desk))["number"]

    response = await press(api, interaction(slack, user_id, "assign_to_me", number))
    assert response.status_code == 200, response.text

    async def assigned() -> bool:
        ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
        return (ticket["assignee_id"], ticket["status"]) == (str(desk.agent.id), "in_progress")

    await eventually(assigned)
    [update_request] = await slack.wait_for(1, RESPONSE_PATH)
    message = update_request.json()
    assert message["replace_original"] is True
    shown = texts_of(message)
    assert "Agent took this ticket." in shown  # the agent's name, from their profile
    assert "in progress" in shown
    buttons = [b for block in message["blocks"] for b in block.get("elements", [])]
    assert {b.get("action_id") for b in buttons} >= {"assign_to_me", "acknowledge", "resolve"}
    assert slack.requests_to("/api/users.info") == []  # the stored mapping was enough


async def test_acknowledge_takes_the_ticket_and_starts_work(
    api: httpx.AsyncClient,
    desk: Desk,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    user_id = slack_user()
    await link_slack(session_factory, desk.agent, user_id)
    number = (await open_ticket(api, desk))["number"]

    response = await press(api, interaction(slack, user_id, "acknowledge", number))
    assert response.status_code == 200, response.text

    async def acknowledged() -> bool:
        history = await api.get(f"{V1}/tickets/{number}/history", headers=desk.agent.auth)
        return any(e["kind"] == "acknowledged" for e in history.json())

    await eventually(acknowledged)
    ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
    assert (ticket["assignee_id"], ticket["status"]) == (str(desk.agent.id), "in_progress")
    await slack.wait_for(1, RESPONSE_PATH)


def slack_payload(**fields: Any) -> bytes:
    return urlencode({"payload": json.dumps({"type": "block_actions", **fields})}).encode()


@pytest.mark.parametrize(
    "body",
    [b"payload=not-json", b"nothing=here", slack_payload(actions=[])],
    ids=["not json", "no payload", "no user"],
)
async def test_a_malformed_but_signed_payload_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, slack: StandIn, body: bytes
) -> None:
    assert_problem(await press(api, body), 422)
    assert slack.requests == []


@pytest.mark.parametrize(
    ("action", "value"), [("explode", "1"), ("resolve", "not-a-number")], ids=["other", "no ticket"]
)
async def test_a_button_that_is_not_a_ticket_button_is_acknowledged_and_changes_nothing(
    api: httpx.AsyncClient, desk: Desk, slack: StandIn, action: str, value: str
) -> None:
    """Slack shows an error to whoever pressed unless it gets a 200, so buttons of other
    features are acknowledged; only the ticket buttons do anything."""
    number = (await open_ticket(api, desk))["number"]
    button = {"action_id": action, "value": value if value != "1" else str(number)}
    body = slack_payload(user={"id": slack_user()}, actions=[button])

    response = await press(api, body)

    assert response.status_code == 200, response.text
    ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
    assert (ticket["assignee_id"], ticket["status"]) == (None, "new")
    assert slack.requests == []


async def test_a_slack_user_is_found_by_their_profile_email(
    api: httpx.AsyncClient,
    desk: Desk,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    user_id = slack_user()
    profile = {"ok": True, "user": {"id": user_id, "profile": {"email": desk.agent.email}}}
    slack.route("/api/users.info", Answer(payload=profile))
    number = (await open_ticket(api, desk))["number"]

    response = await press(api, interaction(slack, user_id, "resolve", number))
    assert response.status_code == 200, response.text

    [lookup] = slack.requests_to("/api/users.info")
    assert lookup.header("Authorization") == f"Bearer {BOT_TOKEN}"
    assert lookup.query["user"] == [user_id]

    async def resolved() -> bool:
        ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
        return bool(ticket["status"] == "resolved")

    await eventually(resolved)
    [update_request] = await slack.wait_for(1, RESPONSE_PATH)
    assert "Agent resolved this ticket." in texts_of(update_request.json())
    async with session_factory() as session:
        agent = await users_repo.get(session, desk.agent.id)
    assert agent is not None
    assert agent.slack_user_id == user_id  # remembered: the next press needs no lookup


@pytest.mark.parametrize("who", ["unknown", "requester"])
async def test_someone_who_is_not_an_agent_changes_nothing(
    api: httpx.AsyncClient,
    desk: Desk,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    who: str,
) -> None:
    user_id = slack_user()
    if who == "requester":
        await link_slack(session_factory, desk.requester, user_id)
    slack.route("/api/users.info", Answer(payload={"ok": False, "error": "user_not_found"}))
    number = (await open_ticket(api, desk))["number"]

    response = await press(api, interaction(slack, user_id, "assign_to_me", number))
    assert response.status_code == 200, response.text
    assert "not a ticketflow agent" in response.json()["text"]
    [said] = await slack.wait_for(1, RESPONSE_PATH)
    assert said.json()["response_type"] == "ephemeral"
    assert said.json()["replace_original"] is False
    ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
    assert (ticket["assignee_id"], ticket["status"]) == (None, "new")


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: signed(body, secret="not-the-signing-secret"),
        lambda body: signed(body, age=600),
        lambda body: {**signed(body), "X-Slack-Request-Timestamp": "yesterday"},
        lambda body: {"Content-Type": "application/x-www-form-urlencoded"},
    ],
    ids=["forged", "ten minutes old", "garbled timestamp", "unsigned"],
)
async def test_a_forged_or_stale_request_is_refused(
    api: httpx.AsyncClient,
    desk: Desk,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    forge: Any,
) -> None:
    user_id = slack_user()
    await link_slack(session_factory, desk.agent, user_id)
    number = (await open_ticket(api, desk))["number"]
    body = interaction(slack, user_id, "assign_to_me", number)

    assert_problem(await press(api, body, headers=forge(body)), 401)

    ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
    assert ticket["assignee_id"] is None
    assert slack.requests == []


@pytest.mark.parametrize("action", ["resolve", "assign_to_me"])
async def test_an_agent_of_another_department_changes_nothing(
    api: httpx.AsyncClient,
    desk: Desk,
    people: People,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    action: str,
) -> None:
    elsewhere = await people.make(Role.AGENT, await people.department("Facilities"))
    user_id = slack_user()
    await link_slack(session_factory, elsewhere, user_id)
    number = (await open_ticket(api, desk))["number"]

    response = await press(api, interaction(slack, user_id, action, number))

    assert response.status_code == 200, response.text
    assert response.json()["text"] == slack_service.not_yours(number)
    [said] = await slack.wait_for(1, RESPONSE_PATH)
    assert said.json()["response_type"] == "ephemeral"
    assert said.json()["replace_original"] is False
    history = await api.get(f"{V1}/tickets/{number}/history", headers=desk.agent.auth)
    # The timeline is the workflow's, which has seen every signal sent before this query.
    assert [e for e in history.json() if e["actor_id"] == str(elsewhere.id)] == []
    ticket = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
    assert (ticket["assignee_id"], ticket["status"]) == (None, "new")


async def test_a_press_on_a_ticket_that_does_not_exist_is_answered(
    api: httpx.AsyncClient,
    desk: Desk,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    user_id = slack_user()
    await link_slack(session_factory, desk.agent, user_id)
    number = 2**62 + int(uuid4().int % 1000)
    response = await press(api, interaction(slack, user_id, "acknowledge", number))
    assert response.status_code == 200, response.text
    # Answered as a ticket of another team would be: whether it exists is not given away.
    assert response.json()["text"] == slack_service.not_yours(number)


async def test_without_a_signing_secret_the_webhook_is_unavailable(
    settings: Settings,
    api_with: ApiWith,
    slack: StandIn,
) -> None:
    bare = settings.model_copy(update={"slack_signing_secret": None})
    body = interaction(slack, slack_user(), "resolve", 1)
    async with api_with(bare) as client:
        response = await client.post(ACTIONS, content=body, headers=signed(body))
    assert_problem(response, 503)
