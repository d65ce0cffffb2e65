"""Rows and read-model batches for the persistence tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

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
from domain.ticket import (
    CommentRecord,
    HistoryEntry,
    NotificationIntent,
    Recipient,
    SlaEventData,
)
from domain.views import MetricView, SlaView, TicketView
from persistence.models import Department, User
from persistence.repositories import departments, tickets, users

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def add_department(session: AsyncSession, manager_id: UUID | None = None) -> Department:
    return await departments.create(
        session, name=f"Support {uuid4().hex[:8]}", manager_id=manager_id
    )


async def add_user(
    session: AsyncSession, role: Role = Role.AGENT, department_id: UUID | None = None
) -> User:
    return await users.create(
        session,
        email=f"Someone.{uuid4().hex[:10]}@Example.com",
        password_hash="x",
        name="Someone",
        role=role,
        department_id=department_id,
    )


class Desk:
    """A department with a manager, an agent and a requester: enough to open tickets."""

    def __init__(self, department: Department, manager: User, agent: User, requester: User):
        self.department = department
        self.manager = manager
        self.agent = agent
        self.requester = requester

    @classmethod
    async def create(cls, session: AsyncSession) -> Desk:
        manager = await add_user(session, Role.AGENT)
        department = await add_department(session, manager_id=manager.id)
        agent = await add_user(session, Role.AGENT, department.id)
        requester = await add_user(session, Role.USER)
        return cls(department, manager, agent, requester)

    async def ticket(self, session: AsyncSession, **changes: Any) -> TicketView:
        """A version-1 view of a new ticket with a running first-response clock."""
        number = await tickets.reserve_number(session)
        data: dict[str, Any] = {
            "id": uuid4(),
            "number": number,
            "title": f"Printer #{number} on fire",
            "description": "It is really on fire.",
            "requester_id": self.requester.id,
            "assignee_id": None,
            "department_id": self.department.id,
            "category": "hardware",
            "subcategory": None,
            "priority": Priority.P2,
            "urgency": Urgency.HIGH,
            "impact": Impact.HIGH,
            "status": TicketStatus.NEW,
            "source": Source.WEB,
            "tags": ["printer"],
            "duplicate_of": None,
            "solution": None,
            "satisfaction_score": None,
            "feedback": None,
            "closed_for_inactivity": False,
            "metadata": {"floor": 3},
            "created_at": T0,
            "first_response_at": None,
            "resolved_at": None,
            "closed_at": None,
            "updated_at": T0,
            "version": 1,
            "sla": running_sla(T0 + timedelta(hours=1)),
        }
        data.update(changes)
        return TicketView(**data)


def running_sla(target_at: datetime, state: ClockState = ClockState.OK) -> SlaView:
    first_response = MetricView(
        target_at=target_at, state=state, remaining=timedelta(hours=1), elapsed=timedelta(0)
    )
    return SlaView(policy="Default", first_response=first_response)


def next_version(view: TicketView, **changes: Any) -> TicketView:
    return view.model_copy(update={"version": view.version + 1, **changes})


def batch(view: TicketView, **parts: Any) -> ReadModelBatch:
    return ReadModelBatch(ticket=view, requester_role=Role.USER, **parts)


def comment(author_id: UUID, body: str = "Have you tried turning it off?") -> CommentRecord:
    return CommentRecord(id=uuid4(), author_id=author_id, body=body, created_at=T0)


def created_entry(actor_id: UUID | None) -> HistoryEntry:
    return HistoryEntry(seq=1, at=T0, kind="created", actor_id=actor_id, summary="Opened")


def assigned_entry(seq: int, before: UUID | None, after: UUID | None) -> HistoryEntry:
    return HistoryEntry(
        seq=seq,
        at=T0 + timedelta(minutes=seq),
        kind="assigned",
        summary="Assigned",
        # As it arrives through Temporal's JSON: UUIDs are plain strings in `changes`.
        changes={"assignee_id": [str(before) if before else None, str(after) if after else None]},
    )


def breach_entry(seq: int, deadline: datetime) -> HistoryEntry:
    return HistoryEntry(
        seq=seq,
        at=deadline,
        kind="sla_breached",
        summary="First response SLA breached",
        sla=SlaEventData(
            metric=Metric.FIRST_RESPONSE,
            cycle=1,
            kind=SlaEventKind.BREACHED,
            target=timedelta(hours=1),
            elapsed=timedelta(hours=1),
            state=ClockState.BREACHED,
            due_at=deadline,
        ),
    )


def notify(key: str, *recipients: Recipient) -> NotificationIntent:
    return NotificationIntent(
        key=key,
        event="ticket.created",
        recipients=list(recipients),
        subject="New ticket",
        body="A printer is on fire",
    )
