"""Integrations in the database, and deliveries planned from a ticket's history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInput
from domain.ticket import HistoryEntry, row_id
from domain.views import TicketView
from persistence.models import DeliveryStatus, Integration, WebhookDelivery
from persistence.readmodel import apply_batch
from persistence.secrets import SecretBox, SecretsUnavailable
from persistence.webhooks import (
    IntegrationFields,
    StoredUrl,
    delete_integration,
    delivery_target,
    list_integrations,
    plan_webhook_deliveries,
    save_integration,
    store_url,
)
from tests.persistence.factories import T0, Desk, batch, created_entry

ALL_EVENTS = ["ticket.created", "ticket.assigned", "ticket.status_changed", "ticket.commented"]
KEY = Fernet.generate_key().decode()
SLACK_HOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXwxyz"


async def add_integration(
    session: AsyncSession, events: list[str], *, enabled: bool = True, secret: str | None = None
) -> Integration:
    fields = IntegrationFields(
        provider=f"hook-{uuid4().hex[:10]}", events=events, settings={}, enabled=enabled
    )
    integration, created = await save_integration(
        session,
        fields,
        url=StoredUrl(plain="http://127.0.0.1:9/hook"),
        secret_encrypted=secret,
        replace_secret=True,
    )
    assert created
    return integration


async def stored_ticket(session: AsyncSession) -> TicketView:
    desk = await Desk.create(session)
    view = await desk.ticket(session)
    await apply_batch(session, batch(view))
    return view


def assigned_and_started(seq: int, agent_id: UUID) -> HistoryEntry:
    return HistoryEntry(
        seq=seq,
        at=T0 + timedelta(minutes=seq),
        kind="assigned",
        actor_id=agent_id,
        summary=f"Assigned to agent {agent_id}",
        changes={"assignee_id": [None, str(agent_id)], "status": ["new", "in_progress"]},
    )


def private_note(seq: int) -> HistoryEntry:
    return HistoryEntry(seq=seq, at=T0, kind="commented", public=False, summary="New private note")


@contextmanager
def statements(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL the session sends while the block runs."""
    sent: list[str] = []
    connection = session.sync_session.connection()

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


async def deliveries_of(session: AsyncSession, ticket_id: UUID) -> list[WebhookDelivery]:
    found = await session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.ticket_id == ticket_id)
    )
    return list(found)


async def test_planning_twice_inserts_each_delivery_once_and_hands_on_the_pending(
    db_session: AsyncSession,
) -> None:
    view = await stored_ticket(db_session)
    everything = await add_integration(db_session, ALL_EVENTS)
    assignments = await add_integration(db_session, ["ticket.assigned"])
    await add_integration(db_session, ALL_EVENTS, enabled=False)
    await add_integration(db_session, ["sla.breached"])
    history = [created_entry(None), assigned_and_started(2, uuid4()), private_note(3)]

    first = await plan_webhook_deliveries(db_session, view, history)
    again = await plan_webhook_deliveries(db_session, view, history)

    assert sorted(first) == sorted(
        [
            row_id(view.id, 1, everything.id, "ticket.created"),
            row_id(view.id, 2, everything.id, "ticket.status_changed"),
            row_id(view.id, 2, everything.id, "ticket.assigned"),
            row_id(view.id, 2, assignments.id, "ticket.assigned"),
        ]
    )
    assert again == first  # still pending: handed on again, inserted once
    rows = await deliveries_of(db_session, view.id)
    assert sorted(r.id for r in rows) == sorted(first)
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    assert {r.attempts for r in rows} == {0}


async def test_the_payload_carries_the_event_the_ticket_and_the_public_entry(
    db_session: AsyncSession,
) -> None:
    view = await stored_ticket(db_session)
    integration = await add_integration(db_session, ["ticket.assigned"])
    agent_id = uuid4()

    [planned] = await plan_webhook_deliveries(db_session, view, [assigned_and_started(2, agent_id)])

    delivery = await db_session.get_one(WebhookDelivery, planned)
    assert (delivery.integration_id, delivery.event) == (integration.id, "ticket.assigned")
    assert delivery.payload == {
        "event": "ticket.assigned",
        "occurred_at": "2026-01-05T09:02:00Z",
        "ticket": view.model_dump(mode="json"),
        "entry": {
            "seq": 2,
            "at": "2026-01-05T09:02:00Z",
            "kind": "assigned",
            "actor_id": str(agent_id),
            "summary": f"Assigned to agent {agent_id}",
            "changes": {"assignee_id": [None, str(agent_id)], "status": ["new", "in_progress"]},
            "sla": None,
        },
    }


async def test_private_notes_plan_nothing_and_cost_no_query(db_session: AsyncSession) -> None:
    view = await stored_ticket(db_session)
    await add_integration(db_session, ALL_EVENTS)

    with statements(db_session) as sent:
        planned = await plan_webhook_deliveries(db_session, view, [private_note(2)])

    assert planned == []
    assert sent == []


async def test_planning_is_one_select_and_one_insert(db_session: AsyncSession) -> None:
    view = await stored_ticket(db_session)
    await add_integration(db_session, ALL_EVENTS)
    await add_integration(db_session, ["ticket.created"])

    with statements(db_session) as sent:
        planned = await plan_webhook_deliveries(db_session, view, [created_entry(None)])

    assert len(planned) == 2
    assert [s.split()[0] for s in sent] == ["SELECT", "INSERT"]


async def test_no_subscriber_means_one_select_and_nothing_written(
    db_session: AsyncSession,
) -> None:
    view = await stored_ticket(db_session)
    await add_integration(db_session, ["sla.breached"])

    with statements(db_session) as sent:
        planned = await plan_webhook_deliveries(db_session, view, [created_entry(None)])

    assert planned == []
    assert [s.split()[0] for s in sent] == ["SELECT"]
    assert await deliveries_of(db_session, view.id) == []


async def test_replacing_keeps_the_id_and_the_secret_unless_told(
    db_session: AsyncSession,
) -> None:
    original = await add_integration(db_session, ["ticket.created"], secret="token-1")
    changed = IntegrationFields(
        provider=original.provider,
        events=["sla.breached"],
        settings={"channel": "#ops"},
        enabled=False,
    )

    kept, created = await save_integration(
        db_session,
        changed,
        url=StoredUrl(plain="https://example.com/new"),
        secret_encrypted=None,
        replace_secret=False,
    )
    assert not created
    assert (kept.id, kept.url, kept.events, kept.enabled) == (
        original.id,
        "https://example.com/new",
        ["sla.breached"],
        False,
    )
    assert kept.secret_encrypted == "token-1"

    cleared, _ = await save_integration(
        db_session, changed, url=None, secret_encrypted=None, replace_secret=True
    )
    assert cleared.secret_encrypted is None
    assert cleared.url == "https://example.com/new"  # no URL given: the stored one is kept


async def test_without_a_url_there_must_be_an_integration_to_keep_it_from(
    db_session: AsyncSession,
) -> None:
    provider = f"hook-{uuid4().hex[:10]}"
    fields = IntegrationFields(provider=provider, events=["ticket.created"], settings={})

    with pytest.raises(InvalidInput, match="url is required"):
        await save_integration(
            db_session, fields, url=None, secret_encrypted=None, replace_secret=False
        )

    found = await db_session.scalar(select(Integration).where(Integration.provider == provider))
    assert found is None


async def test_a_chat_url_is_stored_only_encrypted_beside_its_mask(
    db_session: AsyncSession,
) -> None:
    fields = IntegrationFields(provider="slack", events=["ticket.created"], settings={})

    integration, _ = await save_integration(
        db_session,
        fields,
        url=store_url("slack", SLACK_HOOK, KEY),
        secret_encrypted=None,
        replace_secret=False,
    )

    raw = (
        await db_session.execute(
            text("SELECT row_to_json(i)::text FROM integrations i WHERE id = :id"),
            {"id": integration.id},
        )
    ).scalar_one()
    assert "XXXXwxyz" not in raw and "/services/" not in raw
    assert integration.url is None
    assert integration.url_masked == "https://hooks.slack.com/…wxyz"
    assert integration.url_encrypted is not None
    assert SecretBox(KEY).decrypt(integration.url_encrypted) == SLACK_HOOK


def test_a_generic_url_stays_plain_and_a_chat_url_needs_a_key() -> None:
    assert store_url("webhook", "https://example.com/in", None) == StoredUrl(
        plain="https://example.com/in"
    )
    for key in (None, "", "not-a-fernet-key"):
        with pytest.raises(SecretsUnavailable, match="TICKETFLOW_SECRETS_KEY"):
            store_url("teams", SLACK_HOOK, key)


@pytest.mark.parametrize("provider", ["slack", "teams"])
async def test_the_database_refuses_a_chat_url_in_plain_text(
    db_session: AsyncSession, provider: str
) -> None:
    fields = IntegrationFields(provider=provider, events=["ticket.created"], settings={})

    with pytest.raises(IntegrityError, match="chat_url_encrypted"):
        async with db_session.begin_nested():
            await save_integration(
                db_session,
                fields,
                url=StoredUrl(plain=SLACK_HOOK),
                secret_encrypted=None,
                replace_secret=False,
            )


async def test_a_delivery_target_carries_the_encrypted_url(db_session: AsyncSession) -> None:
    view = await stored_ticket(db_session)
    fields = IntegrationFields(provider="teams", events=["ticket.created"], settings={})
    await save_integration(
        db_session,
        fields,
        url=store_url("teams", SLACK_HOOK, KEY),
        secret_encrypted=None,
        replace_secret=False,
    )
    [planned] = await plan_webhook_deliveries(db_session, view, [created_entry(None)])

    target = await delivery_target(db_session, planned)

    assert target is not None and target.provider == "teams"
    assert target.url is None and target.url_encrypted is not None
    assert SecretBox(KEY).decrypt(target.url_encrypted) == SLACK_HOOK


async def test_deleting_an_integration_deletes_its_deliveries(db_session: AsyncSession) -> None:
    view = await stored_ticket(db_session)
    integration = await add_integration(db_session, ["ticket.created"])
    await plan_webhook_deliveries(db_session, view, [created_entry(None)])

    assert await delete_integration(db_session, integration.provider)
    assert not await delete_integration(db_session, integration.provider)
    assert await deliveries_of(db_session, view.id) == []


async def test_providers_are_unique_slugs_listed_in_order(db_session: AsyncSession) -> None:
    made = sorted([(await add_integration(db_session, ["ticket.created"])).provider for _ in "abc"])
    with pytest.raises(IntegrityError, match="provider_slug"):
        async with db_session.begin_nested():
            await db_session.execute(
                text(
                    "INSERT INTO integrations (id, provider, url, events) "
                    "VALUES (gen_random_uuid(), 'Not A Slug', 'http://x', '{}')"
                )
            )

    seen: list[str] = []
    cursor = None
    while True:
        page = await list_integrations(db_session, limit=2, cursor=cursor)
        seen += [i.provider for i in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen)
    assert set(made) <= set(seen)
    total = await db_session.scalar(select(func.count()).select_from(Integration))
    assert len(seen) == total
