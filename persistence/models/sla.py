"""SLA policies and the history of every ticket's SLA clocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Double, ForeignKey, Index, func, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from domain.enums import ClockState, Metric, SlaEventKind, TicketStatus
from domain.sla import DEFAULT_WARN_AT
from persistence.models.base import Base, HasId, HasTimestamps, enum_check


class SlaPolicy(HasId, HasTimestamps, Base):
    """Targets per priority (ISO 8601 durations); the first enabled match by position applies."""

    __tablename__ = "sla_policies"

    name: Mapped[str] = mapped_column(unique=True)
    position: Mapped[int] = mapped_column(default=0, server_default=text("0"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    calendar_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("calendars.id", ondelete="RESTRICT")
    )
    pause_statuses: Mapped[list[str]] = mapped_column(
        default=lambda: [TicketStatus.ON_HOLD.value], server_default=text("'{on_hold}'")
    )
    warn_at: Mapped[list[float]] = mapped_column(
        ARRAY(Double()),
        default=lambda: list(DEFAULT_WARN_AT),
        server_default=text("'{0.5,0.75,0.9}'"),
    )
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(
        default=list, server_default=text("'[]'")
    )


class SlaHistory(Base):
    """One SLA clock event; its id derives from the ticket's history, so rewrites are no-ops."""

    __tablename__ = "sla_history"
    __table_args__ = (
        enum_check("metric", Metric),
        enum_check("event", SlaEventKind),
        enum_check("state", ClockState),
        Index(None, "ticket_id", "occurred_at"),
        Index(None, "event", "occurred_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, sort_order=-1)
    ticket_id: Mapped[UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    metric: Mapped[Metric]
    cycle: Mapped[int]
    event: Mapped[SlaEventKind]
    target_seconds: Mapped[int]
    elapsed_seconds: Mapped[int]
    state: Mapped[ClockState]
    due_at: Mapped[datetime | None]
    fraction: Mapped[float | None]
    # When it happened in the ticket's time (a breach: the exact deadline) ...
    occurred_at: Mapped[datetime]
    # ... and when it was written. clock_timestamp(), not now(): now() is the start of the
    # transaction, and breach lateness is measured from this column.
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
