"""Reports as plain tables (a title, column names, rows of cells), whatever the file format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Ticket
from persistence.repositories import reports as reports_repo
from persistence.repositories.reports import AgentFigures, Period, Slice

Cell = str | int | float | datetime | None


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


TICKET_COLUMNS = (
    "number",
    "title",
    "status",
    "priority",
    "category",
    "source",
    "department_id",
    "requester_id",
    "assignee_id",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_state",
    "satisfaction_score",
)

AGENT_COLUMNS = (
    "name",
    "email",
    "assigned_open",
    "resolved",
    "first_response_median_minutes",
    "resolution_median_hours",
    "sla_compliance_percent",
    "ratings",
    "average_rating",
)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def ticket_row(ticket: Ticket) -> tuple[Cell, ...]:
    return (
        ticket.number,
        ticket.title,
        ticket.status.value,
        ticket.priority.value,
        ticket.category,
        ticket.source.value,
        str(ticket.department_id),
        str(ticket.requester_id),
        _text(ticket.assignee_id),
        ticket.created_at,
        ticket.first_response_at,
        ticket.resolved_at,
        ticket.closed_at,
        _text(ticket.sla_state and ticket.sla_state.value),
        ticket.satisfaction_score,
    )


def _in(unit: timedelta, value: timedelta | None) -> float | None:
    return None if value is None else round(value / unit, 1)


def agent_row(agent: AgentFigures) -> tuple[Cell, ...]:
    return (
        agent.name,
        agent.email,
        agent.assigned_open,
        agent.resolved,
        _in(timedelta(minutes=1), agent.timings.first_response_median),
        _in(timedelta(hours=1), agent.timings.resolution_median),
        agent.sla_compliance,
        agent.ratings,
        agent.average_rating,
    )


def _title(kind: str, period: Period) -> str:
    since, until = (moment.astimezone(UTC) for moment in (period.since, period.until))
    return f"ticketflow {kind} report, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"


async def tickets_table(session: AsyncSession, period: Period, where: Slice) -> Table:
    tickets: Sequence[Ticket] = await reports_repo.tickets_created(session, period, where)
    return Table(_title("tickets", period), TICKET_COLUMNS, [ticket_row(t) for t in tickets])


async def agents_table(session: AsyncSession, period: Period, where: Slice) -> Table:
    agents = await reports_repo.agents(session, period, where)
    return Table(_title("agents", period), AGENT_COLUMNS, [agent_row(a) for a in agents])


async def build_table(session: AsyncSession, kind: str, period: Period, where: Slice) -> Table:
    """The `kind` report ("tickets" or "agents") over the period."""
    build = agents_table if kind == "agents" else tickets_table
    return await build(session, period, where)
