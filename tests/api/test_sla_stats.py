"""`GET /sla/stats`: compliance and medians from the SLA history the workflows wrote."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from pydantic import TypeAdapter

from tests.api.conftest import Desk, assert_problem
from tests.api.test_tickets import eventually, open_ticket

V1 = "/api/v1"
pytestmark = pytest.mark.usefixtures("worker")


async def test_compliance_counts_met_and_breached_clocks(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    policy = await api.post(
        f"{V1}/sla/policies",
        headers=desk.admin.auth,
        json={
            "name": f"Stats {uuid4().hex[:8]}",
            "position": 0,
            "conditions": {"department_id": [str(desk.department_id)]},
            "targets": {"P2": {"first_response": "PT2S"}},
        },
    )
    assert policy.status_code == 201, policy.text
    answered = await open_ticket(api, desk, urgency="high", impact="high")  # P2
    await open_ticket(api, desk, urgency="high", impact="high")  # P2; nobody answers it
    reply = await api.post(
        f"{V1}/tickets/{answered['number']}/comment",
        json={"body": "On it"},
        headers=desk.agent.auth,
    )
    assert reply.status_code == 201, reply.text
    await asyncio.sleep(2.5)
    params = {"group_by": "department", "department_id": str(desk.department_id)}

    async def decided() -> bool:
        stats = await api.get(f"{V1}/sla/stats", params=params, headers=desk.admin.auth)
        rows = [r for r in stats.json()["items"] if r["metric"] == "first_response"]
        return bool(rows) and rows[0]["met"] + rows[0]["breached"] == 2

    await eventually(decided)
    stats = await api.get(f"{V1}/sla/stats", params=params, headers=desk.admin.auth)
    [row] = [r for r in stats.json()["items"] if r["metric"] == "first_response"]
    assert row["key"] == str(desk.department_id)
    assert (row["met"], row["breached"], row["compliance"]) == (1, 1, 50.0)
    assert TypeAdapter(timedelta).validate_python(row["median"]) < timedelta(seconds=2)
    await api.delete(f"{V1}/sla/policies/{policy.json()['id']}", headers=desk.admin.auth)


async def test_stats_are_for_admins_and_check_their_period(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    assert_problem(await api.get(f"{V1}/sla/stats", headers=desk.agent.auth), 403)
    backwards = {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert_problem(await api.get(f"{V1}/sla/stats", params=backwards, headers=desk.admin.auth), 422)
    assert_problem(
        await api.get(f"{V1}/sla/stats", params={"group_by": "year"}, headers=desk.admin.auth),
        422,
    )
    by_priority = await api.get(
        f"{V1}/sla/stats", params={"group_by": "priority"}, headers=desk.admin.auth
    )
    assert by_priority.status_code == 200, by_priority.text
