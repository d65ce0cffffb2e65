"""The demo seed behind `ticketflow dev`."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.seed.articles import DEFAULT_ARTICLES
from api.seed.demo import TICKETS, seed_demo
from api.seed.rules import PREDEFINED_RULES
from api.seed.templates import DEFAULT_TEMPLATES
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings


@pytest.mark.usefixtures("worker")
async def test_seed_twice_creates_once_and_opens_real_tickets(
    api: httpx.AsyncClient,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> None:
    settings = settings.model_copy(update={"admin_email": f"admin-{uuid4().hex[:8]}@example.com"})
    first = await seed_demo(session_factory, dev_env.client, settings)
    assert first.admin_password
    assert first.created["admin"] == 1
    assert first.created["tickets"] == len(TICKETS)
    assert first.created["automation rules"] == len(PREDEFINED_RULES)
    assert first.created["response templates"] == len(DEFAULT_TEMPLATES)
    assert first.created["knowledge-base articles"] == len(DEFAULT_ARTICLES)

    second = await seed_demo(session_factory, dev_env.client, settings)
    assert second.created == {}
    assert second.admin_password is None  # not provided, and not ours to show again
    assert second.summary == "demo data already present"

    login = await api.post(
        "/api/v1/auth/login",
        json={"email": settings.admin_email, "password": first.admin_password},
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    titles = {t.title for t in TICKETS}
    for _ in range(200):
        page = await api.get("/api/v1/tickets", headers=headers, params={"limit": 200})
        found = {t["title"]: t for t in page.json()["items"] if t["title"] in titles}
        # The list is the read model: the printer's assignment lands a moment after its row.
        if len(found) == len(titles) and found["Printer on fire"]["status"] != "new":
            break
        await asyncio.sleep(0.05)
    assert found.keys() == titles
    printer = found["Printer on fire"]
    assert printer["status"] == "in_progress"  # opened by its agent, assigned at once
    assert printer["sla"]["policy"] is not None
    history = await api.get(f"/api/v1/tickets/{printer['number']}/history", headers=headers)
    assert history.status_code == 200
    assert history.json()[0]["kind"] == "created"

    suggested = await api.get(f"/api/v1/tickets/suggest-kb/{printer['number']}", headers=headers)
    assert suggested.status_code == 200, suggested.text
    assert suggested.json()[0]["title"] == "Printer smoking or overheating"

    departments = await api.get("/api/v1/departments", headers=headers, params={"limit": 200})
    names = {d["name"]: d for d in departments.json()["items"]}
    assert {"IT Support", "Facilities"} <= names.keys()
    assert names["IT Support"]["manager_id"] is not None


async def test_seed_honours_a_configured_admin_password(
    api: httpx.AsyncClient,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> None:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    configured = settings.model_copy(
        update={"admin_email": email, "admin_password": SecretStr("configured secret 1")}
    )
    seeded = await seed_demo(session_factory, dev_env.client, configured)
    assert seeded.admin_password == "configured secret 1"
    ok = await api.post(
        "/api/v1/auth/login", json={"email": email, "password": "configured secret 1"}
    )
    assert ok.status_code == 200
    assert ok.json()["user"]["role"] == "admin"


@pytest.mark.usefixtures("worker")
async def test_a_demo_user_an_admin_deleted_stays_deleted(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> None:
    await seed_demo(session_factory, dev_env.client, settings)
    async with session_factory.begin() as session:
        agent = await users_repo.get_by_email(session, "it.agent2@ticketflow.local")
        assert agent is not None
        await users_repo.soft_delete(session, agent.id)

    again = await seed_demo(session_factory, dev_env.client, settings)  # no unique-key crash
    assert "users" not in again.created
    async with session_factory() as session:
        assert await users_repo.get_by_email(session, "it.agent2@ticketflow.local") is None
