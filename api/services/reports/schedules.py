"""Reports mailed on a timetable: each is a Temporal Schedule starting `ReportWorkflow`.

The schedule is the only record: its memo keeps the request as it was made, so listing
needs no table of its own. Listing reads Temporal's visibility store, which is eventually
consistent (a new schedule shows up within a second or so) and rate-limited: fine for an
admin screen, not for a hot path.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import uuid4

from pydantic import ValidationError
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleListDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode

from api.schemas.reports import ScheduleCreate, ScheduleOut
from domain.errors import InvalidInput, NotFound
from domain.reports import ReportJob
from workflows.report import ReportWorkflow

log = logging.getLogger(__name__)

SCHEDULE_PREFIX = "report-"
MEMO_KEY = "report"
RUN_TIMEOUT = timedelta(hours=1)


def _spec(body: ScheduleCreate) -> ScheduleSpec:
    return ScheduleSpec(
        cron_expressions=[body.cron] if body.cron else [],
        intervals=[ScheduleIntervalSpec(every=body.every)] if body.every else [],
        time_zone_name=body.time_zone,
    )


def _schedule(body: ScheduleCreate, schedule_id: str, task_queue: str) -> Schedule:
    job = ReportJob(
        kind=body.kind,
        format=body.format,
        recipients=list(body.recipients),
        look_back=body.look_back,
        department_id=body.department_id,
    )
    action = ScheduleActionStartWorkflow(
        ReportWorkflow.run,
        job,
        id=schedule_id,  # each run's id is this plus its scheduled time
        task_queue=task_queue,
        execution_timeout=RUN_TIMEOUT,
        static_summary=f"{body.kind} report ({body.format})",
    )
    # A run still going when the next is due (SendGrid down) makes the next one wait, once.
    policy = SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE)
    return Schedule(action=action, spec=_spec(body), policy=policy)


def _out(schedule_id: str, memo: dict[str, Any], paused: bool, next_runs: Any) -> ScheduleOut:
    return ScheduleOut.model_validate(
        {
            **memo,
            "id": schedule_id,
            "paused": paused,
            "next_run_at": next_runs[0] if next_runs else None,
        }
    )


async def create_schedule(client: Client, body: ScheduleCreate, task_queue: str) -> ScheduleOut:
    schedule_id = f"{SCHEDULE_PREFIX}{uuid4()}"
    memo = {MEMO_KEY: body.model_dump(mode="json")}
    try:
        handle = await client.create_schedule(
            schedule_id, _schedule(body, schedule_id, task_queue), memo=memo
        )
    except RPCError as error:
        if error.status is RPCStatusCode.INVALID_ARGUMENT:
            raise InvalidInput(f"Temporal refused the timetable: {error.message}") from error
        raise
    described = await handle.describe()
    return _out(
        schedule_id,
        memo[MEMO_KEY],
        described.schedule.state.paused,
        described.info.next_action_times,
    )


async def _listed(entry: ScheduleListDescription) -> ScheduleOut | None:
    if not entry.id.startswith(SCHEDULE_PREFIX):
        return None
    memo = await entry.memo_value(MEMO_KEY, None)
    if not isinstance(memo, dict):
        return None
    paused = entry.schedule.state.paused if entry.schedule else False
    next_runs = entry.info.next_action_times if entry.info else []
    try:
        return _out(entry.id, memo, paused, next_runs)
    except ValidationError:
        # One schedule this version cannot read must not take the list down for every admin;
        # it can still be deleted by id. Its memo holds addresses: only the id is logged.
        log.warning("report schedule %s has a memo this version cannot read", entry.id)
        return None


async def list_schedules(client: Client) -> list[ScheduleOut]:
    """Every report schedule, by id."""
    found = [out async for entry in await client.list_schedules() if (out := await _listed(entry))]
    return sorted(found, key=lambda schedule: schedule.id)


async def delete_schedule(client: Client, schedule_id: str) -> None:
    """Stop a report schedule (runs already started finish)."""
    if not schedule_id.startswith(SCHEDULE_PREFIX):
        raise NotFound("no such report schedule")
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise NotFound("no such report schedule") from error
        raise
