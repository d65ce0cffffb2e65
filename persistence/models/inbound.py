"""Inbound e-mail held back because nothing vouched for its sender (`held_emails`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasCreatedAt, HasId, TextEnum, enum_check


class HeldEmailStatus(StrEnum):
    HELD = "held"  # waiting for an admin
    RELEASED = "released"  # an admin vouched for it: it landed as its sender's
    DISCARDED = "discarded"  # an admin threw it away


class HeldEmail(HasId, HasCreatedAt, Base):
    """An e-mail whose `From:` domain did not vouch for it (no aligned DKIM or SPF pass).

    It changed nothing: no account was made, no ticket touched. It keeps what landing it
    needs should an admin release it: the parsed e-mail, its attachments as stored (their
    bytes are in the attachment store, under the ids landing would give them), and what
    SendGrid's checks said. The id follows from the e-mail (`message_key`), so a redelivery
    holds nothing twice.
    """

    __tablename__ = "held_emails"
    __table_args__ = (
        enum_check("status", HeldEmailStatus),
        Index("ix_held_emails_status_created_at_id", "status", "created_at", "id"),
    )

    message_key: Mapped[str] = mapped_column(unique=True)
    message_id: Mapped[str | None]
    fingerprint: Mapped[str]
    sender: Mapped[str]
    sender_name: Mapped[str]
    recipients: Mapped[list[str]]
    subject: Mapped[str]
    body: Mapped[str]
    references: Mapped[list[str]]
    spf: Mapped[str | None]
    dkim: Mapped[str | None]
    envelope_from: Mapped[str | None]
    reason: Mapped[str]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(server_default=text("'[]'"))
    status: Mapped[HeldEmailStatus] = mapped_column(
        TextEnum(HeldEmailStatus),
        default=HeldEmailStatus.HELD,
        server_default=HeldEmailStatus.HELD.value,
    )
    ticket_number: Mapped[int | None] = mapped_column(BigInteger)
    comment_id: Mapped[UUID | None]
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
