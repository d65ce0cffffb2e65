"""Users, departments, SLA policies and notifications: who may do what, and what comes back."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain.enums import Role
from persistence.models import NotificationChannel, NotificationStatus
from persistence.repositories import notifications as notifications_repo
from tests.api.conftest import PASSWORD, People, Person, assert_problem

V1 = "/api/v1"

STANDARD_TARGETS = {
    "P1": {"first_response": "PT15M", "resolution": "PT4H"},
    "P2": {"first_response": "PT1H", "resolution": "PT8H"},
    "P3": {"first_response": "PT4H", "resolution": "P1D"},
    "P4": {"first_response": "P1D", "resolution": "P3D"},
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users"),
        ("POST", "/users"),
        ("PATCH", f"/users/{uuid4()}/role"),
        ("DELETE", f"/users/{uuid4()}"),
        ("POST", "/departments"),
        ("DELETE", f"/departments/{uuid4()}"),
        ("GET", "/sla/policies"),
        ("POST", "/sla/policies"),
        ("GET", "/sla/breaches"),
    ],
)
async def test_requesters_are_refused_admin_routes(
    api: httpx.AsyncClient, people: People, method: str, path: str
) -> None:
    requester = await people.make(Role.USER)
    response = await api.request(method, V1 + path, headers=requester.auth, json={})
    assert_problem(response, 403)


async def test_agents_are_refused_admin_only_routes(api: httpx.AsyncClient, people: People) -> None:
    agent = await people.make(Role.AGENT)
    assert_problem(await api.get(f"{V1}/users", headers=agent.auth), 403)
    assert_problem(await api.get(f"{V1}/sla/policies", headers=agent.auth), 403)
    assert (await api.get(f"{V1}/sla/breaches", headers=agent.auth)).status_code == 200


async def test_admin_manages_users(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    department_id = await people.department()
    email = f"agent-{uuid4().hex[:8]}@example.com"
    created = await api.post(
        f"{V1}/users",
        headers=admin.auth,
        json={
            "email": email,
            "password": PASSWORD,
            "name": "New Agent",
            "role": "agent",
            "department_id": str(department_id),
            "skills": ["printers"],
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["role"], user["skills"]) == ("agent", ["printers"])
    assert not {"password", "password_hash"} & user.keys()

    updated = await api.put(
        f"{V1}/users/{user['id']}", headers=admin.auth, json={"status": "on_leave", "phone": None}
    )
    assert updated.json()["status"] == "on_leave"
    role = await api.patch(
        f"{V1}/users/{user['id']}/role", headers=admin.auth, json={"role": "admin"}
    )
    assert role.json()["role"] == "admin"

    listed = await api.get(
        f"{V1}/users", headers=admin.auth, params={"role": "admin", "limit": 200}
    )
    assert user["id"] in {u["id"] for u in listed.json()["items"]}

    assert (await api.delete(f"{V1}/users/{user['id']}", headers=admin.auth)).status_code == 204
    assert_problem(await api.get(f"{V1}/users/{user['id']}", headers=admin.auth), 404)
    assert_problem(await api.delete(f"{V1}/users/{admin.id}", headers=admin.auth), 409)


async def test_users_see_themselves_and_staff_see_everyone(
    api: httpx.AsyncClient, people: People
) -> None:
    one, other = await people.make(), await people.make()
    agent = await people.make(Role.AGENT)
    assert (await api.get(f"{V1}/users/{one.id}", headers=one.auth)).status_code == 200
    assert_problem(await api.get(f"{V1}/users/{other.id}", headers=one.auth), 404)
    assert (await api.get(f"{V1}/users/{other.id}", headers=agent.auth)).status_code == 200


async def test_availability_is_set_by_oneself_or_an_admin(
    api: httpx.AsyncClient, people: People
) -> None:
    agent, other = await people.make(Role.AGENT), await people.make(Role.AGENT)
    admin = await people.make(Role.ADMIN)
    body = {"availability": "online"}
    own = await api.patch(f"{V1}/users/{agent.id}/availability", headers=agent.auth, json=body)
    assert own.json()["availability"] == "online"
    theirs = await api.patch(f"{V1}/users/{other.id}/availability", headers=agent.auth, json=body)
    assert_problem(theirs, 403)
    by_admin = await api.patch(f"{V1}/users/{other.id}/availability", headers=admin.auth, json=body)
    assert by_admin.status_code == 200
    available = await api.get(f"{V1}/users/agents/available", headers=agent.auth)
    assert {agent.id.hex, other.id.hex} <= {u["id"].replace("-", "") for u in available.json()}


async def test_department_durations_of_a_year_or_more_come_back_in_days(
    api: httpx.AsyncClient, people: People
) -> None:
    """What the API answers can be sent back: a year has no fixed length, so the API takes
    no `Y`, and it must not write one either (it wrote `P1Y35D` for 400 days)."""
    admin = await people.make(Role.ADMIN)
    created = await api.post(
        f"{V1}/departments",
        headers=admin.auth,
        json={"name": f"Archive {uuid4().hex[:6]}", "reopen_window": "P400D"},
    )
    assert created.status_code == 201, created.text
    department = created.json()
    assert department["reopen_window"] == "P400D"
    durations = {key: department[key] for key in ("auto_close_after", "reopen_window")}
    again = await api.put(
        f"{V1}/departments/{department['id']}", headers=admin.auth, json=durations
    )
    assert again.status_code == 200, again.text
    assert {key: again.json()[key] for key in durations} == durations


async def test_department_crud_with_iso_durations(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    manager = await people.make(Role.AGENT)
    name = f"Facilities {uuid4().hex[:6]}"
    created = await api.post(
        f"{V1}/departments",
        headers=admin.auth,
        json={"name": name, "manager_id": str(manager.id), "reopen_window": "P14D"},
    )
    assert created.status_code == 201, created.text
    department = created.json()
    assert department["auto_close_after"] == "P3D"
    assert department["reopen_window"] == "P14D"

    changed = await api.put(
        f"{V1}/departments/{department['id']}",
        headers=admin.auth,
        json={"auto_close_after": "PT36H", "description": "Buildings"},
    )
    assert changed.json()["auto_close_after"] == "P1DT12H"
    requester = await people.make()
    seen = await api.get(f"{V1}/departments/{department['id']}", headers=requester.auth)
    assert seen.json()["description"] == "Buildings"
    clash = await api.post(f"{V1}/departments", headers=admin.auth, json={"name": name})
    assert_problem(clash, 409)
    not_staff = await api.post(
        f"{V1}/departments",
        headers=admin.auth,
        json={"name": f"X {uuid4().hex[:6]}", "manager_id": str(requester.id)},
    )
    assert_problem(not_staff, 422)
    gone = await api.delete(f"{V1}/departments/{department['id']}", headers=admin.auth)
    assert gone.status_code == 204
    assert_problem(await api.get(f"{V1}/departments/{department['id']}", headers=admin.auth), 404)


@pytest.mark.parametrize("duration", ["3 days", "P1M", "-PT5M", "PT0S", "15", "PT15X"])
async def test_durations_must_be_positive_iso_8601(
    api: httpx.AsyncClient, people: People, duration: str
) -> None:
    admin = await people.make(Role.ADMIN)
    response = await api.post(
        f"{V1}/departments",
        headers=admin.auth,
        json={"name": f"D {uuid4().hex[:6]}", "auto_close_after": duration},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][-1] == "auto_close_after"


async def create_policy(api: httpx.AsyncClient, admin: Person, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Policy {uuid4().hex[:8]}", "targets": STANDARD_TARGETS, **fields}
    response = await api.post(f"{V1}/sla/policies", headers=admin.auth, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_sla_policy_crud(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    department_id = await people.department()
    policy = await create_policy(
        api,
        admin,
        position=5,
        conditions={"department_id": [str(department_id)], "priority": ["P1", "P2"]},
        warn_at=[0.9, 0.5],
        escalation=[
            {"after": "PT30M", "notify": ["manager"]},
            {"after": "PT1H", "set_priority": "P1", "assign_to": "manager"},
        ],
    )
    assert policy["targets"]["P1"] == {
        "first_response": "PT15M",
        "next_response": None,
        "resolution": "PT4H",
    }
    assert policy["warn_at"] == [0.5, 0.9]
    assert policy["pause_statuses"] == ["on_hold"]
    assert policy["escalation"] == [
        {"after": "PT30M", "notify": ["manager"], "set_priority": None, "assign_to": None},
        {"after": "PT1H", "notify": [], "set_priority": "P1", "assign_to": "manager"},
    ]

    path = f"{V1}/sla/policies/{policy['id']}"
    patched = await api.patch(path, headers=admin.auth, json={"enabled": False, "position": 7})
    assert (patched.json()["enabled"], patched.json()["position"]) == (False, 7)
    assert patched.json()["conditions"] == policy["conditions"]
    listed = await api.get(f"{V1}/sla/policies", headers=admin.auth, params={"limit": 200})
    positions = [p["position"] for p in listed.json()["items"]]
    assert positions == sorted(positions)
    assert (await api.delete(path, headers=admin.auth)).status_code == 204
    assert_problem(await api.get(path, headers=admin.auth), 404)


@pytest.mark.parametrize(
    "fields",
    [
        {"targets": {}},
        {"targets": {"P9": {"resolution": "PT1H"}}},
        {"targets": {"P1": {"resolution": "an hour"}}},
        {"warn_at": [0, 0.5]},
        {"warn_at": [1.5]},
        {"pause_statuses": ["closed"]},
        {"conditions": {"colour": ["red"]}},
        {"conditions": {"priority": []}},
        {"escalation": [{"after": "PT1H", "notify": ["everyone"]}]},
        {"escalation": [{"after": "PT1H"}]},
        {"escalation": [{"after": "PT1H", "assign_to": "nobody"}]},
        {"escalation": [{"after": "PT1H", "assign_to": str(uuid4())}]},
        {"position": -1},
    ],
)
async def test_invalid_sla_policies_are_422(
    api: httpx.AsyncClient, people: People, fields: dict[str, Any]
) -> None:
    admin = await people.make(Role.ADMIN)
    body = {"name": f"Bad {uuid4().hex[:6]}", "targets": STANDARD_TARGETS, **fields}
    assert_problem(await api.post(f"{V1}/sla/policies", headers=admin.auth, json=body), 422)


async def test_notifications_are_private_to_their_owner(
    api: httpx.AsyncClient, people: People, session_factory: Any
) -> None:
    owner, stranger = await people.make(), await people.make()
    ids = []
    for n in range(3):  # one transaction each: created_at is the transaction's start
        async with session_factory.begin() as session:
            note = await notifications_repo.record_delivery(
                session,
                idempotency_key=f"test-{uuid4()}",
                user_id=owner.id,
                channel=NotificationChannel.IN_APP,
                event="created",
                subject=f"Note {n}",
                body="hello",
                status=NotificationStatus.SENT,
            )
            ids.append(str(note.id))

    first = await api.get(f"{V1}/notifications", headers=owner.auth, params={"limit": 2})
    page = first.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await api.get(
        f"{V1}/notifications", headers=owner.auth, params={"cursor": page["next_cursor"]}
    )
    seen = [n["id"] for n in page["items"] + rest.json()["items"]]
    assert sorted(seen) == sorted(ids)
    assert [n["subject"] for n in page["items"]] == ["Note 2", "Note 1"]

    assert_problem(await api.patch(f"{V1}/notifications/{ids[0]}/read", headers=stranger.auth), 404)
    read = await api.patch(f"{V1}/notifications/{ids[0]}/read", headers=owner.auth)
    assert read.json()["read_at"] is not None
    unread = await api.get(f"{V1}/notifications", headers=owner.auth, params={"unread": "true"})
    assert ids[0] not in {n["id"] for n in unread.json()["items"]}
    assert_problem(await api.delete(f"{V1}/notifications/{ids[1]}", headers=stranger.auth), 404)
    assert (await api.delete(f"{V1}/notifications/{ids[1]}", headers=owner.auth)).status_code == 204
    assert (await api.get(f"{V1}/notifications", headers=stranger.auth)).json()["items"] == []
