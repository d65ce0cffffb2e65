"""AccountMessageWorkflow and its activity on the dev server with the real worker: the link
reaches the provider and nobody else, the row records the outcome, an outage is waited out.

Set TICKETFLOW_RECORD_HISTORY=<name> (with `-k reaches`) to save a message's history into the
replay corpus.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.services import account_messages
from domain.accounts import AccountPurpose
from persistence.models import Notification, NotificationStatus
from persistence.repositories import users as users_repo
from tests.support.histories import replays_and_is_kept
from tests.support.providers import (
    SENDGRID_PATH,
    link_token,
    mail_to,
    sending_to,
    start_providers,
)
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workers.main import build_worker
from workflows.account import AccountMessageWorkflow


@pytest.fixture
def providers() -> Iterator[StandIn]:
    standin = start_providers()
    yield standin
    standin.stop()


@pytest.fixture
def settings(task_queue: str, providers: StandIn) -> Settings:
    return sending_to(Settings(task_queue=task_queue), providers, "twilio-unused")


async def send_reset(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[str, account_messages.Prepared]:
    """A user, and a reset link for them started as the API starts it; (their e-mail, it)."""
    async with sessions() as session:
        user = await users_repo.create(
            session, email=f"reset-{uuid4().hex[:10]}@example.com", password_hash=None, name="Eva"
        )
        prepared = await account_messages.link_message(
            session, settings, user, AccountPurpose.PASSWORD_RESET
        )
        await session.commit()
        assert await account_messages.start(session, env.client, settings, prepared)
    return user.email, prepared


async def row(
    sessions: async_sessionmaker[AsyncSession], prepared: account_messages.Prepared
) -> Notification:
    async with sessions() as session:
        found = await session.get(Notification, prepared.message.notification_id)
    assert found is not None
    return found


async def test_a_reset_link_reaches_the_provider_and_is_kept_nowhere_else(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: StandIn,
) -> None:
    async with build_worker(dev_env.client, session_factory, settings):
        email, prepared = await send_reset(dev_env, session_factory, settings)
        handle: WorkflowHandle[AccountMessageWorkflow, str] = dev_env.client.get_workflow_handle(
            prepared.workflow_id, result_type=str
        )
        assert await handle.result() == "sent"
    token = link_token(await mail_to(providers, email))
    [mail] = [r.json() for r in providers.requests_to(SENDGRID_PATH)]
    assert mail["custom_args"] == {"idempotency_key": prepared.workflow_id}
    assert mail["subject"] == "Reset your password"  # no ticket tag, no ticket link

    sent = await row(session_factory, prepared)
    assert (sent.status, sent.attempts, sent.provider_message_id) == (
        NotificationStatus.SENT,
        1,
        "sg-message",
    )
    assert token not in f"{sent.subject} {sent.body}"
    history = await handle.fetch_history()
    assert token.encode() not in b"".join(e.SerializeToString() for e in history.events)
    await replays_and_is_kept(handle)


async def test_an_outage_is_waited_out_and_the_row_says_how_long(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: StandIn,
) -> None:
    providers.enqueue(SENDGRID_PATH, Answer(503, payload={"errors": [{"message": "busy"}]}))
    async with build_worker(dev_env.client, session_factory, settings):
        _, prepared = await send_reset(dev_env, session_factory, settings)
        handle = dev_env.client.get_workflow_handle(prepared.workflow_id, result_type=str)
        assert await handle.result() == "sent"
    sent = await row(session_factory, prepared)
    assert (sent.status, sent.attempts, sent.error) == (NotificationStatus.SENT, 2, None)
    assert len(providers.requests_to(SENDGRID_PATH)) == 2
