"""Tickets end to end: the API, the real worker and TicketWorkflow on the dev server, PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.worker import Worker

from domain.broadcasts import Broadcast
from domain.calendars import BusinessHours, CalendarTerms
from domain.enums import Role
from tests.api.conftest import Desk, People, assert_problem
from ticketflow.settings import Settings
from workflows.broadcast import BroadcastWorkflow

V1 = "/api/v1"
pytestmark = pytest.mark.usefixtures("worker")


async def open_ticket(
    api: httpx.AsyncClient, desk: Desk, headers: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    body = {
        "title": "Printer on fire",
        "description": "Smoke everywhere on the 3rd floor",
        "department_id": str(desk.department_id),
        **fields,
    }
    response = await api.post(f"{V1}/tickets", json=body, headers=headers or desk.requester.auth)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 10.0, every: float = 0.05
) -> None:
    """Poll until the read model has caught up with the workflow (it is written just after)."""
    for _ in range(int(within / every)):
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"not caught up within {within} s")


async def test_create_assign_reply_resolve(api: httpx.AsyncClient, desk: Desk) -> None:
    ticket = await open_ticket(api, desk, urgency="critical", impact="high")
    assert ticket["status"] == "new"
    assert ticket["priority"] == "P1"  # urgency and impact, by the ITIL matrix
    assert ticket["requester_id"] == str(desk.requester.id)
    number = ticket["number"]

    assigned = await api.patch(
        f"{V1}/tickets/{number}/assign",
        json={"assignee_id": str(desk.agent.id)},
        headers=desk.agent.auth,
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status"] == "in_progress"
    assert assigned.json()["assignee_id"] == str(desk.agent.id)

    reply = await api.post(
        f"{V1}/tickets/{ticket['id']}/comment",
        json={"body": "On my way with an extinguisher"},
        headers=desk.agent.auth,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["ticket"]["first_response_at"] is not None
    assert reply.json()["author_id"] == str(desk.agent.id)

    resolved = await api.post(
        f"{V1}/tickets/{number}/resolve",
        json={"solution": "Fire out, printer replaced"},
        headers=desk.agent.auth,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["solution"] == "Fire out, printer replaced"

    async def caught_up() -> bool:
        seen = await api.get(f"{V1}/tickets/{number}", headers=desk.requester.auth)
        return bool(seen.json()["status"] == "resolved")

    await eventually(caught_up)
    comments = await api.get(f"{V1}/tickets/{number}/comments", headers=desk.requester.auth)
    assert [c["body"] for c in comments.json()["items"]] == ["On my way with an extinguisher"]
    history = await api.get(f"{V1}/tickets/{number}/history", headers=desk.requester.auth)
    kinds = [e["kind"] for e in history.json()]
    assert kinds[0] == "created"
    assert "assigned" in kinds
    assert kinds[-1] == "resolved"

    rated = await api.post(
        f"{V1}/tickets/{number}/rate", json={"score": 9}, headers=desk.requester.auth
    )
    assert rated.json()["satisfaction_score"] == 9
    assert_problem(
        await api.post(f"{V1}/tickets/{number}/rate", json={"score": 5}, headers=desk.agent.auth),
        403,
    )


async def test_sla_of_a_new_ticket_follows_the_matching_policy(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    policy = await api.post(
        f"{V1}/sla/policies",
        headers=desk.admin.auth,
        json={
            "name": f"Desk {uuid4().hex[:8]}",
            "position": 0,
            "conditions": {"department_id": [str(desk.department_id)]},
            "targets": {"P2": {"first_response": "PT30M", "resolution": "PT8H"}},
        },
    )
    assert policy.status_code == 201, policy.text
    ticket = await open_ticket(api, desk, urgency="high", impact="high")  # P2
    assert ticket["sla"]["policy"] == policy.json()["name"]
    assert ticket["sla"]["first_response"]["state"] == "ok"
    live = await api.get(f"{V1}/tickets/{ticket['number']}/sla", headers=desk.requester.auth)
    assert live.status_code == 200
    assert live.json()["resolution"]["target_at"] == ticket["sla"]["resolution"]["target_at"]
    report = await api.get(f"{V1}/sla/breaches/{ticket['id']}", headers=desk.agent.auth)
    assert report.status_code == 200
    assert report.json()["sla"]["policy"] == policy.json()["name"]


async def test_a_policy_on_a_business_calendar_sets_business_deadlines(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    calendar = await api.post(
        f"{V1}/calendars",
        headers=desk.admin.auth,
        json={"name": f"Office {uuid4().hex[:8]}", "timezone": "Europe/Madrid", "hours": hours},
    )
    assert calendar.status_code == 201, calendar.text
    policy = await api.post(
        f"{V1}/sla/policies",
        headers=desk.admin.auth,
        json={
            "name": f"Office hours {uuid4().hex[:8]}",
            "position": 0,
            "conditions": {"department_id": [str(desk.department_id)]},
            "targets": {"P2": {"first_response": "PT2H", "resolution": "P1D"}},
            "calendar_id": calendar.json()["id"],
        },
    )
    assert policy.status_code == 201, policy.text
    ticket = await open_ticket(api, desk, urgency="high", impact="high")  # P2
    terms = CalendarTerms.model_validate({"timezone": "Europe/Madrid", "hours": hours})
    opened = datetime.fromisoformat(ticket["created_at"])
    due = BusinessHours(terms).add_business_time(opened, timedelta(hours=2))
    assert datetime.fromisoformat(ticket["sla"]["first_response"]["target_at"]) == due


async def test_requesters_only_ever_see_their_own_tickets(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    ticket = await open_ticket(api, desk)
    stranger = await people.make(Role.USER)
    outsider_agent = await people.make(Role.AGENT, await people.department("Elsewhere"))
    for who in (stranger, outsider_agent):
        for path in ("", "/comments", "/history", "/sla"):
            response = await api.get(f"{V1}/tickets/{ticket['number']}{path}", headers=who.auth)
            assert_problem(response, 404)
        comment = await api.post(
            f"{V1}/tickets/{ticket['id']}/comment", json={"body": "hi"}, headers=who.auth
        )
        assert_problem(comment, 404)

    async def listed() -> bool:
        page = await api.get(f"{V1}/tickets", headers=desk.agent.auth, params={"limit": 200})
        return ticket["id"] in {t["id"] for t in page.json()["items"]}

    await eventually(listed)
    mine = await api.get(f"{V1}/tickets", headers=stranger.auth)
    assert mine.json()["items"] == []
    theirs = await api.get(
        f"{V1}/tickets", headers=stranger.auth, params={"requester_id": str(desk.requester.id)}
    )
    assert theirs.json()["items"] == []


async def test_private_notes_are_hidden_from_the_requester(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    ticket = await open_ticket(api, desk)
    number = ticket["number"]
    note = await api.post(
        f"{V1}/tickets/{number}/comment",
        json={"body": "Requester is the CEO, be nice", "private": True},
        headers=desk.agent.auth,
    )
    assert note.status_code == 201, note.text
    assert note.json()["ticket"]["first_response_at"] is None  # a note is no response
    public = await api.post(
        f"{V1}/tickets/{number}/comment", json={"body": "Looking into it"}, headers=desk.agent.auth
    )
    assert public.status_code == 201
    refused = await api.post(
        f"{V1}/tickets/{number}/comment",
        json={"body": "psst", "private": True},
        headers=desk.requester.auth,
    )
    assert_problem(refused, 403)

    async def both_stored() -> bool:
        page = await api.get(f"{V1}/tickets/{number}/comments", headers=desk.agent.auth)
        return len(page.json()["items"]) == 2

    await eventually(both_stored)
    theirs = await api.get(f"{V1}/tickets/{number}/comments", headers=desk.requester.auth)
    assert [c["body"] for c in theirs.json()["items"]] == ["Looking into it"]
    their_history = await api.get(f"{V1}/tickets/{number}/history", headers=desk.requester.auth)
    assert all(e["public"] for e in their_history.json())
    assert "New private note" not in {e["summary"] for e in their_history.json()}
    staff_history = await api.get(f"{V1}/tickets/{number}/history", headers=desk.agent.auth)
    assert "New private note" in {e["summary"] for e in staff_history.json()}


async def test_illegal_transition_names_the_allowed_moves(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    ticket = await open_ticket(api, desk)
    response = await api.patch(
        f"{V1}/tickets/{ticket['number']}/status",
        json={"status": "reopened"},
        headers=desk.agent.auth,
    )
    body = assert_problem(response, 409)
    assert body["allowed"] == ["closed", "in_progress", "on_hold", "resolved"]
    assert "in_progress" in body["detail"]
    held = await api.patch(
        f"{V1}/tickets/{ticket['number']}/status",
        json={"status": "on_hold", "note": "waiting for parts"},
        headers=desk.agent.auth,
    )
    assert held.json()["status"] == "on_hold"


async def test_requesters_cannot_assign_or_reprioritise(api: httpx.AsyncClient, desk: Desk) -> None:
    ticket = await open_ticket(api, desk)
    number = ticket["number"]
    assign = await api.patch(
        f"{V1}/tickets/{number}/assign",
        json={"assignee_id": str(desk.agent.id)},
        headers=desk.requester.auth,
    )
    assert_problem(assign, 403)
    priority = await api.patch(
        f"{V1}/tickets/{number}/priority", json={"priority": "P1"}, headers=desk.requester.auth
    )
    assert_problem(priority, 403)
    working = await api.patch(
        f"{V1}/tickets/{number}/status", json={"status": "in_progress"}, headers=desk.requester.auth
    )
    assert_problem(working, 403)
    not_staff = await api.patch(
        f"{V1}/tickets/{number}/assign",
        json={"assignee_id": str(desk.requester.id)},
        headers=desk.agent.auth,
    )
    assert_problem(not_staff, 422)


async def test_close_then_reopen_and_priority_change(api: httpx.AsyncClient, desk: Desk) -> None:
    ticket = await open_ticket(api, desk)  # P3
    number = ticket["number"]
    raised = await api.patch(
        f"{V1}/tickets/{number}/priority", json={"priority": "P1"}, headers=desk.agent.auth
    )
    assert raised.json()["priority"] == "P1"
    closed = await api.patch(f"{V1}/tickets/{number}/close", headers=desk.requester.auth)
    assert closed.json()["status"] == "closed"
    assert_problem(
        await api.patch(
            f"{V1}/tickets/{number}/priority", json={"priority": "P2"}, headers=desk.agent.auth
        ),
        409,
    )
    reopened = await api.post(f"{V1}/tickets/{number}/reopen", headers=desk.requester.auth)
    assert reopened.json()["status"] == "reopened"


async def test_agents_open_tickets_for_requesters_and_requesters_cannot(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    on_behalf = await open_ticket(
        api,
        desk,
        headers=desk.agent.auth,
        requester_id=str(desk.requester.id),
        assignee_id=str(desk.agent.id),
        source="email",
    )
    assert on_behalf["requester_id"] == str(desk.requester.id)
    assert on_behalf["status"] == "in_progress"
    other = await people.make()
    refused = await api.post(
        f"{V1}/tickets",
        json={"title": "x", "description": "y", "requester_id": str(other.id)},
        headers=desk.requester.auth,
    )
    assert_problem(refused, 403)


async def test_same_idempotency_key_gives_the_same_ticket(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    key = f"create-{uuid4()}"
    body = {"title": "VPN down", "description": "Cannot connect"}
    headers = {**desk.requester.auth, "Idempotency-Key": key}
    first = await api.post(f"{V1}/tickets", json=body, headers=headers)
    again = await api.post(f"{V1}/tickets", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["number"] == again.json()["number"]
    someone_else = await people.make()
    theirs = await api.post(
        f"{V1}/tickets", json=body, headers={**someone_else.auth, "Idempotency-Key": key}
    )
    assert theirs.status_code == 201
    assert theirs.json()["number"] != first.json()["number"]


async def test_ten_concurrent_retries_open_one_ticket(api: httpx.AsyncClient, desk: Desk) -> None:
    headers = {**desk.requester.auth, "Idempotency-Key": f"burst-{uuid4()}"}
    body = {"title": "Email down", "description": "Outlook says offline"}
    responses = await asyncio.gather(
        *(api.post(f"{V1}/tickets", json=body, headers=headers) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["number"] for r in responses}) == 1
    assert len({r.json()["id"] for r in responses}) == 1

    async def stored_once() -> bool:
        page = await api.get(f"{V1}/tickets", headers=desk.requester.auth, params={"limit": 200})
        return [t["title"] for t in page.json()["items"]].count("Email down") == 1

    await eventually(stored_once)


async def test_a_mutation_answers_before_the_read_model_catches_up(
    api: httpx.AsyncClient, desk: Desk, worker: Worker
) -> None:
    ticket = await open_ticket(api, desk)
    # Read-your-writes: straight after creation the ticket is readable by number, from the
    # read model or (if its row is not written yet) from the workflow itself.
    fetched = await api.get(f"{V1}/tickets/{ticket['number']}", headers=desk.requester.auth)
    assert fetched.status_code == 200
    assert fetched.json()["id"] == ticket["id"]


async def test_a_ticket_closed_for_good_can_no_longer_change(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    department_id = await people.department("Short memory", reopen_window=timedelta(seconds=1))
    ticket = await open_ticket(api, desk, department_id=str(department_id))
    number = ticket["number"]
    # The desk's agent works another department: for them this ticket does not exist.
    assert_problem(await api.patch(f"{V1}/tickets/{number}/close", headers=desk.agent.auth), 404)
    closed = await api.patch(f"{V1}/tickets/{number}/close", headers=desk.admin.auth)
    assert closed.json()["status"] == "closed"

    await asyncio.sleep(1.2)  # past the department's reopen window

    async def finished() -> bool:
        # The workflow may still be winding down (its validator refuses) or be gone (the
        # server refuses): a 409 either way, until it says the ticket is closed for good.
        reopen = await api.post(f"{V1}/tickets/{number}/reopen", headers=desk.requester.auth)
        assert_problem(reopen, 409)
        return "for good" in reopen.json()["detail"]

    await eventually(finished)
    assert (await api.get(f"{V1}/tickets/{number}", headers=desk.admin.auth)).status_code == 200


async def test_breached_tickets_are_listed_for_the_team(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    department_id = await people.department("Hurry")
    agent = await people.make(Role.AGENT, department_id)
    policy = await api.post(
        f"{V1}/sla/policies",
        headers=desk.admin.auth,
        json={
            "name": f"Instant {uuid4().hex[:8]}",
            "conditions": {"department_id": [str(department_id)]},
            "targets": {"P3": {"first_response": "PT1S", "resolution": "PT1H"}},
        },
    )
    assert policy.status_code == 201, policy.text
    ticket = await open_ticket(api, desk, department_id=str(department_id))

    async def breached() -> bool:
        page = await api.get(f"{V1}/sla/breaches", headers=agent.auth, params={"limit": 200})
        return ticket["id"] in {b["ticket_id"] for b in page.json()["items"]}

    await eventually(breached)
    page = await api.get(f"{V1}/sla/breaches", headers=agent.auth, params={"limit": 200})
    item = next(b for b in page.json()["items"] if b["ticket_id"] == ticket["id"])
    assert item["sla_state"] == "breached"
    assert [e["metric"] for e in item["breaches"]] == ["first_response"]
    assert item["sla"]["first_response"]["state"] == "breached"
    # Another team's agent does not see it; the admin does.
    others = await api.get(f"{V1}/sla/breaches", headers=desk.agent.auth, params={"limit": 200})
    assert ticket["id"] not in {b["ticket_id"] for b in others.json()["items"]}
    report = await api.get(f"{V1}/sla/breaches/{ticket['number']}", headers=desk.admin.auth)
    events = [(e["metric"], e["event"]) for e in report.json()["events"]]
    assert ("first_response", "breached") in events
    live = await api.get(f"{V1}/tickets/{ticket['number']}", headers=desk.requester.auth)
    assert live.json()["sla"]["first_response"]["remaining"].startswith("-")


async def test_a_policy_cannot_name_an_unknown_calendar(api: httpx.AsyncClient, desk: Desk) -> None:
    response = await api.post(
        f"{V1}/sla/policies",
        headers=desk.admin.auth,
        json={
            "name": f"Nowhere {uuid4().hex[:8]}",
            "targets": {"P2": {"first_response": "PT2H"}},
            "calendar_id": str(uuid4()),
        },
    )
    assert_problem(response, 422)


async def test_a_new_rule_reaches_tickets_already_open(
    api: httpx.AsyncClient, desk: Desk, worker: Worker
) -> None:
    ticket = await open_ticket(api, desk)  # P3
    tag = f"vip-{uuid4().hex[:6]}"
    rule = await api.post(
        f"{V1}/automation/rules",
        headers=desk.admin.auth,
        json={
            "name": f"tag {tag}",
            "trigger": "updated",
            "conditions": {
                "all": [
                    {"field": "priority", "operator": "changed_to", "value": "P2"},
                    {
                        "field": "department_id",
                        "operator": "equals",
                        "value": str(desk.department_id),
                    },
                ]
            },
            "actions": [{"type": "add_tag", "tag": tag}],
        },
    )
    assert rule.status_code == 201, rule.text
    priorities = itertools.cycle(["P2", "P3"])

    async def tagged() -> bool:
        changed = await api.patch(
            f"{V1}/tickets/{ticket['number']}/priority",
            json={"priority": next(priorities)},
            headers=desk.agent.auth,
        )
        return tag in changed.json()["tags"]

    await eventually(tagged, within=60)  # a batch reaches every open ticket of the suite
    await api.delete(f"{V1}/automation/rules/{rule.json()['id']}", headers=desk.admin.auth)


async def department_policy(api: httpx.AsyncClient, desk: Desk, first_response_h: int) -> str:
    """A policy for the desk's department, tried first; its id."""
    policy = await api.post(
        f"{V1}/sla/policies",
        headers=desk.admin.auth,
        json={
            "name": f"Desk {uuid4().hex[:8]}",
            "position": 0,
            "conditions": {"department_id": [str(desk.department_id)]},
            "targets": {"P2": {"first_response": f"PT{first_response_h}H", "resolution": "P2D"}},
        },
    )
    assert policy.status_code == 201, policy.text
    policy_id: str = policy.json()["id"]
    return policy_id


async def edit_first_response(
    api: httpx.AsyncClient, desk: Desk, policy_id: str, first_response_h: int
) -> None:
    edited = await api.patch(
        f"{V1}/sla/policies/{policy_id}",
        headers=desk.admin.auth,
        json={"targets": {"P2": {"first_response": f"PT{first_response_h}H", "resolution": "P2D"}}},
    )
    assert edited.status_code == 200, edited.text


async def first_response_due(
    api: httpx.AsyncClient, desk: Desk, ticket: dict[str, Any]
) -> datetime:
    sla = await api.get(f"{V1}/tickets/{ticket['number']}/sla", headers=desk.agent.auth)
    return datetime.fromisoformat(sla.json()["first_response"]["target_at"])


async def test_an_edited_policy_retargets_open_tickets_at_once(
    api: httpx.AsyncClient, desk: Desk, worker: Worker
) -> None:
    policy_id = await department_policy(api, desk, first_response_h=8)
    ticket = await open_ticket(api, desk, urgency="high", impact="high")  # P2
    opened = datetime.fromisoformat(ticket["created_at"])
    await edit_first_response(api, desk, policy_id, first_response_h=1)

    async def retargeted() -> bool:
        return await first_response_due(api, desk, ticket) == opened + timedelta(hours=1)

    await eventually(retargeted, within=60)  # a batch reaches every open ticket of the suite
    await api.delete(f"{V1}/sla/policies/{policy_id}", headers=desk.admin.auth)


async def test_quick_edits_leave_open_tickets_on_the_last_one(
    api: httpx.AsyncClient, desk: Desk, worker: Worker, settings: Settings
) -> None:
    policy_id = await department_policy(api, desk, first_response_h=8)
    ticket = await open_ticket(api, desk, urgency="high", impact="high")  # P2
    opened = datetime.fromisoformat(ticket["created_at"])
    # One after another, faster than a batch signal reaches every open ticket: the server
    # runs one batch at a time, and a broadcast it refuses meanwhile must not be lost.
    for hours in (1, 2, 3):
        await edit_first_response(api, desk, policy_id, first_response_h=hours)

    async def on_the_last() -> bool:
        return await first_response_due(api, desk, ticket) == opened + timedelta(hours=3)

    await eventually(on_the_last, within=60)
    broadcaster = worker.client.get_workflow_handle(
        Broadcast.POLICIES.workflow_id(settings.task_queue)
    )

    async def all_sent() -> bool:
        return await broadcaster.query(BroadcastWorkflow.idle)

    await eventually(all_sent, within=60)
    # No older set arrived after it.
    assert await first_response_due(api, desk, ticket) == opened + timedelta(hours=3)
    assert await (await broadcaster.describe()).static_summary() == Broadcast.POLICIES.summary
    await api.delete(f"{V1}/sla/policies/{policy_id}", headers=desk.admin.auth)


async def test_a_duplicate_is_merged_into_the_ticket_that_carries_on(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    first = await open_ticket(api, desk)
    duplicate = await open_ticket(api, desk, title="Printer still on fire")
    url = f"{V1}/tickets/{duplicate['number']}/merge"
    assert_problem(
        await api.post(url, json={"into": str(first["number"])}, headers=desk.requester.auth), 403
    )
    assert_problem(
        await api.post(url, json={"into": str(duplicate["number"])}, headers=desk.agent.auth), 422
    )
    assert_problem(await api.post(url, json={"into": "999999999"}, headers=desk.agent.auth), 404)

    merged = await api.post(url, json={"into": first["id"]}, headers=desk.agent.auth)
    assert merged.status_code == 200, merged.text
    assert merged.json()["duplicate_of"] == first["id"]
    again = await api.post(url, json={"into": first["id"]}, headers=desk.agent.auth)
    assert_problem(again, 409)  # already closed: nothing changes
    ticket = (await api.get(f"{V1}/tickets/{duplicate['number']}", headers=desk.agent.auth)).json()
    assert (ticket["status"], ticket["duplicate_of"]) == ("closed", first["id"])

    async def noted() -> bool:
        response = await api.get(
            f"{V1}/tickets/{first['number']}/comments", headers=desk.agent.auth
        )
        return [c["private"] for c in response.json()["items"]] == [True]

    await eventually(noted)
    closed_target = await api.post(
        f"{V1}/tickets/{first['number']}/merge",
        json={"into": duplicate["id"]},
        headers=desk.agent.auth,
    )
    assert_problem(closed_target, 409)
