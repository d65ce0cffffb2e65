"""Who sent an inbound message: the account its address is bound to, or a new requester.

An address binds a message to an account only when nobody but the address's owner can read
that account:

- **e-mail**: the account with that e-mail, if its address is verified, if it has no
  password (made by an earlier message: only an invitation sent to the address opens it), or
  if it is staff (made by an administrator, never by registration). An account that someone
  registered with the address and never verified is a claim, and the mailbox outranks it:
  the claim is voided (`take_back`: no password, its sessions end, its contact channels go)
  and the address's owner is invited to the account before the message lands on it.
- **SMS**: the account that proved the number with a code, or the password-less account an
  earlier text from the number made. A number merely typed into a profile binds nothing.

A new requester has no password; an invitation (a single-use link) goes to the address the
message came from, and using it sets a password and proves that address.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from uuid import uuid4

from pydantic import SecretStr
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.services import account_messages
from api.services.account_messages import Prepared
from domain.account_notices import AccountChannel
from domain.accounts import AccountPurpose
from domain.enums import Role, UserStatus
from domain.errors import Forbidden
from persistence.models import TokenPurpose, User
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from persistence.repositories.users import phone_digits
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

MAX_NAME = 200
# The lookup runs before Slack's three-second acknowledgement deadline.
SLACK_LOOKUP_TIMEOUT_S = 2


@dataclass(frozen=True)
class Sender:
    """The account a message is bound to, and the invitation to start for it, if one was
    just stored (the caller starts it: it holds the Temporal client)."""

    user: User
    invitation: Prepared | None = None


def check_may_write(user: User) -> None:
    if user.status is UserStatus.INACTIVE:
        raise Forbidden("the sender's account is disabled")


def sms_placeholder(phone: str, mail_domain: str, suffix: str = "") -> str:
    """The e-mail of an account a text made (`sms+<digits>@<mail domain>`)."""
    return f"sms+{phone_digits(phone)}{suffix}@{mail_domain}"


def is_sms_placeholder(email: str, mail_domain: str) -> bool:
    """Whether `email` is one `sms_placeholder` made: it reaches nobody."""
    pattern = rf"sms\+\d+(\.[0-9a-f]+)?@{re.escape(mail_domain.lower())}"
    return re.fullmatch(pattern, email.lower()) is not None


async def _invite(
    session: AsyncSession, settings: Settings, user: User, channel: AccountChannel
) -> Sender:
    """Commit, with an invitation for a password-less account unless one is still live."""
    invitation = None
    if not await tokens_repo.has_live_token(session, user.id, TokenPurpose.INVITATION):
        invitation = await account_messages.link_message(
            session, settings, user, AccountPurpose.INVITATION, channel
        )
    await session.commit()
    return Sender(user, invitation)


async def _create(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    name: str,
    channel: AccountChannel,
    phone: str | None = None,
) -> Sender:
    """A new requester without a password, invited through the address the message came from."""
    try:
        async with session.begin_nested():
            user = await users_repo.create(
                session,
                email=email,
                password_hash=None,
                name=name[:MAX_NAME] or email,
                role=Role.USER,
                phone=phone,
            )
    except IntegrityError:
        # A concurrent delivery from the same sender made them first, and invites them.
        found = await users_repo.get_by_email(session, email)
        if found is None:
            raise Forbidden("the sender's account was deleted") from None
        check_may_write(found)
        return Sender(found)
    log.info("made requester %s for an inbound %s", user.id, channel)
    return await _invite(session, settings, user, channel)


async def _take_back(
    session: AsyncSession, settings: Settings, user: User, channel: AccountChannel
) -> Sender:
    """The address outranks an unproven claim on its account: void the claim, invite the owner."""
    taken = await users_repo.take_back(session, user.id, keep_phone=channel == "sms")
    if taken is None:
        raise Forbidden("the sender's account was deleted")
    await tokens_repo.revoke_all(session, user.id)
    log.warning("account %s: unverified claim voided by a message to its address", user.id)
    return await _invite(session, settings, taken, channel)


async def requester_for_email(
    session: AsyncSession, settings: Settings, address: str, display_name: str
) -> Sender:
    """The account this address binds the message to (see the module's rules)."""
    user = await users_repo.get_by_email(session, address)
    if user is None:
        name = display_name or address.split("@")[0]
        return await _create(session, settings, email=address, name=name, channel="email")
    check_may_write(user)
    if user.email_verified_at is not None or user.role.is_staff:
        return Sender(user)
    if user.password_hash is None:
        return await _invite(session, settings, user, "email")
    return await _take_back(session, settings, user, "email")


async def requester_for_phone(session: AsyncSession, settings: Settings, phone: str) -> Sender:
    """The account this number binds the text to (see the module's rules)."""
    user = await users_repo.by_verified_phone(session, phone)
    if user is None:
        user = await users_repo.passwordless_by_phone(session, phone)
    if user is not None:
        check_may_write(user)
        if user.password_hash is None:
            return await _invite(session, settings, user, "sms")
        return Sender(user)
    placeholder = sms_placeholder(phone, settings.mail_domain)
    earlier = await users_repo.get_by_email(session, placeholder)
    if earlier is not None:
        check_may_write(earlier)
        if phone_digits(earlier.phone) == phone_digits(phone):
            # Made for this number with a password nobody knows, before texts needed proof.
            return await _take_back(session, settings, earlier, "sms")
        # That account moved to another number: this one gets an account of its own.
        placeholder = sms_placeholder(phone, settings.mail_domain, f".{uuid4().hex[:8]}")
    return await _create(
        session, settings, email=placeholder, name=phone, channel="sms", phone=phone
    )


def is_agent(user: User | None) -> bool:
    return user is not None and user.role.is_staff and user.status is not UserStatus.INACTIVE


async def _slack_email(bot_token: SecretStr, api_url: str | None, slack_user_id: str) -> str | None:
    """The e-mail on the Slack user's profile (needs the `users:read.email` scope)."""
    client = AsyncWebClient(
        token=bot_token.get_secret_value(),
        base_url=api_url or AsyncWebClient.BASE_URL,
        timeout=SLACK_LOOKUP_TIMEOUT_S,
    )
    try:
        response = await client.users_info(user=slack_user_id)
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        log.warning("Slack users.info for %s failed: %s", slack_user_id, error)
        return None
    user = response.get("user")
    profile = user.get("profile") if isinstance(user, dict) else None
    email = profile.get("email") if isinstance(profile, dict) else None
    return email if isinstance(email, str) and "@" in email else None


async def agent_for_slack(
    session: AsyncSession, slack_user_id: str, bot_token: SecretStr | None, api_url: str | None
) -> User | None:
    """The agent a Slack user is: by `slack_user_id`, else by their Slack profile's e-mail.

    A match by e-mail is remembered on the user, so the next press needs no Slack call.
    """
    user = await session.scalar(
        select(User)
        .where(User.deleted_at.is_(None), User.slack_user_id == slack_user_id)
        .order_by(User.created_at, User.id)
        .limit(1)
    )
    if user is None and bot_token is not None and bot_token.get_secret_value():
        email = await _slack_email(bot_token, api_url, slack_user_id)
        user = await users_repo.get_by_email(session, email) if email else None
        if is_agent(user) and user is not None and user.slack_user_id is None:
            changes = users_repo.ProfileChanges(slack_user_id=slack_user_id)
            user = await users_repo.update_profile(session, user.id, changes)
            await session.commit()
    return user if is_agent(user) else None
