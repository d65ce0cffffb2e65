"""What a ticket change sends out, planned inside the read-model transaction.

Each recipient of a notification gets, besides the in-app row, one `pending` row per external
channel their preferences and the event call for, with the text composed in their locale.
A new ticket and each SLA breach also go, once, to the configured Slack channel (a row with no
user). The rows are keyed by the workflow's idempotency key (intent, user, channel, address),
so a retried or replayed write plans nothing twice; what it answers is every row of this change
still pending, so a write whose result was lost and is retried still hands all of them to the
workflow, which starts one delivery activity each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Locale, SlaEventKind
from domain.messages import Dispatch, ReadModelBatch
from domain.notices import (
    EMAIL,
    PUSH,
    SLACK,
    SMS,
    TEAM_CREATED,
    Notice,
    compose,
    external_channels,
    family,
)
from domain.ticket import NotificationIntent
from persistence.models import Notification, NotificationChannel, NotificationStatus, User, table_of
from persistence.readmodel import Recipients, Wording, wanted_users
from persistence.webhooks import plan_webhook_deliveries
from security.signing import KeyRing
from security.survey_links import issue_survey_token, survey_url

_notifications = table_of(Notification)


RECORDED_ONLY = "recorded only: the channel has no credentials"

_planned = insert(_notifications)
# A row already planned comes back only while pending (the no-op update makes RETURNING see
# it); one sent or failed for good is never handed on again. Built once, as every statement
# a write runs: one built per write has its cache key worked out anew each time.
_PLAN_NOTIFICATION = _planned.on_conflict_do_update(
    index_elements=[_notifications.c.idempotency_key],
    set_={"idempotency_key": _planned.excluded.idempotency_key},
    where=_notifications.c.status == NotificationStatus.PENDING,
).returning(_notifications.c.id, _notifications.c.status)

# Enough of a new ticket's description for the team to see what it is about.
_CHANNEL_EXCERPT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Links:
    """Where a ticket lives for the people notified of it (under the public URL).

    `link_keys` sign the satisfaction-survey links; without them (a worker that plans no
    notices) a survey link falls back to the ticket itself.
    """

    base: str
    link_keys: KeyRing | None = None

    def ticket(self, number: int) -> str:
        return f"{self.base.rstrip('/')}/api/v1/tickets/{number}"

    def survey(self, number: int, requester_id: UUID) -> str:
        """The ticket's survey page, which its requester answers from a browser, no login."""
        if self.link_keys is None:
            return self.ticket(number)
        return survey_url(self.base, issue_survey_token(self.link_keys, number, requester_id))


@dataclass(frozen=True, slots=True)
class Outbound:
    """What planning needs to know of this worker: its links, the channels that send, and the
    Slack channel (its id) told of new tickets and breaches, if any.

    A channel without credentials records its messages at once (a `sent` row saying so):
    there is nothing to retry and no activity to start.
    """

    links: Links
    sending: frozenset[str]
    slack_channel: str | None = None
    slack_channel_locale: Locale = Locale.EN


People = dict[UUID, User]


async def recipients_and_people(
    session: AsyncSession, intents: Sequence[NotificationIntent]
) -> tuple[Recipients, People]:
    """Each intent's live users (as `resolve_recipients`), and those users loaded for their
    locale, preferences and addresses: one query for both."""
    wanted = await wanted_users(session, intents)
    user_ids = {u for users in wanted for u in users}
    people: People = {}
    if user_ids:
        live = select(User).where(User.id.in_(user_ids), User.deleted_at.is_(None))
        people = {u.id: u for u in await session.scalars(live)}
    return [[u for u in users if u in people] for users in wanted], people


def wording(batch: ReadModelBatch, people: People, links: Links) -> Wording:
    """Each reader's words for an in-app notification: the notice in their locale."""

    def words(intent: NotificationIntent, user_id: UUID) -> tuple[str, str] | None:
        user = people.get(user_id)
        if user is None:
            return None
        notice = _notice(intent, user, batch, links)
        return notice.subject, notice.body

    return words


async def plan_outbound(
    session: AsyncSession,
    batch: ReadModelBatch,
    outbound: Outbound,
    resolved: tuple[Recipients, People] | None = None,
) -> list[Dispatch]:
    """Plan this change's notification sends and webhook deliveries; the pending ones.

    `resolved` is `recipients_and_people` of the batch's intents, if the caller has it.
    """
    if resolved is None:
        resolved = await recipients_and_people(session, batch.notifications)
    recipients, people = resolved
    notifications = await _plan_notifications(session, batch, outbound, recipients, people)
    webhooks = await plan_webhook_deliveries(session, batch.ticket, batch.history)
    return [Dispatch(kind="notification", id=i) for i in notifications] + [
        Dispatch(kind="webhook", id=i) for i in webhooks
    ]


async def _plan_notifications(
    session: AsyncSession,
    batch: ReadModelBatch,
    outbound: Outbound,
    recipients: Recipients,
    people: People,
) -> list[UUID]:
    by_key = {
        row["idempotency_key"]: row
        for intent, ids in zip(batch.notifications, recipients, strict=True)
        for user_id in ids
        if (user := people.get(user_id)) is not None
        for row in _rows_for(intent, user, batch, outbound)
    }
    by_key.update((row["idempotency_key"], row) for row in _channel_rows(batch, outbound))
    rows = list(by_key.values())  # one row per key: an upsert may touch a row only once
    if not rows:
        return []
    planned_rows = (await session.execute(_PLAN_NOTIFICATION, rows)).all()
    return [row.id for row in planned_rows if row.status == NotificationStatus.PENDING]


def _addresses(user: User, channel: str) -> list[str]:
    if channel == EMAIL:
        return [user.email]
    if channel == SMS:
        return [user.phone] if user.phone else []
    if channel == PUSH:
        return list(user.push_tokens)
    if channel == SLACK:
        return [user.slack_user_id] if user.slack_user_id else []
    return []


def _notice(intent: NotificationIntent, user: User, batch: ReadModelBatch, links: Links) -> Notice:
    ticket = batch.ticket
    values = {
        "number": str(ticket.number),
        "title": " ".join(ticket.title.split()),
        "name": user.name,
        "url": links.ticket(ticket.number),
        "subject": intent.subject,
        "body": intent.body,
        **intent.params,
    }
    if family(intent.event) == "resolved":  # the only text that asks for a rating
        values["survey_url"] = links.survey(ticket.number, ticket.requester_id)
    return compose(intent.event, Locale(user.locale), values)


def _rows_for(
    intent: NotificationIntent, user: User, batch: ReadModelBatch, outbound: Outbound
) -> Iterator[dict[str, Any]]:
    notice = _notice(intent, user, batch, outbound.links)
    ticket = batch.ticket
    preferences = {k: bool(v) for k, v in (user.notification_preferences or {}).items()}
    now = datetime.now(UTC)
    for channel in external_channels(intent.event, preferences):
        for index, address in enumerate(_addresses(user, channel)):
            suffix = f"/{index}" if index else ""
            yield {
                "user_id": user.id,
                "ticket_id": ticket.id,
                "channel": NotificationChannel(channel),
                "event": intent.event,
                "subject": notice.subject,
                "body": notice.body,
                "urgent": intent.urgent,
                "idempotency_key": f"{intent.key}/{user.id}/{channel}{suffix}",
                "attempts": 0,
                "recipient": address,
                **_outcome(channel, outbound, now),
            }


def _outcome(channel: str, outbound: Outbound, now: datetime) -> dict[str, Any]:
    """Pending for a channel that sends; recorded at once (`sent`) for one without credentials."""
    if channel in outbound.sending:
        return {"status": NotificationStatus.PENDING, "error": None, "sent_at": None}
    return {"status": NotificationStatus.SENT, "error": RECORDED_ONLY, "sent_at": now}


def _channel_rows(batch: ReadModelBatch, outbound: Outbound) -> Iterator[dict[str, Any]]:
    """One row per intent the Slack channel hears of, whoever else the intent reaches."""
    if not outbound.slack_channel:
        return
    now = datetime.now(UTC)
    for topic, intent in _channel_intents(batch).items():
        notice = _channel_notice(topic, batch, outbound)
        yield {
            "user_id": None,
            "ticket_id": batch.ticket.id,
            "channel": NotificationChannel.SLACK,
            "event": intent.event,
            "subject": notice.subject,
            "body": notice.body,
            "urgent": intent.urgent,
            "idempotency_key": f"{intent.key}/slack-channel",
            "attempts": 0,
            "recipient": outbound.slack_channel,
            **_outcome(SLACK, outbound, now),
        }


def _channel_intents(batch: ReadModelBatch) -> dict[str, NotificationIntent]:
    """The intents that tell the channel of a new ticket or of an SLA breach, by what they tell
    (`created`, `sla_breached.<metric>`), each once.

    A breach comes as `sla_breached.<metric>`, or as `sla_escalation.<metric>.<n>` when the
    policy escalates at the breach (then one per step): the first of them in the batch that
    records the breach speaks for it. Later escalation steps are for their own targets.
    """
    breached = {
        entry.sla.metric.value
        for entry in batch.history
        if entry.sla is not None and entry.sla.kind is SlaEventKind.BREACHED
    }
    told: dict[str, NotificationIntent] = {}
    for intent in batch.notifications:
        topic = _channel_topic(intent.event, breached)
        if topic is not None:
            told.setdefault(topic, intent)
    return told


def _channel_topic(event: str, breached: set[str]) -> str | None:
    if event == "created":
        return event
    metric = event.split(".")[1] if "." in event else ""
    if family(event) in ("sla_breached", "sla_escalation") and metric in breached:
        return f"sla_breached.{metric}"
    return None


def _channel_notice(topic: str, batch: ReadModelBatch, outbound: Outbound) -> Notice:
    # The per-user texts speak to their reader ("your request", "escalated to you"); the
    # channel reads the breach notice, or a new ticket's title and description.
    ticket = batch.ticket
    about = " ".join(ticket.description.split())
    if len(about) > _CHANNEL_EXCERPT_CHARS:
        about = about[: _CHANNEL_EXCERPT_CHARS - 1].rstrip() + "…"
    values = {
        "number": str(ticket.number),
        "title": " ".join(ticket.title.split()),
        "url": outbound.links.ticket(ticket.number),
        "excerpt": about,
    }
    event = TEAM_CREATED if topic == "created" else topic
    notice = compose(event, outbound.slack_channel_locale, values)
    return Notice(notice.subject, notice.body.lstrip())  # no description: the link alone


__all__ = [
    "RECORDED_ONLY",
    "Links",
    "Outbound",
    "People",
    "plan_outbound",
    "recipients_and_people",
    "wording",
]
