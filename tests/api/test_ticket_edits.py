"""Editing, deleting, attaching files to and searching tickets, end to end.

The API, the real worker and TicketWorkflow on the dev server, and PostgreSQL.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import uuid4

import httpx
import pytest
from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.errors import ApiError
from api.services.file_store import LocalFileStore
from api.services.ticket_attachments import MAX_ATTACHMENT_BYTES, save_upload
from domain.enums import Role
from persistence.models import Attachment, AuditLog, TicketComment, User
from tests.api.conftest import Desk, People, assert_problem
from tests.api.test_tickets import eventually, open_ticket
from ticketflow.settings import Settings

V1 = "/api/v1"
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def attachments_dir(tmp_path: Path) -> Path:
    return (tmp_path / "attachments").resolve()


@pytest.fixture
def settings(settings: Settings, attachments_dir: Path) -> Settings:
    return settings.model_copy(update={"attachments_dir": attachments_dir})


def files_in(directory: Path) -> list[str]:
    """The names stored in `directory` (none if it was never made)."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def stored_bytes(url: str) -> bytes:
    return Path(unquote(urlsplit(url).path)).read_bytes()


async def history_kinds(api: httpx.AsyncClient, number: int, who: Desk) -> list[str]:
    response = await api.get(f"{V1}/tickets/{number}/history", headers=who.agent.auth)
    assert response.status_code == 200, response.text
    return [entry["kind"] for entry in response.json()]


# -- PUT /tickets/{ticket} ---------------------------------------------------------------------


async def test_an_agent_edits_a_ticket_and_the_timeline_shows_it(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    ticket = await open_ticket(api, desk)
    response = await api.put(
        f"{V1}/tickets/{ticket['number']}",
        json={"title": "Printer smoking", "category": "hardware", "tags": ["printer", "fire"]},
        headers=desk.agent.auth,
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["title"], edited["category"]) == ("Printer smoking", "hardware")
    assert edited["tags"] == ["printer", "fire"]
    assert edited["description"] == ticket["description"]
    history = await api.get(f"{V1}/tickets/{ticket['id']}/history", headers=desk.requester.auth)
    [entry] = [e for e in history.json() if e["kind"] == "edited"]
    assert entry["actor_id"] == str(desk.agent.id)
    assert entry["changes"]["title"] == ["Printer on fire", "Printer smoking"]

    async def caught_up() -> bool:
        seen = await api.get(f"{V1}/tickets/{ticket['number']}", headers=desk.requester.auth)
        return bool(seen.json()["title"] == "Printer smoking")

    await eventually(caught_up)

    cleared = await api.put(
        f"{V1}/tickets/{ticket['number']}",
        json={"subcategory": "laser"},
        headers=desk.agent.auth,
    )
    assert cleared.json()["subcategory"] == "laser"
    cleared = await api.put(
        f"{V1}/tickets/{ticket['number']}", json={"subcategory": None}, headers=desk.agent.auth
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["subcategory"] is None


async def test_a_requester_edits_only_the_title_and_description_of_their_open_ticket(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    ticket = await open_ticket(api, desk)
    path = f"{V1}/tickets/{ticket['number']}"
    own = await api.put(path, json={"description": "Now with flames"}, headers=desk.requester.auth)
    assert own.status_code == 200, own.text
    assert own.json()["description"] == "Now with flames"
    assert_problem(await api.put(path, json={"tags": ["x"]}, headers=desk.requester.auth), 403)
    assert_problem(await api.put(path, json={"category": "x"}, headers=desk.requester.auth), 403)
    stranger = await people.make(Role.USER)
    assert_problem(await api.put(path, json={"title": "Mine now"}, headers=stranger.auth), 404)

    await api.post(f"{V1}/tickets/{ticket['number']}/resolve", headers=desk.agent.auth)
    assert_problem(await api.put(path, json={"title": "Later"}, headers=desk.requester.auth), 409)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": None},
        {"tags": None},
        {"status": "closed"},
        {"priority": "P1"},
        {"title": "ok", "colour": "red"},
        {"tags": [""]},
    ],
)
async def test_bad_edits_are_422_problems(
    api: httpx.AsyncClient, desk: Desk, body: dict[str, Any]
) -> None:
    ticket = await open_ticket(api, desk)
    response = await api.put(f"{V1}/tickets/{ticket['number']}", json=body, headers=desk.agent.auth)
    assert_problem(response, 422)


async def test_a_closed_ticket_cannot_be_edited(api: httpx.AsyncClient, desk: Desk) -> None:
    ticket = await open_ticket(api, desk)
    await api.patch(f"{V1}/tickets/{ticket['number']}/close", headers=desk.agent.auth)
    response = await api.put(
        f"{V1}/tickets/{ticket['number']}", json={"title": "Too late"}, headers=desk.agent.auth
    )
    assert_problem(response, 409)


async def test_a_new_category_brings_the_policy_that_matches_it(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    async def policy(position: int, **conditions: list[str]) -> str:
        response = await api.post(
            f"{V1}/sla/policies",
            headers=desk.admin.auth,
            json={
                "name": f"Edit {uuid4().hex[:8]}",
                "position": position,
                "conditions": {"department_id": [str(desk.department_id)], **conditions},
                "targets": {"P2": {"first_response": "PT4H", "resolution": "P1D"}},
            },
        )
        assert response.status_code == 201, response.text
        name: str = response.json()["name"]
        return name

    network = await policy(0, category=["network"])
    general = await policy(1)
    ticket = await open_ticket(api, desk, urgency="high", impact="high")  # P2
    assert ticket["sla"]["policy"] == general
    edited = await api.put(
        f"{V1}/tickets/{ticket['number']}", json={"category": "network"}, headers=desk.agent.auth
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["sla"]["policy"] == network
    first = edited.json()["sla"]["first_response"]
    assert first["target_at"] == ticket["sla"]["first_response"]["target_at"]  # same 4 h, kept


# -- DELETE /tickets/{ticket} ------------------------------------------------------------------


async def test_an_admin_deletes_a_ticket_for_good(
    api: httpx.AsyncClient,
    desk: Desk,
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ticket = await open_ticket(api, desk, assignee_id=str(desk.agent.id), headers=desk.agent.auth)
    number = ticket["number"]
    await api.post(f"{V1}/tickets/{number}/comment", json={"body": "hi"}, headers=desk.agent.auth)

    async def loaded() -> bool:
        async with session_factory() as session:
            agent = await session.get(User, desk.agent.id)
            return agent is not None and agent.current_load == 1

    await eventually(loaded)
    path = f"{V1}/tickets/{number}"
    assert_problem(await api.delete(path, headers=desk.agent.auth), 403)
    assert_problem(await api.delete(path, headers=desk.requester.auth), 403)

    deleted = await api.delete(path, headers=desk.admin.auth)
    assert deleted.status_code == 204, deleted.text
    assert_problem(await api.get(path, headers=desk.admin.auth), 404)
    assert_problem(await api.delete(path, headers=desk.admin.auth), 404)
    described = await dev_env.client.get_workflow_handle(f"ticket-{number}").describe()
    assert described.status is WorkflowExecutionStatus.TERMINATED
    async with session_factory() as session:
        agent = await session.get(User, desk.agent.id)
        assert agent is not None and agent.current_load == 0
        comments = await session.scalars(
            select(TicketComment).where(TicketComment.ticket_id == ticket["id"])
        )
        assert list(comments) == []
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.entity_id == ticket["id"], AuditLog.action == "DELETE")
        )
    assert audit is not None and audit.user_id == desk.admin.id
    assert audit.after == {"kind": "deleted", "summary": f"deleted by {desk.admin.email}"}


async def test_deleting_a_ticket_whose_workflow_has_finished_still_works(
    api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment
) -> None:
    ticket = await open_ticket(api, desk)
    handle = dev_env.client.get_workflow_handle(f"ticket-{ticket['number']}")

    async def written() -> bool:
        seen = await api.get(f"{V1}/tickets/{ticket['number']}", headers=desk.admin.auth)
        return seen.status_code == 200 and seen.json()["version"] >= 1

    await eventually(written)
    await handle.terminate("ended elsewhere")
    deleted = await api.delete(f"{V1}/tickets/{ticket['number']}", headers=desk.admin.auth)
    assert deleted.status_code == 204, deleted.text


async def test_deleting_an_unknown_ticket_is_404(api: httpx.AsyncClient, desk: Desk) -> None:
    assert_problem(await api.delete(f"{V1}/tickets/{uuid4()}", headers=desk.admin.auth), 404)
    assert_problem(await api.delete(f"{V1}/tickets/987654321", headers=desk.admin.auth), 404)
    assert_problem(await api.delete(f"{V1}/tickets/not-a-ref", headers=desk.admin.auth), 422)


# -- attachments -------------------------------------------------------------------------------


async def test_a_requester_uploads_a_file_and_downloads_it_back(
    api: httpx.AsyncClient, desk: Desk, people: People, attachments_dir: Path
) -> None:
    ticket = await open_ticket(api, desk)
    number = ticket["number"]
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    files = {"file": ("../../etc/smoke photo.png", data, "image/png")}
    response = await api.post(
        f"{V1}/tickets/{number}/attachment", files=files, headers=desk.requester.auth
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["filename"] == "smoke photo.png"
    assert created["size_bytes"] == len(data)
    assert created["content_type"] == "image/png"
    assert created["uploaded_by"] == str(desk.requester.id)
    assert created["ticket"]["id"] == ticket["id"]
    assert files_in(attachments_dir) == [created["id"].replace("-", "")]
    assert "attached" in await history_kinds(api, number, desk)

    listed = await api.get(f"{V1}/tickets/{number}/attachments", headers=desk.agent.auth)
    assert [a["id"] for a in listed.json()["items"]] == [created["id"]]
    download = await api.get(
        f"{V1}/tickets/{number}/attachments/{created['id']}", headers=desk.requester.auth
    )
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"

    stranger = await people.make(Role.USER)
    for path in ("/attachments", f"/attachments/{created['id']}"):
        assert_problem(await api.get(f"{V1}/tickets/{number}{path}", headers=stranger.auth), 404)
    upload = await api.post(f"{V1}/tickets/{number}/attachment", files=files, headers=stranger.auth)
    assert_problem(upload, 404)
    assert_problem(
        await api.get(f"{V1}/tickets/{number}/attachments/{uuid4()}", headers=desk.agent.auth),
        404,
    )


async def test_a_file_on_a_private_note_stays_with_staff(
    api: httpx.AsyncClient,
    desk: Desk,
    session_factory: async_sessionmaker[AsyncSession],
    attachments_dir: Path,
) -> None:
    ticket = await open_ticket(api, desk)
    note = await api.post(
        f"{V1}/tickets/{ticket['number']}/comment",
        json={"body": "internal", "private": True},
        headers=desk.agent.auth,
    )
    uploaded = await api.post(
        f"{V1}/tickets/{ticket['number']}/attachment",
        files={"file": ("notes.txt", b"secret", "text/plain")},
        headers=desk.agent.auth,
    )
    assert uploaded.status_code == 201, uploaded.text

    async def note_written() -> bool:
        async with session_factory() as session:
            return await session.get(TicketComment, note.json()["id"]) is not None

    await eventually(note_written)
    async with session_factory.begin() as session:  # as an inbound file on that note would be
        row = await session.get(Attachment, uploaded.json()["id"])
        assert row is not None
        row.comment_id = note.json()["id"]
    path = f"{V1}/tickets/{ticket['number']}/attachments"
    seen = await api.get(path, headers=desk.requester.auth)
    assert seen.json()["items"] == []
    assert_problem(
        await api.get(f"{path}/{uploaded.json()['id']}", headers=desk.requester.auth), 404
    )
    staff = await api.get(path, headers=desk.agent.auth)
    assert len(staff.json()["items"]) == 1


async def test_a_file_larger_than_an_ordinary_request_is_taken(
    api: httpx.AsyncClient, desk: Desk, attachments_dir: Path
) -> None:
    ticket = await open_ticket(api, desk)
    scan = b"%PDF" + b"s" * (3 * 1024 * 1024)  # over the 1 MiB limit of other requests
    uploaded = await api.post(
        f"{V1}/tickets/{ticket['number']}/attachment",
        files={"file": ("scan.pdf", scan, "application/pdf")},
        headers=desk.requester.auth,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size_bytes"] == len(scan)
    assert len(files_in(attachments_dir)) == 1


async def test_uploads_that_cannot_be_taken(
    api: httpx.AsyncClient, desk: Desk, attachments_dir: Path
) -> None:
    ticket = await open_ticket(api, desk)
    path = f"{V1}/tickets/{ticket['number']}/attachment"
    assert_problem(await api.post(path, headers=desk.requester.auth), 422)
    assert_problem(
        await api.post(path, data={"other": "x"}, headers=desk.requester.auth),
        422,
    )
    too_big = b"x" * (MAX_ATTACHMENT_BYTES + 1)
    assert_problem(
        await api.post(path, files={"file": ("big.bin", too_big)}, headers=desk.requester.auth),
        413,
    )
    far_too_big = b"x" * (MAX_ATTACHMENT_BYTES + 1024 * 1024)  # refused before it is read
    assert_problem(
        await api.post(path, files={"file": ("big.bin", far_too_big)}, headers=desk.agent.auth),
        413,
    )
    await api.patch(f"{V1}/tickets/{ticket['number']}/close", headers=desk.agent.auth)
    closed = await api.post(
        path, files={"file": ("late.txt", b"late", "text/plain")}, headers=desk.requester.auth
    )
    assert_problem(closed, 409)
    assert files_in(attachments_dir) == []


async def test_the_upload_limit_is_enforced_while_streaming(tmp_path: Path) -> None:
    upload = UploadFile(io.BytesIO(b"y" * 1000), filename="big.bin")
    with pytest.raises(ApiError) as raised:
        await save_upload(LocalFileStore(tmp_path), upload, limit=999)
    assert raised.value.status == 413
    assert files_in(tmp_path) == []
    upload = UploadFile(io.BytesIO(b"y" * 999), filename="ok.bin")
    stored = await save_upload(LocalFileStore(tmp_path), upload, limit=999)
    assert stored.size == 999 and stored.content_type == "application/octet-stream"
    assert stored_bytes(stored.url) == b"y" * 999


# -- GET /tickets/search -----------------------------------------------------------------------


async def test_search_finds_what_the_caller_may_see_best_match_first(
    api: httpx.AsyncClient, desk: Desk, people: People
) -> None:
    word = f"quokka{uuid4().hex[:8]}"
    in_title = await open_ticket(api, desk, title=f"{word} printer", description="Jammed")
    in_text = await open_ticket(api, desk, title="Jammed", description=f"the {word} jammed it")
    other_requester = await people.make(Role.USER)
    theirs = await open_ticket(
        api, desk, headers=other_requester.auth, title=f"{word} too", description="x"
    )
    outsider = await people.make(Role.AGENT, await people.department("Elsewhere"))

    async def found(who: dict[str, str], **params: Any) -> list[int]:
        response = await api.get(f"{V1}/tickets/search", params={"q": word, **params}, headers=who)
        assert response.status_code == 200, response.text
        return [hit["number"] for hit in response.json()["items"]]

    async def indexed() -> bool:
        return len(await found(desk.admin.auth)) == 3

    await eventually(indexed)
    assert (await found(desk.admin.auth))[0] in (in_title["number"], theirs["number"])
    assert await found(desk.requester.auth) == [in_title["number"], in_text["number"]]
    assert await found(other_requester.auth) == [theirs["number"]]
    assert await found(outsider.auth) == []
    assert sorted(await found(desk.agent.auth)) == sorted(
        [in_title["number"], in_text["number"], theirs["number"]]
    )

    first = await api.get(
        f"{V1}/tickets/search", params={"q": word, "limit": 1}, headers=desk.requester.auth
    )
    body = first.json()
    assert len(body["items"]) == 1 and body["next_cursor"]
    assert body["items"][0]["rank"] > 0
    rest = await found(desk.requester.auth, cursor=body["next_cursor"])
    assert rest == [in_text["number"]]


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "vpn", "cursor": "garbage"}]
)
async def test_bad_searches_are_422_problems(
    api: httpx.AsyncClient, desk: Desk, params: dict[str, str]
) -> None:
    response = await api.get(f"{V1}/tickets/search", params=params, headers=desk.agent.auth)
    assert_problem(response, 422)


async def test_search_needs_a_login(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get(f"{V1}/tickets/search", params={"q": "vpn"}), 401)
