"""Live in-app notifications: one LISTEN connection per API process, fanned out to sockets.

The read model announces every new in-app row with `pg_notify('ticketflow_notifications',
'<user_id>:<notification_id>')` inside its transaction (`persistence.readmodel.announce`),
so PostgreSQL delivers it only once the row is committed. The hub reads the rows of users
who have a socket open (and only those) and offers each row to its owner's sockets. Every
socket has a bounded queue: a slow client loses its own oldest messages, never anyone
else's time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schemas.notifications import NotificationOut
from persistence.models import Notification, NotificationChannel
from persistence.readmodel import LIVE_CHANNEL

log = logging.getLogger(__name__)

Message = dict[str, Any]

QUEUE_SIZE = 100
# Shown in pg_stat_activity, so operators can tell the listener from pooled connections.
APPLICATION_NAME = "ticketflow-live"
CONNECT_TIMEOUT_S = 10.0
KEEPALIVE_S = 30.0
MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
MAX_BATCH = 500

RESYNC: Message = {"type": "resync"}


def listen_dsn(database_url: str | URL) -> str:
    """The app's SQLAlchemy URL as a DSN for `asyncpg.connect` (`ssl` back to `sslmode`)."""
    url = make_url(database_url).set(drivername="postgresql")
    if "ssl" in url.query:
        url = url.update_query_dict({"sslmode": url.query["ssl"]}).difference_update_query(["ssl"])
    return url.render_as_string(hide_password=False)


class Subscription:
    """One socket's place in the hub: a bounded queue of messages to send, oldest dropped."""

    def __init__(self, user_id: UUID, size: int = QUEUE_SIZE) -> None:
        self.user_id = user_id
        self.dropped = 0
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(size)

    def offer(self, message: Message) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            log.warning(
                "live socket of user %s is too slow: dropped its oldest message (%d so far)",
                self.user_id,
                self.dropped,
            )
        self._queue.put_nowait(message)

    @property
    def pending(self) -> int:
        """Messages waiting to be sent."""
        return self._queue.qsize()

    async def next(self) -> Message | None:
        """The next message to send; None once the hub has stopped."""
        return await self._queue.get()

    def end(self) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)


def _parse(payload: str) -> tuple[UUID, UUID] | None:
    user_id, _, notification_id = payload.partition(":")
    try:
        return UUID(user_id), UUID(notification_id)
    except ValueError:
        return None


class LiveNotifications:
    """The hub: LISTENs on PostgreSQL, keeps the open sockets by user, and fans rows out.

    `start` fails if it cannot LISTEN (an API that cannot push must not start); afterwards a
    dropped connection is re-established with backoff, and open sockets are told to `resync`
    (re-read their inbox), since anything announced in between was missed.
    """

    def __init__(
        self,
        database_url: str | URL,
        sessions: async_sessionmaker[AsyncSession],
        *,
        queue_size: int = QUEUE_SIZE,
        keepalive_s: float = KEEPALIVE_S,
        min_backoff_s: float = MIN_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self._dsn = listen_dsn(database_url)
        self._sessions = sessions
        self._queue_size = queue_size
        self._keepalive_s = keepalive_s
        self._min_backoff_s = min_backoff_s
        self._max_backoff_s = max_backoff_s
        self._subscribers: dict[UUID, set[Subscription]] = {}
        self._payloads: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    async def __aenter__(self) -> LiveNotifications:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """LISTEN, or raise RuntimeError."""
        try:
            connection = await self._listen()
        except Exception as exc:
            raise RuntimeError(f"cannot LISTEN on {LIVE_CHANNEL!r}: {exc}") from exc
        self._running = True
        self._tasks = [
            asyncio.create_task(self._keep_listening(connection), name="live-listen"),
            asyncio.create_task(self._dispatch_forever(), name="live-dispatch"),
        ]
        log.info("listening on %s for live notifications", LIVE_CHANNEL)

    async def stop(self) -> None:
        """Stop listening and end every subscription (their sockets then close)."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.end()
        self._subscribers.clear()

    @contextmanager
    def subscribe(self, user_id: UUID) -> Iterator[Subscription]:
        """A queue of the user's new notifications for the duration of the block."""
        subscription = Subscription(user_id, self._queue_size)
        if not self._running:
            subscription.end()
            yield subscription
            return
        self._subscribers.setdefault(user_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscriptions = self._subscribers.get(user_id, set())
            subscriptions.discard(subscription)
            if not subscriptions:
                self._subscribers.pop(user_id, None)

    async def dispatch(self, payloads: Iterable[str]) -> None:
        """Offer each announced row to its owner's sockets; rows nobody waits for are not read."""
        wanted: set[UUID] = set()
        for payload in payloads:
            parsed = _parse(payload)
            if parsed is None:
                log.warning("ignoring a malformed %s payload: %r", LIVE_CHANNEL, payload)
            elif parsed[0] in self._subscribers:
                wanted.add(parsed[1])
        if not wanted:
            return
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Notification)
                .where(
                    Notification.id.in_(wanted),
                    Notification.channel == NotificationChannel.IN_APP,
                )
                .order_by(Notification.created_at, Notification.id)
            )
            for row in rows:
                if row.user_id is None:
                    continue  # in-app rows always have a reader (a table constraint)
                out = NotificationOut.model_validate(row).model_dump(mode="json")
                message = {"type": "notification", "notification": out}
                # The row's owner, not the payload's claim, decides who gets it.
                for subscription in tuple(self._subscribers.get(row.user_id, ())):
                    subscription.offer(message)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._payloads.put_nowait(payload)

    async def _listen(self) -> Any:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": APPLICATION_NAME},
        )
        try:
            await connection.add_listener(LIVE_CHANNEL, self._on_notify)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def _dispatch_forever(self) -> None:
        while True:
            payloads = [await self._payloads.get()]
            while not self._payloads.empty() and len(payloads) < MAX_BATCH:
                payloads.append(self._payloads.get_nowait())
            try:
                await self.dispatch(payloads)
            except Exception:
                # The sockets stay open; their users find these rows in their inbox.
                log.exception("could not push %d live notification(s)", len(payloads))

    async def _keep_listening(self, connection: Any) -> None:
        try:
            while True:
                await self._until_lost(connection)
                connection.terminate()
                log.warning("lost the %s listener connection; reconnecting", LIVE_CHANNEL)
                connection = await self._listen_again()
                for subscriptions in self._subscribers.values():
                    for subscription in subscriptions:
                        subscription.offer(RESYNC)
        finally:
            await _close(connection)

    async def _until_lost(self, connection: Any) -> None:
        """Return once the connection has closed, or stopped answering a keepalive query."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        while not connection.is_closed():
            try:
                await asyncio.wait_for(lost.wait(), self._keepalive_s)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.wait_for(connection.execute("SELECT 1"), self._keepalive_s)
            except Exception as exc:
                log.warning("the %s listener stopped answering: %s", LIVE_CHANNEL, exc)
                return

    async def _listen_again(self) -> Any:
        delay = self._min_backoff_s
        while True:
            await asyncio.sleep(delay)
            try:
                connection = await self._listen()
            except Exception as exc:
                # Whatever failed, keep trying: giving up would silently end every live push.
                log.warning("cannot LISTEN on %s yet (%s); retrying", LIVE_CHANNEL, exc)
                delay = min(delay * 2, self._max_backoff_s)
                continue
            log.info("listening on %s again", LIVE_CHANNEL)
            return connection


async def _close(connection: Any) -> None:
    if connection.is_closed():
        return
    try:
        await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_S)
    except Exception:
        connection.terminate()
