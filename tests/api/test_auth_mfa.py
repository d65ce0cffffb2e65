"""TOTP two-factor authentication through `/api/v1/auth/mfa`, and the two-step login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Role
from persistence.models import MfaRecoveryCode, User
from tests.api.conftest import PASSWORD, ApiWith, People, Person, assert_problem
from tests.api.test_auth import AUTH
from ticketflow.settings import Settings

MFA = f"{AUTH}/mfa"


@pytest.fixture
def mfa_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secrets_key": SecretStr(Fernet.generate_key().decode())})


@pytest_asyncio.fixture(loop_scope="session")
async def mfa_api(mfa_settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    async with api_with(mfa_settings) as client:
        yield client


@dataclass
class Enrolled:
    person: Person
    totp: pyotp.TOTP
    recovery_codes: list[str]

    def code(self, steps_ahead: int = 0) -> str:
        """The app's code for now, or for a time step ahead (each code is accepted once)."""
        return self.totp.at(datetime.now(UTC) + timedelta(seconds=30 * steps_ahead))

    def wrong_code(self, n: int) -> str:
        """A six-digit code none of the steps around now has."""
        valid = {self.code(step) for step in (-2, -1, 0, 1, 2)}
        return next(c for k in range(n, n + 10) if (c := f"{k * 7919 % 1000000:06d}") not in valid)


async def enrol(api: httpx.AsyncClient, person: Person) -> Enrolled:
    setup = await api.post(f"{MFA}/setup", headers=person.auth)
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    enabled = await api.post(f"{MFA}/enable", json={"code": totp.now()}, headers=person.auth)
    assert enabled.status_code == 200, enabled.text
    return Enrolled(person, totp, enabled.json()["recovery_codes"])


async def challenge_for(api: httpx.AsyncClient, person: Person) -> str:
    answer = await api.post(f"{AUTH}/login", json={"email": person.email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["mfa_required"] is True
    assert "access_token" not in body and "refresh_token" not in body
    challenge: str = body["challenge"]
    return challenge


async def verify(api: httpx.AsyncClient, challenge: str, code: str) -> httpx.Response:
    return await api.post(f"{MFA}/verify", json={"challenge": challenge, "code": code})


async def test_enrolment_needs_the_secrets_key(api: httpx.AsyncClient, people: People) -> None:
    person = await people.make(Role.AGENT)
    refused = assert_problem(await api.post(f"{MFA}/setup", headers=person.auth), 503)
    assert "TICKETFLOW_SECRETS_KEY" in refused["detail"]


async def test_enrol_then_log_in_with_a_code(
    mfa_api: httpx.AsyncClient,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    agent = await people.make(Role.AGENT)
    setup = await mfa_api.post(f"{MFA}/setup", headers=agent.auth)
    assert setup.status_code == 200, setup.text
    secret, uri = setup.json()["secret"], setup.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/ticketflow:") and f"secret={secret}" in uri
    async with session_factory() as session:
        stored = await session.get(User, agent.id)
        assert stored is not None and stored.mfa_secret and secret not in stored.mfa_secret
    # Not on until confirmed: the password alone still logs in.
    plain = await mfa_api.post(f"{AUTH}/login", json={"email": agent.email, "password": PASSWORD})
    assert "access_token" in plain.json()

    totp = pyotp.TOTP(secret)
    enrolled = Enrolled(agent, totp, [])
    wrong = {"code": enrolled.wrong_code(0)}
    refused = await mfa_api.post(f"{MFA}/enable", json=wrong, headers=agent.auth)
    assert assert_problem(refused, 422)["type"].endswith(":invalid_mfa_code")
    confirming = totp.now()
    enabled = await mfa_api.post(f"{MFA}/enable", json={"code": confirming}, headers=agent.auth)
    assert enabled.status_code == 200, enabled.text
    codes = enabled.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    async with session_factory() as session:
        hashes = (await session.scalars(_codes_of(agent.id))).all()
        assert len(hashes) == 10 and not set(codes) & {h.code_hash for h in hashes}

    challenge = await challenge_for(mfa_api, agent)
    # The code that confirmed the enrolment was used: within its window it is refused.
    assert_problem(await verify(mfa_api, challenge, confirming), 422)
    following = enrolled.code(1)
    pair = await verify(mfa_api, challenge, following)
    assert pair.status_code == 200, pair.text
    assert pair.cookies.get("ticketflow_codec")  # staff get the codec cookie here
    me = await mfa_api.get(f"{AUTH}/me", headers=_bearer(pair.json()["access_token"]))
    assert me.json()["mfa_enabled_at"] is not None
    # Replayed, the same code opens nothing, even with a fresh challenge.
    assert_problem(await verify(mfa_api, await challenge_for(mfa_api, agent), following), 422)


async def test_a_recovery_code_works_once_and_a_challenge_opens_one_session(
    mfa_api: httpx.AsyncClient, people: People
) -> None:
    enrolled = await enrol(mfa_api, await people.make(Role.ADMIN))
    first, second = enrolled.recovery_codes[:2]
    challenge = await challenge_for(mfa_api, enrolled.person)
    assert (await verify(mfa_api, challenge, first.upper())).status_code == 200
    used = await verify(mfa_api, challenge, second)
    assert "already used" in assert_problem(used, 401)["detail"]
    # `second` was not spent by the refused attempt; `first` is spent for good.
    fresh = await challenge_for(mfa_api, enrolled.person)
    assert_problem(await verify(mfa_api, fresh, first), 422)
    assert (await verify(mfa_api, fresh, second.replace("-", ""))).status_code == 200


async def test_a_challenge_is_not_an_access_token_nor_the_other_way_round(
    mfa_api: httpx.AsyncClient, people: People
) -> None:
    enrolled = await enrol(mfa_api, await people.make(Role.AGENT))
    challenge = await challenge_for(mfa_api, enrolled.person)
    assert_problem(await mfa_api.get(f"{AUTH}/me", headers=_bearer(challenge)), 401)
    as_challenge = await verify(mfa_api, enrolled.person.token, enrolled.code(1))
    assert_problem(as_challenge, 401)
    assert_problem(await verify(mfa_api, "junk", enrolled.code(1)), 401)


async def test_the_swagger_form_says_what_to_do_for_a_two_factor_account(
    mfa_api: httpx.AsyncClient, people: People
) -> None:
    enrolled = await enrol(mfa_api, await people.make(Role.AGENT))
    form = {"username": enrolled.person.email, "password": PASSWORD, "grant_type": "password"}
    refused = assert_problem(await mfa_api.post(f"{AUTH}/login", data=form), 401)
    assert refused["type"].endswith(":mfa_required")
    assert "/auth/mfa/verify" in refused["detail"] and "AccessToken" in refused["detail"]
    assert refused["error"] == "mfa_required" and refused["error_description"]
    # The challenge it carries continues the login like the JSON one.
    assert (await verify(mfa_api, refused["challenge"], enrolled.code(1))).status_code == 200


async def test_turning_it_off_takes_a_current_code(
    mfa_api: httpx.AsyncClient, people: People
) -> None:
    enrolled = await enrol(mfa_api, await people.make(Role.AGENT))
    auth = enrolled.person.auth
    wrong = {"code": enrolled.wrong_code(0)}
    assert_problem(await mfa_api.post(f"{MFA}/disable", json=wrong, headers=auth), 422)
    assert_problem(await mfa_api.post(f"{MFA}/setup", headers=auth), 409)
    off = await mfa_api.post(
        f"{MFA}/disable", json={"code": enrolled.recovery_codes[0]}, headers=auth
    )
    assert off.status_code == 204
    login = await mfa_api.post(
        f"{AUTH}/login", json={"email": enrolled.person.email, "password": PASSWORD}
    )
    assert "access_token" in login.json()
    assert_problem(await mfa_api.post(f"{MFA}/disable", json={"code": "123456"}, headers=auth), 409)


async def test_new_recovery_codes_replace_the_old_ones(
    mfa_api: httpx.AsyncClient, people: People
) -> None:
    enrolled = await enrol(mfa_api, await people.make(Role.AGENT))
    renewed = await mfa_api.post(
        f"{MFA}/recovery-codes", json={"code": enrolled.code(1)}, headers=enrolled.person.auth
    )
    assert renewed.status_code == 200, renewed.text
    challenge = await challenge_for(mfa_api, enrolled.person)
    assert_problem(await verify(mfa_api, challenge, enrolled.recovery_codes[5]), 422)
    new_code = renewed.json()["recovery_codes"][0]
    assert (await verify(mfa_api, challenge, new_code)).status_code == 200


async def test_a_required_role_can_only_enrol_until_it_has(
    mfa_settings: Settings, api_with: ApiWith, people: People
) -> None:
    required = mfa_settings.model_copy(update={"mfa_required_roles": "admin, agent"})
    agent, requester = await people.make(Role.AGENT), await people.make()
    async with api_with(required) as api:
        refused = assert_problem(await api.get("/api/v1/tickets", headers=agent.auth), 403)
        assert refused["type"].endswith(":mfa_required")
        assert "/auth/mfa/setup" in refused["detail"]
        assert_problem(
            await api.post("/codec/decode", json={"payloads": []}, headers=agent.auth), 403
        )
        assert (await api.get(f"{AUTH}/me", headers=agent.auth)).status_code == 200
        assert (await api.get("/api/v1/tickets", headers=requester.auth)).status_code == 200

        enrolled = await enrol(api, agent)
        assert (await api.get("/api/v1/tickets", headers=agent.auth)).status_code == 200
        off = await api.post(f"{MFA}/disable", json={"code": enrolled.code(1)}, headers=agent.auth)
        assert off.status_code == 204
        assert_problem(await api.get("/api/v1/tickets", headers=agent.auth), 403)


async def test_an_admin_resets_a_lost_second_factor_and_its_sessions_end(
    mfa_api: httpx.AsyncClient, people: People
) -> None:
    admin, other = await people.make(Role.ADMIN), await people.make(Role.AGENT)
    enrolled = await enrol(mfa_api, await people.make(Role.AGENT))
    target = f"{MFA}/users/{enrolled.person.id}"
    assert_problem(await mfa_api.delete(target, headers=other.auth), 403)
    assert (await mfa_api.delete(target, headers=admin.auth)).status_code == 204
    assert_problem(await mfa_api.get(f"{AUTH}/me", headers=enrolled.person.auth), 401)
    login = await mfa_api.post(
        f"{AUTH}/login", json={"email": enrolled.person.email, "password": PASSWORD}
    )
    assert "access_token" in login.json()
    assert_problem(await mfa_api.delete(f"{MFA}/users/{UUID(int=1)}", headers=admin.auth), 404)


async def test_guessing_codes_is_limited_per_account(
    mfa_api: httpx.AsyncClient, api_with: ApiWith, mfa_settings: Settings, people: People
) -> None:
    enrolled = await enrol(mfa_api, await people.make(Role.AGENT))
    challenge = await challenge_for(mfa_api, enrolled.person)
    answers = []
    for n in range(11):
        # From a new address each time: the account's own limit is what stops it.
        async with api_with(mfa_settings) as elsewhere:
            answers.append(await verify(elsewhere, challenge, enrolled.wrong_code(n)))
    assert {a.status_code for a in answers[:10]} == {422}
    assert_problem(answers[10], 429)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _codes_of(user_id: UUID) -> Any:
    from sqlalchemy import select

    return select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id)
