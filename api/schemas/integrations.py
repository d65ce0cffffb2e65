"""Integrations: where ticket events are posted, and which ones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import ApiModel
from domain.integration_events import TicketEvent
from persistence.models import DeliveryStatus, Integration

PROVIDER_PATTERN = r"^[a-z0-9_-]{1,40}$"
MAX_SETTINGS = 50


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an absolute http:// or https:// URL")
    if any(character.isspace() for character in value):
        raise ValueError("a URL cannot contain spaces")
    _ = parts.port  # raises ValueError for a port that is not a number in range
    return value


def _once_each(events: list[TicketEvent]) -> list[TicketEvent]:
    return list(dict.fromkeys(events))


WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description=(
            "where events are POSTed (http or https). A `slack` or `teams` URL is a "
            "credential: stored encrypted and never returned. Omit it to keep the stored one."
        ),
        examples=["https://hooks.example.com/ticketflow"],
    ),
    AfterValidator(_http_url),
]
EventList = Annotated[
    list[TicketEvent],
    Field(
        min_length=1,
        max_length=len(TicketEvent),
        description="the ticket events to send (at least one)",
        examples=[["ticket.created", "sla.breached"]],
    ),
    AfterValidator(_once_each),
]
Secret = Annotated[
    str,
    Field(
        min_length=16,
        max_length=512,
        description=(
            "signs every delivery (HMAC-SHA256); stored encrypted and never returned. "
            "Omit it to keep the stored one, send null to remove it."
        ),
    ),
]


class IntegrationWrite(ApiModel):
    """An integration as a whole: every field is replaced, except an omitted `url` or `secret`."""

    url: WebhookUrl | None = None
    events: EventList
    secret: Secret | None = None
    settings: Annotated[dict[str, Any], Field(max_length=MAX_SETTINGS)] = Field(
        default_factory=dict, description="provider-specific options, kept as given"
    )
    enabled: bool = True

    @field_validator("url", mode="before")
    @classmethod
    def _url_not_null(cls, value: Any) -> Any:
        # Only an omitted URL keeps the stored one; null would read as "remove it".
        if value is None:
            raise ValueError("a URL cannot be null: omit it to keep the stored one")
        return value


class IntegrationOut(BaseModel):
    id: UUID
    provider: str
    url: str | None = Field(
        description="where events go; null when the URL is a credential (`slack`, `teams`)"
    )
    url_masked: str | None = Field(
        description="a credential URL's scheme, host and last characters; null otherwise",
        examples=["https://hooks.slack.com/…Xy9Z"],
    )
    has_url: bool = Field(description="whether a URL is stored, shown or not")
    events: list[str]
    settings: dict[str, Any]
    enabled: bool
    has_secret: bool = Field(description="whether deliveries are signed")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Integration) -> IntegrationOut:
        return cls(
            id=row.id,
            provider=row.provider,
            url=row.url,
            url_masked=row.url_masked,
            has_url=row.url is not None or row.url_encrypted is not None,
            events=row.events,
            settings=row.settings,
            enabled=row.enabled,
            has_secret=row.secret_encrypted is not None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class WebhookDeliveryOut(BaseModel):
    """One ticket event sent (or being sent) to an integration, and how it went."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(description="also the `X-Ticketflow-Webhook-Id` header the receiver got")
    ticket_id: UUID | None
    event: str
    payload: dict[str, Any] = Field(description="the JSON body as sent")
    status: DeliveryStatus
    attempts: int
    response_status: int | None = Field(description="the receiver's last HTTP status")
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
