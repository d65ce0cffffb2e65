"""`/auth/mfa`: enrolling in TOTP two-factor authentication, the second login step, resets.

Enrolment needs only a signed-in account (`SignedInUser`): staff whose role must use MFA
(TICKETFLOW_MFA_REQUIRED_ROLES) can do nothing else until they have enrolled.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from api import ratelimit
from api.codec_cookie import set_codec_cookie
from api.deps import AdminUser, RateLimiterDep, SessionDep, SettingsDep, SignedInUser
from api.paths import API_PREFIX
from api.schemas.auth import (
    MfaCodeRequest,
    MfaSetup,
    MfaVerifyRequest,
    RecoveryCodes,
    TokenPair,
)
from api.schemas.common import PROBLEM_RESPONSES
from api.services import auth as auth_service
from api.services import mfa as service
from domain.errors import NotFound
from persistence.repositories import users as users_repo

router = APIRouter(prefix=f"{API_PREFIX}/auth/mfa", tags=["auth"], responses=PROBLEM_RESPONSES)


@router.post("/setup", summary="Start enrolling: a new TOTP secret for your app [Auth]")
async def setup(caller: SignedInUser, session: SessionDep, settings: SettingsDep) -> MfaSetup:
    """The secret (and its `otpauth://` URI, for a QR code); nothing changes at login until
    `POST /auth/mfa/enable` confirms it with a code. 503 without TICKETFLOW_SECRETS_KEY."""
    enrolment = await service.start_enrolment(session, settings, caller)
    await session.commit()
    return MfaSetup(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/enable", summary="Confirm enrolment with a code; get recovery codes [Auth]")
async def enable(
    caller: SignedInUser, session: SessionDep, settings: SettingsDep, body: MfaCodeRequest
) -> RecoveryCodes:
    codes = await service.enable(session, settings, caller, body.code)
    await session.commit()
    return RecoveryCodes(recovery_codes=codes)


@router.post(
    "/recovery-codes",
    summary="New recovery codes for a current code; the old ones stop working [Auth]",
)
async def recovery_codes(
    caller: SignedInUser, session: SessionDep, settings: SettingsDep, body: MfaCodeRequest
) -> RecoveryCodes:
    codes = await service.regenerate_recovery_codes(session, settings, caller, body.code)
    await session.commit()
    return RecoveryCodes(recovery_codes=codes)


@router.post(
    "/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn two-factor authentication off, with a current code [Auth]",
)
async def disable(
    caller: SignedInUser, session: SessionDep, settings: SettingsDep, body: MfaCodeRequest
) -> Response:
    await service.disable(session, settings, caller, body.code)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify",
    summary="The second login step: the challenge and a code give the token pair [Public]",
    responses={429: {"description": "Too many attempts; see Retry-After"}},
)
async def verify(
    body: MfaVerifyRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> TokenPair:
    """A code from the app, or a recovery code (each works once)."""
    user_id = auth_service.read_challenge(settings, body.challenge).subject
    await limiter.check(ratelimit.MFA_VERIFY, "mfa-verify", request)
    await limiter.check(
        ratelimit.MFA_VERIFY_PER_ACCOUNT, "mfa-verify", request, str(user_id), per_address=False
    )
    pair = await auth_service.verify_mfa(session, settings, body.challenge, body.code)
    await session.commit()
    set_codec_cookie(response, settings, pair)
    return pair


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn a user's two-factor authentication off (a lost phone); their sessions end "
    "[Admin]",
)
async def reset(user_id: UUID, _: AdminUser, session: SessionDep) -> Response:
    user = await users_repo.get(session, user_id)
    if user is None:
        raise NotFound("no such user")
    await service.reset_by_admin(session, user)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
