"""Tickets (the read model of their workflows), their comments and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Sequence,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.enums import ClockState, Impact, Priority, Role, Source, TicketStatus, Urgency
from persistence.models.base import Base, HasCreatedAt, HasId, HasTimestamps, enum_check

# The API reserves a number before the ticket's workflow exists (the workflow id is
# `ticket-<number>`), so numbers come from a sequence rather than a column default.
TICKET_NUMBER_SEQ = Sequence("ticket_number_seq", start=1, metadata=Base.metadata)

# Full-text search documents. Searches must use these exact expressions for PostgreSQL to
# pick the GIN indexes; they are spelled as PostgreSQL prints them back, so autogenerate sees
# no difference with the database. 'simple': tickets come in Spanish and English alike.
TICKET_SEARCH_SQL = "to_tsvector('simple'::regconfig, (title || ' '::text) || description)"
COMMENT_SEARCH_SQL = "to_tsvector('simple'::regconfig, body)"


class Ticket(HasId, HasTimestamps, Base):
    """A ticket as its workflow last reported it; `version` orders the snapshots."""

    __tablename__ = "tickets"
    __table_args__ = (
        enum_check("priority", Priority),
        enum_check("urgency", Urgency),
        enum_check("impact", Impact),
        enum_check("status", TicketStatus),
        enum_check("source", Source),
        enum_check("sla_state", ClockState),
        enum_check("requester_role", Role),
        CheckConstraint("satisfaction_score BETWEEN 1 AND 10", name="satisfaction_score_range"),
        Index("ix_tickets_search", text(TICKET_SEARCH_SQL), postgresql_using="gin"),
    )

    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    title: Mapped[str]
    description: Mapped[str]
    # People columns written from workflow state carry no foreign key: the workflow is the
    # source of truth, and a read-model write must never be blocked by a row it cannot see.
    requester_id: Mapped[UUID] = mapped_column(index=True)
    assignee_id: Mapped[UUID | None] = mapped_column(index=True)
    department_id: Mapped[UUID] = mapped_column(ForeignKey("departments.id"), index=True)
    category: Mapped[str] = mapped_column(server_default="general")
    subcategory: Mapped[str | None]
    priority: Mapped[Priority] = mapped_column(index=True)
    urgency: Mapped[Urgency]
    impact: Mapped[Impact]
    status: Mapped[TicketStatus] = mapped_column(index=True)
    source: Mapped[Source]
    tags: Mapped[list[str]] = mapped_column(default=list, server_default=text("'{}'"))
    # No FK: the ticket merged into may not have reached the read model yet.
    duplicate_of: Mapped[UUID | None]
    solution: Mapped[str | None]
    satisfaction_score: Mapped[int | None]
    feedback: Mapped[str | None]
    closed_for_inactivity: Mapped[bool] = mapped_column(default=False, server_default=false())
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", default=dict, server_default=text("'{}'")
    )
    sla: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    sla_state: Mapped[ClockState | None] = mapped_column(index=True)
    sla_breach_at: Mapped[datetime | None]
    requester_role: Mapped[Role] = mapped_column(server_default=Role.USER.value)
    version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class TicketIdempotencyKey(HasCreatedAt, Base):
    """`Idempotency-Key` of a ticket creation: the same key gives back the same ticket."""

    __tablename__ = "ticket_idempotency_keys"

    requester_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(primary_key=True)
    # No FK: the key is claimed before the ticket's workflow writes its row.
    ticket_number: Mapped[int] = mapped_column(BigInteger)


class TicketComment(HasId, HasTimestamps, Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (
        Index(None, "ticket_id", "created_at", "seq"),
        Index("ix_ticket_comments_search", text(COMMENT_SEARCH_SQL), postgresql_using="gin"),
    )

    ticket_id: Mapped[UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # The order comments were written in: replies a ticket took in the same instant (one
    # workflow task) share `created_at`, and the thread must still read in their order.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    author_id: Mapped[UUID]  # no foreign key, as for tickets.requester_id
    body: Mapped[str]
    private: Mapped[bool] = mapped_column(default=False, server_default=false())
    mentions: Mapped[list[UUID]] = mapped_column(default=list, server_default=text("'{}'"))
    attachments: Mapped[list[str]] = mapped_column(default=list, server_default=text("'{}'"))
    sentiment_score: Mapped[float | None]


class Attachment(HasId, HasCreatedAt, Base):
    __tablename__ = "attachments"

    ticket_id: Mapped[UUID] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="CASCADE")
    )
    filename: Mapped[str]
    url: Mapped[str]
    content_type: Mapped[str | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    uploaded_by: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
