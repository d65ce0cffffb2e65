"""An account's life by its addresses: registration, e-mail verification, password reset and
invitations. Each proof comes from a single-use link sent through the notification pipeline
(`account_messages`); using a link proves the address it went to.

Sessions (login, refresh, logout, change of password) are `api.services.auth`.
"""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.schemas.auth import RegisterRequest, TokenPair
from api.security import hash_password
from api.services import account_messages
from api.services.account_messages import Prepared, token_hash
from api.services.auth import issue_pair
from api.services.inbound.people import is_sms_placeholder
from api.services.passwords import check_password_strength, user_words
from api.services.users import ensure_email_free
from domain.account_notices import AccountChannel
from domain.accounts import AccountPurpose
from domain.enums import Role, UserStatus
from domain.errors import Conflict, InvalidInput
from persistence.models import TokenChannel, TokenPurpose, User, UserToken
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

# Links that set a password: once one is used, the others of the account are spent.
_SETS_PASSWORD = (TokenPurpose.PASSWORD_RESET, TokenPurpose.INVITATION)


async def check_new_password(password: str, user: User) -> None:
    """The one check every password chosen through a link (reset, invitation) goes through:
    the password policy (`check_password_strength`, a 422 that leaves the link usable)."""
    await check_password_strength(password, user_words(user.email, user.name))


async def register(
    session: AsyncSession, settings: Settings, body: RegisterRequest
) -> tuple[TokenPair, Prepared]:
    """A new requester, logged in, with the verification link to start after the commit.

    The address stays unverified until the link is used: until then, mail from it does not
    reach this account (see `api.services.inbound.people`).
    """
    await ensure_email_free(session, body.email)
    password = body.password.get_secret_value()
    await check_password_strength(password, user_words(body.email, body.name))
    user = await users_repo.create(
        session,
        email=body.email,
        password_hash=await hash_password(password),
        name=body.name,
        role=Role.USER,
    )
    verification = await account_messages.link_message(
        session, settings, user, AccountPurpose.EMAIL_VERIFICATION
    )
    return await issue_pair(session, settings, user), verification


async def resend_verification(session: AsyncSession, settings: Settings, user: User) -> Prepared:
    if user.email_verified_at is not None:
        raise Conflict("this e-mail address is already verified")
    return await account_messages.link_message(
        session, settings, user, AccountPurpose.EMAIL_VERIFICATION
    )


def _reset_channel(user: User, settings: Settings) -> AccountChannel | None:
    """Where a reset link for this account goes: its mailbox; for an account made from a
    text (its e-mail a placeholder of ours), its phone once proven; else nowhere."""
    if not is_sms_placeholder(user.email, settings.mail_domain):
        return "email"
    return "sms" if user.phone and user.phone_verified_at else None


async def send_reset_link(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings, email: str
) -> None:
    """Send a reset link if the account exists. Runs after `POST /forgot-password` has
    answered, the same for every address, so neither the answer nor its timing says whether
    there is an account."""
    try:
        async with sessions() as session:
            user = await users_repo.get_by_email(session, email)
            channel = _reset_channel(user, settings) if user is not None else None
            if user is None or user.status is UserStatus.INACTIVE or channel is None:
                log.info("password reset asked for an unknown or unreachable account")
                return
            prepared = await account_messages.link_message(
                session, settings, user, AccountPurpose.PASSWORD_RESET, channel
            )
            await session.commit()
            await account_messages.start(session, client, settings, prepared)
    except Exception as error:  # nobody is waiting for an answer: say it, without the address
        log.error("a password reset link could not be sent: %s", type(error).__name__)


async def _redeem(
    session: AsyncSession, purpose: TokenPurpose, token: str, password: str, what: str
) -> UUID:
    used = await tokens_repo.consume_user_token(
        session, purpose=purpose, token_hash=token_hash(token)
    )
    user = await users_repo.get(session, used.user_id) if used is not None else None
    if used is None or user is None:
        raise InvalidInput(f"this {what} link is invalid, used or expired")
    await check_new_password(password, user)
    await _prove_address(session, user, used)
    await users_repo.set_password(session, user.id, await hash_password(password))
    await tokens_repo.spend_user_tokens(session, user.id, _SETS_PASSWORD)
    await tokens_repo.revoke_all(session, user.id)
    return user.id


async def _prove_address(session: AsyncSession, user: User, used: UserToken) -> None:
    """The link reached its address: that address is the user's, proven."""
    if used.channel is TokenChannel.EMAIL:
        await users_repo.mark_email_verified(session, user.id)
        return
    # A text reaches the account's phone: an invitation to an account a text made (its number
    # cannot have changed: nobody could log in to change it), or a reset sent only to a
    # proven number. Another account proving the number meanwhile wins; this one stays as is.
    if user.phone and user.phone_verified_at is None:
        try:
            async with session.begin_nested():
                await users_repo.mark_phone_verified(session, user.id, user.phone)
        except IntegrityError:
            log.info("user %s: the number was proven by another account meanwhile", user.id)


async def reset_password(session: AsyncSession, token: str, new_password: str) -> UUID:
    """Set the password with a reset link's token; every session of the account ends."""
    return await _redeem(session, TokenPurpose.PASSWORD_RESET, token, new_password, "reset")


async def accept_invitation(session: AsyncSession, token: str, password: str) -> UUID:
    """Set the first password of an account made from an inbound e-mail or text."""
    return await _redeem(session, TokenPurpose.INVITATION, token, password, "invitation")


async def verify_email(session: AsyncSession, token: str) -> None:
    used = await tokens_repo.consume_user_token(
        session, purpose=TokenPurpose.EMAIL_VERIFICATION, token_hash=token_hash(token)
    )
    if used is None:
        raise InvalidInput("this verification link is invalid, used or expired")
    await users_repo.mark_email_verified(session, used.user_id)


__all__ = [
    "accept_invitation",
    "check_new_password",
    "register",
    "resend_verification",
    "reset_password",
    "send_reset_link",
    "verify_email",
]
