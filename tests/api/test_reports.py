"""Reports and statistics over the API: figures from read-model rows with known times and
scores, one ticket driven through the real workflow, exports parsed back, and a report
schedule on the dev server mailing through a SendGrid stand-in."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
)
from temporalio.testing import WorkflowEnvironment

from api.services.reports.schedules import MEMO_KEY, SCHEDULE_PREFIX
from domain.enums import (
    ClockState,
    Impact,
    Metric,
    Priority,
    Role,
    SlaEventKind,
    Source,
    TicketStatus,
    Urgency,
)
from domain.messages import ReadModelBatch
from domain.reports import ReportJob, ReportSent
from domain.ticket import HistoryEntry, SlaEventData
from domain.views import TicketView
from persistence.readmodel import apply_batch
from persistence.repositories import tickets as tickets_repo
from tests.api.conftest import Desk, People, assert_problem
from tests.api.test_tickets import open_ticket
from tests.persistence.factories import running_sla
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workers.main import build_worker
from workflows.report import ReportWorkflow

V1 = "/api/v1"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday
PERIOD = {"from": "2025-03-03T00:00:00Z", "to": "2025-03-10T00:00:00Z"}
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
SENDGRID_PATH = "/v3/mail/send"

Sessions = async_sessionmaker[AsyncSession]


async def seed(
    sessions: Sessions, desk: Desk, history: list[HistoryEntry] | None = None, **fields: Any
) -> TicketView:
    """A ticket written straight into the read model, as its workflow would have."""
    async with sessions.begin() as session:
        number = await tickets_repo.reserve_number(session)
        created = fields.pop("created_at", T0)
        view = TicketView(
            **{
                "id": uuid4(),
                "number": number,
                "title": f"Printer #{number} jammed",
                "description": "Paper everywhere",
                "requester_id": desk.requester.id,
                "assignee_id": None,
                "department_id": desk.department_id,
                "category": "hardware",
                "subcategory": None,
                "priority": Priority.P3,
                "urgency": Urgency.NORMAL,
                "impact": Impact.MEDIUM,
                "status": TicketStatus.NEW,
                "source": Source.WEB,
                "tags": [],
                "duplicate_of": None,
                "solution": None,
                "satisfaction_score": None,
                "feedback": None,
                "closed_for_inactivity": False,
                "metadata": {},
                "created_at": created,
                "first_response_at": None,
                "resolved_at": None,
                "closed_at": None,
                "updated_at": created,
                "version": 1,
                "sla": running_sla(created + HOUR),
                **fields,
            }
        )
        batch = ReadModelBatch(ticket=view, requester_role=Role.USER, history=history or [])
        await apply_batch(session, batch)
    return view


def done(answered: timedelta, solved: timedelta, **more: Any) -> dict[str, Any]:
    """The fields of a ticket assigned to nobody yet, answered and resolved after T0."""
    return {
        "status": TicketStatus.RESOLVED,
        "first_response_at": T0 + answered,
        "resolved_at": T0 + solved,
        **more,
    }


def sla_clock(breached: bool) -> list[HistoryEntry]:
    """A first-response clock applied at T0 and then breached or fulfilled."""
    end = SlaEventKind.BREACHED if breached else SlaEventKind.FULFILLED
    return [
        HistoryEntry(
            seq=seq,
            at=T0 + seq * MINUTE,
            kind=f"sla.{kind.value}",
            summary=kind.value,
            sla=SlaEventData(
                metric=Metric.FIRST_RESPONSE,
                cycle=1,
                kind=kind,
                target=HOUR,
                elapsed=seq * MINUTE,
                state=ClockState.OK,
            ),
        )
        for seq, kind in ((1, SlaEventKind.APPLIED), (2, end))
    ]


async def get_json(api: httpx.AsyncClient, path: str, who: Any, **params: Any) -> Any:
    response = await api.get(f"{V1}{path}", params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def until_true(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.2)


# -- figures from known rows -------------------------------------------------------------------


async def test_agents_report_has_exact_figures(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    agent = {"assignee_id": desk.agent.id}
    await seed(session_factory, desk, sla_clock(False), **done(10 * MINUTE, HOUR, **agent))
    await seed(
        session_factory,
        desk,
        sla_clock(True),
        **done(30 * MINUTE, 5 * HOUR, satisfaction_score=8, **agent),
    )
    await seed(session_factory, desk, status=TicketStatus.IN_PROGRESS, **agent)

    body = await get_json(
        api, "/reports/agents", desk.admin, department_id=desk.department_id, **PERIOD
    )

    assert body["period"] == {"from": "2025-03-03T00:00:00Z", "to": "2025-03-10T00:00:00Z"}
    rows = {row["id"]: row for row in body["items"]}
    assert set(rows) == {str(desk.agent.id), str(desk.manager.id)}
    row = rows[str(desk.agent.id)]
    assert (row["assigned_open"], row["resolved"]) == (1, 2)
    assert (row["first_response_median"], row["resolution_median"]) == ("PT20M", "PT3H")
    assert (row["sla_compliance"], row["ratings"], row["average_rating"]) == (50.0, 1, 8.0)
    idle = rows[str(desk.manager.id)]
    assert (idle["assigned_open"], idle["resolved"], idle["sla_compliance"]) == (0, 0, None)


async def test_tickets_report_counts_volume_and_breakdowns(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    await seed(session_factory, desk, priority=Priority.P1, source=Source.EMAIL)
    await seed(session_factory, desk, created_at=T0 + DAY, category="network")
    await seed(session_factory, desk, **done(MINUTE, DAY + HOUR))
    await seed(session_factory, desk, created_at=T0 - 10 * DAY)  # before the period

    body = await get_json(
        api, "/reports/tickets", desk.admin, department_id=desk.department_id, **PERIOD
    )

    assert body["total"] == 3
    assert [(p["start"], p["created"], p["resolved"]) for p in body["volume"]] == [
        ("2025-03-03", 2, 0),
        ("2025-03-04", 1, 1),
        *[(f"2025-03-{day:02}", 0, 0) for day in range(5, 10)],
    ]
    assert body["by_status"] == {"new": 2, "resolved": 1}
    assert body["by_priority"] == {"P1": 1, "P3": 2}
    assert body["by_department"] == {str(desk.department_id): 3}
    assert body["by_category"] == {"hardware": 2, "network": 1}
    assert body["by_source"] == {"email": 1, "web": 2}
    weekly = await get_json(
        api,
        "/reports/tickets",
        desk.admin,
        department_id=desk.department_id,
        bucket="week",
        **PERIOD,
    )
    assert [(p["start"], p["created"]) for p in weekly["volume"]] == [("2025-03-03", 3)]


async def test_satisfaction_gives_csat_nps_and_distribution(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    for score in (10, 10, 9, 8, 5):
        await seed(session_factory, desk, **done(MINUTE, HOUR, satisfaction_score=score))

    body = await get_json(
        api, "/reports/satisfaction", desk.admin, department_id=desk.department_id, **PERIOD
    )

    ratings = body["ratings"]
    assert (ratings["responses"], ratings["average"], ratings["csat"]) == (5, 8.4, 80.0)
    assert (ratings["promoters"], ratings["passives"], ratings["detractors"]) == (3, 1, 1)
    assert ratings["nps"] == 40.0
    assert ratings["distribution"] == {
        str(score): {10: 2, 9: 1, 8: 1, 5: 1}.get(score, 0) for score in range(1, 11)
    }


async def test_performance_kpis(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    reopen = HistoryEntry(
        seq=5,
        at=T0 + 2 * HOUR,
        kind="reopened",
        summary="Status resolved → reopened",
        changes={"status": ["resolved", "reopened"]},
    )
    await seed(session_factory, desk, sla_clock(False), **done(10 * MINUTE, HOUR))
    await seed(session_factory, desk, sla_clock(True), **done(20 * MINUTE, 3 * HOUR))
    await seed(session_factory, desk, [reopen], status=TicketStatus.REOPENED)

    body = await get_json(
        api, "/reports/performance", desk.admin, department_id=desk.department_id, **PERIOD
    )

    assert (body["created"], body["resolved"], body["reopened"]) == (3, 2, 1)
    assert body["reopen_rate"] == 50.0
    assert body["first_response"] == {"count": 2, "median": "PT15M", "p90": "PT19M"}
    assert body["resolution"] == {"count": 2, "median": "PT2H", "p90": "PT2H48M"}
    assert (body["sla"]["met"], body["sla"]["breached"], body["sla"]["compliance"]) == (
        1,
        1,
        50.0,
    )
    assert body["sla"]["metrics"] == [
        {"metric": "first_response", "met": 1, "breached": 1, "compliance": 50.0}
    ]
    assert body["backlog"]["open"] == 1


async def test_department_stats(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    agent = {"assignee_id": desk.agent.id}
    await seed(session_factory, desk, priority=Priority.P2, status=TicketStatus.ON_HOLD, **agent)
    await seed(session_factory, desk, **done(5 * MINUTE, 2 * HOUR, **agent))

    body = await get_json(api, f"/departments/{desk.department_id}/stats", desk.admin, **PERIOD)

    assert body["department_id"] == str(desk.department_id)
    assert body["name"].startswith("Support")
    assert (body["open"], body["created"], body["resolved"]) == (1, 2, 1)
    assert body["open_by_status"] == {"on_hold": 1}
    assert body["open_by_priority"] == {"P2": 1}
    assert body["timings"]["first_response_median"] == "PT5M"
    assert body["timings"]["resolution_median"] == "PT2H"
    load = {row["id"]: row["assigned_open"] for row in body["agents"]}
    assert load == {str(desk.agent.id): 1, str(desk.manager.id): 0}
    unknown = await api.get(f"{V1}/departments/{uuid4()}/stats", headers=desk.admin.auth)
    assert_problem(unknown, 404)


# -- dashboards and personal stats -----------------------------------------------------------


async def test_each_role_sees_its_own_dashboard(
    api: httpx.AsyncClient, desk: Desk, people: People, session_factory: Sessions
) -> None:
    now = datetime.now(UTC)
    agent = {"assignee_id": desk.agent.id}
    at_risk = running_sla(now + HOUR, ClockState.AT_RISK)
    await seed(session_factory, desk, created_at=now - HOUR, sla=at_risk, **agent)
    breached = running_sla(now - HOUR, ClockState.BREACHED)
    await seed(session_factory, desk, created_at=now - 3 * HOUR, priority=Priority.P1, sla=breached)
    await seed(
        session_factory,
        desk,
        created_at=now - 2 * HOUR,
        status=TicketStatus.RESOLVED,
        resolved_at=now - MINUTE,
        **agent,
    )
    other = await people.make(Role.USER)

    mine = await get_json(api, "/reports/dashboard", desk.requester)
    assert mine == {
        "view": "requester",
        "total": 3,
        "open": 2,
        "by_status": {"new": 2, "resolved": 1},
    }
    nothing = await get_json(api, "/reports/dashboard", other)
    assert (nothing["total"], nothing["by_status"]) == (0, {})

    queue = await get_json(api, "/reports/dashboard", desk.agent)
    assert queue["view"] == "agent"
    assert (queue["assigned_open"], queue["by_status"], queue["by_priority"]) == (
        1,
        {"new": 1},
        {"P3": 1},
    )
    assert (queue["sla_at_risk"], queue["sla_breached"]) == (1, 0)
    assert (queue["resolved_today"], queue["resolved_this_week"]) == (1, 1)

    whole = await get_json(api, "/reports/dashboard", desk.admin)
    assert whole["view"] == "desk"
    assert whole["open_by_department"][str(desk.department_id)] == 2
    assert whole["backlog"]["open"] >= 2
    assert {"met", "breached", "compliance", "metrics"} <= whole["sla"].keys()


@pytest.mark.usefixtures("worker")
async def test_personal_stats_follow_a_real_ticket(api: httpx.AsyncClient, desk: Desk) -> None:
    ticket = await open_ticket(api, desk)
    number = ticket["number"]
    for path, body in (
        ("assign", {"assignee_id": str(desk.agent.id)}),
        ("comment", {"body": "Looking into it"}),
        ("resolve", {"solution": "Rebooted"}),
    ):
        method = api.patch if path == "assign" else api.post
        changed = await method(f"{V1}/tickets/{number}/{path}", json=body, headers=desk.agent.auth)
        assert changed.status_code in (200, 201), changed.text
    rated = await api.post(
        f"{V1}/tickets/{number}/rate", json={"score": 7}, headers=desk.requester.auth
    )
    assert rated.status_code == 200, rated.text

    async def rated_in_read_model() -> bool:
        stats = await get_json(api, "/tickets/stats", desk.requester)
        return bool(stats["ratings_given"] == 1)

    await until_true(rated_in_read_model, within=15)
    requester = await get_json(api, "/tickets/stats", desk.requester)
    assert requester == {
        "view": "requester",
        "opened": 1,
        "open": 0,
        "resolved": 1,
        "ratings_given": 1,
        "average_rating_given": 7.0,
    }
    agent = await get_json(api, "/tickets/stats", desk.agent)
    assert agent["view"] == "agent"
    assert (agent["assigned_open"], agent["resolved"]) == (0, 1)
    assert agent["timings"]["first_responses"] == 1
    assert agent["timings"]["first_response_median"] is not None
    assert (agent["ratings"]["responses"], agent["ratings"]["average"]) == (1, 7.0)


# -- exports --------------------------------------------------------------------------------


async def test_exports_in_three_formats(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    first = await seed(session_factory, desk, title="Café machine → broken")
    second = await seed(session_factory, desk, **done(MINUTE, HOUR, satisfaction_score=9))
    params = {"department_id": str(desk.department_id), **PERIOD}

    as_csv = await api.get(f"{V1}/reports/export/csv", params=params, headers=desk.admin.auth)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == (
        'attachment; filename="tickets-20250303-20250310.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [int(row["number"]) for row in rows] == [first.number, second.number]
    assert rows[0]["title"] == "Café machine → broken"
    assert rows[1]["resolved_at"] == "2025-03-03T10:00:00Z"
    assert (rows[0]["satisfaction_score"], rows[1]["satisfaction_score"]) == ("", "9")

    as_xlsx = await api.get(f"{V1}/reports/export/xlsx", params=params, headers=desk.admin.auth)
    assert as_xlsx.status_code == 200, as_xlsx.text
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    assert header[:3] == ("number", "title", "status")
    assert [row[0] for row in values[1:]] == [first.number, second.number]
    assert values[2][header.index("created_at")] == T0.replace(tzinfo=None)

    as_pdf = await api.get(f"{V1}/reports/export/pdf", params=params, headers=desk.admin.auth)
    assert as_pdf.status_code == 200, as_pdf.text
    assert as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF")
    assert as_pdf.headers["content-disposition"].endswith('.pdf"')


# -- who may ask, and bad input ---------------------------------------------------------------


ADMIN_ONLY = (
    "/reports/agents",
    "/reports/tickets",
    "/reports/satisfaction",
    "/reports/performance",
    "/reports/export/csv",
    "/reports/schedules",
)


async def test_admin_reports_refuse_others(api: httpx.AsyncClient, desk: Desk) -> None:
    for path in ADMIN_ONLY:
        for who in (desk.agent, desk.requester):
            assert_problem(await api.get(f"{V1}{path}", headers=who.auth), 403)
    stats = f"{V1}/departments/{desk.department_id}/stats"
    assert_problem(await api.get(stats, headers=desk.agent.auth), 403)
    assert_problem(await api.get(f"{V1}/reports/dashboard"), 401)
    assert_problem(await api.get(f"{V1}/tickets/stats"), 401)
    body = {"kind": "tickets", "format": "csv", "every": "P1D", "recipients": ["a@example.com"]}
    assert_problem(
        await api.post(f"{V1}/reports/schedule", json=body, headers=desk.agent.auth), 403
    )


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2025-03-10T00:00:00Z", "to": "2025-03-03T00:00:00Z"},
        {"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
        {"from": "2025-03-03T00:00:00"},
        {"from": "yesterday"},
        {"to": "0001-01-01T00:00:00Z"},
        {"from": "9999-12-31T23:00:00Z"},
        {"department_id": "not-a-uuid"},
        {"bucket": "month"},
    ],
)
async def test_bad_periods_are_422(
    api: httpx.AsyncClient, desk: Desk, params: dict[str, str]
) -> None:
    response = await api.get(f"{V1}/reports/tickets", params=params, headers=desk.admin.auth)
    assert_problem(response, 422)


async def test_unknown_export_format_is_422(api: httpx.AsyncClient, desk: Desk) -> None:
    assert_problem(await api.get(f"{V1}/reports/export/docx", headers=desk.admin.auth), 422)


@pytest.mark.parametrize(
    "change",
    [
        {"cron": "0 7 * * 1", "every": "P1D"},
        {"every": None},
        {"every": "PT5M"},
        {"every": None, "cron": "0 7 * *"},
        {"every": None, "cron": "61 7 * * 1"},
        {"every": None, "cron": "0 7 * * mon; rm"},
        {"time_zone": "Mars/Olympus"},
        {"recipients": []},
        {"recipients": ["not an address"]},
        {"kind": "everything"},
        {"format": "docx"},
        {"look_back": "P400D"},
        {"surprise": True},
    ],
)
async def test_bad_schedules_are_422(
    api: httpx.AsyncClient, desk: Desk, change: dict[str, Any]
) -> None:
    body = {"kind": "tickets", "format": "csv", "every": "P1D", "recipients": ["a@example.com"]}
    response = await api.post(f"{V1}/reports/schedule", json=body | change, headers=desk.admin.auth)
    assert_problem(response, 422)


async def test_deleting_an_unknown_schedule_is_404(api: httpx.AsyncClient, desk: Desk) -> None:
    for schedule_id in (f"report-{uuid4()}", "ticket-1"):
        response = await api.delete(
            f"{V1}/reports/schedules/{schedule_id}", headers=desk.admin.auth
        )
        assert_problem(response, 404)


# -- schedules on the dev server -------------------------------------------------------------


async def listed(api: httpx.AsyncClient, desk: Desk) -> set[str]:
    body = await get_json(api, "/reports/schedules", desk.admin)
    return {item["id"] for item in body}


async def test_a_schedule_is_listed_triggered_mailed_and_deleted(
    api: httpx.AsyncClient,
    desk: Desk,
    settings: Settings,
    session_factory: Sessions,
    dev_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    await seed(session_factory, desk, created_at=datetime.now(UTC) - HOUR)
    with StandIn() as sendgrid:
        sendgrid.route(SENDGRID_PATH, Answer(202, headers={"X-Message-Id": "sg-report-1"}))
        mailing = settings.model_copy(
            update={"sendgrid_api_key": SecretStr("SG.key"), "sendgrid_base_url": sendgrid.url}
        )
        async with build_worker(dev_env.client, session_factory, mailing, task_queue=task_queue):
            created = await api.post(
                f"{V1}/reports/schedule",
                json={
                    "kind": "tickets",
                    "format": "csv",
                    "cron": "0 7 * * 1",
                    "time_zone": "Europe/Madrid",
                    "look_back": "P1D",
                    "department_id": str(desk.department_id),
                    "recipients": ["Boss@Example.com", "ops@example.com"],
                },
                headers=desk.admin.auth,
            )
            assert created.status_code == 201, created.text
            schedule = created.json()
            assert schedule["id"].startswith("report-")
            assert (schedule["cron"], schedule["look_back"]) == ("0 7 * * 1", "P1D")
            assert schedule["recipients"] == ["boss@example.com", "ops@example.com"]
            assert schedule["next_run_at"] is not None

            async def is_listed() -> bool:
                return schedule["id"] in await listed(api, desk)

            await until_true(is_listed)
            [mine] = [
                s
                for s in await get_json(api, "/reports/schedules", desk.admin)
                if s["id"] == schedule["id"]
            ]
            assert mine == schedule

            handle = dev_env.client.get_schedule_handle(schedule["id"])
            await handle.trigger()
            sent = await _run_result(dev_env, handle.id)

            mails = sendgrid.requests_to(SENDGRID_PATH)
            assert [m.json()["personalizations"][0]["to"][0]["email"] for m in mails] == [
                "boss@example.com",
                "ops@example.com",
            ]
            [attachment] = mails[0].json()["attachments"]
            assert attachment["type"] == "text/csv"
            assert attachment["filename"].startswith("tickets-report-")
            rows = list(
                csv.DictReader(io.StringIO(base64.b64decode(attachment["content"]).decode()))
            )
            assert [row["department_id"] for row in rows] == [str(desk.department_id)]
            assert (sent.rows, sent.content_type) == (1, "text/csv; charset=utf-8")
            assert [d.provider_message_id for d in sent.deliveries] == ["sg-report-1"] * 2

        deleted = await api.delete(
            f"{V1}/reports/schedules/{schedule['id']}", headers=desk.admin.auth
        )
        assert deleted.status_code == 204, deleted.text

        async def is_gone() -> bool:
            return schedule["id"] not in await listed(api, desk)

        await until_true(is_gone)
        again = await api.delete(
            f"{V1}/reports/schedules/{schedule['id']}", headers=desk.admin.auth
        )
        assert_problem(again, 404)


async def test_a_schedule_every_year_or_more_is_listed_with_its_interval_in_days(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Found by fuzzing: `every: P400D` was stored as `P1Y35D` (pydantic's writing), which
    the listing could not read back: `GET /reports/schedules` was a 500 for every admin."""
    body = {"kind": "tickets", "format": "csv", "every": "P400D", "recipients": ["a@example.com"]}
    created = await api.post(f"{V1}/reports/schedule", json=body, headers=desk.admin.auth)
    assert created.status_code == 201, created.text
    schedule = created.json()
    try:
        assert (schedule["every"], schedule["look_back"]) == ("P400D", "P7D")

        async def is_listed() -> bool:
            return schedule["id"] in await listed(api, desk)

        await until_true(is_listed)
        [mine] = [
            s
            for s in await get_json(api, "/reports/schedules", desk.admin)
            if s["id"] == schedule["id"]
        ]
        assert mine == schedule
    finally:
        await api.delete(f"{V1}/reports/schedules/{schedule['id']}", headers=desk.admin.auth)


async def test_a_schedule_whose_memo_was_written_with_years_still_lists(
    api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Schedules made before durations were written in days keep `P1Y35D` in their memo."""
    schedule_id = f"{SCHEDULE_PREFIX}{uuid4()}"
    memo = {
        "kind": "tickets",
        "format": "csv",
        "cron": None,
        "every": "P1Y35D",
        "time_zone": "UTC",
        "look_back": "P7D",
        "department_id": None,
        "recipients": ["a@example.com"],
    }
    job = ReportJob(kind="tickets", format="csv", recipients=["a@example.com"], look_back=DAY)
    await dev_env.client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                ReportWorkflow.run, job, id=schedule_id, task_queue=task_queue
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=400 * DAY)]),
        ),
        memo={MEMO_KEY: memo},
    )
    try:

        async def is_listed() -> bool:
            return schedule_id in await listed(api, desk)

        await until_true(is_listed)
        [mine] = [
            s
            for s in await get_json(api, "/reports/schedules", desk.admin)
            if s["id"] == schedule_id
        ]
        assert (mine["every"], mine["look_back"]) == ("P400D", "P7D")
    finally:
        await dev_env.client.get_schedule_handle(schedule_id).delete()


async def test_one_unreadable_schedule_does_not_break_the_list(
    api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """A memo the listing cannot read (written by hand, or by a future version) leaves that
    schedule out of the list, rather than making the list a 500 for every admin."""
    body = {"kind": "tickets", "format": "csv", "every": "P1D", "recipients": ["a@example.com"]}
    created = await api.post(f"{V1}/reports/schedule", json=body, headers=desk.admin.auth)
    assert created.status_code == 201, created.text
    readable = created.json()["id"]
    unreadable = f"{SCHEDULE_PREFIX}{uuid4()}"
    job = ReportJob(kind="tickets", format="csv", recipients=["a@example.com"], look_back=DAY)
    await dev_env.client.create_schedule(
        unreadable,
        Schedule(
            action=ScheduleActionStartWorkflow(
                ReportWorkflow.run, job, id=unreadable, task_queue=task_queue
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=DAY)]),
        ),
        memo={MEMO_KEY: {"kind": "everything", "every": "fortnightly"}},
    )
    try:

        async def is_listed() -> bool:
            return readable in await listed(api, desk)

        await until_true(is_listed)
        assert unreadable not in await listed(api, desk)
    finally:
        await dev_env.client.get_schedule_handle(unreadable).delete()
        await api.delete(f"{V1}/reports/schedules/{readable}", headers=desk.admin.auth)


async def _run_result(dev_env: WorkflowEnvironment, schedule_id: str) -> ReportSent:
    """The result of the schedule's first run, once it has started and finished."""
    handle = dev_env.client.get_schedule_handle(schedule_id)
    runs: list[str] = []

    async def started() -> bool:
        described = await handle.describe()
        runs[:] = [
            action.action.workflow_id
            for action in described.info.recent_actions
            if isinstance(action.action, ScheduleActionExecutionStartWorkflow)
        ]
        return bool(runs)

    await until_true(started)
    run = dev_env.client.get_workflow_handle_for(ReportWorkflow.run, runs[0])
    return await run.result()
