"""Login abuse: guessing is slowed per account and per address, never locking the owner out."""

from __future__ import annotations

from uuid import uuid4

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
