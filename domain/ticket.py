"""The ticket aggregate: its state and the record of what happened to it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel, Field

from domain.durations import IsoDuration
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
from domain.sla import Clock, PolicyTerms

DEFAULT_AUTO_CLOSE_AFTER = timedelta(days=3)
DEFAULT_REOPEN_WINDOW = timedelta(days=30)

# Ids of rows a ticket's history produces are derived from the ticket and the entry's
# sequence number, so a retried or replayed write can only ever hit the same row.
_ROW_NAMESPACE = UUID("6f1f6c4e-5b7e-4f55-9d55-1c1f3f0a7e21")


def row_id(ticket_id: UUID, *parts: object) -> UUID:
    return uuid5(_ROW_NAMESPACE, "/".join([str(ticket_id), *map(str, parts)]))


class DepartmentTerms(BaseModel):
    """What a ticket needs to know of its department."""

    id: UUID
    name: str
    manager_id: UUID | None = None
    auto_close_after: IsoDuration = DEFAULT_AUTO_CLOSE_AFTER
    reopen_window: IsoDuration = DEFAULT_REOPEN_WINDOW


class SlaEventData(BaseModel):
    metric: Metric
    cycle: int
    kind: SlaEventKind
    target: IsoDuration
    elapsed: IsoDuration
    state: ClockState
    due_at: datetime | None = None
    fraction: float | None = None


class HistoryEntry(BaseModel):
    """One line of the ticket's timeline; also the source of audit and SLA history rows."""

    seq: int
    at: datetime
    kind: str
    actor_id: UUID | None = None
    public: bool = True
    summary: str
    changes: dict[str, list[Any]] = Field(default_factory=dict)
    sla: SlaEventData | None = None


class Recipient(BaseModel):
    """Who a notification is for: a user, or a role resolved when it is sent."""

    user_id: UUID | None = None
    department_manager_of: UUID | None = None
    admins: bool = Field(False, description="every active administrator")
    staff_only: bool = Field(
        False,
        description="the user named by `user_id` is reached only if they are staff when it is"
        " sent (a private note's mention: the workflow does not know the roles of the users"
        " it names)",
    )


class NotificationIntent(BaseModel):
    key: str
    event: str
    recipients: list[Recipient]
    subject: str
    body: str
    urgent: bool = False
    params: dict[str, str] = Field(
        default_factory=dict, description="values the localized text needs (minutes left…)"
    )


class CommentRecord(BaseModel):
    id: UUID
    author_id: UUID
    body: str
    private: bool = False
    mentions: list[UUID] = Field(default_factory=list)
    attachments: list[str] = Field(default_factory=list)
    created_at: datetime


class TicketDraft(BaseModel):
    """Everything known of a ticket when it is opened."""

    id: UUID
    number: int
    title: str
    description: str
    requester_id: UUID
    requester_role: Role = Role.USER
    department: DepartmentTerms
    category: str = "general"
    subcategory: str | None = None
    priority: Priority
    urgency: Urgency = Urgency.NORMAL
    impact: Impact = Impact.MEDIUM
    source: Source = Source.WEB
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    assignee_id: UUID | None = None
    policy: PolicyTerms | None = None
    created_at: datetime


class TicketState(BaseModel):
    """A ticket as its workflow holds it: the source of truth."""

    id: UUID
    number: int
    title: str
    description: str
    requester_id: UUID
    requester_role: Role
    assignee_id: UUID | None = None
    department: DepartmentTerms
    category: str
    subcategory: str | None = None
    priority: Priority
    urgency: Urgency
    impact: Impact
    status: TicketStatus = TicketStatus.NEW
    source: Source
    tags: list[str] = Field(default_factory=list)
    duplicate_of: UUID | None = None
    solution: str | None = None
    satisfaction_score: int | None = None
    feedback: str | None = None
    closed_for_inactivity: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime
    policy: PolicyTerms | None = None
    clocks: list[Clock] = Field(default_factory=list)
    comment_ids: list[UUID] = Field(default_factory=list)
    version: int = 0
    seq: int = 0

    def clock(self, metric: Metric) -> Clock | None:
        """The clock of the current cycle for `metric`."""
        for clock in reversed(self.clocks):
            if clock.metric is metric:
                return clock
        return None

    def current_clocks(self) -> list[Clock]:
        seen: set[Metric] = set()
        current = []
        for clock in reversed(self.clocks):
            if clock.metric not in seen:
                seen.add(clock.metric)
                current.append(clock)
        return current[::-1]
