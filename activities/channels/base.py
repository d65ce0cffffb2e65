"""What every outbound channel shares: the message, the receipt, and the two failure kinds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

ChannelName = Literal["email", "sms", "push", "slack", "teams"]

# Temporal's activity timeout bounds the whole attempt; this bounds one stuck connection.
PROVIDER_TIMEOUT_SECONDS = 30.0

# A provider (or a webhook receiver) asking for a longer wait is retried after this instead.
MAX_RETRY_AFTER = timedelta(hours=1)

# 408 says the provider gave up waiting for us: sending again is the expected reaction.
_RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


class OutboundMessage(BaseModel):
    """One notification to one recipient on one channel, already rendered in their locale."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str = Field(min_length=1)
    channel: ChannelName
    to: str
    subject: str
    body: str
    urgent: bool = False
    ticket_number: int | None = None
    ticket_url: str | None = None


class Receipt(BaseModel):
    """What the provider acknowledged; `recorded_only` when the channel has no credentials."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str | None = None
    recorded_only: bool = False


class ProviderError(Exception):
    """A provider did not accept the message; `status` is its HTTP status when it answered."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(f"{status}: {detail}" if status is not None else detail)
        self.status = status
        self.detail = detail


class ProviderRejected(ProviderError):
    """The provider refused the message for good (4xx other than 408/429): never retried."""


class ProviderUnavailable(ProviderError):
    """The provider could not take the message now (5xx, 408, 429, network): retry later."""

    def __init__(
        self, status: int | None, detail: str, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(status, detail)
        self.retry_after = retry_after


class Channel(Protocol):
    async def send(self, message: OutboundMessage) -> Receipt: ...


class RecordOnlyChannel:
    """Stands in for a channel without credentials: the message is recorded, nothing is sent."""

    async def send(self, message: OutboundMessage) -> Receipt:
        return Receipt(recorded_only=True)


def parse_retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """The wait a `Retry-After` header asks for (delta-seconds or HTTP date), at most an hour.

    None when absent, unreadable, zero or already past: Temporal's own backoff applies then.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=min(int(value), int(MAX_RETRY_AFTER.total_seconds())))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - (now or datetime.now(UTC))
    return min(wait, MAX_RETRY_AFTER) if wait > timedelta(0) else None


def error_for_status(
    status: int, detail: str, retry_after: str | None = None
) -> ProviderRejected | ProviderUnavailable:
    """The failure a non-2xx provider answer stands for: 4xx final, anything else retried."""
    if 400 <= status < 500 and status not in _RETRYABLE_CLIENT_STATUSES:
        return ProviderRejected(status, detail)
    return ProviderUnavailable(status, detail, parse_retry_after(retry_after))


def describe_body(body: bytes | str, limit: int = 500) -> str:
    """A provider's error body as a short line: its `message`/`error` field when JSON."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        found = _error_text(parsed)
        if found:
            text = found
    return " ".join(text.split())[:limit]


def _error_text(payload: dict[str, object]) -> str | None:
    # SendGrid: {"errors": [{"message"}]}; Twilio: {"message"}; Google: {"error": {"message"}}.
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message")
        if isinstance(message, str):
            return message
    for key in ("message", "error"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
    return None
