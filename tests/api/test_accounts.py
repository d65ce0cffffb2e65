"""The account's side of `/api/v1/auth`: proving a phone, verification and reset links as
their owner gets them (from the SendGrid and Twilio stand-ins), and what the notification
rows keep of them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payloads
from temporalio.testing import WorkflowEnvironment

from domain.enums import Locale, Role
from persistence.models import Notification, NotificationStatus, User
from persistence.outbox import RECORDED_ONLY
from persistence.repositories import users as users_repo
from tests.api.conftest import PASSWORD, ApiWith, People, Person, assert_problem
from tests.api.test_tickets import eventually
from tests.support.providers import (
    SENDGRID_PATH,
    link_token,
    mail_to,
    mails_to,
    sending_to,
    six_digit_code,
    start_providers,
    text_to,
    texts_to,
)
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workers.main import build_worker

AUTH = "/api/v1/auth"


@pytest.fixture
def providers() -> Iterator[StandIn]:
    standin = start_providers()
    yield standin
    standin.stop()


@pytest.fixture
def settings(settings: Settings, providers: StandIn) -> Settings:
    return sending_to(settings, providers, "twilio-token-for-account-tests")


def new_number() -> str:
    return "+1555" + "".join(random.choices("0123456789", k=7))


async def rows_of(
    sessions: async_sessionmaker[AsyncSession], user_id: UUID | str
) -> list[Notification]:
    async with sessions() as session:
        found = await session.scalars(
            select(Notification)
            .where(Notification.user_id == UUID(str(user_id)))
            .order_by(Notification.created_at)
        )
        return list(found)


async def ask_code(api: httpx.AsyncClient, person: Person, phone: str) -> httpx.Response:
    return await api.post(f"{AUTH}/phone/verify-start", json={"phone": phone}, headers=person.auth)


async def code_for(api: httpx.AsyncClient, providers: StandIn, person: Person, phone: str) -> str:
    asked = await ask_code(api, person, phone)
    assert asked.status_code == 202, asked.text
    return six_digit_code(await text_to(providers, phone))


async def verify(api: httpx.AsyncClient, person: Person, code: str) -> httpx.Response:
    return await api.post(f"{AUTH}/phone/verify", json={"code": code}, headers=person.auth)


pytestmark = pytest.mark.usefixtures("worker")


async def test_a_phone_is_proven_by_the_code_texted_to_it(
    api: httpx.AsyncClient,
    people: People,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    person = await people.make()
    phone = new_number()
    code = await code_for(api, providers, person, phone)

    proven = await verify(api, person, code)
    assert proven.status_code == 200, proven.text
    assert proven.json()["phone"] == phone
    assert proven.json()["phone_verified_at"] is not None
    assert_problem(await verify(api, person, code), 422)  # once only

    [row] = await rows_of(session_factory, person.id)
    assert (row.channel.value, row.event, row.recipient) == (
        "sms",
        "account.phone_verification",
        phone,
    )
    assert row.status is NotificationStatus.SENT
    assert code not in f"{row.subject} {row.body}"
    assert row.body == "phone verification code sent (the code is not kept)"


async def test_a_code_takes_five_tries_and_no_more(
    api: httpx.AsyncClient, people: People, providers: StandIn
) -> None:
    person = await people.make()
    phone = new_number()
    code = await code_for(api, providers, person, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    details = [assert_problem(await verify(api, person, wrong), 422)["detail"] for _ in range(5)]
    assert details[0] == "wrong code; 4 tries left" and details[3] == "wrong code; 1 try left"
    late = assert_problem(await verify(api, person, code), 422)
    assert "ask for a new one" in late["detail"]
    me = await api.get(f"{AUTH}/me", headers=person.auth)
    assert me.json()["phone_verified_at"] is None


async def test_a_verified_number_belongs_to_one_account(
    api: httpx.AsyncClient, people: People, providers: StandIn
) -> None:
    first, second = await people.make(), await people.make()
    phone = new_number()
    assert (await verify(api, first, await code_for(api, providers, first, phone))).is_success
    # The same number, written otherwise.
    spaced = f"{phone[:2]} {phone[2:5]} {phone[5:]}"

    asked = await ask_code(api, second, spaced)
    assert asked.status_code == 202, asked.text
    code = six_digit_code(await text_to(providers, spaced))
    assert_problem(await verify(api, second, code), 409)
    me = await api.get(f"{AUTH}/me", headers=second.auth)
    assert me.json()["phone_verified_at"] is None


async def test_changing_the_phone_clears_its_verification(
    api: httpx.AsyncClient, people: People, providers: StandIn
) -> None:
    person = await people.make()
    phone = new_number()
    assert (await verify(api, person, await code_for(api, providers, person, phone))).is_success

    async def profile(number: str) -> dict[str, Any]:
        changed = await api.put(
            f"{AUTH}/update-profile", json={"phone": number}, headers=person.auth
        )
        assert changed.status_code == 200, changed.text
        body: dict[str, Any] = changed.json()
        return body

    assert (await profile(f"{phone[:2]} ({phone[2:5]}) {phone[5:]}"))["phone_verified_at"]
    assert (await profile(new_number()))["phone_verified_at"] is None
    assert (await profile(phone))["phone_verified_at"] is None  # back again: prove it again


async def test_codes_are_paced_per_account(
    api: httpx.AsyncClient, people: People, providers: StandIn
) -> None:
    person = await people.make()
    answers = [(await ask_code(api, person, new_number())).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]


async def test_a_phone_code_needs_a_number_and_six_digits(
    api: httpx.AsyncClient, people: People
) -> None:
    person = await people.make()
    assert_problem(await ask_code(api, person, "call me maybe"), 422)
    assert_problem(await verify(api, person, "12345"), 422)
    assert_problem(await verify(api, person, "12345a"), 422)
    assert_problem(await api.post(f"{AUTH}/phone/verify", json={"code": "123456"}), 401)


async def test_the_verification_link_can_be_sent_again(
    api: httpx.AsyncClient, providers: StandIn
) -> None:
    email = f"again-{random.randrange(10**9)}@example.com"
    registered = await api.post(
        f"{AUTH}/register", json={"email": email, "password": PASSWORD, "name": "Ana"}
    )
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    first = link_token(await mail_to(providers, email))

    again = await api.post(f"{AUTH}/verify-email/resend", headers=headers)
    assert again.status_code == 202, again.text

    async def second_arrived() -> bool:
        return len(mails_to(providers, email)) == 2

    await eventually(second_arrived)
    second = link_token(mails_to(providers, email)[-1])
    assert second != first
    assert (await api.post(f"{AUTH}/verify-email", json={"token": second})).is_success
    assert_problem(await api.post(f"{AUTH}/verify-email/resend", headers=headers), 409)


async def test_a_link_serves_its_own_purpose_only(
    api: httpx.AsyncClient, providers: StandIn
) -> None:
    email = f"purpose-{random.randrange(10**9)}@example.com"
    await api.post(f"{AUTH}/register", json={"email": email, "password": PASSWORD, "name": "A"})
    verification = link_token(await mail_to(providers, email))
    for path, body in (
        ("reset-password", {"token": verification, "new_password": "not with this one"}),
        ("accept-invitation", {"token": verification, "password": "not with this one"}),
    ):
        assert_problem(await api.post(f"{AUTH}/{path}", json=body), 422)
    assert (await api.post(f"{AUTH}/verify-email", json={"token": verification})).is_success


async def test_account_messages_speak_the_users_language(
    api: httpx.AsyncClient, people: People, providers: StandIn
) -> None:
    person = await people.make()
    changed = await api.put(f"{AUTH}/update-profile", json={"locale": "es"}, headers=person.auth)
    assert changed.json()["locale"] == Locale.ES

    await api.post(f"{AUTH}/forgot-password", json={"email": person.email})
    mail = await mail_to(providers, person.email)
    assert mail.startswith("Restablezca su contraseña")
    assert "en un plazo de 1 hora" in mail

    phone = new_number()
    await ask_code(api, person, phone)
    assert "Su código para verificar el teléfono es" in await text_to(providers, phone)


async def test_a_refused_link_is_recorded_failed_without_the_link(
    api: httpx.AsyncClient,
    people: People,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    refusal = {"errors": [{"message": "The to address is not valid", "field": "to"}]}
    providers.enqueue(SENDGRID_PATH, Answer(400, payload=refusal))
    person = await people.make()
    await api.post(f"{AUTH}/forgot-password", json={"email": person.email})
    token = link_token(await mail_to(providers, person.email))

    async def settled() -> bool:
        rows = await rows_of(session_factory, person.id)
        return bool(rows) and rows[0].status is not NotificationStatus.PENDING

    await eventually(settled, within=20)
    [row] = await rows_of(session_factory, person.id)
    assert row.status is NotificationStatus.FAILED
    assert row.error == "400: The to address is not valid"
    assert token not in f"{row.subject} {row.body} {row.error}"


async def test_without_credentials_the_link_is_recorded_and_shown_nowhere(
    settings: Settings,
    api_with: ApiWith,
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    people: People,
    providers: StandIn,
) -> None:
    bare = settings.model_copy(
        update={"sendgrid_api_key": None, "task_queue": f"{settings.task_queue}-bare"}
    )
    person = await people.make()
    async with (
        build_worker(dev_env.client, session_factory, bare),
        api_with(bare) as client,
    ):
        answered = await client.post(f"{AUTH}/forgot-password", json={"email": person.email})
        assert answered.status_code == 202

        async def recorded() -> bool:
            rows = await rows_of(session_factory, person.id)
            return bool(rows) and rows[0].status is NotificationStatus.SENT

        await eventually(recorded, within=20)
    [row] = await rows_of(session_factory, person.id)
    assert (row.error, row.body) == (
        RECORDED_ONLY,
        "password reset link sent (the link is not kept)",
    )
    assert providers.requests_to(SENDGRID_PATH) == []
    assert "token" not in answered.text


async def test_a_text_made_account_resets_by_its_proven_phone(
    api: httpx.AsyncClient,
    people: People,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    phone = new_number()
    person = await people.make()
    async with session_factory.begin() as session:
        placeholder = f"sms+{phone.lstrip('+')}@{settings.mail_domain}"
        await session.execute(update(User).where(User.id == person.id).values(email=placeholder))
        await users_repo.mark_phone_verified(session, person.id, phone)

    await api.post(f"{AUTH}/forgot-password", json={"email": placeholder})
    token = link_token(await text_to(providers, phone))
    reset = await api.post(
        f"{AUTH}/reset-password", json={"token": token, "new_password": "texted reset 1"}
    )
    assert reset.status_code == 200, reset.text
    assert texts_to(providers, phone) and not [
        r for r in providers.requests_to(SENDGRID_PATH) if placeholder in r.body.decode()
    ]


async def test_an_agent_reading_the_message_in_the_web_ui_finds_no_link(
    api: httpx.AsyncClient,
    people: People,
    providers: StandIn,
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The codec server opens Temporal payloads for any agent; the admin's reset link inside
    them is sealed for the worker, so an agent cannot take the admin's account."""
    agent, admin = await people.make(Role.AGENT), await people.make(Role.ADMIN)
    await api.post(f"{AUTH}/forgot-password", json={"email": admin.email})
    token = link_token(await mail_to(providers, admin.email))
    [row] = await rows_of(session_factory, admin.id)
    assert row.idempotency_key is not None

    history = await dev_env.client.get_workflow_handle(row.idempotency_key).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    body = json_format.MessageToDict(started.input)
    decoded = await api.post("/codec/decode", json=body, headers=agent.auth)
    assert decoded.status_code == 200, decoded.text
    opened = b"".join(p.data for p in json_format.Parse(decoded.text, Payloads()).payloads)
    assert b"Reset your password" in opened  # the codec did open the payload
    assert token.encode() not in opened and b"token=" not in opened


async def test_a_password_reset_ends_every_access_token_at_once(
    api: httpx.AsyncClient, people: People, providers: StandIn
) -> None:
    person = await people.make()
    await api.post(f"{AUTH}/forgot-password", json={"email": person.email})
    token = link_token(await mail_to(providers, person.email))
    reset = await api.post(
        f"{AUTH}/reset-password", json={"token": token, "new_password": "correct horse 93 battery"}
    )
    assert reset.status_code == 200, reset.text
    assert_problem(await api.get(f"{AUTH}/me", headers=person.auth), 401)
