"""`/auth`: login (JSON or the OAuth2 password form), tokens, profile, change of password.

Registration, verification, reset and invitations are `routes.accounts`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import ratelimit
from api.codec_cookie import clear_codec_cookie, set_codec_cookie
from api.deps import CurrentUser, RateLimiterDep, SessionDep, SettingsDep, SignedInUser
from api.paths import API_PREFIX
from api.schemas.auth import (
    ChangePasswordRequest,
    LoginRequest,
    LogoutRequest,
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


async def _login_body(request: Request) -> LoginRequest:
    """The credentials, from a JSON body or the OAuth2 password form Swagger's Authorize sends."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    if content_type in _FORM_TYPES:
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
        return LoginRequest.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from error


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
) -> TokenPair:
    """Staff also get the codec cookie, with which the Temporal Web UI decodes ticket data."""
    body = await _login_body(request)
    await limiter.check(ratelimit.LOGIN, "login", request, body.email)
    pair = await service.login(session, settings, body.email, body.password.get_secret_value())
    await session.commit()
    set_codec_cookie(response, settings, pair)
    return pair


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
