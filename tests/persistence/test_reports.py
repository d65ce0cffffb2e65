"""Report figures over read-model rows with known times, scores and SLA events."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import ClockState, Metric, Priority, SlaEventKind, Source, TicketStatus
from domain.ticket import HistoryEntry, SlaEventData
from domain.views import TicketView
from persistence.readmodel import apply_batch
from persistence.repositories import reports
from persistence.repositories.reports import Bucket, Dimension, Period, Ratings, Slice
from tests.persistence.factories import T0, Desk, add_user, batch

PERIOD = Period(T0 - timedelta(days=1), T0 + timedelta(days=10))
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


async def put(
    session: AsyncSession, desk: Desk, history: list[HistoryEntry] | None = None, **changes: Any
) -> TicketView:
    view: TicketView = await desk.ticket(session, **changes)
    await apply_batch(session, batch(view, history=history or []))
    return view


def resolved(after: timedelta, **more: Any) -> dict[str, Any]:
    """A ticket answered after 10 minutes and resolved `after` its creation."""
    return {
        "status": TicketStatus.RESOLVED,
        "first_response_at": T0 + 10 * MINUTE,
        "resolved_at": T0 + after,
        **more,
    }


def sla_event(seq: int, kind: SlaEventKind, at_minute: int, cycle: int = 1) -> HistoryEntry:
    return HistoryEntry(
        seq=seq,
        at=T0 + at_minute * MINUTE,
        kind=f"sla.{kind.value}",
        summary=kind.value,
        sla=SlaEventData(
            metric=Metric.FIRST_RESPONSE,
            cycle=cycle,
            kind=kind,
            target=HOUR,
            elapsed=at_minute * MINUTE,
            state=ClockState.OK,
        ),
    )


async def test_counts_by_dimension_open_only_and_by_creation(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    mine = Slice(department_id=desk.department.id)
    await put(db_session, desk, priority=Priority.P1)
    await put(db_session, desk, priority=Priority.P1, source=Source.EMAIL, category="network")
    await put(db_session, desk, **resolved(2 * HOUR))
    await put(db_session, desk, status=TicketStatus.CLOSED, created_at=T0 - 5 * DAY)

    assert await reports.count_by(db_session, Dimension.STATUS, mine) == {
        "closed": 1,
        "new": 2,
        "resolved": 1,
    }
    assert await reports.count_by(db_session, Dimension.PRIORITY, mine, open_only=True) == {"P1": 2}
    by_source = await reports.count_by(db_session, Dimension.SOURCE, mine, created=PERIOD)
    assert by_source == {"email": 1, "web": 2}
    by_category = await reports.count_by(db_session, Dimension.CATEGORY, mine, created=PERIOD)
    assert by_category == {"hardware": 2, "network": 1}
    other = await Desk.create(db_session)
    assert await reports.count_by(db_session, Dimension.STATUS, Slice(other.department.id)) == {}


async def test_activity_counts_events_inside_the_period_and_reopens(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    reopen = HistoryEntry(
        seq=2,
        at=T0 + 3 * HOUR,
        kind="reopened",
        summary="Status resolved → reopened",
        changes={"status": ["resolved", "reopened"]},
    )
    await put(db_session, desk, history=[reopen], **resolved(HOUR))
    await put(db_session, desk, **resolved(2 * HOUR))
    await put(db_session, desk, **resolved(20 * DAY))  # resolved after the period
    await put(db_session, desk, created_at=T0 - 3 * DAY)  # created before it

    figures = await reports.activity(db_session, Slice(desk.department.id), PERIOD)

    assert figures == reports.Activity(created=3, resolved=2, closed=0, reopened=1)


async def test_timings_are_wall_clock_medians_and_p90(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    for answered, solved in ((10, 2 * HOUR), (20, 4 * HOUR), (60, None)):
        await put(
            db_session,
            desk,
            first_response_at=T0 + answered * MINUTE,
            resolved_at=None if solved is None else T0 + solved,
        )

    figures = await reports.timings(db_session, Slice(desk.department.id), PERIOD)

    assert figures.first_responses == 3
    assert figures.first_response_median == 20 * MINUTE
    # percentile_cont interpolates: 20 min + 0.8 × 40 min.
    assert figures.first_response_p90 == 52 * MINUTE
    assert (figures.resolutions, figures.resolution_median) == (2, 3 * HOUR)
    assert figures.resolution_p90 == 3 * HOUR + 48 * MINUTE


async def test_ratings_average_csat_and_nps(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    for score in (10, 9, 7, 3):
        await put(db_session, desk, **resolved(HOUR, satisfaction_score=score))
    await put(db_session, desk, **resolved(HOUR))  # not rated
    await put(db_session, desk, **resolved(30 * DAY, satisfaction_score=1))  # after the period

    found = await reports.ratings(db_session, Slice(desk.department.id), PERIOD)

    assert found.counts == {10: 1, 9: 1, 7: 1, 3: 1}
    assert (found.responses, found.average, found.csat) == (4, 7.25, 50.0)
    assert (found.promoters, found.detractors, found.nps) == (2, 1, 25.0)
    every = await reports.ratings(db_session, Slice(requester_id=desk.requester.id), None)
    assert every.responses == 5


def test_no_ratings_give_no_averages() -> None:
    empty = Ratings({})
    assert (empty.responses, empty.average, empty.csat, empty.nps) == (0, None, None, None)


async def test_backlog_ages_open_tickets_in_bands(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    now = T0 + 10 * DAY
    for age in (2 * HOUR, 2 * DAY, 10 * DAY):
        await put(db_session, desk, created_at=now - age)
    await put(db_session, desk, **resolved(HOUR))

    found = await reports.backlog(db_session, Slice(desk.department.id), now)

    assert (found.open, found.median_age, found.oldest_age) == (3, 2 * DAY, 10 * DAY)
    assert found.by_age == {
        "under_1d": 1,
        "1d_to_3d": 1,
        "3d_to_7d": 0,
        "7d_to_30d": 1,
        "over_30d": 0,
    }


async def test_volume_has_every_bucket_even_empty_ones(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    await put(db_session, desk, **resolved(DAY + HOUR))
    await put(db_session, desk, created_at=T0 + 2 * HOUR)
    await put(db_session, desk, created_at=T0 + 2 * DAY)
    days = Period(T0 - 9 * HOUR, T0 + 3 * DAY - 9 * HOUR)  # midnight to midnight, UTC

    points = await reports.volume(db_session, Slice(desk.department.id), days, Bucket.DAY)

    assert [(p.start, p.created, p.resolved) for p in points] == [
        (date(2026, 1, 5), 2, 0),
        (date(2026, 1, 6), 0, 1),
        (date(2026, 1, 7), 1, 0),
    ]
    weeks = await reports.volume(db_session, Slice(desk.department.id), PERIOD, Bucket.WEEK)
    # The period starts on Sunday 4 January: its ISO week began on Monday 29 December.
    assert [(p.start, p.created) for p in weeks] == [
        (date(2025, 12, 29), 0),
        (date(2026, 1, 5), 3),
        (date(2026, 1, 12), 0),
    ]


async def test_agents_get_their_load_times_ratings_and_sla(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    idle = await add_user(db_session, department_id=desk.department.id)
    met = [sla_event(1, SlaEventKind.APPLIED, 0), sla_event(2, SlaEventKind.FULFILLED, 10)]
    breached = [sla_event(1, SlaEventKind.APPLIED, 0), sla_event(2, SlaEventKind.BREACHED, 60)]
    agent: dict[str, Any] = {"assignee_id": desk.agent.id}
    await put(db_session, desk, history=met, **resolved(HOUR, satisfaction_score=9, **agent))
    await put(db_session, desk, history=breached, **resolved(3 * HOUR, **agent))
    await put(db_session, desk, status=TicketStatus.IN_PROGRESS, **agent)

    rows = await reports.agents(db_session, PERIOD, Slice(desk.department.id))

    by_id: dict[UUID, reports.AgentFigures] = {row.id: row for row in rows}
    assert set(by_id) == {desk.agent.id, idle.id}
    figures = by_id[desk.agent.id]
    assert (figures.assigned_open, figures.resolved) == (1, 2)
    assert figures.timings.first_response_median == 10 * MINUTE
    assert figures.timings.resolution_median == 2 * HOUR
    assert (figures.sla_met, figures.sla_breached, figures.sla_compliance) == (1, 1, 50.0)
    assert (figures.ratings, figures.average_rating) == (1, 9.0)
    nothing = by_id[idle.id]
    assert (nothing.assigned_open, nothing.resolved, nothing.sla_compliance) == (0, 0, None)
    assert nothing.average_rating is None


async def test_export_lists_tickets_created_in_the_period_by_number(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    first = await put(db_session, desk)
    second = await put(db_session, desk, created_at=T0 + DAY)
    await put(db_session, desk, created_at=T0 - 3 * DAY)

    rows = await reports.tickets_created(db_session, PERIOD, Slice(desk.department.id))

    assert [row.number for row in rows] == [first.number, second.number]
    limited = await reports.tickets_created(db_session, PERIOD, Slice(desk.department.id), 1)
    assert [row.number for row in limited] == [first.number]
