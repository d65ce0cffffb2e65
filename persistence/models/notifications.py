"""Notifications: one row per recipient and channel, keyed for idempotent sends."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, false, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasCreatedAt, HasId, enum_check
from persistence.models.vocab import NotificationChannel, NotificationStatus


class Notification(HasId, HasCreatedAt, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        enum_check("channel", NotificationChannel),
        enum_check("status", NotificationStatus),
        # Only a shared destination (the Slack channel) has no user; an in-app row is read by one.
        CheckConstraint("user_id IS NOT NULL OR channel <> 'in_app'", name="in_app_has_reader"),
        # A user's inbox, newest first, paged by (created_at, id).
        Index(
            "ix_notifications_user_id_created_at",
            "user_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    # None for a message to a shared destination (the configured Slack channel).
    user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[NotificationChannel]
    event: Mapped[str]
    subject: Mapped[str]
    body: Mapped[str]
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Made by the workflow, so a retried send finds the row it already wrote.
    idempotency_key: Mapped[str | None] = mapped_column(unique=True)
    status: Mapped[NotificationStatus] = mapped_column(
        default=NotificationStatus.PENDING, server_default=NotificationStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Where the send went (address, phone number, device token) and the provider's id for it.
    recipient: Mapped[str | None]
    provider_message_id: Mapped[str | None]
    last_attempt_at: Mapped[datetime | None]
    error: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
