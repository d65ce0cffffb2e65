"""Notification sends: one activity per planned row, through the channel's provider SDK.

The row is the record: each attempt writes its outcome to it (one UPDATE) before the activity
returns or raises, and an attempt that finds the row already `sent` or `failed` sends
nothing. The one window nobody can close is a crash after the provider accepted the message
and before that single write; the provider then sees the same idempotency key again (in
SendGrid's custom args, Slack's message metadata, FCM's data), which is what it is there for.

Account messages (reset and verification links, invitations, phone codes) go the same way,
from their own workflow: their row keeps a redacted text, and the words with the link or
code come in the activity's input instead (`domain.accounts.AccountMessage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn, cast
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.attempts import is_last_attempt
from activities.channels import Channels
from activities.channels.base import (
    ChannelName,
    OutboundMessage,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
)
from activities.liveness import heartbeating
from domain.accounts import DELIVER_ACCOUNT_MESSAGE, AccountMessage
from persistence.models import Notification, NotificationChannel, NotificationStatus, Ticket
from persistence.outbox import RECORDED_ONLY, Links
from security.sealed_text import UnsealError, unseal

DELIVER_NOTIFICATION = "deliver_notification"
MAX_ERROR_CHARS = 1_000

REJECTED = "NotificationRejected"  # the provider refused it (4xx): final
UNSEALED = "not sent: the message does not open with this worker's TICKETFLOW_LINK_SECRET"
UNDELIVERED = "NotificationUndelivered"  # the provider failed or was unreachable: retried


@dataclass(frozen=True, slots=True)
class _Planned:
    message: OutboundMessage
    status: NotificationStatus


class DeliveryActivities:
    """Sends planned notifications; wired with a session factory, the channels and links."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], channels: Channels, links: Links
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._links = links

    @activity.defn(name=DELIVER_NOTIFICATION)
    async def deliver(self, notification_id: UUID) -> None:
        """Send one notification row; a retry after a recorded outcome sends nothing."""
        planned = await self._load(notification_id)
        if planned is None or planned.status is not NotificationStatus.PENDING:
            return
        await self._send(notification_id, planned.message)

    @activity.defn(name=DELIVER_ACCOUNT_MESSAGE)
    async def deliver_account_message(self, message: AccountMessage) -> str:
        """Send an account message to its row's recipient; the row's final status.

        The words (link or code included) are the input's; the row only says where.
        """
        async with self._sessions() as session:
            row = await session.get(Notification, message.notification_id)
        if row is None or row.recipient is None:
            activity.logger.info("account message %s is gone", message.notification_id)
            return "gone"
        if row.status is not NotificationStatus.PENDING:
            return row.status.value
        outbound = OutboundMessage(
            idempotency_key=row.idempotency_key or str(row.id),
            channel=cast(ChannelName, row.channel.value),
            to=row.recipient,
            subject=message.subject,
            body=await self._unsealed(message),
        )
        receipt = await self._send(row.id, outbound)
        return "recorded" if receipt.recorded_only else NotificationStatus.SENT.value

    async def _unsealed(self, message: AccountMessage) -> str:
        """The message's body; a body this worker cannot open fails the row for good."""
        try:
            if self._links.link_keys is None:
                raise UnsealError("this worker has no link keys")
            return unseal(self._links.link_keys, message.sealed_body, str(message.notification_id))
        except UnsealError as error:
            detail = f"{UNSEALED}: {error}"
            await self._record(message.notification_id, NotificationStatus.FAILED, error=detail)
            raise ApplicationError(detail, type=REJECTED, non_retryable=True) from error

    async def _send(self, notification_id: UUID, message: OutboundMessage) -> Receipt:
        """Hand the message to its channel and record the outcome on the row."""
        try:
            async with heartbeating():
                receipt = await self._channels.send(message)
        except ProviderRejected as error:
            await self._record(notification_id, NotificationStatus.FAILED, error=str(error))
            raise ApplicationError(str(error), type=REJECTED, non_retryable=True) from error
        except ProviderUnavailable as error:
            await self._retry_later(notification_id, error)
        await self._record(notification_id, NotificationStatus.SENT, receipt=receipt)
        return receipt

    async def _load(self, notification_id: UUID) -> _Planned | None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(Notification, Ticket.number)
                    .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
                    .where(Notification.id == notification_id)
                )
            ).one_or_none()
        if found is None:
            activity.logger.info("notification %s is gone; nothing to send", notification_id)
            return None
        row, number = found
        if row.recipient is None or row.channel is NotificationChannel.IN_APP:
            return None  # in-app rows are delivered by being written
        url = self._links.ticket(number) if number is not None else None
        return _Planned(_message(row, number, url), row.status)

    async def _retry_later(self, notification_id: UUID, error: ProviderUnavailable) -> NoReturn:
        last = is_last_attempt(error.retry_after)
        status = NotificationStatus.FAILED if last else NotificationStatus.PENDING
        await self._record(notification_id, status, error=str(error))
        raise ApplicationError(
            f"notification {notification_id} not sent: {error}",
            type=UNDELIVERED,
            next_retry_delay=error.retry_after,
        ) from error

    async def _record(
        self,
        notification_id: UUID,
        status: NotificationStatus,
        *,
        error: str | None = None,
        receipt: Receipt | None = None,
    ) -> None:
        now = datetime.now(UTC)
        values: dict[str, object] = {
            "status": status,
            "attempts": Notification.attempts + 1,
            "last_attempt_at": now,
        }
        if error is not None:
            values["error"] = error[:MAX_ERROR_CHARS]
        if receipt is not None:
            values["sent_at"] = now
            values["provider_message_id"] = receipt.provider_message_id
            values["error"] = RECORDED_ONLY if receipt.recorded_only else None
        async with self._sessions.begin() as session:
            await session.execute(
                update(Notification).where(Notification.id == notification_id).values(values)
            )


def _message(row: Notification, number: int | None, url: str | None) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=row.idempotency_key or str(row.id),
        channel=cast(ChannelName, row.channel.value),
        to=row.recipient or "",
        subject=row.subject,
        body=row.body,
        urgent=row.urgent,
        ticket_number=number,
        ticket_url=url,
    )


__all__ = ["DELIVER_ACCOUNT_MESSAGE", "DELIVER_NOTIFICATION", "DeliveryActivities"]
