"""A ticket's outbound deliveries, as staff see them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from persistence.models.vocab import NotificationChannel, NotificationStatus


class DeliveryOut(BaseModel):
    """One notification of the ticket on one channel, and how its sending went."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    user_id: UUID | None = Field(description="whom it was for; none for a team's channel")
    channel: NotificationChannel
    event: str
    subject: str
    urgent: bool
    recipient: str | None = Field(
        description="where it went: e-mail address, phone, Slack user; a device token shortened"
    )
    status: NotificationStatus
    attempts: int
    error: str | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    provider_message_id: str | None
    created_at: datetime
