"""`GET /tickets/{ticket}/deliveries`: what was sent about a ticket, to whom, and how it went;
for the staff who see the ticket, never for requesters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.enums import Role
from persistence.outbox import RECORDED_ONLY
from tests.api.conftest import Desk, People, assert_problem
from tests.api.test_tickets import eventually, open_ticket

V1 = "/api/v1"
pytestmark = pytest.mark.usefixtures("worker")


async def deliveries(
    api: httpx.AsyncClient, number: int, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await api.get(f"{V1}/tickets/{number}/deliveries", headers=headers, params=params)


async def worked_ticket(api: httpx.AsyncClient, desk: Desk) -> int:
    """Opened (the requester hears), assigned (the agent hears), resolved (the requester)."""
    number: int = (await open_ticket(api, desk))["number"]
    assigned = await api.patch(
        f"{V1}/tickets/{number}/assign",
        json={"assignee_id": str(desk.agent.id)},
        headers=desk.manager.auth,
    )
    assert assigned.status_code == 200, assigned.text
    resolved = await api.post(f"{V1}/tickets/{number}/resolve", headers=desk.agent.auth)
    assert resolved.status_code == 200, resolved.text
    return number


async def all_rows(api: httpx.AsyncClient, number: int, desk: Desk) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    async def every_event_recorded() -> bool:
        response = await deliveries(api, number, desk.agent.auth, limit=200)
        assert response.status_code == 200, response.text
        rows[:] = response.json()["items"]
        return {r["event"] for r in rows} >= {"created", "assigned", "resolved"}

    await eventually(every_event_recorded)
    return rows


async def test_staff_see_every_channel_newest_first_with_how_each_went(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = await worked_ticket(api, desk)

    rows = await all_rows(api, number, desk)

    emails = {(r["event"], r["recipient"]) for r in rows if r["channel"] == "email"}
    assert {("created", desk.requester.email), ("assigned", desk.agent.email)} <= emails
    assert ("resolved", desk.requester.email) in emails
    in_app = {(r["event"], r["user_id"]) for r in rows if r["channel"] == "in_app"}
    assert ("assigned", str(desk.agent.id)) in in_app
    # No provider is configured here: each e-mail is recorded, and says so.
    email = next(r for r in rows if r["channel"] == "email")
    assert (email["status"], email["error"], email["attempts"]) == ("sent", RECORDED_ONLY, 0)
    assert email["sent_at"] is not None and "provider_message_id" in email
    assert "body" not in email  # a resolved notice's body holds the requester's survey link
    created = [r["created_at"] for r in rows]
    assert created == sorted(created, reverse=True)


async def test_managers_and_admins_see_them_too(api: httpx.AsyncClient, desk: Desk) -> None:
    number = await worked_ticket(api, desk)
    rows = await all_rows(api, number, desk)

    for person in (desk.manager, desk.admin):
        response = await deliveries(api, number, person.auth, limit=200)
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == len(rows)


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = await worked_ticket(api, desk)
    everything = await all_rows(api, number, desk)
    assert len(everything) >= 3

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await deliveries(api, number, desk.agent.auth, **params)).json()
        assert len(page["items"]) <= 2
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r["id"] for r in everything]
    assert_problem(await deliveries(api, number, desk.agent.auth, cursor="nonsense"), 422)
    assert_problem(await deliveries(api, number, desk.agent.auth, limit=201), 422)


async def test_requesters_and_other_departments_are_refused(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    number = await worked_ticket(api, desk)
    await all_rows(api, number, desk)
    elsewhere = await people.make(Role.AGENT, await people.department("Facilities"))

    assert_problem(await deliveries(api, number, desk.requester.auth), 403)
    assert_problem(await deliveries(api, number, elsewhere.auth), 404)
    assert_problem(await api.get(f"{V1}/tickets/{number}/deliveries"), 401)
