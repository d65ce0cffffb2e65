"""Automation rules over the API: admins manage them, and dry-run them on drafts and tickets.

Rules are global and API tests share a database, so each test names its rules uniquely and
looks only at its own rules in lists and dry runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete as sa_delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Impact, Priority, Role, Source, TicketStatus, Urgency
from persistence.models import AutomationRule, Ticket
from persistence.repositories import tickets as tickets_repo
from tests.api.conftest import Desk, People, Person, assert_problem

RULES = "/api/v1/automation/rules"
TEST = "/api/v1/automation/test"
INCIDENT = {"type": "create_incident"}


def unique(name: str) -> str:
    return f"{name} {uuid4().hex[:8]}"


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def forget_rules(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[None]:
    """Rules are global: one left enabled would act on every later test's new tickets."""
    yield
    async with session_factory.begin() as session:
        await session.execute(sa_delete(AutomationRule))


def leaf(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


async def create_rule(api: httpx.AsyncClient, admin: Person, **fields: Any) -> dict[str, Any]:
    body = {
        "name": unique("rule"),
        "trigger": "created",
        "conditions": {"all": []},
        "actions": [INCIDENT],
        **fields,
    }
    response = await api.post(RULES, headers=admin.auth, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def insert_ticket(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, **fields: Any
) -> Ticket:
    """A ticket's read-model row, as its workflow would have written it."""
    async with sessions.begin() as session:
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "number": await tickets_repo.reserve_number(session),
            "title": unique("Dry-run subject"),
            "description": "Nothing works",
            "requester_id": desk.requester.id,
            "department_id": desk.department_id,
            "priority": Priority.P3,
            "urgency": Urgency.NORMAL,
            "impact": Impact.MEDIUM,
            "status": TicketStatus.IN_PROGRESS,
            "source": Source.WEB,
            "created_at": now - timedelta(hours=5),
            "updated_at": now - timedelta(hours=2),
            **fields,
        }
        ticket = Ticket(**values)
        session.add(ticket)
    return ticket


# -- managing rules ----------------------------------------------------------------------------


async def test_admin_creates_reads_changes_and_deletes_a_rule(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    name = unique("Password reset")
    created = await create_rule(
        api,
        desk.admin,
        name=name,
        description="the seed's rule, in its own spelling",
        position=7,
        conditions=leaf("descripcion", "contains", "contraseña"),
        actions=[{"type": "assign_priority", "priority": "P3"}, {"type": "close_automatically"}],
    )
    assert created["created_by"] == str(desk.admin.id)
    assert created["conditions"] == leaf("description", "contains", "contraseña")
    assert created["actions"] == [
        {"type": "set_priority", "priority": "P3"},
        {"type": "close", "for_inactivity": True},
    ]
    assert (created["enabled"], created["position"], created["trigger"]) == (True, 7, "created")

    url = f"{RULES}/{created['id']}"
    assert (await api.get(url, headers=desk.admin.auth)).json() == created

    changed = await api.put(
        url,
        headers=desk.admin.auth,
        json={"position": 3, "conditions": {"any": [leaf("title", "contains", "password")]}},
    )
    assert changed.status_code == 200, changed.text
    rule = changed.json()
    assert (rule["name"], rule["position"], rule["actions"]) == (name, 3, created["actions"])
    assert rule["conditions"] == {"any": [leaf("title", "contains", "password")]}

    assert (await api.delete(url, headers=desk.admin.auth)).status_code == 204
    assert_problem(await api.get(url, headers=desk.admin.auth), 404)
    assert_problem(await api.delete(url, headers=desk.admin.auth), 404)


async def test_rules_are_listed_in_the_order_they_run(api: httpx.AsyncClient, desk: Desk) -> None:
    after_an_hour = leaf("hours_since_created", "greater_than", 1)
    late = await create_rule(
        api, desk.admin, position=900_001, trigger="time", conditions=after_an_hour
    )
    early = await create_rule(
        api, desk.admin, position=900_000, trigger="time", conditions=after_an_hour
    )
    response = await api.get(RULES, headers=desk.admin.auth, params={"trigger": "time"})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    positions = [item["position"] for item in items]
    assert positions == sorted(positions)
    assert {item["trigger"] for item in items} == {"time"}
    ids = [item["id"] for item in items]
    if late["id"] in ids:  # a full page of other tests' rules may come first
        assert ids.index(early["id"]) < ids.index(late["id"])


async def test_toggle_disables_and_enables_a_rule(api: httpx.AsyncClient, desk: Desk) -> None:
    rule = await create_rule(api, desk.admin)
    url = f"{RULES}/{rule['id']}/toggle"
    first = await api.patch(url, headers=desk.admin.auth)
    assert first.status_code == 200, first.text
    assert first.json()["enabled"] is False
    assert (await api.patch(url, headers=desk.admin.auth)).json()["enabled"] is True
    assert_problem(await api.patch(f"{RULES}/{uuid4()}/toggle", headers=desk.admin.auth), 404)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"conditions": leaf("colour", "equals", "red")}, "unknown field 'colour'; allowed:"),
        ({"conditions": leaf("priority", "equals", "P9")}, "'P9' is not a priority"),
        ({"conditions": leaf("priority", "resembles", "P1")}, "unknown operator 'resembles'"),
        ({"actions": [{"type": "explode"}]}, "unknown action type 'explode'; allowed:"),
        ({"actions": [{"type": ["add_tag"], "tag": "x"}]}, "the action type must be text"),
        ({"actions": [{"type": {"add_tag": "x"}}]}, "the action type must be text"),
        ({"actions": []}, "at least 1 item"),
        ({"conditions": leaf("comment_body", "contains", "x")}, "only known to comment_added"),
        ({"trigger": "daily"}, "trigger"),
        ({"name": ""}, "name"),
    ],
)
async def test_invalid_rules_are_refused_with_the_reason(
    api: httpx.AsyncClient, desk: Desk, fields: dict[str, Any], reason: str
) -> None:
    body = {"name": unique("bad"), "trigger": "created", "actions": [INCIDENT], **fields}
    problem = assert_problem(await api.post(RULES, headers=desk.admin.auth, json=body), 422)
    assert reason in problem["detail"]


async def test_a_change_must_leave_a_valid_rule(api: httpx.AsyncClient, desk: Desk) -> None:
    raised = leaf("priority", "changed_to", "P1")
    rule = await create_rule(api, desk.admin, trigger="updated", conditions=raised)
    url = f"{RULES}/{rule['id']}"
    problem = assert_problem(
        await api.put(url, headers=desk.admin.auth, json={"trigger": "time"}), 422
    )
    assert "changed_to needs a change to look at" in problem["detail"]
    other = await create_rule(api, desk.admin)
    taken = await api.put(url, headers=desk.admin.auth, json={"name": other["name"]})
    assert_problem(taken, 409)
    same_name = {"name": other["name"], "trigger": "created", "actions": [INCIDENT]}
    assert_problem(await api.post(RULES, headers=desk.admin.auth, json=same_name), 409)
    unchanged = (await api.get(url, headers=desk.admin.auth)).json()
    assert (unchanged["trigger"], unchanged["name"]) == ("updated", rule["name"])


@pytest.mark.parametrize("role", [Role.AGENT, Role.USER, Role.VIP_USER])
async def test_only_admins_manage_and_test_rules(
    api: httpx.AsyncClient, people: People, desk: Desk, role: Role
) -> None:
    someone = await people.make(role, desk.department_id)
    rule = await create_rule(api, desk.admin)
    url = f"{RULES}/{rule['id']}"
    calls = [
        api.get(RULES, headers=someone.auth),
        api.post(RULES, headers=someone.auth, json={"name": "x", "trigger": "created"}),
        api.get(url, headers=someone.auth),
        api.put(url, headers=someone.auth, json={"enabled": False}),
        api.delete(url, headers=someone.auth),
        api.patch(f"{url}/toggle", headers=someone.auth),
        api.post(TEST, headers=someone.auth, json={"ticket": {}}),
    ]
    for call in calls:
        assert_problem(await call, 403)
    assert_problem(await api.get(RULES), 401)
    assert (await api.get(url, headers=desk.admin.auth)).json()["enabled"] is True


# -- dry run -----------------------------------------------------------------------------------


async def test_dry_run_on_a_draft_ticket(api: httpx.AsyncClient, desk: Desk) -> None:
    password = await create_rule(
        api,
        desk.admin,
        position=10,
        conditions={"any": [leaf("description", "contains", "password")]},
        actions=[{"type": "set_priority", "priority": "P3"}, {"type": "add_tag", "tag": "pw"}],
    )
    p1 = await create_rule(
        api, desk.admin, position=20, conditions=leaf("priority", "equals", "P1")
    )
    tagged = await create_rule(
        api, desk.admin, position=30, conditions=leaf("tags", "contains", "pw")
    )
    idle = await create_rule(
        api,
        desk.admin,
        trigger="time",
        conditions={
            "all": [
                leaf("hours_since_activity", "greater_than", 24),
                leaf("status", "in", ["resolved", "on_hold"]),
            ]
        },
        actions=[{"type": "close", "for_inactivity": True}],
    )
    mine = [password["id"], p1["id"], tagged["id"], idle["id"]]
    draft = {
        "description": "I forgot my PASSWORD",
        "urgency": "critical",
        "impact": "critical",
        "status": "on_hold",
        "hours_since_created": 30,
        "hours_since_activity": 20,
    }
    response = await api.post(
        TEST, headers=desk.admin.auth, json={"ticket": draft, "rule_ids": mine}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    at = datetime.fromisoformat(answer["at"])
    results = {r["rule_id"]: r for r in answer["results"]}

    assert answer["ticket"] is None
    assert answer["facts"]["priority"] == "P1"  # from urgency × impact
    assert answer["matched_rule_ids"] == [password["id"], tagged["id"]]
    assert results[password["id"]]["changes"] == {"priority": ["P1", "P3"], "tags": [[], ["pw"]]}
    assert not results[p1["id"]]["matched"]  # the password rule ran first and set P3
    explanation = results[p1["id"]]["explanation"]
    assert (explanation["actual"], explanation["expected"], explanation["result"]) == (
        "P3",
        "P1",
        False,
    )
    assert results[tagged["id"]]["actions"] == [INCIDENT]
    time_rule = results[idle["id"]]
    assert not time_rule["matched"] and time_rule["actions"] == []
    assert datetime.fromisoformat(time_rule["next_match_at"]) == at + timedelta(hours=4)
    assert time_rule["summary"][0].endswith("did not match")

    only_time = await api.post(
        TEST, headers=desk.admin.auth, json={"ticket": draft, "rule_ids": mine, "trigger": "time"}
    )
    assert [r["rule_id"] for r in only_time.json()["results"]] == [idle["id"]]


async def test_dry_run_on_an_existing_ticket_changes_nothing(
    api: httpx.AsyncClient, desk: Desk, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    ticket = await insert_ticket(
        session_factory,
        desk,
        priority=Priority.P1,
        requester_role=Role.VIP_USER,
        tags=["printer"],
        sla_breach_at=now + timedelta(hours=2),
    )
    vip = await create_rule(
        api,
        desk.admin,
        conditions={
            "all": [leaf("requester_vip", "equals", True), leaf("tags", "contains", "printer")]
        },
        actions=[{"type": "assign_agent", "agent_id": str(desk.agent.id)}],
    )
    sla = await create_rule(
        api,
        desk.admin,
        trigger="time",
        conditions=leaf("sla_minutes_remaining", "less_than", 30),
        actions=[{"type": "send_notification", "target": "agent", "message": "SLA soon"}],
    )
    idle = await create_rule(
        api, desk.admin, trigger="time", conditions=leaf("hours_since_activity", "greater_than", 1)
    )
    mine = [vip["id"], sla["id"], idle["id"]]

    for ref in (ticket.number, str(ticket.id)):
        response = await api.post(
            TEST, headers=desk.admin.auth, json={"ticket": ref, "rule_ids": mine}
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["ticket"] == {"id": str(ticket.id), "number": ticket.number}
        results = {r["rule_id"]: r for r in answer["results"]}
        assert results[vip["id"]]["changes"] == {"assignee_id": [None, str(desk.agent.id)]}
        assert answer["facts"]["hours_since_activity"] == pytest.approx(2, abs=0.01)
        assert results[idle["id"]]["matched"]  # two hours since the last update
        due = datetime.fromisoformat(results[sla["id"]]["next_match_at"])
        assert due == ticket.sla_breach_at - timedelta(minutes=30)  # type: ignore[operator]
        assert results[sla["id"]]["explanation"]["threshold_at"] is not None

    async with session_factory() as session:
        row = await tickets_repo.get(session, ticket.id)
        assert row is not None and row.assignee_id is None and row.version == ticket.version

    unknown = await api.post(TEST, headers=desk.admin.auth, json={"ticket": 999_999_999})
    assert_problem(unknown, 404)


async def test_dry_run_tests_named_rules_even_when_disabled(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    off = await create_rule(api, desk.admin, enabled=False)
    body = {"ticket": {"title": "anything"}, "rule_ids": [off["id"]]}
    answer = (await api.post(TEST, headers=desk.admin.auth, json=body)).json()
    assert [(r["rule_id"], r["enabled"], r["matched"]) for r in answer["results"]] == [
        (off["id"], False, True)
    ]
    everything = await api.post(TEST, headers=desk.admin.auth, json={"ticket": {"title": "x"}})
    assert off["id"] not in {r["rule_id"] for r in everything.json()["results"]}
    missing = str(uuid4())
    problem = assert_problem(
        await api.post(TEST, headers=desk.admin.auth, json={"ticket": {}, "rule_ids": [missing]}),
        404,
    )
    assert missing in problem["detail"]
    bad = await api.post(TEST, headers=desk.admin.auth, json={"ticket": {"priority": "P9"}})
    assert_problem(bad, 422)


async def test_rules_must_name_agents_and_departments_that_exist(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    for action, reason in [
        ({"type": "assign_agent", "agent_id": str(uuid4())}, "is not an agent"),
        ({"type": "assign_agent", "agent_id": str(desk.requester.id)}, "is not an agent"),
        ({"type": "assign_department", "department_id": str(uuid4())}, "no such department"),
        ({"type": "send_notification", "target": str(uuid4()), "message": "hi"}, "no user"),
    ]:
        body = {"name": unique("dangling"), "trigger": "created", "actions": [action]}
        problem = assert_problem(await api.post(RULES, headers=desk.admin.auth, json=body), 422)
        assert reason in problem["detail"]


@pytest.mark.usefixtures("worker")
async def test_a_rule_moves_a_new_ticket_to_another_department_and_its_agent_takes_it(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    networks = await people.department(unique("Networks"))
    network_agent = await people.make(Role.AGENT, department_id=networks)
    online = await api.patch(
        f"/api/v1/users/{network_agent.id}/availability",
        json={"availability": "online"},
        headers=network_agent.auth,
    )
    assert online.status_code == 200, online.text
    await create_rule(
        api,
        desk.admin,
        conditions=leaf("title", "contains", "VPN"),
        actions=[{"type": "assign_department", "department_id": str(networks)}],
    )
    created = await api.post(
        "/api/v1/tickets",
        headers=desk.requester.auth,
        json={
            "title": "VPN down",
            "description": "since 9",
            "department_id": str(desk.department_id),
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["department_id"] == str(networks)
    number = created.json()["number"]
    for _ in range(200):
        ticket = (await api.get(f"/api/v1/tickets/{number}", headers=desk.admin.auth)).json()
        if ticket["assignee_id"]:
            break
        await asyncio.sleep(0.05)
    assert ticket["assignee_id"] == str(network_agent.id)
