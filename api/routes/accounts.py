"""`/auth`, the account's side: registration, proving an e-mail or a phone, password reset,
invitations. The links and codes go out through the notification pipeline, never in an
answer or a log. Sessions (login, refresh, logout, change of password) are `routes.auth`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, status
from limits import parse

from api import ratelimit
from api.app_state import resources_of
from api.deps import CurrentUser, RateLimiterDep, SessionDep, SettingsDep, TemporalDep
from api.errors import EngineUnavailableError
from api.paths import API_PREFIX
from api.schemas.auth import (
    AcceptInvitationRequest,
    ForgotPasswordRequest,
    PhoneVerify,
    PhoneVerifyStart,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPair,
    VerifyEmailRequest,
)
from api.schemas.common import PROBLEM_RESPONSES, Message
from api.schemas.users import UserOut
from api.services import account_messages, phone_verification
from api.services import accounts as service

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"], responses=PROBLEM_RESPONSES)

_RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many attempts; see Retry-After"}
}
_NOT_SENT: dict[int | str, dict[str, Any]] = {
    503: {"description": "the message could not be sent now; ask again"}
}
RESEND_VERIFICATION = parse("3/15 minutes")
PHONE_GUESSES = parse("10/minute")


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account (role user) and log in; a verification link is sent [Public]",
    responses=_RATE_LIMITED,
)
async def register(
    body: RegisterRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    limiter: RateLimiterDep,
) -> TokenPair:
    """The address stays unverified until the link is used; mail from it does not reach
    this account before that."""
    # Per address, whatever the e-mail: a spray across many addresses counts as one client.
    await limiter.check(ratelimit.REGISTER, "register", request)
    pair, verification = await service.register(session, settings, body)
    await session.commit()
    # The account exists either way; a link that could not go is asked for again (resend).
    await account_messages.start(session, temporal, settings, verification)
    return pair


@router.post(
    "/verify-email",
    summary="Confirm your e-mail address with the link's token [Public]",
)
async def verify_email(body: VerifyEmailRequest, session: SessionDep) -> Message:
    await service.verify_email(session, body.token)
    await session.commit()
    return Message(detail="e-mail address confirmed")


@router.get(
    "/verify-email/{token}",
    summary="Confirm your e-mail address (links sent before POST /verify-email) [Public]",
    deprecated=True,
)
async def verify_email_by_path(token: str, session: SessionDep) -> Message:
    await service.verify_email(session, token)
    await session.commit()
    return Message(detail="e-mail address confirmed")


@router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification link to your address [Auth]",
    responses={**_RATE_LIMITED, **_NOT_SENT},
)
async def resend_verification(
    caller: CurrentUser,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    limiter: RateLimiterDep,
) -> Message:
    await limiter.check(RESEND_VERIFICATION, "verify-email-resend", request, str(caller.id))
    prepared = await service.resend_verification(session, settings, caller)
    await session.commit()
    if not await account_messages.start(session, temporal, settings, prepared):
        raise EngineUnavailableError("the link could not be sent now; ask again")
    return Message(detail="a verification link is on its way")


@router.post(
    "/forgot-password",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a password reset link, if the account exists [Public]",
    responses=_RATE_LIMITED,
)
async def forgot_password(
    body: ForgotPasswordRequest,
    request: Request,
    background: BackgroundTasks,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Message:
    """The same answer, as fast, for every address: the account is looked up, and the link
    made and sent, after the answer has gone."""
    await limiter.check(ratelimit.FORGOT_PASSWORD_PER_ADDRESS, "forgot-password", request)
    await limiter.check(ratelimit.FORGOT_PASSWORD, "forgot-password", request, body.email)
    resources = resources_of(request)
    background.add_task(
        service.send_reset_link,
        resources.session_factory,
        resources.temporal,
        settings,
        body.email,
    )
    return Message(detail="if this account exists, a reset link is on its way")


@router.post(
    "/reset-password",
    summary="Set a new password with a reset link's token [Public]",
    responses=_RATE_LIMITED,
)
async def reset_password(
    body: ResetPasswordRequest, request: Request, session: SessionDep, limiter: RateLimiterDep
) -> Message:
    await limiter.check(ratelimit.RESET_PASSWORD, "reset-password", request)
    await service.reset_password(session, body.token, body.new_password.get_secret_value())
    await session.commit()
    return Message(detail="password changed; log in with the new one")


@router.post(
    "/accept-invitation",
    summary="Choose the first password of an account an e-mail or text made [Public]",
    responses=_RATE_LIMITED,
)
async def accept_invitation(
    body: AcceptInvitationRequest, request: Request, session: SessionDep, limiter: RateLimiterDep
) -> Message:
    """The invitation's link proves the address it went to (e-mail, or phone for an account
    a text made)."""
    await limiter.check(ratelimit.RESET_PASSWORD, "accept-invitation", request)
    await service.accept_invitation(session, body.token, body.password.get_secret_value())
    await session.commit()
    return Message(detail="password set; log in with it")


@router.post(
    "/phone/verify-start",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Text a six-digit code to a phone you want to prove is yours [Auth]",
    responses={**_RATE_LIMITED, **_NOT_SENT},
)
async def phone_verify_start(
    body: PhoneVerifyStart,
    caller: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> Message:
    prepared = await phone_verification.start(session, settings.link_keys, caller, body.phone)
    await session.commit()
    if not await account_messages.start(session, temporal, settings, prepared):
        raise EngineUnavailableError("the code could not be sent now; ask again")
    minutes = int(phone_verification.CODE_TTL.total_seconds() // 60)
    return Message(detail=f"a code is on its way; it works for {minutes} minutes")


@router.post(
    "/phone/verify",
    summary="Type the code back: the phone becomes yours, verified [Auth]",
    responses={**_RATE_LIMITED, 409: {"description": "another account verified this number"}},
)
async def phone_verify(
    body: PhoneVerify,
    caller: CurrentUser,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> UserOut:
    await limiter.check(PHONE_GUESSES, "phone-verify", request, str(caller.id))
    user = await phone_verification.verify(session, settings.link_keys, caller, body.code)
    await session.commit()
    return UserOut.model_validate(user)
