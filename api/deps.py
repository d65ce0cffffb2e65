"""Named dependencies, after full-stack-fastapi-template's `api/deps.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.app_state import resources_of
from api.errors import ApiError, UnauthorizedError
from api.middleware import Metrics
from api.paths import API_PREFIX
from api.ratelimit import RateLimiter
from api.security import InvalidTokenError, TokenType, decode_token
from api.services.broadcast import Broadcaster
from api.services.file_store import FileStore
from domain.enums import Role, UserStatus
from persistence.models import User
from persistence.repositories import tokens as tokens_repo
from ticketflow.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=f"{API_PREFIX}/auth/login",
    description="Log in with your e-mail as the username.",
    auto_error=False,
)
# The same header, for a token got otherwise: accounts with two-factor authentication log
# in through `/auth/login` and `/auth/mfa/verify`, and paste the access token here.
bearer_scheme = HTTPBearer(
    scheme_name="AccessToken",
    description="An access token (two-factor accounts: from POST /api/v1/auth/mfa/verify).",
    auto_error=False,
)


# Plain dependencies are `async def` on purpose: FastAPI runs a sync one on a thread pool,
# a hop that costs more than the attribute read it wraps.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; routes commit what they change."""
    async with resources_of(request).session_factory() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    return resources_of(request).temporal


async def get_broadcaster(request: Request) -> Broadcaster:
    return Broadcaster(resources_of(request).temporal, request.app.state.settings.task_queue)


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_files(request: Request) -> FileStore:
    """The app's one attachment store (a directory, or the S3 bucket replicas share)."""
    files: FileStore = request.app.state.files
    return files


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
BroadcasterDep = Annotated[Broadcaster, Depends(get_broadcaster)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
FilesDep = Annotated[FileStore, Depends(get_files)]


async def get_token(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str | None:
    """The Bearer token of the request (documented as both schemes, read once)."""
    return token


TokenDep = Annotated[str | None, Depends(get_token)]


async def get_signed_in_user(session: SessionDep, settings: SettingsDep, token: TokenDep) -> User:
    """The caller, from a valid access token of a live session of an active account,
    whatever its password. Logging out, a new password, an admin's change end sessions,
    and with them their access tokens, at once: the one read loads the user and checks it."""
    if not token:
        raise UnauthorizedError()
    try:
        claims = decode_token(settings.access_keys, token, TokenType.ACCESS)
    except InvalidTokenError as exc:
        raise UnauthorizedError("invalid or expired access token") from exc
    if claims.session_id is None:
        raise UnauthorizedError("this access token names no session; log in again")
    user = await tokens_repo.live_session_user(session, claims.subject, claims.session_id)
    if user is None:
        raise UnauthorizedError("this session has ended; log in again")
    if user.status is UserStatus.INACTIVE:
        raise UnauthorizedError("this account is disabled")
    return user


SignedInUser = Annotated[User, Depends(get_signed_in_user)]


async def get_current_user(user: SignedInUser, settings: SettingsDep) -> User:
    """The caller, who may act: not holding a handed-out password they must change first,
    nor lacking the second factor their role must use (TICKETFLOW_MFA_REQUIRED_ROLES)."""
    if user.password_change_required:
        raise ApiError(
            403,
            "this account must choose a new password first (PUT /api/v1/auth/change-password)",
            code="password_change_required",
        )
    if user.mfa_enabled_at is None and user.role in settings.mfa_roles:
        raise ApiError(
            403,
            f"{user.role.value}s must use two-factor authentication: set it up first "
            "(POST /api/v1/auth/mfa/setup, then POST /api/v1/auth/mfa/enable)",
            code="mfa_required",
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_optional_user(
    session: SessionDep, settings: SettingsDep, token: TokenDep
) -> User | None:
    """The caller if a token came with the request, else None (anonymous, on public routes).

    A token that is sent but invalid is still a 401: a client should learn its session
    ended rather than silently see less.
    """
    if not token:
        return None
    return await get_current_user(await get_signed_in_user(session, settings, token), settings)


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def require_roles(*roles: Role) -> Callable[[User], Coroutine[Any, Any, User]]:
    """A dependency letting only `roles` through (403 for anyone else)."""
    allowed = frozenset(roles)

    async def guard(user: CurrentUser) -> User:
        if user.role not in allowed:
            names = " or ".join(sorted(r.value for r in allowed))
            raise ApiError(403, f"this needs the {names} role", code="forbidden")
        return user

    return guard


AgentUser = Annotated[User, Depends(require_roles(Role.AGENT, Role.ADMIN))]
AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]
