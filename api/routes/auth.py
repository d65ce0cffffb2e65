"""`/auth`: login (JSON or the OAuth2 password form), tokens, profile, change of password.

Logging in is throttled per account and address (`api.login_throttle`) besides the limits
per address; an account with a second factor gets a challenge, answered at `/auth/mfa/verify`.
Registration, verification, reset and invitations are `routes.accounts`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import ratelimit
from api.codec_cookie import clear_codec_cookie, set_codec_cookie
from api.deps import CurrentUser, RateLimiterDep, SessionDep, SettingsDep, SignedInUser
from api.errors import ApiError, UnauthorizedError
from api.login_throttle import LoginThrottle
from api.paths import API_PREFIX
from api.schemas.auth import (
    ChangePasswordRequest,
    LoginRequest,
    LogoutRequest,
    MfaChallenge,
    RefreshRequest,
    TokenPair,
)
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.users import ProfileUpdate, UserOut
from api.services import auth as service
from domain.errors import NotFound
from persistence.repositories import users as users_repo
from persistence.repositories.users import ProfileChanges

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"], responses=PROBLEM_RESPONSES)

_RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many attempts; see Retry-After"}
}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginRequest.model_json_schema()},
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "description": "your e-mail"},
                    "password": {"type": "string", "format": "password"},
                    "grant_type": {"type": "string", "enum": ["password"]},
                },
            }
        },
    },
}


async def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]


async def _login_body(request: Request) -> tuple[LoginRequest, bool]:
    """The credentials, from a JSON body or the OAuth2 password form Swagger's Authorize
    sends; and whether they came as that form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    as_form = content_type in _FORM_TYPES
    if as_form:
        form = await request.form()
        email = form.get("username") or form.get("email")
        password = form.get("password")
        data = {
            "email": None if isinstance(email, UploadFile) else email,
            "password": None if isinstance(password, UploadFile) else password,
        }
    else:
        try:
            data = json.loads(await request.body())
        except ValueError as error:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from error
    try:
        return LoginRequest.model_validate(data), as_form
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from error


_MFA_BY_FORM = (
    "this account uses two-factor authentication, which the Authorize form cannot ask for: "
    "POST /api/v1/auth/login with JSON {email, password}, then POST /api/v1/auth/mfa/verify "
    "{challenge, code}, and paste its access_token into Authorize (AccessToken)"
)


@router.post(
    "/login",
    summary="Log in with e-mail and password (JSON, or the OAuth2 form) [Public]",
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses=_RATE_LIMITED,
)
async def login(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    throttle: LoginThrottleDep,
) -> TokenPair | MfaChallenge:
    """A token pair, or for an account with two-factor authentication a challenge to send
    with a code to `/auth/mfa/verify`. Staff also get the codec cookie, with which the
    Temporal Web UI decodes ticket data."""
    body, as_form = await _login_body(request)
    address = ratelimit.client_address(request)
    await limiter.check(ratelimit.LOGIN, "login", request)
    await throttle.gate(body.email, address)
    try:
        answer = await service.login(
            session, settings, body.email, body.password.get_secret_value()
        )
    except UnauthorizedError:
        await throttle.failed(body.email, address)
        raise
    await throttle.succeeded(body.email, address)
    if isinstance(answer, MfaChallenge):
        if as_form:
            # `error` and `error_description` are what Swagger's Authorize dialog shows.
            raise ApiError(
                401,
                _MFA_BY_FORM,
                code="mfa_required",
                headers={"WWW-Authenticate": "Bearer"},
                extra={
                    "challenge": answer.challenge,
                    "error": "mfa_required",
                    "error_description": _MFA_BY_FORM,
                },
            )
        return answer
    await session.commit()
    set_codec_cookie(response, settings, answer)
    return answer


@router.post("/refresh-token", summary="Trade a refresh token for a new pair [Public]")
async def refresh_token(
    body: RefreshRequest, response: Response, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """The codec cookie, if any, is renewed with the pair."""
    pair = await service.refresh(session, settings, body.refresh_token)
    await session.commit()
    set_codec_cookie(response, settings, pair)
    return pair


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session (the given refresh token) or all of them [Auth]",
)
async def logout(
    caller: SignedInUser,
    session: SessionDep,
    settings: SettingsDep,
    body: LogoutRequest | None = None,
) -> Response:
    await service.logout(session, settings, caller, body.refresh_token if body else None)
    await session.commit()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_codec_cookie(response, settings)
    return response


@router.get("/me", summary="Your account [Auth]")
async def me(caller: SignedInUser) -> UserOut:
    return UserOut.model_validate(caller)


@router.put("/update-profile", summary="Change your name, locale, phone, Slack id [Auth]")
async def update_profile(caller: CurrentUser, session: SessionDep, body: ProfileUpdate) -> UserOut:
    changes = ProfileChanges(**body.model_dump(exclude_unset=True))
    user = await users_repo.update_profile(session, caller.id, changes)
    if user is None:
        raise NotFound("no such user")
    await session.commit()
    return UserOut.model_validate(user)


@router.put(
    "/change-password",
    summary="Change your password; other sessions end, you get a fresh pair [Auth]",
)
async def change_password(
    caller: SignedInUser, session: SessionDep, settings: SettingsDep, body: ChangePasswordRequest
) -> TokenPair:
    pair = await service.change_password(
        session,
        settings,
        caller,
        body.current_password.get_secret_value(),
        body.new_password.get_secret_value(),
    )
    await session.commit()
    return pair
