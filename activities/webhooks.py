"""Outbound webhooks: one signed POST per planned delivery, its outcome recorded first.

Each attempt writes what happened to the delivery's row in its own short transaction before
the activity returns or raises, so the row is the record of every try, and an attempt
after a recorded success sends nothing. A receiver's 4xx is final; a 5xx, a 429 or a
network failure is retried by Temporal, after `Retry-After` when the receiver gives one.

A Slack or Teams URL is stored encrypted and decrypted here only. A `teams` delivery goes
through the Teams notification channel itself, so it is judged as Teams notifications are:
a legacy connector's 200 that reports a failure in its body counts as that failure.

Every request goes through the outbound guard (`security.outbound`): the receiver's host is
resolved once, refused if it is or resolves to an inward address (loopback, private,
link-local, metadata…) that `TICKETFLOW_OUTBOUND_ALLOW` does not name, and connected to at
the address judged. A refusal is final. What a delivery records of the receiver is its HTTP
status and a short reason of ours ("receiver answered 500"), never its body: an admin reads
the delivery log, and a receiver's error page (or an internal service's answer) is not theirs
to read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.attempts import is_last_attempt
from activities.channels.base import (
    ChannelName,
    OutboundMessage,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    parse_retry_after,
)
from activities.channels.slack import message_blocks
from activities.channels.teams import TeamsChannel, teams_card
from activities.liveness import heartbeating
from domain.webhook_signature import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_timestamp,
)
from persistence.models import DeliveryStatus
from persistence.outbox import Links
from persistence.secrets import SecretBox, SecretsUnavailable
from persistence.webhooks import DeliveryOutcome, DeliveryTarget, delivery_target, record_outcome
from security.outbound import OutboundGuard, OutboundRefused
from ticketflow.settings import Settings

DELIVER_WEBHOOK = "deliver_webhook"

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "ticketflow-webhooks/1"

REJECTED = "WebhookRejected"  # the receiver refused it (4xx): final
REFUSED = "WebhookAddressRefused"  # the receiver's address is inward: final
UNDELIVERED = "WebhookUndelivered"  # the receiver failed or was unreachable: retried
NOT_SIGNABLE = "WebhookNotSignable"  # the secret cannot be read with this worker's key: final
NO_URL = "WebhookUrlUnreadable"  # the encrypted URL cannot be read with this key: final
TEAMS: ChannelName = "teams"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    retry_after: str | None


class WebhookActivities:
    """Sends planned webhook deliveries; wired with a session factory and the settings.

    `guard` judges receiver addresses; by default the one `TICKETFLOW_OUTBOUND_ALLOW` makes
    (tests give one with a resolver of their own).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        guard: OutboundGuard | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._guard = guard or OutboundGuard.allowing(settings.outbound_allow)

    @activity.defn(name=DELIVER_WEBHOOK)
    async def deliver(self, delivery_id: UUID) -> None:
        """POST one delivery to its integration; a retry after a recorded success is a no-op."""
        async with self._sessions.begin() as session:
            target = await delivery_target(session, delivery_id)
        if target is None:
            activity.logger.info("webhook delivery %s is gone; nothing to send", delivery_id)
            return
        if target.status is DeliveryStatus.SENT:
            return
        if not target.enabled:
            await self._record(
                delivery_id,
                DeliveryOutcome(
                    DeliveryStatus.FAILED, error="the integration is disabled", attempted=False
                ),
            )
            return
        url = await self._url(target)
        async with heartbeating():
            if target.provider == TEAMS:
                await self._send_to_teams(target, url)
            else:
                await self._post_to(target, url)

    async def _url(self, target: DeliveryTarget) -> str:
        """Where to send: the plain URL, or the credential URL decrypted for this attempt only."""
        if target.url is not None:
            return target.url
        # The schema keeps exactly one of the two; an empty token fails like a wrong key.
        return await self._decrypt(target.id, target.url_encrypted or "", "webhook URL", NO_URL)

    async def _decrypt(self, delivery_id: UUID, token: str, what: str, kind: str) -> str:
        """The plain text of `token`; a key that cannot read it fails the delivery for good."""
        try:
            return SecretBox(self._settings.secrets_key).decrypt(token)
        except SecretsUnavailable as exc:
            error = f"the {what} cannot be read: {exc.detail}"
            outcome = DeliveryOutcome(DeliveryStatus.FAILED, error=error, attempted=False)
            await self._record(delivery_id, outcome)
            raise ApplicationError(error, type=kind, non_retryable=True) from exc

    async def _send_to_teams(self, target: DeliveryTarget, url: str) -> None:
        message = event_message(target.payload, self._settings.public_url, to=url)
        try:
            await TeamsChannel(self._guard).send(message)
        except OutboundRefused as exc:
            await self._refused(target.id, exc)
        except ProviderRejected as exc:
            await self._record(
                target.id,
                DeliveryOutcome(
                    DeliveryStatus.FAILED, response_status=exc.status, error=_described(exc)
                ),
            )
            raise ApplicationError(
                f"webhook {target.id} refused: {_described(exc)}", type=REJECTED, non_retryable=True
            ) from exc
        except ProviderUnavailable as exc:
            outcome = DeliveryOutcome(
                _pending(exc.retry_after), response_status=exc.status, error=_described(exc)
            )
            await self._retry_later(target.id, outcome, exc.retry_after)
        # The channel does not hand back the status of an answer it accepted.
        await self._record(
            target.id, DeliveryOutcome(DeliveryStatus.SENT, delivered_at=datetime.now(UTC))
        )

    async def _post_to(self, target: DeliveryTarget, url: str) -> None:
        delivery_id = target.id
        document = chat_message(target.provider, target.payload, self._settings.public_url)
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        headers = await self._headers(target, body)
        try:
            reply = await _post(self._guard, url, body, headers)
        except OutboundRefused as exc:
            await self._refused(delivery_id, exc)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            # The message could quote the URL, which may be a credential: only its kind.
            error = f"the URL cannot be used ({type(exc).__name__})"
            await self._record(delivery_id, DeliveryOutcome(DeliveryStatus.FAILED, error=error))
            raise ApplicationError(error, type=REJECTED, non_retryable=True) from exc
        except httpx.HTTPError as exc:
            error = _network_failure(exc)
            await self._retry_later(delivery_id, DeliveryOutcome(_pending(), error=error), None)
        await self._settle(delivery_id, reply)

    async def _refused(self, delivery_id: UUID, refused: OutboundRefused) -> NoReturn:
        """The receiver's address may not be reached: failed for good, nothing sent."""
        error = f"not sent: {refused.reason}"
        await self._record(delivery_id, DeliveryOutcome(DeliveryStatus.FAILED, error=error))
        raise ApplicationError(
            f"webhook {delivery_id} {error}", type=REFUSED, non_retryable=True
        ) from refused

    async def _headers(self, target: DeliveryTarget, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            ID_HEADER: str(target.id),
        }
        if target.secret_encrypted is None:
            return headers
        secret = await self._decrypt(
            target.id, target.secret_encrypted, "signing secret", NOT_SIGNABLE
        )
        timestamp = signature_timestamp(datetime.now(UTC))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        return headers

    async def _settle(self, delivery_id: UUID, reply: Reply) -> None:
        """Record the receiver's answer; raise unless it took the delivery."""
        status = reply.status
        if 200 <= status < 300:
            await self._record(
                delivery_id,
                DeliveryOutcome(
                    DeliveryStatus.SENT, response_status=status, delivered_at=datetime.now(UTC)
                ),
            )
            return
        error = answered(status)
        if status >= 500 or status == 429:
            delay = parse_retry_after(reply.retry_after, datetime.now(UTC))
            outcome = DeliveryOutcome(_pending(delay), response_status=status, error=error)
            await self._retry_later(delivery_id, outcome, delay)
        await self._record(
            delivery_id, DeliveryOutcome(DeliveryStatus.FAILED, response_status=status, error=error)
        )
        raise ApplicationError(
            f"webhook {delivery_id} refused: {error}", type=REJECTED, non_retryable=True
        )

    async def _retry_later(
        self, delivery_id: UUID, outcome: DeliveryOutcome, delay: timedelta | None
    ) -> NoReturn:
        await self._record(delivery_id, outcome)
        raise ApplicationError(
            f"webhook {delivery_id} not delivered: {outcome.error}",
            type=UNDELIVERED,
            next_retry_delay=delay,
        )

    async def _record(self, delivery_id: UUID, outcome: DeliveryOutcome) -> None:
        async with self._sessions.begin() as session:
            await record_outcome(session, delivery_id, outcome)


def chat_message(provider: str, payload: dict[str, Any], public_url: str) -> dict[str, Any]:
    """What goes to the receiver: the event as JSON, or a chat message for the chat providers.

    An integration named `slack` is a Slack incoming webhook (Block Kit, with the ticket's
    Assign to me / Acknowledge / Resolve buttons); one named `teams` is a Teams incoming
    webhook (an Adaptive Card). Any other receives the event document itself.
    """
    if provider == TEAMS:
        return teams_card(event_message(payload, public_url))
    if provider != "slack":
        return payload
    message = event_message(payload, public_url, channel="slack")
    return {"text": f"{message.subject} — {message.body}", "blocks": message_blocks(message)}


def event_message(
    payload: dict[str, Any], public_url: str, channel: ChannelName = TEAMS, to: str = ""
) -> OutboundMessage:
    """The event as a chat message: the ticket as subject, the entry as body, and a link."""
    ticket = payload.get("ticket") or {}
    number = ticket.get("number")
    entry = payload.get("entry") or {}
    event = payload["event"]
    return OutboundMessage(
        idempotency_key=str(entry.get("seq", "")) or event,
        channel=channel,
        to=to,
        subject=f"#{number} {ticket.get('title', '')}".strip() if number else event,
        body=f"{event}: {entry.get('summary', '')}".rstrip(": "),
        urgent=event in ("sla.breached", "incident.created"),
        ticket_number=number,
        ticket_url=Links(public_url).ticket(number) if number else None,
    )


def answered(status: int) -> str:
    """What a delivery records of a receiver's answer: its status, never its body."""
    if 300 <= status < 400:
        return f"receiver answered {status} (redirects are not followed)"
    return f"receiver answered {status}"


def _network_failure(error: httpx.HTTPError) -> str:
    # The exception's text can name internal addresses and ports: only its kind is kept.
    if isinstance(error, httpx.TimeoutException):
        return f"{type(error).__name__}: the receiver did not answer in time"
    return f"{type(error).__name__}: the receiver could not be reached"


def _described(error: ProviderError) -> str:
    """A Teams failure as recorded: the status, or what kind of failure it was."""
    if error.status is not None:
        return answered(error.status)
    if isinstance(error, ProviderRejected):
        return "the URL cannot be used"
    return "the receiver could not be reached"


def _pending(retry_after: timedelta | None = None) -> DeliveryStatus:
    """Pending while Temporal will try again; failed when this attempt is the last."""
    return DeliveryStatus.FAILED if is_last_attempt(retry_after) else DeliveryStatus.PENDING


async def _post(guard: OutboundGuard, url: str, body: bytes, headers: dict[str, str]) -> Reply:
    # Redirects are not followed: a moved receiver is a configuration to fix, not to guess,
    # and a redirect could point inward. The body is never read: it is not recorded.
    async with (
        guard.client(TIMEOUT) as client,
        client.stream("POST", url, content=body, headers=headers) as response,
    ):
        return Reply(response.status_code, response.headers.get("Retry-After"))


__all__ = ["DELIVER_WEBHOOK", "WebhookActivities"]
