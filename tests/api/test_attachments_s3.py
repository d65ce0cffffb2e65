"""Attachments kept in S3, end to end: the API (one or two replicas), the worker, PostgreSQL,
Temporal's dev server and an S3 server (moto), as a deployment with TICKETFLOW_S3_BUCKET."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import Resources, create_app
from api.services.file_store import StorageUnavailable
from api.services.file_store.s3 import s3_client
from api.services.ticket_attachments import MAX_ATTACHMENT_BYTES
from domain.enums import Role
from persistence.models import Attachment, Ticket, TicketComment
from tests.api.conftest import ApiWith, Desk, People, assert_problem
from tests.api.test_ticket_edits import files_in
from tests.api.test_tickets import eventually, open_ticket
from tests.api.test_webhooks_email import SECRET, delivered, email, stranger
from tests.support.s3 import objects_in, unfinished_uploads, unreachable_endpoint
from ticketflow.settings import Settings

V1 = "/api/v1"
PREFIX = "attachments/"
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def unused_dir(tmp_path: Path) -> Path:
    """The local attachments directory: with a bucket set, nothing may land there."""
    return tmp_path / "local-attachments"


@pytest.fixture
def settings(settings: Settings, s3_bucket: str, unused_dir: Path) -> Settings:
    return settings.model_copy(
        update={
            "s3_bucket": s3_bucket,
            "s3_prefix": PREFIX,
            "attachments_dir": unused_dir,
            "sendgrid_inbound_secret": SecretStr(SECRET),
        }
    )


def key_of(attachment_id: str) -> str:
    return PREFIX + UUID(attachment_id).hex


async def upload(
    api: httpx.AsyncClient, number: int, who: dict[str, str], data: bytes, name: str = "f.bin"
) -> httpx.Response:
    files = {"file": (name, data, "application/pdf")}
    return await api.post(f"{V1}/tickets/{number}/attachment", files=files, headers=who)


async def row_url(sessions: async_sessionmaker[AsyncSession], attachment_id: str) -> str:
    async with sessions() as session:
        row = await session.get(Attachment, attachment_id)
    assert row is not None
    return row.url


async def test_a_file_goes_to_the_bucket_and_only_those_who_may_see_it_get_it_back(
    api: httpx.AsyncClient,
    desk: Desk,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
    s3_bucket: str,
    unused_dir: Path,
) -> None:
    ticket = await open_ticket(api, desk)
    number = ticket["number"]
    data = b"%PDF-1.7\n" + bytes(range(256)) * 64
    response = await upload(api, number, desk.requester.auth, data, name="../invoice é.pdf")
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["filename"], created["size_bytes"]) == ("invoice é.pdf", len(data))
    assert objects_in(s3_bucket) == {key_of(created["id"]): data}
    url = await row_url(session_factory, created["id"])
    assert url == f"s3://{s3_bucket}/{key_of(created['id'])}"
    assert files_in(unused_dir) == []

    path = f"{V1}/tickets/{number}/attachments/{created['id']}"
    for who in (desk.requester, desk.agent):
        download = await api.get(path, headers=who.auth)
        assert download.status_code == 200, download.text
        assert download.content == data
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-length"] == str(len(data))
        assert download.headers["content-disposition"] == (
            "attachment; filename*=utf-8''invoice%20%C3%A9.pdf"
        )
        assert download.headers["x-content-type-options"] == "nosniff"

    other_requester = await people.make(Role.USER)
    assert_problem(await api.get(path, headers=other_requester.auth), 404)
    outsider = await people.make(Role.AGENT, await people.department("Elsewhere"))
    assert_problem(await api.get(path, headers=outsider.auth), 404)
    # Nor through a ticket of their own: the file belongs to this ticket only.
    theirs = await open_ticket(api, desk, headers=other_requester.auth)
    assert_problem(
        await api.get(
            f"{V1}/tickets/{theirs['number']}/attachments/{created['id']}",
            headers=other_requester.auth,
        ),
        404,
    )


async def test_a_file_on_a_private_note_is_not_served_to_the_requester(
    api: httpx.AsyncClient, desk: Desk, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ticket = await open_ticket(api, desk)
    note = await api.post(
        f"{V1}/tickets/{ticket['number']}/comment",
        json={"body": "internal", "private": True},
        headers=desk.agent.auth,
    )
    uploaded = await upload(api, ticket["number"], desk.agent.auth, b"secret notes")
    assert uploaded.status_code == 201, uploaded.text

    async def note_written() -> bool:
        async with session_factory() as session:
            return await session.get(TicketComment, note.json()["id"]) is not None

    await eventually(note_written)
    async with session_factory.begin() as session:  # as an inbound file on that note would be
        row = await session.get(Attachment, uploaded.json()["id"])
        assert row is not None
        row.comment_id = note.json()["id"]
    path = f"{V1}/tickets/{ticket['number']}/attachments/{uploaded.json()['id']}"
    assert_problem(await api.get(path, headers=desk.requester.auth), 404)
    assert (await api.get(path, headers=desk.agent.auth)).content == b"secret notes"


async def test_a_file_over_the_limit_leaves_no_object_behind(
    api: httpx.AsyncClient, desk: Desk, s3_bucket: str
) -> None:
    ticket = await open_ticket(api, desk)
    too_big = b"x" * (MAX_ATTACHMENT_BYTES + 1)  # parts go up before the limit is passed
    response = await upload(api, ticket["number"], desk.requester.auth, too_big)
    assert assert_problem(response, 413)["type"].endswith("content_too_large")
    assert objects_in(s3_bucket) == {}
    assert unfinished_uploads(s3_bucket) == []

    exactly = b"y" * MAX_ATTACHMENT_BYTES
    response = await upload(api, ticket["number"], desk.requester.auth, exactly)
    assert response.status_code == 201, response.text
    assert list(objects_in(s3_bucket).values()) == [exactly]


async def test_a_rejected_update_leaves_no_object_behind(
    api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment, s3_bucket: str
) -> None:
    closed = await open_ticket(api, desk)
    await api.patch(f"{V1}/tickets/{closed['number']}/close", headers=desk.agent.auth)
    assert_problem(await upload(api, closed["number"], desk.requester.auth, b"late"), 409)

    # A workflow that has ended refuses the update only after the bytes went up: they go.
    ended = await open_ticket(api, desk)

    async def written() -> bool:
        seen = await api.get(f"{V1}/tickets/{ended['number']}", headers=desk.agent.auth)
        return seen.status_code == 200 and seen.json()["version"] >= 1

    await eventually(written)
    await dev_env.client.get_workflow_handle(f"ticket-{ended['number']}").terminate("ended")
    assert_problem(await upload(api, ended["number"], desk.requester.auth, b"too late"), 409)
    assert objects_in(s3_bucket) == {}


async def test_a_file_whose_object_is_gone_is_404(
    api: httpx.AsyncClient, desk: Desk, s3_bucket: str
) -> None:
    ticket = await open_ticket(api, desk)
    created = (await upload(api, ticket["number"], desk.agent.auth, b"soon gone")).json()
    s3_client().delete_object(Bucket=s3_bucket, Key=key_of(created["id"]))
    path = f"{V1}/tickets/{ticket['number']}/attachments/{created['id']}"
    assert_problem(await api.get(path, headers=desk.agent.auth), 404)


async def test_inbound_email_files_are_kept_in_the_bucket_and_downloadable(
    api: httpx.AsyncClient,
    desk: Desk,
    session_factory: async_sessionmaker[AsyncSession],
    s3_bucket: str,
    unused_dir: Path,
) -> None:
    log = b"line 1\nline 2\n"
    info = {"attachment1": {"filename": "app.log", "type": "text/plain"}}
    fields = email(
        stranger(),
        "Crash",
        "Log attached",
        attachments="1",
        **{"attachment-info": json.dumps(info)},
    )
    files = {"attachment1": ("app.log", log, "text/plain")}
    opened = await delivered(api, fields, files=files)
    again = await delivered(api, fields, files=files)  # a redelivery overwrites, adds nothing
    assert again == opened

    async with session_factory() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.number == opened["ticket"]))
        [row] = await session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id))
    assert row.url == f"s3://{s3_bucket}/{PREFIX}{row.id.hex}"
    assert objects_in(s3_bucket) == {f"{PREFIX}{row.id.hex}": log}
    assert files_in(unused_dir) == []
    download = await api.get(
        f"{V1}/tickets/{opened['ticket']}/attachments/{row.id}", headers=desk.admin.auth
    )
    assert download.status_code == 200, download.text
    assert download.content == log
    assert download.headers["content-type"].startswith("text/plain")


async def test_two_replicas_share_attachments_through_the_bucket(
    settings: Settings, api_with: ApiWith, desk: Desk, tmp_path: Path, s3_bucket: str
) -> None:
    # Each replica has a local directory of its own, as separate machines would.
    first = settings.model_copy(update={"attachments_dir": tmp_path / "first"})
    second = settings.model_copy(update={"attachments_dir": tmp_path / "second"})
    async with api_with(first) as one, api_with(second) as two:
        ticket = await open_ticket(one, desk)
        data = b"shared between replicas"
        created = await upload(one, ticket["number"], desk.requester.auth, data)
        assert created.status_code == 201, created.text
        path = f"{V1}/tickets/{ticket['number']}/attachments/{created.json()['id']}"
        download = await two.get(path, headers=desk.requester.auth)
        assert download.status_code == 200, download.text
        assert download.content == data

        fields = email(stranger(), "Photo", "See attached", attachments="1")
        photo = b"\xff\xd8\xff" + b"j" * 5000
        mailed = await delivered(two, fields, files={"attachment1": ("p.jpg", photo, "image/jpeg")})
        listed = await one.get(
            f"{V1}/tickets/{mailed['ticket']}/attachments", headers=desk.admin.auth
        )
        [item] = listed.json()["items"]
        path = f"{V1}/tickets/{mailed['ticket']}/attachments/{item['id']}"
        assert (await one.get(path, headers=desk.admin.auth)).content == photo
    assert files_in(tmp_path / "first") == files_in(tmp_path / "second") == []
    assert len(objects_in(s3_bucket)) == 2


async def test_a_bucket_that_cannot_be_reached_is_a_503_problem(
    settings: Settings,
    api_with: ApiWith,
    desk: Desk,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with api_with(settings) as healthy:
        ticket = await open_ticket(healthy, desk)
        created = (await upload(healthy, ticket["number"], desk.agent.auth, b"kept")).json()
    path = f"{V1}/tickets/{ticket['number']}/attachments"

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", unreachable_endpoint())
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    async with api_with(settings) as cut_off:
        refused = await upload(cut_off, ticket["number"], desk.agent.auth, b"new")
        body = assert_problem(refused, 503)
        assert body["type"].endswith("storage_unavailable")
        assert refused.headers["retry-after"]
        unread = await cut_off.get(f"{path}/{created['id']}", headers=desk.agent.auth)
        assert assert_problem(unread, 503)["type"].endswith("storage_unavailable")
        listed = await cut_off.get(path, headers=desk.agent.auth)  # the rows are still there
        assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    # Nothing reached the ticket's timeline either: only the first file is on it.
    async with api_with(settings) as healthy:
        history = await healthy.get(
            f"{V1}/tickets/{ticket['number']}/history", headers=desk.agent.auth
        )
    assert [entry["kind"] for entry in history.json()].count("attached") == 1


async def test_the_api_does_not_start_on_a_bucket_it_cannot_use(
    settings: Settings,
    engine: object,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    s3_bucket: str,
) -> None:
    missing = settings.model_copy(update={"s3_bucket": f"{s3_bucket}-missing"})
    app = create_app(missing, Resources(engine, session_factory, dev_env.client))  # type: ignore[arg-type]
    with pytest.raises(StorageUnavailable, match=f"'{s3_bucket}-missing' cannot be used"):
        async with app.router.lifespan_context(app):
            pass
