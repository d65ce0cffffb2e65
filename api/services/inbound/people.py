"""Who sent an inbound message: an existing user, or a requester made for them on the spot."""

from __future__ import annotations

import logging
import re
import secrets

from pydantic import SecretStr
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.security import hash_password
from domain.enums import Role, UserStatus
from domain.errors import Forbidden
from persistence.models import User
from persistence.repositories import users as users_repo

log = logging.getLogger(__name__)

MAX_NAME = 200
# The lookup runs before Slack's three-second acknowledgement deadline.
SLACK_LOOKUP_TIMEOUT_S = 2
_NOT_DIGITS = re.compile(r"\D")


def check_may_write(user: User) -> None:
    if user.status is UserStatus.INACTIVE:
        raise Forbidden("the sender's account is disabled")


async def _create(
    session: AsyncSession, *, email: str, name: str, phone: str | None = None
) -> User:
    """A new requester with a random password nobody knows (they may reset it later)."""
    password_hash = await hash_password(secrets.token_urlsafe(32))
    try:
        async with session.begin_nested():
            user = await users_repo.create(
                session,
                email=email,
                password_hash=password_hash,
                name=name[:MAX_NAME] or email,
                role=Role.USER,
                phone=phone,
            )
    except IntegrityError:
        # A concurrent delivery from the same sender made them first.
        found = await users_repo.get_by_email(session, email)
        if found is None:
            raise Forbidden("the sender's account was deleted") from None
        return found
    await session.commit()
    log.info("made requester %s for inbound mail from %s", user.id, email)
    return user


async def requester_for_email(session: AsyncSession, address: str, display_name: str) -> User:
    """The user with this e-mail (any case), or a new requester named after the display name."""
    user = await users_repo.get_by_email(session, address)
    if user is not None:
        return user
    return await _create(session, email=address, name=display_name or address.split("@")[0])


def phone_digits(phone: str) -> str:
    return _NOT_DIGITS.sub("", phone)


async def requester_for_phone(session: AsyncSession, phone: str, mail_domain: str) -> User:
    """The user with this phone number (however it was typed), or a new requester."""
    digits = phone_digits(phone)
    stored_digits = func.regexp_replace(User.phone, r"\D", "", "g")
    user = await session.scalar(
        select(User)
        .where(User.deleted_at.is_(None), User.phone.is_not(None), stored_digits == digits)
        .order_by(User.created_at, User.id)
        .limit(1)
    )
    if user is not None:
        return user
    placeholder = f"sms+{digits}@{mail_domain}"
    earlier = await users_repo.get_by_email(session, placeholder)
    if earlier is not None:  # made for this number before; the number was edited since
        return earlier
    return await _create(session, email=placeholder, name=phone, phone=phone)


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
