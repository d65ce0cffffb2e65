"""Requesters give urgency and impact, not priority, and set nothing that is staff's to set:
the attacks of a self-registered account on its own ticket, and what staff may still do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.enums import Role
from tests.api.conftest import Desk, People, Person, assert_problem

V1 = "/api/v1"


async def create(api: httpx.AsyncClient, desk: Desk, who: Person, **fields: Any) -> httpx.Response:
    body = {
        "title": "Printer",
        "description": "Jammed",
        "department_id": str(desk.department_id),
        **fields,
    }
    return await api.post(f"{V1}/tickets", json=body, headers=who.auth)


@pytest.mark.parametrize("role", [Role.USER, Role.VIP_USER])
@pytest.mark.parametrize("priority", ["P1", "P2", "P4"])
async def test_a_requester_cannot_choose_the_priority(
    api: httpx.AsyncClient, desk: Desk, people: People, role: Role, priority: str
) -> None:
    requester = await people.make(role)
    body = assert_problem(await create(api, desk, requester, priority=priority), 422)
    assert body["type"].endswith(":invalid_input")
    assert "urgency and impact" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "priority"]


async def test_a_requester_cannot_set_what_channels_or_staff_set(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    for source in ("email", "sms", "whatsapp", "slack"):
        refused = assert_problem(await create(api, desk, desk.requester, source=source), 422)
        assert refused["errors"][0]["loc"] == ["body", "source"]
    for key in ("email", "sms", "follow_up_of"):
        metadata = {key: {"from": "ceo@example.com"}}
        refused = assert_problem(await create(api, desk, desk.requester, metadata=metadata), 422)
        assert refused["errors"][0]["loc"] == ["body", "metadata", key]
    agent = str(desk.agent.id)
    assert_problem(await create(api, desk, desk.requester, assignee_id=agent), 403)
    someone = str((await people.make()).id)
    assert_problem(await create(api, desk, desk.requester, requester_id=someone), 403)


async def test_what_a_requester_gives_decides_the_priority(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    urgent = await create(api, desk, desk.requester, urgency="critical", impact="high")
    assert urgent.status_code == 201, urgent.text
    assert urgent.json()["priority"] == "P1"  # by the ITIL matrix
    plain = await create(
        api,
        desk,
        desk.requester,
        priority=None,
        source="api",
        metadata={"browser": "Firefox"},
        tags=["printer"],
    )
    assert plain.status_code == 201, plain.text
    assert (plain.json()["priority"], plain.json()["source"]) == ("P3", "api")
    assert plain.json()["metadata"] == {"browser": "Firefox"}


async def test_staff_may_still_set_them(api: httpx.AsyncClient, desk: Desk) -> None:
    for who in (desk.agent, desk.admin):
        opened = await create(
            api,
            desk,
            who,
            priority="P1",
            source="email",
            metadata={"email": {"from": "caller@example.com"}},
            requester_id=str(desk.requester.id),
        )
        assert opened.status_code == 201, opened.text
        assert (opened.json()["priority"], opened.json()["source"]) == ("P1", "email")


@pytest.mark.usefixtures("worker")
async def test_a_requester_cannot_raise_the_priority_afterwards(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await create(api, desk, desk.requester)).json()["number"]
    edit = await api.put(
        f"{V1}/tickets/{number}", json={"priority": "P1"}, headers=desk.requester.auth
    )
    assert_problem(edit, 422)
    change = await api.patch(
        f"{V1}/tickets/{number}/priority", json={"priority": "P1"}, headers=desk.requester.auth
    )
    assert_problem(change, 403)
    seen = await api.get(f"{V1}/tickets/{number}", headers=desk.requester.auth)
    assert seen.json()["priority"] == "P3"
