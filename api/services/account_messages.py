"""Account messages through the notification pipeline: reset and verification links,
invitations and phone codes.

Two steps, around the caller's commit. `link_message`/`code_message` store the secret's hash
and a notification row that says what was sent without saying it (`pending`, a redacted
body); once those are committed, `start` starts the message's `AccountMessageWorkflow`, whose
input alone carries the words with the link or code, to the delivery activity and on to the
provider; even there it is sealed for the worker (`security.sealed_text`), since the Web
UI's codec server opens Temporal payloads for any agent. Nothing here logs an address, a
link or a code.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.security import opaque_token
from domain.account_notices import REDACTED, AccountChannel, compose_account, valid_for
from domain.accounts import AccountMessage, AccountPurpose, account_workflow_id
from domain.enums import Locale
from persistence.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    TokenChannel,
    TokenPurpose,
    User,
)
from persistence.repositories import phone_codes as phone_codes_repo
from persistence.repositories import tokens as tokens_repo
from security.sealed_text import seal
from security.signing import KeyRing
from ticketflow.settings import Settings
from workflows.account import AccountMessageWorkflow

log = logging.getLogger(__name__)

RESET_TTL = timedelta(hours=1)
VERIFY_TTL = timedelta(days=3)
INVITATION_TTL = timedelta(days=5)
TTLS = {
    AccountPurpose.PASSWORD_RESET: RESET_TTL,
    AccountPurpose.EMAIL_VERIFICATION: VERIFY_TTL,
    AccountPurpose.INVITATION: INVITATION_TTL,
}
# The pages (under the public URL) that take a link's token and post it to the API: a token
# in an API path would be written to every access log on the way.
_PAGES = {
    AccountPurpose.PASSWORD_RESET: "reset-password",
    AccountPurpose.EMAIL_VERIFICATION: "verify-email",
    AccountPurpose.INVITATION: "accept-invitation",
}
START_TIMEOUT_S = 10.0
NOT_STARTED = "not sent: the delivery workflow could not be started"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Prepared:
    """A stored account message, to be started once the caller has committed."""

    workflow_id: str
    message: AccountMessage
    # The link's token or the phone code: spent if the message cannot be started.
    token_id: UUID | None = None
    code_id: UUID | None = None


def _address(user: User, channel: AccountChannel) -> str:
    address = user.email if channel == "email" else user.phone
    if not address:
        raise ValueError(f"user {user.id} has no address for {channel}")
    return address


async def _prepare(
    session: AsyncSession,
    keys: KeyRing,
    user: User,
    purpose: AccountPurpose,
    channel: AccountChannel,
    address: str,
    secret_id: UUID,
    values: dict[str, str],
    ttl: timedelta,
) -> Prepared:
    locale = Locale(user.locale)
    words = compose_account(
        purpose,
        channel,
        locale,
        {"name": user.name, "address": address, "login": user.email, **values}
        | {"valid_for": valid_for(ttl, locale)},
    )
    workflow_id = account_workflow_id(purpose, secret_id)
    row = Notification(
        user_id=user.id,
        ticket_id=None,
        channel=NotificationChannel(channel),
        event=purpose.event,
        subject=words.subject,
        body=REDACTED[purpose],
        idempotency_key=workflow_id,
        status=NotificationStatus.PENDING,
        attempts=0,
        recipient=address,
    )
    session.add(row)
    await session.flush()
    message = AccountMessage(
        notification_id=row.id,
        purpose=purpose,
        subject=words.subject,
        sealed_body=seal(keys, words.body, str(row.id)),
        valid_until=datetime.now(UTC) + ttl,
    )
    return Prepared(workflow_id, message)


async def link_message(
    session: AsyncSession,
    settings: Settings,
    user: User,
    purpose: AccountPurpose,
    channel: AccountChannel = "email",
) -> Prepared:
    """A single-use link for `purpose`, to the user's e-mail (or phone): the token's hash and
    the message's row are stored; the token itself is only in the returned message."""
    token = opaque_token()
    ttl = TTLS[purpose]
    stored = await tokens_repo.issue_user_token(
        session,
        user_id=user.id,
        purpose=TokenPurpose(purpose.value),
        token_hash=token_hash(token),
        expires_at=datetime.now(UTC) + ttl,
        channel=TokenChannel(channel),
    )
    link = f"{settings.public_url.rstrip('/')}/{_PAGES[purpose]}?token={token}"
    address = _address(user, channel)
    prepared = await _prepare(
        session, settings.link_keys, user, purpose, channel, address, stored.id, {"link": link}, ttl
    )
    return Prepared(prepared.workflow_id, prepared.message, token_id=stored.id)


async def code_message(
    session: AsyncSession,
    keys: KeyRing,
    user: User,
    phone: str,
    code_id: UUID,
    code: str,
    ttl: timedelta,
) -> Prepared:
    """The SMS with a phone code, to the number being proven; the code's row is the
    caller's."""
    purpose = AccountPurpose.PHONE_VERIFICATION
    values = {"code": code}
    prepared = await _prepare(session, keys, user, purpose, "sms", phone, code_id, values, ttl)
    return Prepared(prepared.workflow_id, prepared.message, code_id=code_id)


async def start(
    session: AsyncSession, client: Client, settings: Settings, prepared: Prepared
) -> bool:
    """Start the message's workflow (after the caller's commit). If Temporal cannot take it,
    the row is marked failed and the link's token spent, so nothing stays waiting for a
    message that will not come; False then."""
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            await client.start_workflow(
                AccountMessageWorkflow.run,
                prepared.message,
                id=prepared.workflow_id,
                task_queue=settings.task_queue,
                static_summary=f"Sends a {prepared.message.purpose.value.replace('_', ' ')}",
            )
    except (RPCError, TimeoutError) as error:
        log.error("account message %s not started: %r", prepared.workflow_id, error)
        await _not_started(session, prepared)
        return False
    return True


async def _not_started(session: AsyncSession, prepared: Prepared) -> None:
    await session.execute(
        update(Notification)
        .where(
            Notification.id == prepared.message.notification_id,
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.FAILED, error=NOT_STARTED)
    )
    if prepared.token_id is not None:
        await tokens_repo.spend_user_token(session, prepared.token_id)
    if prepared.code_id is not None:
        await phone_codes_repo.use(session, prepared.code_id)
    await session.commit()


__all__ = [
    "INVITATION_TTL",
    "RESET_TTL",
    "VERIFY_TTL",
    "Prepared",
    "code_message",
    "link_message",
    "start",
    "token_hash",
]
