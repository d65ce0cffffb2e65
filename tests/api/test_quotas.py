"""Quotas per requester: a self-registered account cannot open tickets (durable workflows) or
upload files without end. Counted in PostgreSQL, so they hold across API processes; staff
are exempt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.quotas import QuotaExceededError, RequesterQuotas
from api.services.ticket_attachments import MAX_ATTACHMENT_BYTES
from domain.enums import Role
from persistence.repositories import users as users_repo
from tests.api.conftest import ApiWith, Desk, People, Person, assert_problem
from ticketflow.settings import Settings

V1 = "/api/v1"
KIB = 1024


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Small quotas: three tickets and one megabyte of uploads an hour."""
    return settings.model_copy(
        update={
            "quota_tickets_per_hour": 3,
            "quota_upload_mb_per_hour": 1,
            "attachments_dir": tmp_path / "attachments",
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def other_process(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    """A second API process on the same database."""
    async with api_with(settings) as client:
        yield client


async def open_ticket(
    api: httpx.AsyncClient, desk: Desk, who: Person, **headers: str
) -> httpx.Response:
    body = {"title": "Printer", "description": "Jammed", "department_id": str(desk.department_id)}
    return await api.post(f"{V1}/tickets", json=body, headers={**who.auth, **headers})


def assert_quota_exceeded(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 429)
    assert body["type"].endswith(":quota_exceeded")
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    return body


async def test_a_requester_cannot_open_tickets_without_end(
    api: httpx.AsyncClient, other_process: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    # Spread over two API processes: the count is the database's, not a process's.
    for client in (api, other_process, api):
        opened = await open_ticket(client, desk, desk.requester)
        assert opened.status_code == 201, opened.text
    for client in (api, other_process):
        assert_quota_exceeded(await open_ticket(client, desk, desk.requester))
    # Nobody else is held back: another requester, and staff opening as many as they need.
    assert (await open_ticket(api, desk, await people.make(Role.USER))).status_code == 201
    for _ in range(4):
        assert (await open_ticket(api, desk, desk.agent)).status_code == 201


async def test_a_burst_gets_exactly_the_quota(api: httpx.AsyncClient, desk: Desk) -> None:
    # 40 at once, more than the connection pool holds: each counts in the transaction that
    # opens its ticket, so none waits for a second connection, and the count stays exact.
    burst = await asyncio.gather(*(open_ticket(api, desk, desk.requester) for _ in range(40)))
    statuses = sorted(response.status_code for response in burst)
    assert statuses == [201] * 3 + [429] * 37, [r.text for r in burst if r.status_code >= 500]


async def test_vip_requesters_count_too(api: httpx.AsyncClient, desk: Desk, people: People) -> None:
    vip = await people.make(Role.VIP_USER)
    for _ in range(3):
        assert (await open_ticket(api, desk, vip)).status_code == 201
    assert_quota_exceeded(await open_ticket(api, desk, vip))


@pytest.mark.usefixtures("worker")
async def test_a_retried_creation_is_not_counted_again(api: httpx.AsyncClient, desk: Desk) -> None:
    first = await open_ticket(api, desk, desk.requester, **{"Idempotency-Key": "only-once"})
    assert first.status_code == 201
    for _ in range(4):
        again = await open_ticket(api, desk, desk.requester, **{"Idempotency-Key": "only-once"})
        assert again.status_code == 200, again.text
        assert again.json()["number"] == first.json()["number"]
    for _ in range(2):
        assert (await open_ticket(api, desk, desk.requester)).status_code == 201
    assert_quota_exceeded(await open_ticket(api, desk, desk.requester))


async def upload(
    api: httpx.AsyncClient, number: int, who: Person, size: int, name: str = "scan.bin"
) -> httpx.Response:
    files = {"file": (name, b"x" * size, "application/octet-stream")}
    return await api.post(f"{V1}/tickets/{number}/attachment", files=files, headers=who.auth)


@pytest.mark.usefixtures("worker")
async def test_a_requester_cannot_upload_without_end(
    api: httpx.AsyncClient, other_process: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk, desk.agent)).json()["number"]
    mine = (await open_ticket(api, desk, desk.requester)).json()["number"]
    assert (await upload(api, mine, desk.requester, 600 * KIB)).status_code == 201
    # 600 KiB more would make 1200 KiB, over the megabyte: refused, and nothing is kept.
    assert_quota_exceeded(await upload(other_process, mine, desk.requester, 600 * KIB))
    # What is left of the megabyte can still be used.
    assert (await upload(other_process, mine, desk.requester, 400 * KIB)).status_code == 201
    listed = await api.get(f"{V1}/tickets/{mine}/attachments", headers=desk.requester.auth)
    assert [a["size_bytes"] for a in listed.json()["items"]] == [600 * KIB, 400 * KIB]
    # Staff are not counted.
    for _ in range(2):
        assert (await upload(api, number, desk.agent, 600 * KIB)).status_code == 201


@pytest.mark.usefixtures("worker")
async def test_a_refused_upload_costs_nothing(api: httpx.AsyncClient, desk: Desk) -> None:
    mine = (await open_ticket(api, desk, desk.requester)).json()["number"]
    # Over the size any attachment may have: refused as too large (not as over quota) and
    # not counted.
    assert_problem(await upload(api, mine, desk.requester, MAX_ATTACHMENT_BYTES + 1), 413)
    assert (await upload(api, mine, desk.requester, 1000 * KIB)).status_code == 201


async def test_an_upload_that_fails_later_is_given_back(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], people: People
) -> None:
    quotas = RequesterQuotas(session_factory, settings)
    async with session_factory() as session:
        requester = await users_repo.get(session, (await people.make(Role.USER)).id)
    assert requester is not None
    with pytest.raises(RuntimeError):
        async with quotas.upload(requester, 600 * KIB):
            raise RuntimeError("the ticket's workflow refused the file")
    async with quotas.upload(requester, 1000 * KIB):
        pass
    with pytest.raises(QuotaExceededError) as refused:
        async with quotas.upload(requester, 100 * KIB):
            pass
    assert refused.value.status == 429
