"""Installing the Slack app: an admin's signed install, Slack's code exchanged through slack-sdk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Role
from persistence.models import Integration
from persistence.secrets import SecretBox
from tests.api.conftest import People, assert_problem
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings

V1 = "/api/v1"
CALLBACK = f"{V1}/webhooks/slack/callback"
EXCHANGE = "/slack/api/oauth.v2.access"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def slack() -> Iterator[StandIn]:
    with StandIn(default=Answer(404)) as standin:
        yield standin


@pytest.fixture
def settings(settings: Settings, slack: StandIn) -> Settings:
    return settings.model_copy(
        update={
            "slack_client_id": "1234.5678",
            "slack_client_secret": SecretStr("slack-client-secret"),
            "slack_api_url": f"{slack.url}/slack/api/",
            "public_url": "https://help.example.com",
            "secrets_key": SecretStr(KEY),
            # Slack is a stand-in on 127.0.0.1, and so is the webhook it hands out.
            "outbound_allow": "127.0.0.1/32",
        }
    )


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def no_slack_integration_left(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[None]:
    """The `slack` integration would receive other tests' ticket events: it goes after each."""
    yield
    async with session_factory.begin() as session:
        await session.execute(delete(Integration).where(Integration.provider == "slack"))


async def install_state(api: httpx.AsyncClient, people: People) -> str:
    admin = await people.make(Role.ADMIN)
    answer = await api.get(f"{V1}/integrations/slack/install", headers=admin.auth)
    assert answer.status_code == 200, answer.text
    url = urlsplit(answer.json()["authorize_url"])
    query = parse_qs(url.query)
    assert (url.netloc, query["client_id"], query["scope"]) == (
        "slack.com",
        ["1234.5678"],
        ["incoming-webhook"],
    )
    assert query["redirect_uri"] == [f"https://help.example.com{CALLBACK}"]
    return query["state"][0]


async def test_an_approved_install_becomes_the_slack_integration(
    api: httpx.AsyncClient,
    people: People,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    state = await install_state(api, people)
    hook = f"{slack.url}/hooks/T0/B0/xoxwebhooktoken"
    slack.route(
        EXCHANGE,
        Answer(
            payload={
                "ok": True,
                "access_token": "xoxb-installed",
                "team": {"id": "T0", "name": "Acme"},
                "incoming_webhook": {"url": hook, "channel": "#support"},
            }
        ),
    )
    answer = await api.get(CALLBACK, params={"code": "granted-code", "state": state})
    assert answer.status_code == 200, answer.text
    integration = answer.json()
    assert (integration["provider"], integration["url"]) == ("slack", None)
    assert integration["url_masked"] == f"{slack.url}/…oken"
    assert "xoxwebhooktoken" not in answer.text
    assert integration["settings"] == {"team": "Acme", "channel": "#support"}
    assert "sla.breached" in integration["events"]
    (exchange,) = slack.requests_to(EXCHANGE)
    sent = exchange.form()
    assert (sent["code"], sent["client_id"]) == (["granted-code"], ["1234.5678"])
    assert sent["redirect_uri"] == [f"https://help.example.com{CALLBACK}"]
    async with session_factory() as session:
        stored = await session.scalar(select(Integration).where(Integration.provider == "slack"))
    assert stored is not None and stored.url is None and stored.url_encrypted is not None
    assert SecretBox(KEY).decrypt(stored.url_encrypted) == hook


async def test_a_callback_nobody_started_or_slack_refuses_changes_nothing(
    api: httpx.AsyncClient, people: People, slack: StandIn
) -> None:
    forged = await api.get(CALLBACK, params={"code": "c", "state": "not-a-state"})
    assert_problem(forged, 401)
    assert slack.requests_to(EXCHANGE) == []

    state = await install_state(api, people)
    slack.route(EXCHANGE, Answer(payload={"ok": False, "error": "invalid_code"}))
    refused = await api.get(CALLBACK, params={"code": "old", "state": state})
    assert "invalid_code" in assert_problem(refused, 422)["detail"]
    admin = await people.make(Role.ADMIN)
    listed = await api.get(f"{V1}/integrations", headers=admin.auth, params={"limit": 200})
    assert "slack" not in [i["provider"] for i in listed.json()["items"]]
    assert_problem(
        await api.get(f"{V1}/webhooks/github/callback", params={"code": "c", "state": state}), 404
    )


async def test_only_admins_start_an_install(api: httpx.AsyncClient, people: People) -> None:
    agent = await people.make(Role.AGENT)
    assert_problem(await api.get(f"{V1}/integrations/slack/install", headers=agent.auth), 403)


async def test_without_a_secrets_key_the_install_is_refused_before_slack_is_asked(
    api: httpx.AsyncClient, people: People, slack: StandIn, settings: Settings
) -> None:
    state = await install_state(api, people)
    admin = await people.make(Role.ADMIN)
    settings.secrets_key = None  # the app holds this very object: the key is gone from now on

    started = await api.get(f"{V1}/integrations/slack/install", headers=admin.auth)
    finished = await api.get(CALLBACK, params={"code": "granted-code", "state": state})

    for refused in (started, finished):
        problem = assert_problem(refused, 503)
        assert "TICKETFLOW_SECRETS_KEY" in problem["detail"]
    assert slack.requests_to(EXCHANGE) == []


async def test_a_webhook_slack_hands_back_aimed_inward_is_refused_and_not_kept(
    api: httpx.AsyncClient,
    people: People,
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    state = await install_state(api, people)
    hook = "http://169.254.169.254/services/T0/B0/xoxwebhooktoken"
    slack.route(
        EXCHANGE,
        Answer(payload={"ok": True, "incoming_webhook": {"url": hook, "channel": "#x"}}),
    )

    refused = await api.get(CALLBACK, params={"code": "granted-code", "state": state})

    assert "cloud metadata" in assert_problem(refused, 422)["detail"]
    assert "xoxwebhooktoken" not in refused.text
    async with session_factory() as session:
        found = await session.scalar(select(Integration).where(Integration.provider == "slack"))
    assert found is None
