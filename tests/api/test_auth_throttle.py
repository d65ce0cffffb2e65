"""Login abuse: guessing is slowed per account and per address, never locking the owner out."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from pydantic import ValidationError

from api.login_throttle import (
    FIRST_WAIT,
    LONGEST_WAIT,
    PAIR_FREE,
    PAIR_FREE_UNDER_ATTACK,
    UNDER_ATTACK,
    pair_wait,
)
from tests.api.conftest import PASSWORD, ApiAt, People, assert_problem
from tests.api.test_auth import AUTH
from ticketflow.settings import Settings

PROXY = "10.9.8.7"
WRONG = "not the password at all"


def behind_proxy(settings: Settings) -> Settings:
    return settings.model_copy(update={"trusted_proxies": PROXY})


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def a_peer() -> str:
    # Every test its own addresses: the counters live in the shared database.
    n = uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


async def test_a_password_spray_from_one_address_is_stopped(
    api_at: ApiAt, settings: Settings, people: People
) -> None:
    victims = [await people.make() for _ in range(50)]
    async with api_at(settings, a_peer()) as attacker:
        answers = [
            await attacker.post(f"{AUTH}/login", json={"email": v.email, "password": WRONG})
            for v in victims
        ]
    codes = [a.status_code for a in answers]
    assert 429 in codes, codes
    stopped = codes.index(429)
    assert stopped <= 20, codes
    assert set(codes[stopped:]) == {429}
    assert_problem(answers[-1], 429)


async def test_bad_logins_through_a_proxy_do_not_lock_the_owner_out(
    api_at: ApiAt, settings: Settings, people: People
) -> None:
    owner = await people.make()
    attacker, home = a_peer(), a_peer()
    async with api_at(behind_proxy(settings), PROXY) as api:
        for _ in range(10):
            await api.post(
                f"{AUTH}/login",
                json={"email": owner.email, "password": WRONG},
                headers=forwarded(attacker),
            )
        welcome = await api.post(
            f"{AUTH}/login",
            json={"email": owner.email, "password": PASSWORD},
            headers=forwarded(home),
        )
    assert welcome.status_code == 200, welcome.text


async def test_a_forged_forwarded_header_changes_nothing_without_a_trusted_proxy(
    api_at: ApiAt, settings: Settings, people: People
) -> None:
    victim = await people.make()
    async with api_at(settings, a_peer()) as attacker:
        answers = [
            await attacker.post(
                f"{AUTH}/login",
                json={"email": victim.email, "password": WRONG},
                headers=forwarded(a_peer()),  # a new "client" every time
            )
            for _ in range(6)
        ]
    assert [a.status_code for a in answers] == [401] * 5 + [429]


async def test_an_account_under_attack_gives_each_address_fewer_tries_but_the_owner_gets_in(
    api_at: ApiAt, settings: Settings, people: People
) -> None:
    owner = await people.make()
    wrong = {"email": owner.email, "password": WRONG}
    async with api_at(behind_proxy(settings), PROXY) as api:
        for _ in range(UNDER_ATTACK):  # a botnet: one try from each of many addresses
            bot = await api.post(f"{AUTH}/login", json=wrong, headers=forwarded(a_peer()))
            assert bot.status_code == 401
        persistent = a_peer()
        tries = [
            await api.post(f"{AUTH}/login", json=wrong, headers=forwarded(persistent))
            for _ in range(PAIR_FREE_UNDER_ATTACK + 1)
        ]
        assert [t.status_code for t in tries] == [401] * PAIR_FREE_UNDER_ATTACK + [429]
        owner_answer = await api.post(
            f"{AUTH}/login",
            json={"email": owner.email, "password": PASSWORD},
            headers=forwarded(a_peer()),
        )
    assert owner_answer.status_code == 200, owner_answer.text


async def test_an_address_waits_out_its_delay_and_is_then_tried_again(
    api_at: ApiAt, settings: Settings, people: People
) -> None:
    person = await people.make()
    async with api_at(settings, a_peer()) as api:
        for _ in range(PAIR_FREE):
            await api.post(f"{AUTH}/login", json={"email": person.email, "password": WRONG})
        waiting = await api.post(
            f"{AUTH}/login", json={"email": person.email, "password": PASSWORD}
        )
        assert_problem(waiting, 429)
        await asyncio.sleep(int(waiting.headers["Retry-After"]) + 0.2)
        welcome = await api.post(
            f"{AUTH}/login", json={"email": person.email, "password": PASSWORD}
        )
    assert welcome.status_code == 200, welcome.text


def test_waits_double_up_to_a_cap() -> None:
    assert pair_wait(PAIR_FREE - 1, under_attack=False) is None
    assert pair_wait(PAIR_FREE, under_attack=False) == FIRST_WAIT
    assert pair_wait(PAIR_FREE + 3, under_attack=False) == FIRST_WAIT * 8
    assert pair_wait(PAIR_FREE_UNDER_ATTACK, under_attack=True) == FIRST_WAIT
    assert pair_wait(10_000, under_attack=False) == LONGEST_WAIT


async def test_registration_and_reset_links_are_limited_per_address(
    api_at: ApiAt, settings: Settings
) -> None:
    async with api_at(settings, a_peer()) as api:
        made = [
            await api.post(
                f"{AUTH}/register",
                json={
                    "email": f"r-{uuid4().hex[:8]}@example.com",
                    "password": PASSWORD,
                    "name": "R",
                },
            )
            for _ in range(6)
        ]
        resets = [
            await api.post(
                f"{AUTH}/reset-password",
                json={"token": uuid4().hex, "new_password": PASSWORD},
            )
            for _ in range(11)
        ]
    assert [m.status_code for m in made] == [201] * 5 + [429]
    assert [r.status_code for r in resets] == [422] * 10 + [429]


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    ok = Settings(TICKETFLOW_TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.7, ::1")
    assert ok.trusted_proxy_list == ["10.0.0.0/8", "192.168.1.7", "::1"]
    with pytest.raises(ValidationError, match="not an IP address or CIDR"):
        Settings(TICKETFLOW_TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")
    with pytest.raises(ValidationError, match="not a staff role"):
        Settings(TICKETFLOW_MFA_REQUIRED_ROLES="admin,user")
