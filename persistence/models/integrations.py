"""Integrations (outbound webhooks) and the deliveries planned for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, text, true
from sqlalchemy.orm import Mapped, mapped_column

from domain.integration_urls import CHAT_PROVIDERS
from persistence.models.base import Base, HasCreatedAt, HasId, HasTimestamps, TextEnum, enum_check

# What `provider` may be: a short slug, also the integration's address in the API.
PROVIDER_PATTERN = "^[a-z0-9_-]{1,40}$"
_CHAT_PROVIDERS_SQL = ", ".join(f"'{provider}'" for provider in sorted(CHAT_PROVIDERS))


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Integration(HasId, HasTimestamps, Base):
    """One receiver of ticket events, at most one per provider.

    `events` are `domain.integration_events` names. The signing secret is stored only
    encrypted (`persistence.secrets`) and never leaves the API. The URL is kept in plain text
    (`url`) or, for a chat provider whose URL is a credential, only encrypted
    (`url_encrypted`) beside the mask the API shows (`url_masked`): never both.
    """

    __tablename__ = "integrations"
    __table_args__ = (
        CheckConstraint(f"provider ~ '{PROVIDER_PATTERN}'", name="provider_slug"),
        CheckConstraint(
            "(url IS NULL) <> (url_encrypted IS NULL) "
            "AND (url_encrypted IS NULL) = (url_masked IS NULL)",
            name="one_url",
        ),
        CheckConstraint(
            f"url IS NULL OR provider NOT IN ({_CHAT_PROVIDERS_SQL})", name="chat_url_encrypted"
        ),
    )

    provider: Mapped[str] = mapped_column(unique=True)
    url: Mapped[str | None]
    url_encrypted: Mapped[str | None]
    url_masked: Mapped[str | None]
    events: Mapped[list[str]]
    secret_encrypted: Mapped[str | None]
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())


class WebhookDelivery(HasId, HasCreatedAt, Base):
    """One event to send to one integration; its id is derived, so planning is idempotent."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (enum_check("status", DeliveryStatus),)

    integration_id: Mapped[UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str]
    payload: Mapped[dict[str, Any]]
    status: Mapped[DeliveryStatus] = mapped_column(
        TextEnum(DeliveryStatus),
        default=DeliveryStatus.PENDING,
        server_default=DeliveryStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    response_status: Mapped[int | None]
    error: Mapped[str | None]
    delivered_at: Mapped[datetime | None]
