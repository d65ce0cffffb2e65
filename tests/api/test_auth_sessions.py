"""Ending a session ends its access tokens at once: REST, the codec cookie, the live socket."""

from __future__ import annotations

from uuid import UUID

import httpx

from domain.enums import Role
from tests.api.conftest import PASSWORD, ApiWith, People, assert_problem
from tests.api.test_auth import AUTH, new_email, register
from ticketflow.settings import Settings

NEW_PASSWORD = "a quieter meadow of lanterns"


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    answer = await api.post(f"{AUTH}/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


async def test_an_access_token_dies_with_the_logout_of_its_session(
    api: httpx.AsyncClient,
) -> None:
    email = new_email()
    first = await register(api, email)
    second = await login(api, email)
    out = await api.post(
        f"{AUTH}/logout",
        json={"refresh_token": first["refresh_token"]},
        headers=bearer(first["access_token"]),
    )
    assert out.status_code == 204

    assert_problem(await api.get(f"{AUTH}/me", headers=bearer(first["access_token"])), 401)
    # Another session of the same account goes on.
    assert (await api.get(f"{AUTH}/me", headers=bearer(second["access_token"]))).status_code == 200


async def test_logging_out_everywhere_ends_every_access_token(api: httpx.AsyncClient) -> None:
    email = new_email()
    first = await register(api, email)
    second = await login(api, email)
    out = await api.post(f"{AUTH}/logout", headers=bearer(first["access_token"]))
    assert out.status_code == 204
    for pair in (first, second):
        assert_problem(await api.get(f"{AUTH}/me", headers=bearer(pair["access_token"])), 401)


async def test_a_refreshed_session_keeps_its_new_token_and_loses_it_on_logout(
    api: httpx.AsyncClient,
) -> None:
    pair = await register(api)
    rotated = await api.post(f"{AUTH}/refresh-token", json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()
    # Rotation does not end the session: the access token it came with still works.
    assert (await api.get(f"{AUTH}/me", headers=bearer(pair["access_token"]))).status_code == 200
    out = await api.post(
        f"{AUTH}/logout",
        json={"refresh_token": pair["refresh_token"]},  # the rotated-away one names it too
        headers=bearer(fresh["access_token"]),
    )
    assert out.status_code == 204
    for token in (pair["access_token"], fresh["access_token"]):
        assert_problem(await api.get(f"{AUTH}/me", headers=bearer(token)), 401)


async def test_a_password_change_ends_the_other_access_tokens(api: httpx.AsyncClient) -> None:
    email = new_email()
    thief = await register(api, email)
    owner = await login(api, email)
    changed = await api.put(
        f"{AUTH}/change-password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(owner["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    for token in (thief["access_token"], owner["access_token"]):
        assert_problem(await api.get(f"{AUTH}/me", headers=bearer(token)), 401)
    fresh = changed.json()["access_token"]
    assert (await api.get(f"{AUTH}/me", headers=bearer(fresh))).status_code == 200


async def test_an_admin_ends_the_sessions_of_a_user_they_disable_demote_or_delete(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    agents = [await people.make(Role.AGENT) for _ in range(3)]
    changes = [
        ("PUT", f"/api/v1/users/{agents[0].id}", {"status": "inactive"}),
        ("PATCH", f"/api/v1/users/{agents[1].id}/role", {"role": "user"}),
        ("DELETE", f"/api/v1/users/{agents[2].id}", None),
    ]
    for agent, (method, path, body) in zip(agents, changes, strict=True):
        pair = await login(api, agent.email)
        done = await api.request(method, path, json=body, headers=admin.auth)
        assert done.status_code in (200, 204), done.text
        assert_problem(await api.get(f"{AUTH}/me", headers=bearer(pair["access_token"])), 401)
        assert_problem(
            await api.post(f"{AUTH}/refresh-token", json={"refresh_token": pair["refresh_token"]}),
            401,
        )
    # Turned back on, the account's old sessions stay over.
    back = await api.put(
        f"/api/v1/users/{agents[0].id}", json={"status": "active"}, headers=admin.auth
    )
    assert back.status_code == 200
    assert_problem(await api.get(f"{AUTH}/me", headers=agents[0].auth), 401)


async def test_the_codec_cookie_dies_with_the_session(
    api: httpx.AsyncClient, api_with: ApiWith, settings: Settings, people: People
) -> None:
    agent = await people.make(Role.AGENT)
    answer = await api.post(f"{AUTH}/login", json={"email": agent.email, "password": PASSWORD})
    access = answer.json()["access_token"]
    assert api.cookies["ticketflow_codec"]  # the client keeps it, as the browser would
    payloads: dict[str, list[object]] = {"payloads": []}
    assert (await api.post("/codec/decode", json=payloads)).status_code == 200
    # Logged out from another client (no cookie to clear there): the cookie is dead anyway.
    async with api_with(settings) as other:
        out = await other.post(f"{AUTH}/logout", headers=bearer(access))
    assert out.status_code == 204
    assert api.cookies["ticketflow_codec"]
    assert_problem(await api.post("/codec/decode", json=payloads), 401)


async def test_tokens_made_without_a_session_are_refused(
    api: httpx.AsyncClient, people: People
) -> None:
    from api.security import TokenType, issue_token
    from security.signing import KeyRing
    from tests.api.conftest import JWT_SECRET

    person = await people.make()
    sessionless = issue_token(KeyRing.of(JWT_SECRET), person.id, person.role, TokenType.ACCESS)
    assert_problem(await api.get(f"{AUTH}/me", headers=bearer(sessionless.token)), 401)
    me = await api.get(f"{AUTH}/me", headers=person.auth)
    assert UUID(me.json()["id"]) == person.id
