"""Accounts and sessions through `/api/v1/auth`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from api.security import hash_password
from domain.enums import Role
from persistence.models import Notification, User
from persistence.repositories import users as users_repo
from tests.api.conftest import PASSWORD, ApiAt, People, a_client_address, assert_problem
from tests.support.providers import link_token, mail_to, sending_to, start_providers
from tests.support.standin import StandIn
from ticketflow.settings import Settings

AUTH = "/api/v1/auth"
TWILIO_TOKEN = "twilio-auth-token-for-auth-tests"


@pytest.fixture
def providers() -> Iterator[StandIn]:
    standin = start_providers()
    yield standin
    standin.stop()


@pytest.fixture
def settings(settings: Settings, providers: StandIn) -> Settings:
    return sending_to(settings, providers, TWILIO_TOKEN)


def new_email() -> str:
    return f"new-{uuid4().hex[:10]}@Example.com"


async def register(api: httpx.AsyncClient, email: str | None = None) -> dict[str, object]:
    response = await api.post(
        f"{AUTH}/register",
        json={"email": email or new_email(), "password": PASSWORD, "name": "Ana"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_register_logs_in_as_a_plain_user_without_exposing_the_hash(
    api: httpx.AsyncClient,
) -> None:
    email = new_email()
    body = await register(api, email)
    assert body["token_type"] == "bearer"
    user = body["user"]
    assert isinstance(user, dict)
    assert user["role"] == "user"
    assert user["email"] == email.lower()
    assert PASSWORD not in str(body)
    assert not [key for key in user if key == "password" or "hash" in key]
    assert "$argon2" not in str(user)

    me = await api.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


async def test_register_twice_with_the_same_email_conflicts(api: httpx.AsyncClient) -> None:
    email = new_email()
    await register(api, email)
    again = await api.post(
        f"{AUTH}/register", json={"email": email.upper(), "password": PASSWORD, "name": "Ana"}
    )
    assert_problem(again, 409)


async def test_login_with_json_and_with_the_swagger_form(
    api: httpx.AsyncClient, people: People
) -> None:
    person = await people.make()
    as_json = await api.post(f"{AUTH}/login", json={"email": person.email, "password": PASSWORD})
    assert as_json.status_code == 200, as_json.text
    as_form = await api.post(
        f"{AUTH}/login",
        data={"username": person.email, "password": PASSWORD, "grant_type": "password"},
    )
    assert as_form.status_code == 200, as_form.text
    token = as_form.json()["access_token"]
    me = await api.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == person.email


async def test_wrong_password_and_unknown_email_look_the_same(
    api: httpx.AsyncClient, people: People
) -> None:
    person = await people.make()
    wrong = await api.post(f"{AUTH}/login", json={"email": person.email, "password": "nope-nope"})
    unknown = await api.post(f"{AUTH}/login", json={"email": new_email(), "password": PASSWORD})
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]


async def test_login_without_fields_is_a_validation_problem(api: httpx.AsyncClient) -> None:
    body = assert_problem(await api.post(f"{AUTH}/login", json={"email": "x@y.z"}), 422)
    assert any(e["loc"][-1] == "password" for e in body["errors"])
    assert_problem(await api.post(f"{AUTH}/login", content=b"{not json"), 422)


async def test_refresh_rotates_and_a_reused_token_ends_every_session(
    api: httpx.AsyncClient,
) -> None:
    first = await register(api)
    rotated = await api.post(
        f"{AUTH}/refresh-token", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    # The old token comes back (stolen?): refused, and the new one dies with it.
    reuse = await api.post(f"{AUTH}/refresh-token", json={"refresh_token": first["refresh_token"]})
    assert_problem(reuse, 401)
    after = await api.post(f"{AUTH}/refresh-token", json={"refresh_token": second["refresh_token"]})
    assert_problem(after, 401)


async def test_an_access_token_is_not_a_refresh_token_and_vice_versa(
    api: httpx.AsyncClient,
) -> None:
    pair = await register(api)
    assert_problem(
        await api.post(f"{AUTH}/refresh-token", json={"refresh_token": pair["access_token"]}), 401
    )
    headers = {"Authorization": f"Bearer {pair['refresh_token']}"}
    assert_problem(await api.get(f"{AUTH}/me", headers=headers), 401)
    assert_problem(await api.get(f"{AUTH}/me", headers={"Authorization": "Bearer junk"}), 401)
    assert_problem(await api.get(f"{AUTH}/me"), 401)


async def test_logout_revokes_the_given_refresh_token(api: httpx.AsyncClient) -> None:
    pair = await register(api)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    out = await api.post(
        f"{AUTH}/logout", json={"refresh_token": pair["refresh_token"]}, headers=headers
    )
    assert out.status_code == 204
    again = await api.post(f"{AUTH}/refresh-token", json={"refresh_token": pair["refresh_token"]})
    assert_problem(again, 401)


async def test_logout_without_a_token_ends_every_session(api: httpx.AsyncClient) -> None:
    pair = await register(api)
    email = pair["user"]["email"]  # type: ignore[index]
    other = (await api.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await api.post(f"{AUTH}/logout", headers=headers)).status_code == 204
    for token in (pair["refresh_token"], other["refresh_token"]):
        assert_problem(await api.post(f"{AUTH}/refresh-token", json={"refresh_token": token}), 401)


async def test_profile_and_password_changes(api: httpx.AsyncClient) -> None:
    pair = await register(api)
    email = pair["user"]["email"]  # type: ignore[index]
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    profile = await api.put(
        f"{AUTH}/update-profile", json={"name": "Ana María", "locale": "es"}, headers=headers
    )
    assert profile.status_code == 200
    assert (profile.json()["name"], profile.json()["locale"]) == ("Ana María", "es")
    assert_problem(
        await api.put(f"{AUTH}/update-profile", json={"role": "admin"}, headers=headers), 422
    )

    wrong = await api.put(
        f"{AUTH}/change-password",
        json={"current_password": "not-it-at-all", "new_password": "another long one"},
        headers=headers,
    )
    assert_problem(wrong, 422)
    changed = await api.put(
        f"{AUTH}/change-password",
        json={"current_password": PASSWORD, "new_password": "another long one"},
        headers=headers,
    )
    assert changed.status_code == 200
    old_session = await api.post(
        f"{AUTH}/refresh-token", json={"refresh_token": pair["refresh_token"]}
    )
    assert_problem(old_session, 401)
    login = await api.post(f"{AUTH}/login", json={"email": email, "password": "another long one"})
    assert login.status_code == 200


async def test_forgot_and_reset_password(
    api: httpx.AsyncClient, worker: Worker, providers: StandIn
) -> None:
    pair = await register(api)
    email = str(pair["user"]["email"])  # type: ignore[index]
    unknown = await api.post(f"{AUTH}/forgot-password", json={"email": new_email()})
    assert unknown.status_code == 202
    known = await api.post(f"{AUTH}/forgot-password", json={"email": email})
    assert known.status_code == 202
    assert known.json() == unknown.json()
    mail = await mail_to(providers, email, containing="reset-password?token=")
    assert "Reset your password" in mail and "1 hour" in mail
    token = link_token(mail)

    reset = await api.post(
        f"{AUTH}/reset-password", json={"token": token, "new_password": "brand new secret"}
    )
    assert reset.status_code == 200
    reused = await api.post(
        f"{AUTH}/reset-password", json={"token": token, "new_password": "brand new secret"}
    )
    assert_problem(reused, 422)
    login = await api.post(f"{AUTH}/login", json={"email": email, "password": "brand new secret"})
    assert login.status_code == 200
    # The link reached the mailbox: the address is proven by it.
    assert login.json()["user"]["email_verified_at"] is not None
    old_session = await api.post(
        f"{AUTH}/refresh-token", json={"refresh_token": pair["refresh_token"]}
    )
    assert_problem(old_session, 401)


async def test_verify_email(api: httpx.AsyncClient, worker: Worker, providers: StandIn) -> None:
    pair = await register(api)
    assert pair["user"]["email_verified_at"] is None  # type: ignore[index]
    email = str(pair["user"]["email"])  # type: ignore[index]
    mail = await mail_to(providers, email, containing="verify-email?token=")
    assert "Confirm your e-mail address" in mail and "3 days" in mail
    token = link_token(mail)
    verified = await api.post(f"{AUTH}/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert_problem(await api.post(f"{AUTH}/verify-email", json={"token": token}), 422)
    assert_problem(await api.get(f"{AUTH}/verify-email/{token}"), 422)
    me = await api.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json()["email_verified_at"] is not None


async def test_bad_passwords_make_their_address_wait_for_that_account(
    api: httpx.AsyncClient, people: People
) -> None:
    person = await people.make()
    attempts = [
        await api.post(f"{AUTH}/login", json={"email": person.email, "password": "bad-bad-bad"})
        for _ in range(6)
    ]
    assert [r.status_code for r in attempts[:5]] == [401] * 5
    limited = assert_problem(attempts[5], 429)
    assert int(attempts[5].headers["Retry-After"]) >= 1
    assert "retry" in limited["detail"]
    # Not even the right password is tried while this address waits: no hash is spent.
    waiting = await api.post(f"{AUTH}/login", json={"email": person.email, "password": PASSWORD})
    assert_problem(waiting, 429)
    # Another account from the same client is not held up by this one's attempts.
    other = await people.make()
    ok = await api.post(f"{AUTH}/login", json={"email": other.email, "password": PASSWORD})
    assert ok.status_code == 200


async def test_api_processes_count_the_same_login_attempts(
    api_at: ApiAt, settings: Settings, people: People
) -> None:
    """Two API processes (`ticketflow api --processes 2`) on one database, one client."""
    person = await people.make()
    wrong = {"email": person.email, "password": "bad-bad-bad"}
    client = a_client_address()
    async with api_at(settings, client) as first, api_at(settings, client) as second:
        answers = [
            await (first if n % 2 else second).post(f"{AUTH}/login", json=wrong) for n in range(6)
        ]

    assert [r.status_code for r in answers[:5]] == [401] * 5
    assert_problem(answers[5], 429)  # 3 + 2 failures, not 5 on each


async def test_users_choose_their_channels_and_devices(
    api: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    pair = await register(api)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    body = {
        "notification_preferences": {"sms": True, "email": False},
        "push_tokens": ["a", "a", "b"],
    }
    profile = await api.put(f"{AUTH}/update-profile", json=body, headers=headers)
    assert profile.status_code == 200, profile.text
    assert profile.json()["notification_preferences"] == {"sms": True, "email": False}
    async with session_factory() as session:
        user = await session.get(User, UUID(profile.json()["id"]))
    assert user is not None and user.push_tokens == ["a", "b"]
    for bad in ({"notification_preferences": {"fax": True}}, {"push_tokens": [""]}):
        assert_problem(await api.put(f"{AUTH}/update-profile", json=bad, headers=headers), 422)


async def test_a_handed_out_password_only_lets_its_holder_choose_another(
    api: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    async with session_factory.begin() as session:
        handed_out = await hash_password("printed once 1")
        await users_repo.set_password(session, admin.id, handed_out, change_required=True)
    login = await api.post(
        f"{AUTH}/login", json={"email": admin.email, "password": "printed once 1"}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["password_change_required"] is True
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    refused = assert_problem(await api.get("/api/v1/tickets", headers=headers), 403)
    assert refused["type"].endswith(":password_change_required")
    assert "change-password" in refused["detail"]
    assert (await api.get(f"{AUTH}/me", headers=headers)).status_code == 200
    same = {"current_password": "printed once 1", "new_password": "printed once 1"}
    assert_problem(await api.put(f"{AUTH}/change-password", headers=headers, json=same), 422)

    chosen = {"current_password": "printed once 1", "new_password": "chosen by me 2"}
    changed = await api.put(f"{AUTH}/change-password", headers=headers, json=chosen)
    assert changed.status_code == 200, changed.text
    assert changed.json()["user"]["password_change_required"] is False
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await api.get("/api/v1/tickets", headers=fresh)).status_code == 200


# -- attacks -----------------------------------------------------------------------------------


async def test_reading_the_logs_after_forgot_password_takes_over_nothing(
    api: httpx.AsyncClient,
    worker: Worker,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whoever reads the logs (every logger, every level) finds no link to use, and the
    notification rows keep none either; the owner gets it by e-mail."""
    pair = await register(api)
    email = str(pair["user"]["email"])  # type: ignore[index]
    caplog.set_level(logging.DEBUG)

    answered = await api.post(f"{AUTH}/forgot-password", json={"email": email})
    assert answered.status_code == 202

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    for leaked in set(re.findall(r"token=([\w-]+)", logged)):
        taken = await api.post(
            f"{AUTH}/reset-password", json={"token": leaked, "new_password": "attacker's own"}
        )
        assert taken.status_code != 200, "a link read in the logs reset the password"
    token = link_token(await mail_to(providers, email))
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert token not in logged
    async with session_factory() as session:
        rows = (await session.scalars(select(Notification))).all()
    assert not [r for r in rows if token in f"{r.subject} {r.body} {r.error}"]
