"""`/integrations`: admins manage outbound webhooks; secrets and chat URLs go in encrypted and
never come out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Role
from domain.webhook_signature import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from persistence.models import AutomationRule, Integration
from persistence.secrets import SecretBox
from tests.api.conftest import JWT_SECRET, ApiWith, People, assert_problem
from tests.api.test_tickets import eventually
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings

V1 = "/api/v1"
KEY = Fernet.generate_key().decode()
SECRET = "shared-with-the-receiver"
SLACK_HOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXwxyz"
HOOK_TOKEN = "XXXXXXXXXXXXXXXXXXXXwxyz"


# The receivers these tests deliver to are local stand-ins on 127.0.0.1: allowed here, as an
# operator would allow an address of their own; the attacks below run without it.
LOCAL_RECEIVERS = "127.0.0.1/32"


@pytest.fixture
def settings(database_url: str, task_queue: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,  # type: ignore[arg-type]
        TICKETFLOW_TASK_QUEUE=task_queue,
        TICKETFLOW_SECRETS_KEY=KEY,  # type: ignore[arg-type]
        TICKETFLOW_OUTBOUND_ALLOW=LOCAL_RECEIVERS,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def strict_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a deployment that allows no inward address (the default)."""
    async with api_with(settings.model_copy(update={"outbound_allow": ""})) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def provider(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Callable[[], str]]:
    """Fresh provider slugs; their integrations are deleted after the test, so no ticket
    change in another API test plans deliveries to them."""
    made: list[str] = []

    def make() -> str:
        made.append(f"hook-{uuid4().hex[:10]}")
        return made[-1]

    yield make
    async with session_factory.begin() as session:
        await session.execute(delete(Integration).where(Integration.provider.in_(made)))


@pytest_asyncio.fixture(loop_scope="session")
async def chat(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """The `slack` and `teams` integrations a test makes go after it: they would receive
    other tests' ticket events."""
    yield
    async with session_factory.begin() as session:
        await session.execute(delete(Integration).where(Integration.provider.in_(CHAT)))


CHAT = ("slack", "teams")


def body(**fields: Any) -> dict[str, Any]:
    return {
        "url": "https://hooks.example.com/ticketflow",
        "events": ["ticket.created", "sla.breached"],
        **fields,
    }


async def stored_secret(sessions: async_sessionmaker[AsyncSession], provider: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(
            select(Integration.secret_encrypted).where(Integration.provider == provider)
        )


async def test_admin_creates_replaces_lists_and_deletes_an_integration(
    api: httpx.AsyncClient, people: People, provider: Callable[[], str]
) -> None:
    admin = await people.make(Role.ADMIN)
    slug = provider()
    path = f"{V1}/integrations/{slug}"

    created = await api.post(
        path, headers=admin.auth, json=body(secret=SECRET, settings={"team": "ops"})
    )
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["provider"] == slug
    assert first["events"] == ["ticket.created", "sla.breached"]
    assert first["settings"] == {"team": "ops"}
    assert (first["enabled"], first["has_secret"]) == (True, True)

    replaced = await api.post(
        path,
        headers=admin.auth,
        json=body(url="http://203.0.114.7:8080/in", events=["ticket.closed"], enabled=False),
    )
    assert replaced.status_code == 200, replaced.text
    second = replaced.json()
    assert second["id"] == first["id"]
    assert (second["url"], second["events"]) == ("http://203.0.114.7:8080/in", ["ticket.closed"])
    assert (second["settings"], second["enabled"]) == ({}, False)
    assert second["has_secret"] is True  # an omitted secret is kept

    listed = await api.get(f"{V1}/integrations", headers=admin.auth, params={"limit": 200})
    assert listed.status_code == 200
    [mine] = [i for i in listed.json()["items"] if i["provider"] == slug]
    assert mine == second

    deleted = await api.delete(path, headers=admin.auth)
    assert deleted.status_code == 204
    assert_problem(await api.delete(path, headers=admin.auth), 404)


async def test_the_secret_is_encrypted_at_rest_and_never_returned(
    api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await people.make(Role.ADMIN)
    slug = provider()

    created = await api.post(
        f"{V1}/integrations/{slug}", headers=admin.auth, json=body(secret=SECRET)
    )
    listed = await api.get(f"{V1}/integrations", headers=admin.auth, params={"limit": 200})

    for response in (created, listed):
        assert SECRET not in response.text
        assert "secret_encrypted" not in response.text
    raw = await stored_secret(session_factory, slug)
    assert raw is not None and SECRET not in raw
    assert SecretBox(KEY).decrypt(raw) == SECRET


async def test_a_null_secret_removes_it(
    api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await people.make(Role.ADMIN)
    path = f"{V1}/integrations/{provider()}"
    await api.post(path, headers=admin.auth, json=body(secret=SECRET))

    cleared = await api.post(path, headers=admin.auth, json=body(secret=None))

    assert cleared.json()["has_secret"] is False
    assert await stored_secret(session_factory, cleared.json()["provider"]) is None


@pytest.mark.parametrize("role", [Role.AGENT, Role.USER, Role.VIP_USER])
async def test_only_admins_may_see_or_touch_integrations(
    api: httpx.AsyncClient, people: People, provider: Callable[[], str], role: Role
) -> None:
    someone = await people.make(role)
    path = f"{V1}/integrations/{provider()}"

    assert_problem(await api.get(f"{V1}/integrations", headers=someone.auth), 403)
    assert_problem(await api.post(path, headers=someone.auth, json=body()), 403)
    assert_problem(await api.delete(path, headers=someone.auth), 403)
    assert_problem(await api.get(f"{V1}/integrations"), 401)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://files.example.com/drop"}, "url"),
        ({"url": "hooks.example.com/ticketflow"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://example.com:99999/x"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["ticket.exploded"]}, "events"),
        ({"events": "ticket.created"}, "events"),
        ({"secret": "short"}, "secret"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(
    api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    fields: dict[str, Any],
    field: str,
) -> None:
    admin = await people.make(Role.ADMIN)

    response = await api.post(
        f"{V1}/integrations/{provider()}", headers=admin.auth, json=body(**fields)
    )

    problem = assert_problem(response, 422)
    assert problem["type"].endswith(":invalid_input")
    assert any(error["loc"][:2] == ["body", field] for error in problem["errors"])


@pytest.mark.parametrize("slug", ["Slack", "my%20hook", "a" * 41])
async def test_a_provider_must_be_a_slug(api: httpx.AsyncClient, people: People, slug: str) -> None:
    admin = await people.make(Role.ADMIN)

    response = await api.post(f"{V1}/integrations/{slug}", headers=admin.auth, json=body())

    assert_problem(response, 422)


async def test_repeated_events_are_stored_once(
    api: httpx.AsyncClient, people: People, provider: Callable[[], str]
) -> None:
    admin = await people.make(Role.ADMIN)
    events = ["sla.breached", "ticket.created", "sla.breached"]

    response = await api.post(
        f"{V1}/integrations/{provider()}", headers=admin.auth, json=body(events=events)
    )

    assert response.json()["events"] == ["sla.breached", "ticket.created"]


@pytest_asyncio.fixture(loop_scope="session")
async def keyless_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a deployment that has not set TICKETFLOW_SECRETS_KEY."""
    async with api_with(settings.model_copy(update={"secrets_key": None})) as client:
        yield client


async def test_without_a_key_a_secret_is_refused_and_nothing_is_stored(
    keyless_api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await people.make(Role.ADMIN)
    slug = provider()
    path = f"{V1}/integrations/{slug}"

    refused = await keyless_api.post(path, headers=admin.auth, json=body(secret=SECRET))

    problem = assert_problem(refused, 503)
    assert problem["type"].endswith(":secrets_key_missing")
    assert "set TICKETFLOW_SECRETS_KEY" in problem["detail"]
    async with session_factory() as session:
        found = await session.scalar(select(Integration).where(Integration.provider == slug))
    assert found is None

    unsigned = await keyless_api.post(path, headers=admin.auth, json=body())
    assert unsigned.status_code == 201
    assert unsigned.json()["has_secret"] is False


@pytest.mark.usefixtures("worker")
async def test_a_create_incident_rule_calls_the_incident_webhook_signed(
    api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await people.make(Role.ADMIN)
    requester = await people.make(Role.USER)
    department_id = await people.department(f"Ops {uuid4().hex[:6]}")
    with StandIn(default=Answer(202)) as receiver:
        hook = {
            "url": f"{receiver.url}/incidents",
            "events": ["incident.created"],
            "secret": SECRET,
        }
        created = await api.post(f"{V1}/integrations/{provider()}", headers=admin.auth, json=hook)
        assert created.status_code == 201, created.text
        rule = {
            "name": f"outage → incident {uuid4().hex[:6]}",
            "trigger": "created",
            "conditions": {"field": "title", "operator": "contains", "value": "outage"},
            "actions": [{"type": "create_incident"}],
        }
        made = await api.post("/api/v1/automation/rules", headers=admin.auth, json=rule)
        assert made.status_code == 201, made.text
        try:
            ticket = await api.post(
                f"{V1}/tickets",
                headers=requester.auth,
                json={
                    "title": "Mail outage",
                    "description": "Nobody gets mail",
                    "department_id": str(department_id),
                },
            )
            assert ticket.status_code == 201, ticket.text
            request = (await receiver.wait_for(1, "/incidents"))[0]
        finally:
            async with session_factory.begin() as session:
                await session.execute(
                    delete(AutomationRule).where(AutomationRule.id == UUID(made.json()["id"]))
                )
    payload = request.json()
    assert payload["event"] == "incident.created"
    assert payload["ticket"]["number"] == ticket.json()["number"]
    signature = request.header(SIGNATURE_HEADER)
    timestamp = request.header(TIMESTAMP_HEADER)
    assert signature and timestamp and verify(SECRET, timestamp, request.body, signature)


async def stored_row(sessions: async_sessionmaker[AsyncSession], provider: str) -> str:
    """The integration's whole row as PostgreSQL holds it, as text."""
    async with sessions() as session:
        raw = await session.scalar(
            text("SELECT row_to_json(i)::text FROM integrations i WHERE provider = :p"),
            {"p": provider},
        )
    assert raw is not None
    return str(raw)


@pytest.mark.usefixtures("chat")
@pytest.mark.parametrize("chat_provider", CHAT)
async def test_a_chat_url_is_encrypted_at_rest_and_only_ever_shown_masked(
    api: httpx.AsyncClient,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
    chat_provider: str,
) -> None:
    admin = await people.make(Role.ADMIN)
    path = f"{V1}/integrations/{chat_provider}"

    created = await api.post(path, headers=admin.auth, json=body(url=SLACK_HOOK))
    listed = await api.get(f"{V1}/integrations", headers=admin.auth, params={"limit": 200})

    assert created.status_code == 201, created.text
    shown = created.json()
    assert (shown["url"], shown["url_masked"], shown["has_url"]) == (
        None,
        "https://hooks.slack.com/…wxyz",
        True,
    )
    assert [i for i in listed.json()["items"] if i["provider"] == chat_provider] == [shown]
    for response in (created, listed):
        assert HOOK_TOKEN not in response.text and "/services/" not in response.text
    raw = await stored_row(session_factory, chat_provider)
    assert HOOK_TOKEN not in raw and "/services/" not in raw
    async with session_factory() as session:
        token = await session.scalar(
            select(Integration.url_encrypted).where(Integration.provider == chat_provider)
        )
    assert token is not None and SecretBox(KEY).decrypt(token) == SLACK_HOOK


@pytest.mark.usefixtures("chat")
async def test_an_omitted_url_keeps_the_stored_one_and_a_new_one_needs_a_url(
    api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await people.make(Role.ADMIN)
    await api.post(f"{V1}/integrations/teams", headers=admin.auth, json=body(url=SLACK_HOOK))

    changed = await api.post(
        f"{V1}/integrations/teams", headers=admin.auth, json={"events": ["ticket.closed"]}
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["url_masked"] == "https://hooks.slack.com/…wxyz"
    assert changed.json()["events"] == ["ticket.closed"]
    async with session_factory() as session:
        token = await session.scalar(
            select(Integration.url_encrypted).where(Integration.provider == "teams")
        )
    assert token is not None and SecretBox(KEY).decrypt(token) == SLACK_HOOK

    missing = await api.post(
        f"{V1}/integrations/{provider()}", headers=admin.auth, json={"events": ["ticket.closed"]}
    )
    assert "url is required" in assert_problem(missing, 422)["detail"]
    nulled = await api.post(f"{V1}/integrations/teams", headers=admin.auth, json=body(url=None))
    problem = assert_problem(nulled, 422)
    assert any(error["loc"][:2] == ["body", "url"] for error in problem["errors"])


async def test_a_generic_webhook_url_is_shown_back_as_given(
    api: httpx.AsyncClient, people: People, provider: Callable[[], str]
) -> None:
    admin = await people.make(Role.ADMIN)

    created = await api.post(f"{V1}/integrations/{provider()}", headers=admin.auth, json=body())

    shown = created.json()
    assert (shown["url"], shown["url_masked"], shown["has_url"]) == (
        "https://hooks.example.com/ticketflow",
        None,
        True,
    )


@pytest.mark.usefixtures("chat")
async def test_without_a_key_a_chat_url_is_refused_and_nothing_is_stored(
    keyless_api: httpx.AsyncClient,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await people.make(Role.ADMIN)

    refused = await keyless_api.post(
        f"{V1}/integrations/slack", headers=admin.auth, json=body(url=SLACK_HOOK)
    )

    problem = assert_problem(refused, 503)
    assert problem["type"].endswith(":secrets_key_missing")
    assert HOOK_TOKEN not in refused.text
    async with session_factory() as session:
        found = await session.scalar(select(Integration).where(Integration.provider == "slack"))
    assert found is None


@pytest.mark.usefixtures("worker", "chat")
async def test_the_slack_integration_still_reaches_its_webhook(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    requester = await people.make(Role.USER)
    department_id = await people.department(f"Desk {uuid4().hex[:6]}")
    with StandIn(default=Answer(200, body=b"ok")) as slack:
        hook = {"url": f"{slack.url}/services/T0/B0/abcdefghijkl", "events": ["ticket.created"]}
        created = await api.post(f"{V1}/integrations/slack", headers=admin.auth, json=hook)
        assert created.status_code == 201, created.text
        assert "/services/T0/B0" not in created.text
        ticket = await api.post(
            f"{V1}/tickets",
            headers=requester.auth,
            json={
                "title": "Printer on fire",
                "description": "Floor 3",
                "department_id": str(department_id),
            },
        )
        assert ticket.status_code == 201, ticket.text
        request = (await slack.wait_for(1, "/services/T0/B0/abcdefghijkl"))[0]
    assert f"#{ticket.json()['number']} Printer on fire" in request.json()["text"]


@pytest.mark.usefixtures("worker")
async def test_admins_see_each_delivery_and_how_it_went(
    api: httpx.AsyncClient, people: People, provider: Callable[[], str]
) -> None:
    admin, agent = await people.make(Role.ADMIN), await people.make(Role.AGENT)
    requester = await people.make(Role.USER)
    department_id = await people.department(f"Hooks {uuid4().hex[:6]}")
    slug = provider()
    with StandIn(default=Answer(204)) as receiver:
        hook = {"url": f"{receiver.url}/in", "events": ["ticket.created"], "secret": SECRET}
        created = await api.post(f"{V1}/integrations/{slug}", headers=admin.auth, json=hook)
        assert created.status_code == 201, created.text
        numbers = []
        for title in ("Desk lamp flickers", "Chair squeaks"):
            opened = await api.post(
                f"{V1}/tickets",
                headers=requester.auth,
                json={
                    "title": title,
                    "description": "Since Monday",
                    "department_id": str(department_id),
                },
            )
            assert opened.status_code == 201, opened.text
            numbers.append(opened.json()["number"])
        url = f"{V1}/integrations/{slug}/deliveries"
        items: list[dict[str, Any]] = []

        async def both_sent() -> bool:
            nonlocal items
            items = (await api.get(url, headers=admin.auth)).json()["items"]
            return len(items) == 2 and all(i["status"] == "sent" for i in items)

        await eventually(both_sent, within=30)
        arrived = receiver.requests_to("/in")
    assert [i["payload"]["ticket"]["number"] for i in items] == numbers[::-1]  # newest first
    assert {(i["event"], i["attempts"], i["response_status"]) for i in items} == {
        ("ticket.created", 1, 204)
    }
    assert {i["id"] for i in items} == {r.header(ID_HEADER) for r in arrived}
    first = (await api.get(url, headers=admin.auth, params={"limit": 1})).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    assert_problem(await api.get(url, headers=agent.auth), 403)
    assert_problem(
        await api.get(f"{V1}/integrations/{provider()}/deliveries", headers=admin.auth), 404
    )


# -- attacks: a receiver URL aimed inward ----------------------------------------------------

INWARD = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://localhost:8080/hook", "loopback"),
    ("http://LOCALHOST./hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/iam/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://100.100.100.200/latest/meta-data/", "cloud metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://10.0.0.7:8080/in", "private"),
    ("http://172.16.5.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://[fd12:3456::1]/", "unique local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:a9fe:a9fe]/", "cloud metadata"),
    ("http://[64:ff9b::a00:1]/", "private"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f.0.0.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://0xa9fea9fe/", "cloud metadata"),
]


@pytest.mark.parametrize(("url", "reason"), INWARD, ids=[url for url, _ in INWARD])
async def test_a_webhook_aimed_inward_is_refused_naming_why(
    strict_api: httpx.AsyncClient,
    people: People,
    provider: Callable[[], str],
    session_factory: async_sessionmaker[AsyncSession],
    url: str,
    reason: str,
) -> None:
    admin = await people.make(Role.ADMIN)
    slug = provider()

    response = await strict_api.post(
        f"{V1}/integrations/{slug}", headers=admin.auth, json=body(url=url)
    )

    problem = assert_problem(response, 422)
    assert reason in problem["detail"]
    assert any(error["loc"][:2] == ["body", "url"] for error in problem["errors"])
    async with session_factory() as session:
        found = await session.scalar(select(Integration).where(Integration.provider == slug))
    assert found is None


@pytest.mark.usefixtures("chat")
@pytest.mark.parametrize("chat_provider", CHAT)
@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/services/T0/B0/x", "https://localhost/services/T0/B0/x"]
)
async def test_a_slack_or_teams_url_aimed_inward_is_refused_and_not_echoed(
    strict_api: httpx.AsyncClient, people: People, chat_provider: str, url: str
) -> None:
    admin = await people.make(Role.ADMIN)

    response = await strict_api.post(
        f"{V1}/integrations/{chat_provider}", headers=admin.auth, json=body(url=url)
    )

    assert_problem(response, 422)
    assert "/services/T0/B0" not in response.text  # the credential part of the URL


async def test_an_operator_may_allow_an_inward_network_or_host(
    settings: Settings, api_with: ApiWith, people: People, provider: Callable[[], str]
) -> None:
    admin = await people.make(Role.ADMIN)
    allowing = settings.model_copy(update={"outbound_allow": "10.20.0.0/16, localhost"})
    async with api_with(allowing) as client:
        for url in ("http://10.20.3.4:8080/in", "http://localhost:9000/in"):
            created = await client.post(
                f"{V1}/integrations/{provider()}", headers=admin.auth, json=body(url=url)
            )
            assert created.status_code == 201, created.text
        refused = await client.post(
            f"{V1}/integrations/{provider()}",
            headers=admin.auth,
            json=body(url="http://10.21.0.1/in"),
        )
    assert "private" in assert_problem(refused, 422)["detail"]
