"""Routing over HTTP: available agents, capacity, skills, workload, and bulk ticket changes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Role, TicketStatus
from persistence.models import Ticket, User
from tests.api.conftest import ApiWith, Desk, People, Person, assert_problem
from ticketflow.settings import Settings

V1 = "/api/v1"
with_worker = pytest.mark.usefixtures("worker")


async def online(api: httpx.AsyncClient, *agents: Person) -> None:
    for agent in agents:
        body = {"availability": "online"}
        response = await api.patch(
            f"{V1}/users/{agent.id}/availability", json=body, headers=agent.auth
        )
        assert response.status_code == 200, response.text


async def set_load(sessions: async_sessionmaker[AsyncSession], user: Person, load: int) -> None:
    """Arrange a load directly (as if the read model had counted that many open tickets)."""
    async with sessions.begin() as session:
        await session.execute(update(User).where(User.id == user.id).values(current_load=load))


async def open_ticket(
    api: httpx.AsyncClient, requester: Person, department_id: UUID, **fields: Any
) -> dict[str, Any]:
    body = {
        "title": "VPN drops every hour",
        "description": "Since Monday",
        "department_id": str(department_id),
        **fields,
    }
    response = await api.post(f"{V1}/tickets", json=body, headers=requester.auth)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll until the read model has caught up with the workflows."""
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not caught up within {within} s")


def ids(users: list[dict[str, Any]]) -> list[str]:
    return [user["id"] for user in users]


# -- available agents, capacity, skills ------------------------------------------------------


async def test_available_agents_can_take_work_least_loaded_first(
    api: httpx.AsyncClient, people: People, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    department = await people.department("Network")
    busy, idle, away = [await people.make(Role.AGENT, department) for _ in range(3)]
    billing = await people.make(Role.AGENT, department)
    admin = await people.make(Role.ADMIN, department)
    await online(api, busy, idle, billing, admin)
    await set_load(session_factory, busy, 3)
    skills = {"user_ids": [str(billing.id)], "skills": ["Billing"]}
    assert (
        await api.post(f"{V1}/users/bulk-assign-skills", json=skills, headers=admin.auth)
    ).status_code == 200

    url = f"{V1}/users/agents/available?department_id={department}"
    listed = (await api.get(url, headers=idle.auth)).json()
    # Admins are not routed to; `away` never went online; equal loads: never picked, by id.
    assert ids(listed) == [*sorted([str(idle.id), str(billing.id)]), str(busy.id)]
    assert [(a["current_load"], a["max_load"]) for a in listed][-1] == (3, 10)

    covering = (await api.get(f"{url}&category=billing", headers=idle.auth)).json()
    assert set(ids(covering)) == {str(idle.id), str(billing.id), str(busy.id)}
    network = (await api.get(f"{url}&category=network", headers=idle.auth)).json()
    assert ids(network) == [str(idle.id), str(busy.id)]  # generalists only

    cap = await api.patch(
        f"{V1}/users/{busy.id}/capacity", json={"max_load": 3}, headers=admin.auth
    )
    assert cap.status_code == 200, cap.text
    assert (cap.json()["max_load"], cap.json()["current_load"]) == (3, 3)
    full = (await api.get(url, headers=idle.auth)).json()
    assert str(busy.id) not in ids(full)

    requester = await people.make()
    assert_problem(await api.get(url, headers=requester.auth), 403)
    assert_problem(await api.get(f"{url}&category=", headers=idle.auth), 422)
    assert str(away.id) not in ids(listed)


async def test_only_admins_set_a_capacity_of_at_least_one(
    api: httpx.AsyncClient, people: People
) -> None:
    agent, admin = await people.make(Role.AGENT), await people.make(Role.ADMIN)
    url = f"{V1}/users/{agent.id}/capacity"

    assert_problem(await api.patch(url, json={"max_load": 5}, headers=agent.auth), 403)
    assert_problem(await api.patch(url, json={"max_load": 0}, headers=admin.auth), 422)
    assert_problem(await api.patch(url, json={"max_load": "many"}, headers=admin.auth), 422)
    assert_problem(await api.patch(url, json={}, headers=admin.auth), 422)
    unknown = f"{V1}/users/{uuid4()}/capacity"
    assert_problem(await api.patch(unknown, json={"max_load": 5}, headers=admin.auth), 404)
    changed = await api.patch(url, json={"max_load": 25}, headers=admin.auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["max_load"] == 25


async def test_bulk_skills_add_without_repeats_or_replace(
    api: httpx.AsyncClient, people: People
) -> None:
    one, two = await people.make(Role.AGENT), await people.make(Role.AGENT)
    admin = await people.make(Role.ADMIN)
    url = f"{V1}/users/bulk-assign-skills"
    both = [str(one.id), str(two.id)]

    first = await api.post(url, json={"user_ids": both, "skills": ["VPN"]}, headers=admin.auth)
    assert first.status_code == 200, first.text
    again = await api.post(
        url, json={"user_ids": both, "skills": ["vpn", "Printers"]}, headers=admin.auth
    )
    assert [u["skills"] for u in again.json()] == [["VPN", "Printers"]] * 2

    replaced = await api.post(
        url,
        json={"user_ids": [str(two.id)], "skills": ["Billing"], "mode": "replace"},
        headers=admin.auth,
    )
    assert replaced.json()[0]["skills"] == ["Billing"]

    # One unknown user: nobody changes.
    unknown = {"user_ids": [str(one.id), str(uuid4())], "skills": ["Chairs"]}
    assert_problem(await api.post(url, json=unknown, headers=admin.auth), 422)
    mine = await api.get(f"{V1}/users/{one.id}", headers=admin.auth)
    assert mine.json()["skills"] == ["VPN", "Printers"]

    body = {"user_ids": both, "skills": ["VPN"]}
    assert_problem(await api.post(url, json=body, headers=one.auth), 403)
    for bad in (
        {"user_ids": [], "skills": ["VPN"]},
        {"user_ids": both, "skills": ["VPN"], "mode": "merge"},
        {"user_ids": both, "skills": [""]},
        {"user_ids": ["not-a-uuid"], "skills": ["VPN"]},
    ):
        assert_problem(await api.post(url, json=bad, headers=admin.auth), 422)


# -- workload -------------------------------------------------------------------------------


@with_worker
async def test_workload_counts_open_assigned_tickets(api: httpx.AsyncClient, desk: Desk) -> None:
    assign = {"assignee_id": str(desk.agent.id)}
    numbers = []
    # Urgency and impact make the priority (P1, then P3 twice): requesters cannot name it.
    for fields in ({"urgency": "critical", "impact": "high"}, {}, {}):
        ticket = await open_ticket(api, desk.requester, desk.department_id, **fields)
        numbers.append(ticket["number"])
        moved = await api.patch(
            f"{V1}/tickets/{ticket['number']}/assign", json=assign, headers=desk.agent.auth
        )
        assert moved.status_code == 200, moved.text
    held = {"status": "on_hold"}
    await api.patch(f"{V1}/tickets/{numbers[1]}/status", json=held, headers=desk.agent.auth)
    await api.post(f"{V1}/tickets/{numbers[2]}/resolve", headers=desk.agent.auth)
    url = f"{V1}/users/{desk.agent.id}/workload"

    async def counted() -> bool:
        body = (await api.get(url, headers=desk.agent.auth)).json()
        return bool(body["open_tickets"] == 2 and body["by_status"]["on_hold"] == 1)

    await eventually(counted)
    workload = (await api.get(url, headers=desk.admin.auth)).json()
    assert workload["current_load"] == 2
    assert workload["max_load"] == 10
    assert workload["by_status"] == {"new": 0, "in_progress": 1, "on_hold": 1, "reopened": 0}
    assert workload["by_priority"] == {"P1": 1, "P2": 0, "P3": 1, "P4": 0}

    assert_problem(await api.get(url, headers=desk.manager.auth), 403)
    assert_problem(await api.get(url, headers=desk.requester.auth), 403)
    own = f"{V1}/users/{desk.requester.id}/workload"
    assert_problem(await api.get(own, headers=desk.requester.auth), 403)
    unknown = f"{V1}/users/{uuid4()}/workload"
    assert_problem(await api.get(unknown, headers=desk.admin.auth), 404)


# -- bulk changes ---------------------------------------------------------------------------


@with_worker
async def test_bulk_assign_to_one_agent_reports_each_ticket(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    first = await open_ticket(api, desk.requester, desk.department_id)
    second = await open_ticket(api, desk.requester, desk.department_id)
    elsewhere = await open_ticket(api, desk.requester, await people.department("Far away"))
    refs = [str(first["number"]), second["id"], str(elsewhere["number"]), "nope"]

    async def known_by_id() -> bool:  # a UUID names a ticket once the read model has it
        seen = await api.get(f"{V1}/tickets/{second['id']}", headers=desk.agent.auth)
        return seen.status_code == 200

    await eventually(known_by_id)
    body = {"tickets": refs, "assignee_id": str(desk.manager.id)}

    response = await api.post(f"{V1}/tickets/bulk-assign", json=body, headers=desk.agent.auth)

    assert response.status_code == 200, response.text
    result = response.json()
    assert [(r["ticket"], r["ok"], r["status"]) for r in result["results"]] == [
        (refs[0], True, 200),
        (refs[1], True, 200),
        (refs[2], False, 404),  # another department's ticket: not the agent's to see
        (refs[3], False, 422),
    ]
    assert (result["succeeded"], result["failed"]) == (2, 2)
    for done in result["results"][:2]:
        assert done["ticket_view"]["assignee_id"] == str(desk.manager.id)
        assert done["ticket_view"]["status"] == "in_progress"
    assert result["results"][2]["detail"]


async def test_bulk_assign_refuses_bad_batches(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    url = f"{V1}/tickets/bulk-assign"
    agent = str(desk.agent.id)
    body = {"tickets": ["1"], "assignee_id": agent}
    assert_problem(await api.post(url, json=body, headers=desk.requester.auth), 403)
    for bad in (
        {"tickets": ["1"]},
        {"tickets": ["1"], "assignee_id": agent, "auto": True},
        {"tickets": [], "assignee_id": agent},
        {"tickets": [str(n) for n in range(1, 102)], "assignee_id": agent},
        {"tickets": ["1"], "assignee_id": agent, "extra": 1},
    ):
        assert_problem(await api.post(url, json=bad, headers=desk.agent.auth), 422)
    requester = {"tickets": ["1"], "assignee_id": str(desk.requester.id)}
    assert_problem(await api.post(url, json=requester, headers=desk.agent.auth), 422)


@with_worker
async def test_bulk_auto_assign_routes_by_skill_and_load(
    api: httpx.AsyncClient, people: People, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    department = await people.department("Routing")
    network, billing = [await people.make(Role.AGENT, department) for _ in range(2)]
    admin, requester = await people.make(Role.ADMIN), await people.make()
    await online(api, network, billing)
    for agent, skill in ((network, "Network"), (billing, "billing")):
        body = {"user_ids": [str(agent.id)], "skills": [skill]}
        await api.post(f"{V1}/users/bulk-assign-skills", json=body, headers=admin.auth)
    categories = ["network", "NETWORK", "billing", "hardware", "network"]
    tickets = [
        await open_ticket(api, requester, department, category=category) for category in categories
    ]
    closed = tickets[-1]["number"]

    # New tickets are routed as they open: by skill, then by load.
    async def routed() -> bool:
        rows = [
            (await api.get(f"{V1}/tickets/{t['number']}", headers=admin.auth)).json()
            for t in tickets
        ]
        return [r["assignee_id"] for r in rows] == [
            str(network.id),
            str(network.id),
            str(billing.id),
            None,
            str(network.id),
        ]

    await eventually(routed, within=30)
    await api.patch(f"{V1}/tickets/{closed}/close", headers=requester.auth)

    # Nobody covers "hardware", and a closed ticket takes no assignee.
    body = {"tickets": [str(tickets[3]["number"]), str(closed)], "auto": True}
    response = await api.post(f"{V1}/tickets/bulk-assign", json=body, headers=network.auth)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [409, 409]
    assert "hardware" in results[0]["detail"]

    # The closed ticket no longer counts; the picks that landed are exact in the read model.
    async def exact() -> bool:
        listed = await api.get(
            f"{V1}/users/agents/available?department_id={department}", headers=network.auth
        )
        loads = {a["id"]: a["current_load"] for a in listed.json()}
        return loads == {str(network.id): 2, str(billing.id): 1}

    await eventually(exact)


@with_worker
async def test_bulk_status_reports_illegal_moves_per_ticket(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    fresh = await open_ticket(api, desk.requester, desk.department_id)
    closed = await open_ticket(api, desk.requester, desk.department_id)
    await api.patch(f"{V1}/tickets/{closed['number']}/close", headers=desk.requester.auth)
    refs = [str(fresh["number"]), str(closed["number"]), "999999999"]
    body = {"tickets": refs, "status": "on_hold", "note": "waiting on the vendor"}
    url = f"{V1}/tickets/bulk-status"

    assert_problem(await api.post(url, json=body, headers=desk.agent.auth), 403)
    response = await api.post(url, json=body, headers=desk.admin.auth)

    assert response.status_code == 200, response.text
    moved, illegal, unknown = response.json()["results"]
    assert (moved["ok"], moved["ticket_view"]["status"]) == (True, "on_hold")
    assert (illegal["ok"], illegal["status"], illegal["allowed"]) == (False, 409, ["reopened"])
    assert illegal["ticket_view"] is None
    assert unknown["status"] == 404
    assert_problem(
        await api.post(url, json={**body, "status": "lost"}, headers=desk.admin.auth), 422
    )


# -- load stays exact under concurrency -------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def unlimited_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    """The API without requester quotas: one requester opens hundreds of tickets below."""
    async with api_with(settings.model_copy(update={"quota_tickets_per_hour": 0})) as client:
        yield client


@with_worker
async def test_loads_stay_exact_after_200_concurrent_creations_and_random_reassignments(
    unlimited_api: httpx.AsyncClient,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    api = unlimited_api
    department_id = await people.department(f"Load {uuid4().hex[:6]}")
    requester = await people.make(Role.USER)
    agents = [await people.make(Role.AGENT, department_id=department_id) for _ in range(4)]
    await online(api, *agents)
    async with session_factory.begin() as session:
        await session.execute(
            update(User).where(User.id.in_([a.id for a in agents])).values(max_load=100)
        )
    gate = asyncio.Semaphore(40)

    async def limited(call: Awaitable[httpx.Response]) -> httpx.Response:
        async with gate:
            return await call

    opened = await asyncio.gather(
        *(
            limited(
                api.post(
                    f"{V1}/tickets",
                    json={
                        "title": f"Load {i}",
                        "description": "x",
                        "department_id": str(department_id),
                    },
                    headers=requester.auth,
                )
            )
            for i in range(200)
        )
    )
    assert all(r.status_code == 201 for r in opened), [
        r.text for r in opened if r.status_code != 201
    ]
    numbers = [r.json()["number"] for r in opened]
    rng = random.Random(20261127)
    moves = []
    resolved = 0
    for number in rng.sample(numbers, 120):
        agent = rng.choice(agents)
        if rng.random() < 0.2:
            resolved += 1
            moves.append(api.post(f"{V1}/tickets/{number}/resolve", headers=agent.auth))
        else:
            body = {"assignee_id": str(agent.id)}
            moves.append(api.patch(f"{V1}/tickets/{number}/assign", json=body, headers=agent.auth))
    answers = await asyncio.gather(*(limited(m) for m in moves))
    assert all(r.status_code == 200 for r in answers), [
        r.text for r in answers if r.status_code != 200
    ]

    async def loads_are_exact() -> bool:
        async with session_factory() as session:
            open_by_agent = dict(
                (
                    await session.execute(
                        select(Ticket.assignee_id, func.count())
                        .where(
                            Ticket.department_id == department_id,
                            Ticket.status.not_in([TicketStatus.RESOLVED, TicketStatus.CLOSED]),
                            Ticket.assignee_id.is_not(None),
                        )
                        .group_by(Ticket.assignee_id)
                    )
                ).all()
            )
            loads = dict(
                (
                    await session.execute(
                        select(User.id, User.current_load).where(
                            User.id.in_([a.id for a in agents])
                        )
                    )
                ).all()
            )
        # Every ticket is routed to someone; only the resolved ones leave the loads.
        everyone_counted = sum(open_by_agent.values()) == len(numbers) - resolved
        return everyone_counted and all(loads[a.id] == open_by_agent.get(a.id, 0) for a in agents)

    await eventually(loads_are_exact, within=60)
