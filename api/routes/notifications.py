"""`/notifications`: the caller's own in-app inbox, and its live feed over a WebSocket."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, WebSocket, WebSocketDisconnect, status
from fastapi.security.utils import get_authorization_scheme_param
from pydantic_core import to_jsonable_python

from api.app_state import live_of, resources_of
from api.deps import CurrentUser, SessionDep, get_current_user, get_signed_in_user
from api.errors import ApiError, UnauthorizedError
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.notifications import NotificationOut
from api.security import InvalidTokenError, TokenType, decode_token
from api.services.live import Message, Subscription
from domain.errors import NotFound
from persistence.repositories import notifications as notifications_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(
    prefix=f"{API_PREFIX}/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES
)

AUTH_TIMEOUT_S = 5.0
# An open socket re-checks its session this often: logging out (or a new password, or an
# admin's change) closes it within this time, though its token has not expired.
SESSION_CHECK_S = 30.0


@router.get("", summary="Your notifications, newest first [Auth]")
async def list_notifications(
    caller: CurrentUser,
    session: SessionDep,
    unread: bool = False,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[NotificationOut]:
    page = await notifications_repo.list_for_user(
        session, caller.id, unread_only=unread, limit=limit, cursor=cursor
    )
    items = [NotificationOut.model_validate(n) for n in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.patch(
    "/read-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Mark all your notifications read [Auth]",
)
async def mark_all_read(caller: CurrentUser, session: SessionDep) -> Response:
    await notifications_repo.mark_all_read(session, caller.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{notification_id}/read", summary="Mark a notification read [Auth]")
async def mark_read(
    notification_id: UUID, caller: CurrentUser, session: SessionDep
) -> NotificationOut:
    found = await notifications_repo.mark_read(session, caller.id, notification_id)
    if found is None:
        raise NotFound("no such notification")
    await session.commit()
    return NotificationOut.model_validate(found)


@router.delete(
    "/{notification_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a notification [Auth]",
)
async def delete_notification(
    notification_id: UUID, caller: CurrentUser, session: SessionDep
) -> Response:
    if not await notifications_repo.delete_notification(session, caller.id, notification_id):
        raise NotFound("no such notification")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.websocket("/ws")
async def live_notifications(websocket: WebSocket) -> None:
    """Your new in-app notifications, pushed as they are made (protocol in docs/api.md)."""
    await websocket.accept()
    try:
        token = _offered_token(websocket) or await _first_message_token(websocket)
        caller = await _authenticate(websocket, token)
    except UnauthorizedError as refused:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=str(refused))
        return
    except WebSocketDisconnect:
        return
    with live_of(websocket).subscribe(caller.user_id) as subscription:
        conversation = _Conversation(websocket, caller)
        await conversation.send({"type": "ready", **caller.describe()})
        await conversation.run(subscription)


@dataclass(frozen=True)
class _Caller:
    user_id: UUID
    expires_at: datetime
    token: str

    def describe(self) -> Message:
        return {"user_id": str(self.user_id), "expires_at": to_jsonable_python(self.expires_at)}


def _offered_token(websocket: WebSocket) -> str | None:
    """A token from the handshake: `Authorization: Bearer`, else the `token` query parameter."""
    scheme, credentials = get_authorization_scheme_param(websocket.headers.get("authorization"))
    if scheme.lower() == "bearer" and credentials:
        return credentials
    return websocket.query_params.get("token") or None


async def _first_message_token(websocket: WebSocket) -> str:
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            message = _json_object(await _receive_text(websocket))
    except TimeoutError as exc:
        raise UnauthorizedError(f"no access token within {AUTH_TIMEOUT_S:g} s") from exc
    token = message.get("token") if message else None
    if not isinstance(token, str) or not token:
        raise UnauthorizedError('the first message must be {"token": "<access token>"}')
    return token


async def _authenticate(websocket: WebSocket, token: str) -> _Caller:
    """The token's user, held to the same checks as a REST call (active, not deleted)."""
    settings: Settings = websocket.app.state.settings
    try:
        claims = decode_token(settings.access_keys, token, TokenType.ACCESS)
    except InvalidTokenError as exc:
        raise UnauthorizedError("invalid or expired access token") from exc
    async with resources_of(websocket).session_factory() as session:
        user = await get_signed_in_user(session, settings, token)
        try:
            user = await get_current_user(user, settings)
        except ApiError as refused:  # a password to change, a second factor to set up
            raise UnauthorizedError(refused.detail) from refused
    return _Caller(user.id, claims.expires_at, token)


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next message's text (None for a binary one)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", status.WS_1000_NORMAL_CLOSURE))
    text: str | None = message.get("text")
    return text


def _json_object(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class _Conversation:
    """One authenticated socket: pushes what the hub offers, answers what the client sends,
    and closes when the access token expires (unless the client sends a fresh one)."""

    def __init__(self, websocket: WebSocket, caller: _Caller) -> None:
        self.websocket = websocket
        self.caller = caller
        self._sending = asyncio.Lock()
        self._renewed = asyncio.Event()

    async def send(self, message: Message) -> None:
        async with self._sending:
            await self.websocket.send_json(message)

    async def close(self, code: int, reason: str) -> None:
        async with self._sending:
            await self.websocket.close(code=code, reason=reason)

    async def run(self, subscription: Subscription) -> None:
        tasks = [
            asyncio.create_task(self._push(subscription)),
            asyncio.create_task(self._answer()),
            asyncio.create_task(self._expire()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, WebSocketDisconnect):
                log.warning("live socket of user %s failed: %r", self.caller.user_id, result)

    async def _push(self, subscription: Subscription) -> None:
        while (message := await subscription.next()) is not None:
            await self.send(message)
        await self.close(status.WS_1012_SERVICE_RESTART, "the server is restarting")

    async def _answer(self) -> None:
        while True:
            message = _json_object(await _receive_text(self.websocket))
            try:
                reply = await self._reply(message)
            except UnauthorizedError as refused:
                await self.close(status.WS_1008_POLICY_VIOLATION, str(refused))
                return
            await self.send(reply)

    async def _reply(self, message: dict[str, Any] | None) -> Message:
        if message is None:
            return {"type": "error", "detail": "messages are JSON objects"}
        if message.get("type") == "ping":
            return {"type": "pong"}
        token = message.get("token")
        if isinstance(token, str):
            caller = await _authenticate(self.websocket, token)
            if caller.user_id != self.caller.user_id:
                raise UnauthorizedError("that token belongs to another user")
            self.caller = caller
            self._renewed.set()
            return {"type": "renewed", **caller.describe()}
        return {"type": "error", "detail": 'send {"type": "ping"} or {"token": "<access token>"}'}

    async def _expire(self) -> None:
        """Close when the token expires, or sooner when its session has ended."""
        while True:
            left = (self.caller.expires_at - datetime.now(UTC)).total_seconds()
            try:
                await asyncio.wait_for(self._renewed.wait(), min(max(left, 0), SESSION_CHECK_S))
            except TimeoutError:
                if left <= SESSION_CHECK_S:
                    break
                try:
                    await _authenticate(self.websocket, self.caller.token)
                except UnauthorizedError as ended:
                    await self.close(status.WS_1008_POLICY_VIOLATION, str(ended))
                    return
                continue
            self._renewed.clear()
        await self.close(status.WS_1008_POLICY_VIOLATION, "access token expired")
