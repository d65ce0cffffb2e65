"""The password policy (hard to guess, 8..128) and the bound on concurrent password hashing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.hashing_gate import password_hashing
from domain.enums import Role
from tests.api.conftest import PASSWORD, ApiWith, People, assert_problem
from tests.api.test_auth import AUTH, new_email
from ticketflow.settings import Settings

STRONG_128 = ("Umbrella kettle 7 northern quince, " * 4)[:127] + "!"


async def test_guessable_passwords_are_refused_with_the_reason(api: httpx.AsyncClient) -> None:
    email = new_email()
    local = email.split("@")[0].lower()
    for password, why in (
        ("password1", "very common password"),
        ("zxcvbnm,./", "rows of keys"),
        (f"{local}2024", "too easy to guess"),  # their own address
        ("Jennifer1990", "too easy to guess"),
    ):
        answer = await api.post(
            f"{AUTH}/register", json={"email": email, "password": password, "name": "Jennifer"}
        )
        problem = assert_problem(answer, 422)
        assert problem["type"].endswith(":weak_password")
        assert why.lower() in problem["detail"].lower(), problem["detail"]
        assert password not in problem["detail"]


async def test_the_length_limits_still_hold(api: httpx.AsyncClient) -> None:
    for password in ("Zq8!v2", STRONG_128 + "x"):
        answer = await api.post(
            f"{AUTH}/register", json={"email": new_email(), "password": password, "name": "A"}
        )
        assert_problem(answer, 422)
    longest = await api.post(
        f"{AUTH}/register", json={"email": new_email(), "password": STRONG_128, "name": "A"}
    )
    assert longest.status_code == 201, longest.text


async def test_a_new_password_must_be_strong_too(api: httpx.AsyncClient, people: People) -> None:
    person = await people.make()
    weak = {"current_password": PASSWORD, "new_password": "iloveyou2"}
    refused = await api.put(f"{AUTH}/change-password", json=weak, headers=person.auth)
    assert assert_problem(refused, 422)["type"].endswith(":weak_password")
    # Refused, nothing changed: the session and the old password still work.
    assert (await api.get(f"{AUTH}/me", headers=person.auth)).status_code == 200
    login = await api.post(f"{AUTH}/login", json={"email": person.email, "password": PASSWORD})
    assert login.status_code == 200


async def test_an_admin_cannot_create_a_user_with_a_weak_password(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    body = {"email": new_email(), "password": "welcome123", "name": "New Hire"}
    refused = await api.post("/api/v1/users", json=body, headers=admin.auth)
    assert assert_problem(refused, 422)["type"].endswith(":weak_password")
    body["password"] = "grapefruit ladder on a cloudy pier"
    assert (await api.post("/api/v1/users", json=body, headers=admin.auth)).status_code == 201


@pytest.mark.parametrize("bound", [1, 3])
async def test_concurrent_logins_never_hash_more_than_the_bound_at_once(
    bound: int, settings: Settings, api_with: ApiWith, people: People
) -> None:
    bounded = settings.model_copy(update={"password_hash_concurrency": bound})
    accounts = [await people.make() for _ in range(8)]
    async with api_with(bounded) as api:
        password_hashing.reset_peak()
        answers = await asyncio.gather(
            *(
                api.post(f"{AUTH}/login", json={"email": a.email, "password": PASSWORD})
                for a in accounts
            )
        )
    assert [a.status_code for a in answers] == [200] * 8
    # The bound held, and was reached: the logins did overlap.
    assert password_hashing.peak == bound
