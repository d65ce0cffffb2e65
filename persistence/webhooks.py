"""Outbound webhooks in the database: integrations, planned deliveries and their outcomes.

Planning runs inside the read-model transaction of every ticket change, so it costs nothing
when the change raises no event, and one small SELECT otherwise. A delivery's id is derived
from the ticket, the history entry, the integration and the event, so planning the same
change again (a retried or replayed write) inserts nothing.

A chat integration's URL is a credential (`domain.integration_urls`): it is stored only
encrypted, with the mask the API shows, and decrypted only by the worker that delivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, SecretStr
from sqlalchemy import Boolean, bindparam, delete, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInput
from domain.integration_events import events_for
from domain.integration_urls import mask_url, url_is_credential
from domain.ticket import HistoryEntry, row_id
from domain.views import TicketView
from persistence.models import DeliveryStatus, Integration, WebhookDelivery, table_of
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate
from persistence.secrets import SecretBox

_integrations = table_of(Integration)
_deliveries = table_of(WebhookDelivery)

BY_PROVIDER = Keyset((Integration.provider,), descending=False)
DELIVERIES_NEWEST_FIRST = Keyset((WebhookDelivery.created_at, WebhookDelivery.id))

# What a receiver learns of a history entry: an allow-list, so a field added to entries
# later is not sent out until someone decides it may be.
_ENTRY_FIELDS = {"seq", "at", "kind", "actor_id", "summary", "changes", "sla"}
MAX_ERROR_CHARS = 1000


# -- integrations ----------------------------------------------------------------------------


class IntegrationFields(BaseModel):
    """An integration as the API writes it (the URL and the secret travel apart)."""

    provider: str
    events: list[str]
    settings: dict[str, Any]
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class StoredUrl:
    """An integration's URL as stored: in plain text, or encrypted beside its mask."""

    plain: str | None = None
    encrypted: str | None = None
    masked: str | None = None


def store_url(provider: str, url: str, secrets_key: SecretStr | str | None) -> StoredUrl:
    """The URL as the provider's integration keeps it: encrypted when it is a credential.

    Raises `SecretsUnavailable` (503) for a credential URL without a usable key: it is never
    stored in plain text.
    """
    if not url_is_credential(provider):
        return StoredUrl(plain=url)
    return StoredUrl(encrypted=SecretBox(secrets_key).encrypt(url), masked=mask_url(url))


async def list_integrations(
    session: AsyncSession, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Integration]:
    """Integrations by provider."""
    return await paginate(session, select(Integration), BY_PROVIDER, limit=limit, cursor=cursor)


async def list_deliveries(
    session: AsyncSession, provider: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[WebhookDelivery] | None:
    """The provider's deliveries, newest first; None if there is no such integration."""
    integration_id = await session.scalar(
        select(Integration.id).where(Integration.provider == provider)
    )
    if integration_id is None:
        return None
    statement = select(WebhookDelivery).where(WebhookDelivery.integration_id == integration_id)
    return await paginate(session, statement, DELIVERIES_NEWEST_FIRST, limit=limit, cursor=cursor)


async def save_integration(
    session: AsyncSession,
    fields: IntegrationFields,
    *,
    url: StoredUrl | None,
    secret_encrypted: str | None,
    replace_secret: bool,
) -> tuple[Integration, bool]:
    """Create or replace the provider's integration; whether it was created.

    A replacement keeps the id (and so the delivery history), the stored URL when `url` is
    None, and the stored secret unless `replace_secret`. Without a `url` there must be an
    integration to keep it from (`InvalidInput` otherwise).
    """
    values = fields.model_dump() | {"secret_encrypted": secret_encrypted}
    replaced = ["events", "settings", "enabled"]
    if replace_secret:
        replaced.append("secret_encrypted")
    if url is None:
        return await _replace_keeping_url(session, values, replaced), False
    values |= {"url": url.plain, "url_encrypted": url.encrypted, "url_masked": url.masked}
    replaced += ["url", "url_encrypted", "url_masked"]
    statement = insert(Integration).values(**values)
    changes: dict[str, Any] = {name: statement.excluded[name] for name in replaced}
    changes["updated_at"] = literal_column("now()")
    upsert = statement.on_conflict_do_update(
        index_elements=[Integration.provider], set_=changes
    ).returning(Integration, literal_column("xmax = 0", Boolean))  # no prior row version
    result = await session.execute(upsert, execution_options={"populate_existing": True})
    integration, created = result.one()
    return integration, bool(created)


async def _replace_keeping_url(
    session: AsyncSession, values: dict[str, Any], replaced: list[str]
) -> Integration:
    statement = (
        update(Integration)
        .where(Integration.provider == values["provider"])
        .values({name: values[name] for name in replaced} | {"updated_at": literal_column("now()")})
        .returning(Integration)
    )
    result = await session.execute(statement, execution_options={"populate_existing": True})
    integration = result.scalar_one_or_none()
    if integration is None:
        raise InvalidInput(
            f"url is required: there is no integration for provider {values['provider']!r} "
            "to keep the URL of"
        )
    return integration


async def delete_integration(session: AsyncSession, provider: str) -> bool:
    """Delete the provider's integration and its deliveries; whether there was one."""
    statement = (
        delete(Integration).where(Integration.provider == provider).returning(Integration.id)
    )
    return await session.scalar(statement) is not None


# -- planning --------------------------------------------------------------------------------


# Built once: planning runs on every ticket write that raises an event.
_SUBSCRIBED = (
    select(_integrations.c.id, _integrations.c.events)
    .where(
        _integrations.c.enabled,
        _integrations.c.events.overlap(bindparam("wanted", type_=_integrations.c.events.type)),
    )
    .order_by(_integrations.c.provider)
)
_planned_delivery = insert(_deliveries)
# A row already there comes back only while pending (the no-op update makes RETURNING see it);
# a delivered or failed one stays out.
_PLAN_DELIVERY = _planned_delivery.on_conflict_do_update(
    index_elements=[_deliveries.c.id],
    set_={"id": _planned_delivery.excluded.id},
    where=_deliveries.c.status == DeliveryStatus.PENDING,
).returning(_deliveries.c.id)


async def plan_webhook_deliveries(
    session: AsyncSession, ticket: TicketView, history: Sequence[HistoryEntry]
) -> list[UUID]:
    """Insert a pending delivery per entry, event and subscribed enabled integration.

    Runs in the caller's transaction; returns the ids of this change's deliveries still
    pending, in history order: a write retried after its result was lost hands the same
    deliveries on again, and one already delivered is never handed on twice.
    """
    raised = [(entry, events) for entry in history if (events := events_for(entry))]
    if not raised:
        return []
    wanted = sorted({event for _, events in raised for event in events})
    subscribed = (await session.execute(_SUBSCRIBED, {"wanted": wanted})).all()
    if not subscribed:
        return []
    rows = _delivery_rows(ticket, raised, [(row.id, set(row.events)) for row in subscribed])
    pending = set((await session.execute(_PLAN_DELIVERY, rows)).scalars())
    return [row["id"] for row in rows if row["id"] in pending]


def _delivery_rows(
    ticket: TicketView,
    raised: Sequence[tuple[HistoryEntry, list[str]]],
    subscribed: Sequence[tuple[UUID, set[str]]],
) -> list[dict[str, Any]]:
    ticket_json = ticket.model_dump(mode="json")  # once: every delivery carries the same
    rows: list[dict[str, Any]] = []
    for entry, events in raised:
        entry_json = entry.model_dump(mode="json", include=_ENTRY_FIELDS)
        for event in events:
            payload = {
                "event": event,
                "occurred_at": entry_json["at"],
                "ticket": ticket_json,
                "entry": entry_json,
            }
            rows += [
                {
                    "id": row_id(ticket.id, entry.seq, integration_id, event),
                    "integration_id": integration_id,
                    "ticket_id": ticket.id,
                    "event": event,
                    "payload": payload,
                }
                for integration_id, subscribed_to in subscribed
                if event in subscribed_to
            ]
    return rows


# -- delivering ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryTarget:
    """A delivery with what sending it needs from its integration."""

    id: UUID
    status: DeliveryStatus
    event: str
    payload: dict[str, Any]
    url: str | None
    secret_encrypted: str | None
    enabled: bool
    provider: str = ""
    url_encrypted: str | None = None


async def delivery_target(session: AsyncSession, delivery_id: UUID) -> DeliveryTarget | None:
    """The delivery and its integration; None if either is gone."""
    d, i = _deliveries.c, _integrations.c
    statement = (
        select(
            d.id,
            d.status,
            d.event,
            d.payload,
            i.url,
            i.url_encrypted,
            i.secret_encrypted,
            i.enabled,
            i.provider,
        )
        .join_from(_deliveries, _integrations, d.integration_id == i.id)
        .where(d.id == delivery_id)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return DeliveryTarget(
        id=row.id,
        status=DeliveryStatus(row.status),
        event=row.event,
        payload=row.payload,
        url=row.url,
        secret_encrypted=row.secret_encrypted,
        enabled=row.enabled,
        provider=row.provider,
        url_encrypted=row.url_encrypted,
    )


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one attempt came to; `status` stays pending while a retry is due."""

    status: DeliveryStatus
    response_status: int | None = None
    error: str | None = None
    delivered_at: datetime | None = None
    attempted: bool = True


async def record_outcome(
    session: AsyncSession, delivery_id: UUID, outcome: DeliveryOutcome
) -> None:
    """Write an attempt's outcome; a delivery recorded as sent is never changed again."""
    d = _deliveries.c
    error = outcome.error[:MAX_ERROR_CHARS] if outcome.error else None
    statement = (
        update(_deliveries)
        .where(d.id == delivery_id, d.status != DeliveryStatus.SENT.value)
        .values(
            status=outcome.status.value,
            attempts=d.attempts + (1 if outcome.attempted else 0),
            response_status=outcome.response_status,
            error=error,
            delivered_at=outcome.delivered_at,
        )
    )
    await session.execute(statement)


__all__ = [
    "DeliveryOutcome",
    "DeliveryTarget",
    "IntegrationFields",
    "StoredUrl",
    "delete_integration",
    "delivery_target",
    "list_integrations",
    "plan_webhook_deliveries",
    "record_outcome",
    "save_integration",
    "store_url",
]
