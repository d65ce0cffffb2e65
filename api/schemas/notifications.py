"""A user's notifications (their in-app inbox and the record of what was sent to them)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from persistence.models.vocab import NotificationChannel, NotificationStatus


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    ticket_id: UUID | None
    channel: NotificationChannel
    event: str
    subject: str
    body: str
    urgent: bool
    status: NotificationStatus
    error: str | None
    sent_at: datetime | None
    read_at: datetime | None
    created_at: datetime
