"""Inbound SMS (Twilio) end to end, signed as Twilio signs: the API, the worker, PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.request_validator import RequestValidator

from persistence.models import User
from persistence.repositories import users as users_repo
from tests.api.conftest import ApiWith, Desk, People, Person, assert_problem
from tests.api.test_tickets import eventually, open_ticket
from tests.support.providers import link_token, sending_to, start_providers, text_to
from tests.support.standin import StandIn
from ticketflow.settings import Settings

V1 = "/api/v1"
SMS = f"{V1}/webhooks/twilio/sms"
AUTH_TOKEN = "twilio-auth-token-for-tests"
PUBLIC_URL = "https://help.example.com"
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def providers() -> Iterator[StandIn]:
    standin = start_providers()
    yield standin
    standin.stop()


@pytest.fixture
def settings(settings: Settings, providers: StandIn) -> Settings:
    """Twilio signs with AUTH_TOKEN, and texts go to the stand-in."""
    return sending_to(settings, providers, AUTH_TOKEN).model_copy(
        update={"public_url": PUBLIC_URL + "/"}
    )


def new_number() -> str:
    return "+1555" + "".join(random.choices("0123456789", k=7))


def message(sender: str, body: str, **extra: str) -> dict[str, str]:
    """The parameters Twilio posts for an incoming SMS."""
    return {
        "MessageSid": "SM" + uuid4().hex,
        "AccountSid": "AC" + uuid4().hex,
        "From": sender,
        "To": "+15550000000",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def signed(params: dict[str, str], token: str = AUTH_TOKEN) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + SMS, params)
    return {"X-Twilio-Signature": signature}


async def text_in(
    api: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.post(SMS, data=params, headers=signed(params) if headers is None else headers)


async def tickets_of(api: httpx.AsyncClient, desk: Desk, requester_id: Any) -> list[Any]:
    listed = await api.get(
        f"{V1}/tickets", headers=desk.admin.auth, params={"requester_id": str(requester_id)}
    )
    items: list[Any] = listed.json()["items"]
    return items


async def user_for(sessions: async_sessionmaker[AsyncSession], number: str) -> User | None:
    async with sessions() as session:
        return await users_repo.get_by_email(session, f"sms+{number.lstrip('+')}@ticketflow.local")


async def prove_phone(
    sessions: async_sessionmaker[AsyncSession], person: Person, phone: str
) -> None:
    """The person's phone, verified as an SMS code does it."""
    async with sessions.begin() as session:
        await users_repo.mark_phone_verified(session, person.id, phone)


async def test_an_sms_from_a_new_number_opens_a_ticket(
    api: httpx.AsyncClient, desk: Desk, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    sender = new_number()
    body = "My laptop will not boot after last night's update and the screen stays black all day"
    params = message(sender, body)
    responses = [await text_in(api, params) for _ in range(2)]  # the second: a redelivery
    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert "<Response" in response.text

    requester = await user_for(session_factory, sender)
    assert requester is not None
    assert requester.phone == sender

    async def opened() -> bool:
        return len(await tickets_of(api, desk, requester.id)) > 0

    await eventually(opened)
    [ticket] = await tickets_of(api, desk, requester.id)
    assert ticket["title"] == body[:80]
    assert ticket["description"] == body
    assert ticket["source"] == "sms"

    # The next message is a reply on that ticket; no second ticket ever shows up.
    assert (await text_in(api, message(sender, "Still black"))).status_code == 200

    async def replied() -> bool:
        found = await api.get(f"{V1}/tickets/{ticket['number']}/comments", headers=desk.admin.auth)
        return [c["body"] for c in found.json()["items"]] == ["Still black"]

    await eventually(replied)
    assert [t["number"] for t in await tickets_of(api, desk, requester.id)] == [ticket["number"]]


async def test_an_sms_lands_on_the_senders_latest_open_ticket(
    api: httpx.AsyncClient, desk: Desk, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    phone = new_number()
    await prove_phone(session_factory, desk.requester, f"{phone[:2]} {phone[2:5]} {phone[5:]}")
    older = (await open_ticket(api, desk, title="Older"))["number"]
    latest = (await open_ticket(api, desk, title="Latest"))["number"]

    async def both_listed() -> bool:
        return len(await tickets_of(api, desk, desk.requester.id)) == 2

    await eventually(both_listed)
    params = message(phone, "Any news?")
    for _ in range(2):  # a redelivered message is not a second comment
        assert (await text_in(api, params)).status_code == 200
    assert (await text_in(api, message(phone, "Hello?"))).status_code == 200

    async def replied() -> bool:
        found = await api.get(f"{V1}/tickets/{latest}/comments", headers=desk.agent.auth)
        return len(found.json()["items"]) >= 2

    await eventually(replied)
    found = await api.get(f"{V1}/tickets/{latest}/comments", headers=desk.agent.auth)
    shown = [(c["body"], c["author_id"]) for c in found.json()["items"]]
    assert shown == [("Any news?", str(desk.requester.id)), ("Hello?", str(desk.requester.id))]
    untouched = await api.get(f"{V1}/tickets/{older}/comments", headers=desk.agent.auth)
    assert untouched.json()["items"] == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda params: signed(params, token="not-the-auth-token"),
        lambda params: signed({**params, "Body": "something else"}),
        lambda params: {},
    ],
    ids=["wrong token", "tampered body", "no signature"],
)
async def test_a_forged_signature_is_refused(
    api: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    forge: Any,
) -> None:
    sender = new_number()
    params = message(sender, "Let me in")
    assert_problem(await text_in(api, params, headers=forge(params)), 403)
    assert await user_for(session_factory, sender) is None


async def test_a_message_without_a_sender_is_invalid(api: httpx.AsyncClient) -> None:
    params = message("", "Who am I?")
    assert_problem(await text_in(api, params), 422)


@pytest.mark.parametrize("broken", ["no body", "no message sid", "media count not a number"])
async def test_a_malformed_message_is_refused_and_nothing_is_made(
    api: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], broken: str
) -> None:
    sender = new_number()
    params = message(sender, "Printer jammed")
    if broken == "no body":
        del params["Body"]
    elif broken == "no message sid":
        del params["MessageSid"]
    else:
        params["NumMedia"] = "lots"
    assert_problem(await text_in(api, params), 422)
    assert await user_for(session_factory, sender) is None


async def test_without_an_auth_token_the_webhook_is_unavailable(
    settings: Settings,
    api_with: ApiWith,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    bare = settings.model_copy(update={"twilio_auth_token": None})
    sender = new_number()
    params = message(sender, "Hello?")
    async with api_with(bare) as client:
        response = await client.post(SMS, data=params, headers=signed(params))
    assert_problem(response, 503)
    assert await user_for(session_factory, sender) is None


async def test_the_seeds_sms_reply_path_is_the_same_webhook(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    seed_path = f"{V1}/webhooks/sms-reply"
    params = message(new_number(), "Printer jammed again")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + seed_path, params)
    answered = await api.post(seed_path, data=params, headers={"X-Twilio-Signature": signature})
    assert answered.status_code == 200, answered.text
    assert answered.headers["content-type"].startswith("text/xml")
    forged = await api.post(
        seed_path, data=params, headers=signed(params)
    )  # signed for another path
    assert forged.status_code == 403


# -- attacks -----------------------------------------------------------------------------------


async def test_a_self_declared_phone_does_not_capture_someone_elses_texts(
    api: httpx.AsyncClient,
    desk: Desk,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Typing someone else's number into one's profile binds none of their texts."""
    victim_phone = new_number()
    squatter = await people.make(name="Squatter")
    declared = await api.put(
        f"{V1}/auth/update-profile", json={"phone": victim_phone}, headers=squatter.auth
    )
    assert declared.status_code == 200, declared.text
    own = await api.post(
        f"{V1}/tickets",
        json={"title": "My own", "description": "Mine"},
        headers=squatter.auth,
    )
    assert own.status_code == 201, own.text

    assert (await text_in(api, message(victim_phone, "My PIN is 4321"))).status_code == 200

    requester = await user_for(session_factory, victim_phone)
    assert requester is not None, "the text went to the account that merely typed the number"
    assert requester.id != squatter.id

    async def landed() -> bool:
        return len(await tickets_of(api, desk, requester.id)) == 1

    await eventually(landed)
    number = own.json()["number"]
    comments = await api.get(f"{V1}/tickets/{number}/comments", headers=squatter.auth)
    assert comments.json()["items"] == []


async def test_a_texter_is_invited_by_text_and_the_invitation_proves_the_number(
    api: httpx.AsyncClient,
    desk: Desk,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    phone = new_number()
    assert (await text_in(api, message(phone, "Wifi is down"))).status_code == 200
    invitation = await text_to(providers, phone)
    login_as = f"sms+{phone.lstrip('+')}@ticketflow.local"
    assert login_as in invitation

    accepted = await api.post(
        f"{V1}/auth/accept-invitation",
        json={"token": link_token(invitation), "password": "texted in 123"},
    )
    assert accepted.status_code == 200, accepted.text
    login = await api.post(
        f"{V1}/auth/login", json={"email": login_as, "password": "texted in 123"}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["phone_verified_at"] is not None
    assert login.json()["user"]["email_verified_at"] is None  # the placeholder proves nothing

    # The proven number keeps binding its texts to that account, now one with a password.
    requester = await user_for(session_factory, phone)
    assert requester is not None

    async def opened() -> bool:
        return len(await tickets_of(api, desk, requester.id)) == 1

    await eventually(opened)
    assert (await text_in(api, message(phone, "Still down"))).status_code == 200
    [ticket] = await tickets_of(api, desk, requester.id)

    async def replied() -> bool:
        found = await api.get(f"{V1}/tickets/{ticket['number']}/comments", headers=desk.admin.auth)
        return [c["body"] for c in found.json()["items"]] == ["Still down"]

    await eventually(replied)
