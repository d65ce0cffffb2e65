"""A whole API deployment for a test module: its own database, app, worker and task queue.

The per-test `api` fixture makes a fresh app for each test; suites that send hundreds of
requests (the authorization matrix, the OpenAPI fuzzing) share one for a whole module
instead, in a database of their own so that what they create (SLA policies, automation
rules, users by the dozen) cannot reach another suite's tickets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, ScheduleActionStartWorkflow

from api.app import Resources, create_app
from api.services.reports.schedules import SCHEDULE_PREFIX
from persistence.db import create_engine
from persistence.db import session_factory as make_session_factory
from tests.support.postgres import scratch_database
from ticketflow.settings import Settings
from workers.main import build_worker

JWT_SECRET = "tests-only-secret-0123456789abcdef0123456789"
LINK_SECRET = "tests-only-link-secret-0123456789abcdef01234"
BASE_URL = "http://testserver"


def stack_settings(database_url: str, task_queue: str, files: Path, **extra: Any) -> Settings:
    """Settings of a test deployment (the API tests' signing keys)."""
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,  # type: ignore[arg-type]
        TICKETFLOW_LINK_SECRET=LINK_SECRET,
        TICKETFLOW_TASK_QUEUE=task_queue,
        TICKETFLOW_ATTACHMENTS_DIR=files,
        **extra,
    )


@dataclass
class Stack:
    """One running deployment: a client of its app, and what it runs on."""

    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    temporal: Client


@asynccontextmanager
async def api_stack(
    server_url: str, temporal: Client, files: Path, **settings: Any
) -> AsyncIterator[Stack]:
    """A migrated database of its own on `server_url`, the app on it, and a real worker on a
    task queue of its own; `settings` are extra Settings fields (by alias)."""
    async with scratch_database(server_url) as database_url:
        engine = create_engine(database_url)
        try:
            sessions = make_session_factory(engine)
            config = stack_settings(database_url, f"tq-{uuid4()}", files, **settings)
            app = create_app(config, Resources(engine, sessions, temporal))
            transport = httpx.ASGITransport(app=app)
            async with (
                build_worker(temporal, sessions, config, task_queue=config.task_queue),
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
            ):
                yield Stack(client, app, config, sessions, temporal)
                await delete_schedules_of(temporal, config.task_queue)
        finally:
            await engine.dispose()


async def delete_schedules_of(temporal: Client, task_queue: str) -> None:
    """The report schedules that start work on `task_queue`: they live in the shared Temporal
    server, and would outlive the suite that made them."""
    async for entry in await temporal.list_schedules():
        if not entry.id.startswith(SCHEDULE_PREFIX):
            continue
        handle = temporal.get_schedule_handle(entry.id)
        action = (await handle.describe()).schedule.action
        if isinstance(action, ScheduleActionStartWorkflow) and action.task_queue == task_queue:
            await handle.delete()
